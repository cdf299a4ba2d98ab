package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// readCloud answers every Set without showing the change (its push is
// late) and signals each re-read of a device.
type readCloud struct {
	slowCloud
	reads chan time.Time
}

func (r *readCloud) Account() string { return "late" }
func (r *readCloud) Set(_ context.Context, id string, _ cloud.Change) (cloud.Device, error) {
	return cloud.Device{ID: id}, nil
}
func (r *readCloud) Device(_ context.Context, id string) (cloud.Device, error) {
	r.reads <- time.Now()
	return cloud.Device{ID: id}, nil
}

// confirmBridge is a bridge without a run loop holding one lamp whose
// registry state is brightness.
func confirmBridge(t *testing.T, confirmAfter time.Duration, brightness float64) (*Bridge, *readCloud) {
	t.Helper()
	p := &readCloud{reads: make(chan time.Time, 10)}
	b, err := New(nopBroker{}, []cloud.Provider{p}, Options{MaxRate: -1, ConfirmAfter: confirmAfter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(b.done) })
	b.accounts["late"].devices["lamp"] = &entry{account: "late", device: lampAt(brightness)}
	return b, p
}

func lampAt(brightness float64) cloud.Device {
	return cloud.Device{ID: "lamp", State: map[string]any{cloud.FieldBrightness: brightness}}
}

// readsUntil counts the re-reads until one at or after t, which it
// includes.
func (r *readCloud) readsUntil(t *testing.T, at time.Time) int {
	t.Helper()
	for n := 1; ; n++ {
		select {
		case read := <-r.reads:
			if !read.Before(at) {
				return n
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("after %d re-reads, none at or after %s", n-1, at.Format(time.StampMicro))
		}
	}
}

// A slider's commands that no push confirms cost one re-read, after the
// last of them, not one each.
func TestUnconfirmedCommandsAreReReadOnceAfterTheLast(t *testing.T) {
	const after = 200 * time.Millisecond
	b, p := confirmBridge(t, after, 0)
	b.applied("late", "lamp", cloud.Change{cloud.FieldBrightness: 0.1}, cloud.Device{ID: "lamp"})
	b.applied("late", "lamp", cloud.Change{cloud.FieldBrightness: 0.2}, cloud.Device{ID: "lamp"})
	last := time.Now()
	b.applied("late", "lamp", cloud.Change{cloud.FieldBrightness: 0.3}, cloud.Device{ID: "lamp"})
	if n := p.readsUntil(t, last.Add(after)); n != 1 {
		t.Errorf("%d re-reads for three commands in a row: want one, commands.confirm_after after the last", n)
	}
}

// A command superseded by a newer one that the device shows needs no
// re-read.
func TestSupersededCommandIsNotReRead(t *testing.T) {
	const after = 200 * time.Millisecond
	b, p := confirmBridge(t, after, 0.3) // a push showed 0.3
	b.applied("late", "lamp", cloud.Change{cloud.FieldBrightness: 0.1}, cloud.Device{ID: "lamp"})
	b.applied("late", "lamp", cloud.Change{cloud.FieldBrightness: 0.3}, cloud.Device{ID: "lamp"})
	// Then a command the device does not show.
	later := time.Now().Add(after / 2)
	time.AfterFunc(after/2, func() {
		b.applied("late", "lamp", cloud.Change{cloud.FieldBrightness: 0.7}, cloud.Device{ID: "lamp"})
	})
	if n := p.readsUntil(t, later.Add(after)); n != 1 {
		t.Errorf("%d re-reads: want one, for the last command, none for the superseded 0.1", n)
	}
}
