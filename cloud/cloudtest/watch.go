package cloudtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// events records what a provider's Watch reports, for the suite to wait
// on.
type events struct {
	mu      sync.Mutex
	got     []cloud.Event
	changed chan struct{} // closed and replaced on every event
}

// watch runs p.Watch until the test ends and returns its events. The test
// fails when Watch does not return ctx's error at the end.
func watch(t *testing.T, p cloud.Provider) *events {
	t.Helper()
	ev := &events{changed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Watch(ctx, ev.add) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Watch returned %v at the end, want context.Canceled", err)
			}
		case <-time.After(wait):
			t.Errorf("Watch did not return within %s of its context's end", wait)
		}
	})
	return ev
}

func (e *events) add(ev cloud.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
	close(e.changed)
	e.changed = make(chan struct{})
}

// mark is the position after the events so far, for waitFrom.
func (e *events) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.got)
}

// waitFrom returns the first event at position from or later that match
// accepts, and fails the test naming what when none comes in time.
func (e *events) waitFrom(t *testing.T, from int, what string, match func(cloud.Event) bool) cloud.Event {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for i := from; ; {
		e.mu.Lock()
		for ; i < len(e.got); i++ {
			if match(e.got[i]) {
				ev := e.got[i]
				e.mu.Unlock()
				return ev
			}
		}
		changed := e.changed
		e.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("Watch reported no %s within %s; it reported:\n%s", what, wait, e.dump(from))
			return cloud.Event{}
		}
	}
}

// listed waits for the first listing and returns it.
func (e *events) listed(t *testing.T) []cloud.Device {
	t.Helper()
	return e.waitFrom(t, 0, "listing", func(ev cloud.Event) bool { return ev.Kind == cloud.EventListing }).Devices
}

// live waits until the push channel is connected.
func (e *events) live(t *testing.T) {
	t.Helper()
	e.waitFrom(t, 0, "live push", func(ev cloud.Event) bool { return ev.Kind == cloud.EventPush && ev.Push == cloud.PushLive })
}

// deviceSeen returns a matcher of an EventDevice of device id, or an
// EventListing holding it, for which match accepts the device.
func deviceSeen(id string, match func(cloud.Device) bool) func(cloud.Event) bool {
	return func(ev cloud.Event) bool {
		switch ev.Kind {
		case cloud.EventDevice:
			return ev.Device.ID == id && match(ev.Device)
		case cloud.EventListing:
			for _, d := range ev.Devices {
				if d.ID == id {
					return match(d)
				}
			}
		}
		return false
	}
}

func (e *events) dump(from int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for i := from; i < len(e.got); i++ {
		ev := e.got[i]
		switch ev.Kind {
		case cloud.EventDevice:
			fmt.Fprintf(&b, "  device %s %q %v\n", ev.Device.ID, ev.Device.Name, ev.Device.State)
		case cloud.EventListing:
			fmt.Fprintf(&b, "  listing of %d devices\n", len(ev.Devices))
		case cloud.EventPush:
			fmt.Fprintf(&b, "  push %s\n", ev.Push)
		case cloud.EventAuth:
			fmt.Fprintf(&b, "  auth %v\n", ev.Err)
		}
	}
	if b.Len() == 0 {
		return "  nothing"
	}
	return b.String()
}
