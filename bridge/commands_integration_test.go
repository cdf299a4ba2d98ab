package bridge_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// faultySide is a cloud side whose emulator fails on request, and which
// tells the light's brightness commands apart.
type faultySide interface {
	cloudSide
	ThrottleNext(n int, retryAfter time.Duration)
	FailNext(n, status int)
	// DropPushes loses the cloud's next n pushes.
	DropPushes(n int)
	// LightBrightness lists the brightness values (0..1) the cloud was sent
	// for the light, with when each arrived.
	LightBrightness(t *testing.T) ([]float64, []time.Time)
}

func (w winkSide) ThrottleNext(n int, d time.Duration) { w.srv.ThrottleNext(n, d) }
func (w winkSide) FailNext(n, status int)              { w.srv.FailNext(n, status) }
func (w winkSide) DropPushes(n int)                    { w.srv.DropPushes(n) }
func (w winkSide) LightBrightness(t *testing.T) ([]float64, []time.Time) {
	var values []float64
	var at []time.Time
	for _, r := range w.srv.Requests() {
		if r.Method != "PUT" || !strings.HasPrefix(r.Path, "/light_bulbs/2194253") {
			continue
		}
		var body struct {
			DesiredState map[string]any `json:"desired_state"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("PUT body %s: %v", r.Body, err)
		}
		if v, ok := body.DesiredState["brightness"].(float64); ok {
			values, at = append(values, v), append(at, r.At)
		}
	}
	return values, at
}

func (s homeySide) ThrottleNext(n int, d time.Duration) { s.srv.ThrottleNext(n, d) }
func (s homeySide) FailNext(n, status int)              { s.srv.FailNext(n, status) }
func (s homeySide) DropPushes(n int)                    { s.srv.DropEvents(n) }
func (s homeySide) LightBrightness(t *testing.T) ([]float64, []time.Time) {
	var values []float64
	var at []time.Time
	dim := capabilityPUT(homeytest.DeviceColourLight, "dim")
	for _, r := range s.srv.Requests() {
		if !dim(r) {
			continue
		}
		var body struct {
			Value float64 `json:"value"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("PUT body %s: %v", r.Body, err)
		}
		values, at = append(values, body.Value), append(at, r.At)
	}
	return values, at
}

var (
	_ faultySide = winkSide{}
	_ faultySide = homeySide{}
)

// startFaulty starts pc's bridge with options adjusted by tune.
func startFaulty(t *testing.T, pc providerCase, tune func(*bridge.Options)) (*harness, faultySide) {
	h, side := pc.start(t, func(h *harness) { h.configure = tune })
	return h, side.(faultySide)
}

func brightnessIs(v float64) func(map[string]any) bool {
	return func(s map[string]any) bool { return s["brightness"] == v }
}

// noEvent fails the test when a bridge/event of kind was published.
func noEvent(t *testing.T, h *harness, kind string) {
	t.Helper()
	for _, m := range h.events.Messages() {
		if strings.Contains(string(m.Payload), `"type":"`+kind+`"`) {
			t.Errorf("unexpected %s: %s", kind, m.Payload)
		}
	}
}

func TestProvidersCommandsSurviveCloudFaults(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		h, side := startFaulty(t, pc, func(o *bridge.Options) { o.CommandLifetime = 20 * time.Second })
		h.state(t, pc.light, nil)
		faults := []struct {
			name   string
			inject func()
		}{
			{"a 503", func() { side.FailNext(1, 503) }},
			{"a burst of 500s", func() { side.FailNext(3, 500) }},
			{"three 429s with Retry-After", func() { side.ThrottleNext(3, time.Second) }},
		}
		for i, f := range faults {
			level := float64(60 + 40*i)
			f.inject()
			h.publish(t, pc.light+"/set", fmt.Sprintf(`{"state":"ON","brightness":%v}`, level))
			h.state(t, pc.light, brightnessIs(level))
		}
		noEvent(t, h, "command_failed")
	})
}

func TestProvidersCommandFailsOnlyAfterItsLifetime(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		h, side := startFaulty(t, pc, func(o *bridge.Options) { o.CommandLifetime = 2 * time.Second })
		h.state(t, pc.light, nil)
		side.FailNext(1<<30, 503)
		t.Cleanup(func() { side.FailNext(0, 0) })
		start := time.Now()
		h.publish(t, pc.light+"/set", `{"brightness":77}`)
		m := h.events.Wait(t, wait, func(m mqtt.Message) bool { return strings.Contains(string(m.Payload), `"command_failed"`) })
		var ev struct {
			Data struct {
				Fields   []string `json:"fields"`
				Attempts int      `json:"attempts"`
				Reason   string   `json:"reason"`
			} `json:"data"`
		}
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Data.Attempts < 2 || !strings.Contains(ev.Data.Reason, "command lifetime of 2s") ||
			len(ev.Data.Fields) != 1 || ev.Data.Fields[0] != "brightness" {
			t.Errorf("command_failed = %s; want the brightness field, several attempts and the lifetime", m.Payload)
		}
		if took := time.Since(start); took < 1500*time.Millisecond {
			t.Errorf("reported failed after %s, before its lifetime", took)
		}
	})
}

func TestProvidersLostConfirmingPushIsRepairedByARead(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		h, side := startFaulty(t, pc, func(o *bridge.Options) { o.ConfirmAfter = 300 * time.Millisecond })
		h.state(t, pc.light, nil)
		side.DropPushes(5)
		t.Cleanup(func() { side.DropPushes(0) })
		h.publish(t, pc.light+"/set", `{"state":"ON","brightness":201}`)
		h.state(t, pc.light, brightnessIs(201))
	})
}

func TestProvidersSliderGetsAtMostTheRateLatestLast(t *testing.T) {
	const rate = 5.0
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		h, side := startFaulty(t, pc, func(o *bridge.Options) { o.MaxRate = rate })
		h.state(t, pc.light, nil)
		h.publish(t, pc.light+"/set", `{"state":"ON"}`)
		side.WaitCommand(t, "")
		for v := 1; v <= 60; v++ {
			h.publish(t, pc.light+"/set/brightness", fmt.Sprint(v*4))
		}
		h.state(t, pc.light, brightnessIs(240))
		values, at := side.LightBrightness(t)
		if len(values) == 0 || math.Abs(values[len(values)-1]-240.0/255) > 0.01 {
			t.Fatalf("brightness values sent %v: want the last to be 240/255", values)
		}
		span := at[len(at)-1].Sub(at[0]).Seconds()
		if limit := 1 + int(math.Ceil(span*rate)) + 1; len(values) > limit {
			t.Errorf("%d brightness calls in %.2fs, more than %v a second allows (%d)", len(values), span, rate, limit)
		}
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap < time.Duration(float64(time.Second)/rate)-20*time.Millisecond {
				t.Errorf("calls %d and %d only %s apart", i-1, i, gap)
			}
		}
	})
}
