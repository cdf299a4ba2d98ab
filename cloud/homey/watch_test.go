package homey

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
)

// watching runs Watch in the background and collects its events.
type watching struct {
	t      *testing.T
	events chan cloud.Event
	done   chan error
	cancel context.CancelFunc
}

func watch(t *testing.T, c *Client) *watching {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watching{t: t, events: make(chan cloud.Event, 10000), done: make(chan error, 1), cancel: cancel}
	go func() { w.done <- c.Watch(ctx, func(e cloud.Event) { w.events <- e }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Watch returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return after cancel")
		}
	})
	return w
}

// next waits for an event matching match and returns it; the events before
// it are returned too.
func (w *watching) next(what string, match func(cloud.Event) bool) (cloud.Event, []cloud.Event) {
	w.t.Helper()
	var skipped []cloud.Event
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-w.events:
			if match(e) {
				return e, skipped
			}
			skipped = append(skipped, e)
		case <-deadline:
			w.t.Fatalf("timed out waiting for %s; got %s", what, describe(skipped))
		}
	}
}

func describe(es []cloud.Event) string {
	s := ""
	for _, e := range es {
		switch e.Kind {
		case cloud.EventDevice:
			s += fmt.Sprintf("[device %s %v] ", e.Device.Name, e.Device.State)
		case cloud.EventListing:
			s += fmt.Sprintf("[listing %d] ", len(e.Devices))
		case cloud.EventPush:
			s += fmt.Sprintf("[push %s] ", e.Push)
		case cloud.EventAuth:
			s += fmt.Sprintf("[auth %v] ", e.Err)
		}
	}
	return s
}

func isPush(s cloud.PushState) func(cloud.Event) bool {
	return func(e cloud.Event) bool { return e.Kind == cloud.EventPush && e.Push == s }
}

func deviceState(id, field string, v any) func(cloud.Event) bool {
	return func(e cloud.Event) bool {
		return e.Kind == cloud.EventDevice && e.Device.ID == id && e.Device.State[field] == v
	}
}

func TestWatchLiveEvents(t *testing.T) {
	srv := newServer(t)
	c, _ := cloudClient(t, srv, openStore(t))
	w := watch(t, c)

	first := <-w.events
	if first.Kind != cloud.EventListing || len(first.Devices) != 20 {
		t.Fatalf("first event %s, want the listing of 20 devices", describe([]cloud.Event{first}))
	}
	w.next("push live", isPush(cloud.PushLive))
	ctx := testCtx(t)
	waitFor(t, "a realtime socket", func() bool { return srv.SocketCount() == 1 })

	// A change made elsewhere arrives through the socket.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := srv.SetCapability(homeytest.DeviceMotion, "alarm_motion", true); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-w.events:
			if deviceState(homeytest.DeviceMotion, "motion", true)(e) {
				goto got
			}
		case <-time.After(200 * time.Millisecond):
		}
		// The subscription may not be acknowledged yet: toggle and retry.
		if err := srv.SetCapability(homeytest.DeviceMotion, "alarm_motion", false); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no motion event")
		}
	}
got:
	if n := srv.CountRequests(homeytest.HostHomey, "GET", "/api/manager/devices/device"); n > 3 {
		t.Errorf("%d device GETs: the motion event should come from the socket, not polling", n)
	}

	// Renames and availability arrive as device updates.
	if err := srv.Rename(homeytest.DeviceFan, "Attic fan"); err != nil {
		t.Fatal(err)
	}
	w.next("the rename", func(e cloud.Event) bool { return e.Kind == cloud.EventDevice && e.Device.Name == "Attic fan" })
	if err := srv.SetAvailable(homeytest.DeviceFan, false); err != nil {
		t.Fatal(err)
	}
	w.next("unavailability", func(e cloud.Event) bool {
		return e.Kind == cloud.EventDevice && e.Device.ID == homeytest.DeviceFan && !e.Device.Available
	})

	// A new device brings a new listing, and its changes arrive too.
	id := srv.AddDevice(map[string]any{"name": "Desk lamp", "class": "light", "capabilities": []any{"onoff"},
		"capabilitiesObj": map[string]any{"onoff": map[string]any{"value": false}}})
	w.next("the listing with the new device", func(e cloud.Event) bool {
		_, ok := byID(e.Devices, id)
		return e.Kind == cloud.EventListing && ok
	})
	waitFor(t, "the desk lamp event", func() bool {
		_ = srv.SetCapability(id, "onoff", true)
		select {
		case e := <-w.events:
			return deviceState(id, "on", true)(e)
		case <-time.After(100 * time.Millisecond):
			_ = srv.SetCapability(id, "onoff", false)
			return false
		}
	})

	// Our own change: confirmed by Set, its echo not reported twice.
	d, err := c.Set(ctx, homeytest.DeviceLight, cloud.Change{"brightness": 0.25})
	if err != nil || d.State["brightness"] != 0.25 {
		t.Fatalf("Set = %v, %v", d.State, err)
	}
	if err := srv.SetCapability(homeytest.DeviceDoor, "alarm_contact", true); err != nil {
		t.Fatal(err)
	}
	_, before := w.next("the door event", deviceState(homeytest.DeviceDoor, "contact", true))
	for _, e := range before {
		if e.Kind == cloud.EventDevice && e.Device.ID == homeytest.DeviceLight && e.Device.State["brightness"] == 0.25 {
			t.Error("the echo of our own change was reported although Set already returned it")
		}
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(20 * time.Millisecond)
	}
}

func TestWatchFallsBackToPolling(t *testing.T) {
	srv := newServer(t)
	c := localClient(t, srv, srv.NewAPIKey("homey"))
	w := watch(t, c)
	w.next("push live", isPush(cloud.PushLive))

	srv.RefuseSockets(true)
	srv.DropSockets()
	w.next("push polling", isPush(cloud.PushPolling))

	// Changes still arrive by polling.
	if err := srv.SetCapability(homeytest.DeviceThermostat, "measure_temperature", 22.5); err != nil {
		t.Fatal(err)
	}
	w.next("the polled temperature", deviceState(homeytest.DeviceThermostat, "temperature", 22.5))

	srv.RefuseSockets(false)
	_, before := w.next("push live again", isPush(cloud.PushLive))
	listed := false
	for _, e := range before {
		listed = listed || e.Kind == cloud.EventListing
	}
	if !listed {
		t.Errorf("no full resync before live again; got %s", describe(before))
	}
	waitFor(t, "a live thermostat event", func() bool {
		_ = srv.SetCapability(homeytest.DeviceThermostat, "measure_temperature", 18.0)
		select {
		case e := <-w.events:
			return deviceState(homeytest.DeviceThermostat, "temperature", 18.0)(e)
		case <-time.After(100 * time.Millisecond):
			_ = srv.SetCapability(homeytest.DeviceThermostat, "measure_temperature", 17.0)
			return false
		}
	})
}

func TestWatchRenewsSessionForHandshake(t *testing.T) {
	srv := newServer(t)
	c, _ := cloudClient(t, srv, openStore(t))
	w := watch(t, c)
	w.next("push live", isPush(cloud.PushLive))
	logins := srv.CountRequests(homeytest.HostHomey, "POST", "/api/manager/users/login")
	srv.ExpireSessions()
	srv.DropSockets()
	w.next("push polling", isPush(cloud.PushPolling))
	w.next("push live after renewal", isPush(cloud.PushLive))
	if n := srv.CountRequests(homeytest.HostHomey, "POST", "/api/manager/users/login"); n <= logins {
		t.Error("the session was not renewed")
	}
}

func TestWatchReportsAuthFailure(t *testing.T) {
	srv := newServer(t)
	c, _ := cloudClient(t, srv, openStore(t))
	srv.RevokeRefreshTokens()
	w := watch(t, c)
	e, _ := w.next("an auth event", func(e cloud.Event) bool { return e.Kind == cloud.EventAuth })
	if !errors.Is(e.Err, cloud.ErrAuth) {
		t.Errorf("EventAuth.Err = %v", e.Err)
	}
	// A new login ends the failure.
	if err := c.Exchange(testCtx(t), srv.NewAuthorizationCode(), "http://127.0.0.1:9/cb", ""); err != nil {
		t.Fatal(err)
	}
	w.next("auth ok", func(e cloud.Event) bool { return e.Kind == cloud.EventAuth && e.Err == nil })
	w.next("the listing", func(e cloud.Event) bool { return e.Kind == cloud.EventListing && len(e.Devices) == 20 })
}
