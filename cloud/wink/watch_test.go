package wink

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// recorder collects the events Watch reports.
type recorder struct {
	mu     sync.Mutex
	events []cloud.Event
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{})} }

func (r *recorder) report(e cloud.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// wait returns the first event at index ≥ from that matches, and its index.
func (r *recorder) wait(t *testing.T, from int, what string, match func(cloud.Event) bool) (cloud.Event, int) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i := from; i < len(r.events); i++ {
			if match(r.events[i]) {
				e := r.events[i]
				r.mu.Unlock()
				return e, i
			}
		}
		from = max(from, len(r.events))
		notify := r.notify
		r.mu.Unlock()
		select {
		case <-notify:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func isPush(s cloud.PushState) func(cloud.Event) bool {
	return func(e cloud.Event) bool { return e.Kind == cloud.EventPush && e.Push == s }
}

func deviceState(id, field string, v any) func(cloud.Event) bool {
	return func(e cloud.Event) bool {
		if e.Kind == cloud.EventDevice && e.Device.ID == id {
			return e.Device.State[field] == v
		}
		if e.Kind == cloud.EventListing {
			for _, d := range e.Devices {
				if d.ID == id && d.State[field] == v {
					return true
				}
			}
		}
		return false
	}
}

func pushedState(id, field string, v any) func(cloud.Event) bool {
	return func(e cloud.Event) bool {
		return e.Kind == cloud.EventDevice && e.Device.ID == id && e.Device.State[field] == v
	}
}

// startWatch runs Watch until the test ends and checks how it ends.
func startWatch(t *testing.T, c *Client) *recorder {
	t.Helper()
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, rec.report) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Watch returned %v, want context.Canceled", err)
			}
		case <-time.After(waitTimeout):
			t.Error("Watch did not return after cancel")
		}
	})
	return rec
}

func TestWatchPushForms(t *testing.T) {
	for _, form := range []winktest.PushForm{winktest.PushString, winktest.PushObject, winktest.PushPullURL} {
		t.Run(form.String(), func(t *testing.T) {
			e := newEnv(t, nil)
			e.srv.SetPushForm(form)
			rec := startWatch(t, e.client)
			ev, _ := rec.wait(t, 0, "the listing", func(e cloud.Event) bool { return e.Kind == cloud.EventListing })
			if len(ev.Devices) < 15 {
				t.Errorf("listing has %d devices", len(ev.Devices))
			}
			_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
			if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": 0.3}); err != nil {
				t.Fatal(err)
			}
			rec.wait(t, i, "the pushed brightness", pushedState(lampID, "brightness", 0.3))
			if err := e.srv.Update("sensor_pod", "198184", map[string]any{"opened": true}); err != nil {
				t.Fatal(err)
			}
			rec.wait(t, i, "the pushed door", pushedState("sensor_pod-198184", "contact", true))
		})
	}
}

func TestWatchSetArrivesAsPush(t *testing.T) {
	e := newEnv(t, nil)
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
	if _, err := e.client.Set(testCtx(t), "lock-109898", cloud.Change{"locked": false}); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, i, "the applied unlock", pushedState("lock-109898", "locked", false))
}

func TestWatchResumesAfterFailedPoll(t *testing.T) {
	e := newEnv(t, nil)
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
	e.srv.FailNextPolls(1, http.StatusInternalServerError)
	_, i = rec.wait(t, i, "the fallback to polling", isPush(cloud.PushPolling))
	_, i = rec.wait(t, i, "push live again", isPush(cloud.PushLive))
	// after the gap everything is re-read
	rec.wait(t, i, "a resync after the gap", func(e cloud.Event) bool { return e.Kind == cloud.EventListing })
	if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": 0.7}); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, i, "a push after recovery", pushedState(lampID, "brightness", 0.7))
}

func TestWatchPollsWithoutPubNub(t *testing.T) {
	// An origin nobody listens on: the subscription cannot start.
	e := newEnv(t, func(c *Config) { c.PubNubOrigin = "http://127.0.0.1:1" })
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "polling", isPush(cloud.PushPolling))
	if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": 0.1}); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, i, "the polled brightness", deviceState(lampID, "brightness", 0.1))
}

func TestWatchFollowsDeviceListChanges(t *testing.T) {
	e := newEnv(t, nil)
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
	if !e.srv.RemoveDevice("siren", "41012") {
		t.Fatal("no siren to remove")
	}
	rec.wait(t, i, "a listing without the siren", func(e cloud.Event) bool {
		if e.Kind != cloud.EventListing {
			return false
		}
		for _, d := range e.Devices {
			if d.ID == "siren-41012" {
				return false
			}
		}
		return len(e.Devices) > 0
	})
}

func TestWatchAuthFailureAndRecovery(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	if _, err := e.client.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.RevokeRefreshTokens()
	e.srv.ExpireAccessTokens()
	rec := startWatch(t, e.client)
	ev, i := rec.wait(t, 0, "an auth failure", func(e cloud.Event) bool { return e.Kind == cloud.EventAuth && e.Err != nil })
	if !errors.Is(ev.Err, cloud.ErrAuth) {
		t.Errorf("EventAuth error %v", ev.Err)
	}
	// The owner logs in again (cloud2mqtt auth login writes the store).
	access, refresh := e.srv.IssueTokens()
	if err := e.store.Save("wink", tokenFor(access, refresh)); err != nil {
		t.Fatal(err)
	}
	_, i = rec.wait(t, i, "the auth recovery", func(e cloud.Event) bool { return e.Kind == cloud.EventAuth && e.Err == nil })
	rec.wait(t, i, "a listing after recovery", func(e cloud.Event) bool { return e.Kind == cloud.EventListing })
}

func TestWatchKeepAlive(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.KeepAliveInterval = 100 * time.Millisecond })
	startWatch(t, e.client)
	ctx := testCtx(t)
	req, err := e.srv.WaitRequest(ctx, func(r winktest.Request) bool {
		return r.Method == http.MethodPost && r.Path == "/users/me/session"
	})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\{"nonce":"[0-9]{9}"\}$`).Match(req.Body) {
		t.Errorf("session body %s", req.Body)
	}
	if _, err := e.srv.WaitRequest(ctx, func(r winktest.Request) bool {
		return r.Method == http.MethodGet && r.Path == "/users/me" && regexp.MustCompile(`^[0-9]{10}$`).MatchString(r.Header.Get("User-Agent"))
	}); err != nil {
		t.Errorf("no GET /users/me with a unix-time User-Agent: %v", err)
	}
}

func TestWatchPeriodicResync(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ResyncInterval = 100 * time.Millisecond })
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "the first listing", func(e cloud.Event) bool { return e.Kind == cloud.EventListing })
	rec.wait(t, i+1, "another listing", func(e cloud.Event) bool { return e.Kind == cloud.EventListing })
}

// TestOlderPushIgnored feeds pushes straight to the watcher: a push that
// is older than one already applied (a resumed subscription's catch-up) is
// not applied again.
func TestOlderPushIgnored(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder()
	w := &watcher{c: e.client, report: rec.report, lastTT: map[string]int64{}}
	obj := func(b float64) string {
		return `{"object_type":"light_bulb","object_id":"2194253","name":"Bedroom lamp","last_reading":{"powered":true,"brightness":` +
			strconv.FormatFloat(b, 'f', -1, 64) + `}}`
	}
	ctx := testCtx(t)
	ch := "abc|light_bulb-2194253|user-1"
	w.onMessage(ctx, push{Channel: ch, Timetoken: 200, Message: obj(0.8)})
	w.onMessage(ctx, push{Channel: ch, Timetoken: 100, Message: obj(0.2)})
	w.onMessage(ctx, push{Channel: ch, Timetoken: 300, Message: map[string]any{"data": map[string]any{
		"object_type": "light_bulb", "object_id": "2194253", "last_reading": map[string]any{"brightness": 0.5}}}})
	w.onMessage(ctx, push{Channel: ch, Timetoken: 400, Message: "not json"})
	var got []any
	for _, ev := range rec.events {
		got = append(got, ev.Device.State["brightness"])
	}
	if len(got) != 2 || got[0] != 0.8 || got[1] != 0.5 {
		t.Errorf("reported brightness %v, want [0.8 0.5]", got)
	}
}

func TestWatchUsesTheOriginOfTheSubscription(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PubNubOrigin = "" })
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
	if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": 0.4}); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, i, "a push through the subscription's origin", pushedState(lampID, "brightness", 0.4))
}

// TestPushesSurviveTheKeepAliveQuirkThroughKeepAliveCalls: with Wink's
// quirk (pushes stop unless /users/me is called as the app does), pushes
// keep coming only because of the client's keep-alive calls.
func TestPushesSurviveTheKeepAliveQuirkThroughKeepAliveCalls(t *testing.T) {
	const stopAfter = 400 * time.Millisecond
	quirky := func(t *testing.T, keepAlive time.Duration) *env {
		srv := winktest.NewServer(winktest.Options{HoldPoll: 300 * time.Millisecond, ApplyDelay: 10 * time.Millisecond, PushesStopAfter: stopAfter})
		t.Cleanup(srv.Close)
		srv.Furnish()
		_, refresh := srv.IssueTokens()
		store, err := tokenstore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(Config{Account: "wink", ClientID: "winktest-client", ClientSecret: "winktest-secret", RefreshToken: refresh,
			APIURL: srv.URL, PubNubOrigin: srv.PubNubOrigin, Tokens: store, SubscribeTimeout: 3 * time.Second,
			ResyncInterval: time.Hour, PollInterval: time.Hour, KeepAliveInterval: keepAlive})
		if err != nil {
			t.Fatal(err)
		}
		return &env{srv: srv, client: c, store: store, seed: refresh}
	}

	t.Run("with keep-alive calls", func(t *testing.T) {
		e := quirky(t, 100*time.Millisecond)
		rec := startWatch(t, e.client)
		_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
		// Wait until well past the quirk's limit, counted in keep-alive calls.
		ctx := testCtx(t)
		calls := 0
		if _, err := e.srv.WaitRequest(ctx, func(r winktest.Request) bool {
			if r.Method == http.MethodGet && r.Path == "/users/me" {
				calls++
			}
			return calls >= int(3*stopAfter/(100*time.Millisecond))
		}); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": 0.45}); err != nil {
			t.Fatal(err)
		}
		rec.wait(t, i, "a push long after the quirk's limit", pushedState(lampID, "brightness", 0.45))
		if n := e.srv.QuirkDrops(); n != 0 {
			t.Errorf("%d pushes swallowed despite the keep-alive calls", n)
		}
	})

	t.Run("without", func(t *testing.T) {
		e := quirky(t, time.Hour)
		rec := startWatch(t, e.client)
		rec.wait(t, 0, "push live", isPush(cloud.PushLive))
		if err := e.srv.WaitPushesStopped(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": 0.45}); err != nil {
			t.Fatal(err)
		}
		if n := e.srv.QuirkDrops(); n != 1 {
			t.Errorf("%d pushes swallowed without keep-alive calls, want the update's", n)
		}
	})
}

// PubNub keeps 100 messages for a subscription: an answer that full may
// have lost older ones, so everything is read again.
func TestWatchReadsEverythingAfterAFullPushAnswer(t *testing.T) {
	e := newEnv(t, nil)
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
	e.srv.PausePushes()
	if err := e.srv.Update("sensor_pod", "198184", map[string]any{"opened": true}); err != nil {
		t.Fatal(err)
	}
	for k := range 120 {
		if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": float64(k) / 200}); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.ResumePushes()
	rec.wait(t, i, "the last pushed brightness", pushedState(lampID, "brightness", 119.0/200))
	rec.wait(t, i, "the door's change, whose push was lost", deviceState("sensor_pod-198184", "contact", true))
}
