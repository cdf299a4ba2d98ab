package cloudtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func list(t *testing.T, h Harness) []cloud.Device {
	t.Helper()
	ds, err := h.Provider().Devices(callCtx(t))
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	return ds
}

func find(ds []cloud.Device, id string) (cloud.Device, bool) {
	for _, d := range ds {
		if d.ID == id {
			return d, true
		}
	}
	return cloud.Device{}, false
}

var classes = []cloud.Class{cloud.ClassLight, cloud.ClassSwitch, cloud.ClassLock, cloud.ClassFan, cloud.ClassClimate,
	cloud.ClassCover, cloud.ClassSiren, cloud.ClassSensor, cloud.ClassButton, cloud.ClassHub, cloud.ClassWaterHeater, cloud.ClassScene,
	cloud.ClassAlarm, cloud.ClassVacuum}

var kinds = []cloud.Kind{cloud.KindBool, cloud.KindNumber, cloud.KindEnum, cloud.KindString, cloud.KindEvent, cloud.KindPress}

// testList: every furnished device is listed once, with a name, a known
// class and well-formed fields.
func testList(t *testing.T, h Harness) {
	ds := list(t, h)
	seen := map[string]bool{}
	for _, d := range ds {
		if seen[d.ID] {
			t.Errorf("device %s is listed twice", d.ID)
		}
		seen[d.ID] = true
		if d.Name == "" || !slices.Contains(classes, d.Class) {
			t.Errorf("device %s: name %q, class %q: want a name and one of %v", d.ID, d.Name, d.Class, classes)
		}
		for _, f := range d.Fields {
			switch {
			case !slices.Contains(kinds, f.Kind):
				t.Errorf("device %s field %s: kind %q", d.ID, f.Name, f.Kind)
			case f.Kind == cloud.KindEnum && len(f.Choices) == 0:
				t.Errorf("device %s field %s: an enum without choices", d.ID, f.Name)
			case f.Kind == cloud.KindEvent && (len(f.Choices) == 0 || f.Writable):
				t.Errorf("device %s field %s: an event needs its event type in choices and is read-only", d.ID, f.Name)
			case f.Min != nil && f.Max != nil && *f.Min > *f.Max:
				t.Errorf("device %s field %s: min %v above max %v", d.ID, f.Name, *f.Min, *f.Max)
			}
		}
	}
	for _, id := range h.DeviceIDs() {
		if !seen[id] {
			t.Errorf("furnished device %s is not listed", id)
		}
	}
}

// testGet: Device re-reads each device as the listing shows it.
func testGet(t *testing.T, h Harness) {
	ds := list(t, h)
	for _, id := range h.DeviceIDs() {
		d, err := h.Provider().Device(callCtx(t), id)
		if err != nil {
			t.Errorf("Device(%s): %v", id, err)
			continue
		}
		l, _ := find(ds, id)
		if d.ID != id || d.Name != l.Name || d.Class != l.Class || len(d.Fields) != len(l.Fields) {
			t.Errorf("Device(%s) = %s %q %s with %d fields; the listing has %q %s with %d", id,
				d.ID, d.Name, d.Class, len(d.Fields), l.Name, l.Class, len(l.Fields))
		}
	}
}

// testSetEachKind: each named write is confirmed by the device, and the
// writes cover every kind of writable field the devices have.
func testSetEachKind(t *testing.T, h Harness) {
	ds := list(t, h)
	covered := map[cloud.Kind]bool{}
	for _, w := range h.Writes() {
		d, ok := find(ds, w.Device)
		if !ok {
			t.Errorf("write %s.%s: no such device", w.Device, w.Field)
			continue
		}
		f, ok := d.Field(w.Field)
		if !ok || !f.Writable {
			t.Errorf("write %s.%s: the device has no such writable field", w.Device, w.Field)
			continue
		}
		covered[f.Kind] = true
		want := otherValue(f, d.State[f.Name])
		got, err := h.Provider().Set(callCtx(t), w.Device, cloud.Change{f.Name: want})
		if err != nil {
			t.Errorf("Set %s %s=%v: %v", w.Device, f.Name, want, err)
			continue
		}
		if got.ID != w.Device {
			t.Errorf("Set %s returned device %s", w.Device, got.ID)
		}
		confirmed(t, h, f, w.Device, want, got)
	}
	for _, d := range ds {
		for _, f := range d.Fields {
			// A press has no state a device could confirm.
			if f.Writable && !covered[f.Kind] && f.Kind != cloud.KindPress {
				t.Errorf("device %s has a writable %s field %s, but Writes sets no %s field", d.ID, f.Kind, f.Name, f.Kind)
				covered[f.Kind] = true // once per kind
			}
		}
	}
}

// confirmed checks that the device shows want in field f: in what Set
// returned, or in a re-read soon after (a cloud may apply it a moment
// later).
func confirmed(t *testing.T, h Harness, f cloud.Field, id string, want any, got cloud.Device) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !sameValue(f, got.State[f.Name], want) {
		if time.Now().After(deadline) {
			t.Errorf("Set %s %s=%v: the device still shows %v after %s", id, f.Name, want, got.State[f.Name], wait)
			return
		}
		<-tick.C
		var err error
		if got, err = h.Provider().Device(callCtx(t), id); err != nil {
			t.Errorf("Device(%s) after Set: %v", id, err)
			return
		}
	}
}

// otherValue is a valid value of f that differs from cur.
func otherValue(f cloud.Field, cur any) any {
	switch f.Kind {
	case cloud.KindBool:
		b, _ := cur.(bool)
		return !b
	case cloud.KindEnum:
		for _, c := range f.Choices {
			if c != cur {
				return c
			}
		}
		return f.Choices[0]
	case cloud.KindString:
		return "conformance " + time.Now().Format("150405.000")
	}
	lo, hi := 0.0, 100.0
	if f.Min != nil {
		lo = *f.Min
	}
	if f.Max != nil {
		hi = *f.Max
	}
	c, _ := cloud.Number(cur)
	for _, frac := range []float64{0.25, 0.75} {
		v := lo + (hi-lo)*frac
		if f.Step > 0 {
			v = lo + math.Round((v-lo)/f.Step)*f.Step
		}
		if math.Abs(v-c) > tolerance(f) {
			return v
		}
	}
	return hi
}

// tolerance is how far a confirmed number may be from the one set, for the
// cloud's own resolution (a level in 1/255ths, a temperature in halves).
func tolerance(f cloud.Field) float64 {
	tol := max(f.Step/2, 1e-9)
	if f.Min != nil && f.Max != nil {
		tol = max(tol, (*f.Max-*f.Min)/200)
	}
	return tol
}

func sameValue(f cloud.Field, got, want any) bool {
	if f.Kind != cloud.KindNumber {
		return got == want
	}
	g, ok := cloud.Number(got)
	w, _ := cloud.Number(want)
	return ok && math.Abs(g-w) <= tolerance(f)
}

func sensorIs(field string, value bool) func(cloud.Device) bool {
	return func(d cloud.Device) bool { return d.State[field] == value }
}

// testPush: a change in the cloud reaches Watch.
func testPush(t *testing.T, h Harness) {
	ev := watch(t, h.Provider())
	ev.live(t)
	id, field := h.Sensor()
	for _, v := range []bool{true, false} {
		from := ev.mark()
		h.ChangeInCloud(t, v)
		ev.waitFrom(t, from, fmt.Sprintf("device %s with %s=%v", id, field, v), deviceSeen(id, sensorIs(field, v)))
	}
}

// testResyncAfterLostPush: a change whose push is lost reaches Watch
// through the provider's resync or poll.
func testResyncAfterLostPush(t *testing.T, h Harness) {
	ev := watch(t, h.Provider())
	ev.live(t)
	id, field := h.Sensor()
	from := ev.mark()
	h.DropPushes(t, 1)
	h.ChangeInCloud(t, true)
	ev.waitFrom(t, from, fmt.Sprintf("device %s with %s=true after a lost push", id, field), deviceSeen(id, sensorIs(field, true)))
}

func authEvent(ev cloud.Event) bool { return ev.Kind == cloud.EventAuth }

// testCredentials: rejected credentials give errors wrapping ErrAuth from
// calls and Watch; a new login makes the same provider work again.
func testCredentials(t *testing.T, h Harness) {
	p := h.Provider()
	ev := watch(t, p)
	ev.listed(t)
	from := ev.mark()
	h.RejectCredentials(t)
	if _, err := p.Devices(callCtx(t)); !errors.Is(err, cloud.ErrAuth) {
		t.Errorf("Devices with rejected credentials: %v, want an error wrapping cloud.ErrAuth", err)
	}
	id := h.DeviceIDs()[0]
	if _, err := p.Device(callCtx(t), id); !errors.Is(err, cloud.ErrAuth) {
		t.Errorf("Device(%s) with rejected credentials: %v, want an error wrapping cloud.ErrAuth", id, err)
	}
	got := ev.waitFrom(t, from, "EventAuth", authEvent)
	if !errors.Is(got.Err, cloud.ErrAuth) {
		t.Errorf("EventAuth error %v, want one wrapping cloud.ErrAuth", got.Err)
	}

	from = ev.mark()
	h.Login(t)
	if _, err := p.Devices(callCtx(t)); err != nil {
		t.Errorf("Devices after a new login: %v", err)
	}
	ev.waitFrom(t, from, "EventAuth without error after the new login", func(ev cloud.Event) bool { return authEvent(ev) && ev.Err == nil })
}

// testUnknownID: Device and Set of an unknown id wrap ErrNotFound.
func testUnknownID(t *testing.T, h Harness) {
	id := h.UnknownID()
	if _, err := h.Provider().Device(callCtx(t), id); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Device(%s) = %v, want an error wrapping cloud.ErrNotFound", id, err)
	}
	if _, err := h.Provider().Set(callCtx(t), id, cloud.Change{cloud.FieldOn: true}); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Set(%s) = %v, want an error wrapping cloud.ErrNotFound", id, err)
	}
}

// testThrottled: a 429 is waited out for its Retry-After, then served.
func testThrottled(t *testing.T, h Harness) {
	const retryAfter = time.Second
	list(t, h) // logged in: the faults meet device calls, not the first login
	h.Throttle(t, 1, retryAfter)
	start := time.Now()
	ds := list(t, h)
	if took := time.Since(start); took < retryAfter {
		t.Errorf("Devices returned after %s, before the Retry-After of %s", took, retryAfter)
	}
	if len(ds) < len(h.DeviceIDs()) {
		t.Errorf("Devices after a 429 listed %d devices, want %d", len(ds), len(h.DeviceIDs()))
	}
}

// testServerErrors: a read that meets a few 5xx answers is retried.
func testServerErrors(t *testing.T, h Harness) {
	list(t, h) // logged in: the faults meet device calls, not the first login
	h.FailNext(t, 2, 503)
	if ds := list(t, h); len(ds) < len(h.DeviceIDs()) {
		t.Errorf("Devices after two 503s listed %d devices, want %d", len(ds), len(h.DeviceIDs()))
	}
	id := h.DeviceIDs()[0]
	h.FailNext(t, 2, 500)
	if _, err := h.Provider().Device(callCtx(t), id); err != nil {
		t.Errorf("Device(%s) after two 500s: %v", id, err)
	}
}

// testRename: Watch shows a device renamed in the cloud under the same id.
func testRename(t *testing.T, h Harness) {
	ev := watch(t, h.Provider())
	ev.live(t)
	id := h.DeviceIDs()[0]
	const name = "Renamed in the app"
	from := ev.mark()
	h.Rename(t, id, name)
	ev.waitFrom(t, from, fmt.Sprintf("device %s named %q", id, name), deviceSeen(id, func(d cloud.Device) bool { return d.Name == name }))
	if d, err := h.Provider().Device(callCtx(t), id); err != nil || d.Name != name {
		t.Errorf("Device(%s) after the rename = %q, %v; want %q", id, d.Name, err, name)
	}
}

// testRemove: a removed device leaves the listing Watch reports, and
// Device wraps ErrNotFound.
func testRemove(t *testing.T, h Harness) {
	ev := watch(t, h.Provider())
	ev.live(t)
	id := h.DeviceIDs()[len(h.DeviceIDs())-1]
	from := ev.mark()
	h.Remove(t, id)
	ev.waitFrom(t, from, "listing without "+id, func(ev cloud.Event) bool {
		_, in := find(ev.Devices, id)
		return ev.Kind == cloud.EventListing && !in
	})
	if _, err := h.Provider().Device(callCtx(t), id); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Device(%s) after its removal = %v, want an error wrapping cloud.ErrNotFound", id, err)
	}
}

// testOutage: a cloud that stops answering is reported as an EventAuth
// that is not about credentials, and its return as one without error.
func testOutage(t *testing.T, h Harness) {
	ev := watch(t, h.Provider())
	ev.listed(t)
	from := ev.mark()
	h.StopAnswering(t)
	down := ev.waitFrom(t, from, "EventAuth for the outage", authEvent)
	if down.Err == nil || errors.Is(down.Err, cloud.ErrAuth) {
		t.Errorf("outage reported as %v, want an error that does not wrap cloud.ErrAuth", down.Err)
	}
	from = ev.mark()
	h.Answer(t)
	ev.waitFrom(t, from, "EventAuth without error once the cloud answers", func(ev cloud.Event) bool { return authEvent(ev) && ev.Err == nil })
}
