package bridge_test

import (
	"encoding/json"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// eventSteps drives one device through: a press, another field changing
// while the press field stays true, Home Assistant's birth (everything
// re-published), the field turning false, and a second press. Home
// Assistant must see exactly two events, each on the event topic its
// entity reads, not retained.
type eventSteps struct {
	press, other, release func(t *testing.T)
}

func checkEvents(t *testing.T, h *harness, rel, key, eventType string, cfg map[string]any, s eventSteps) {
	t.Helper()
	topic := h.topics.Base + "/" + rel
	cmp, _ := cfg["components"].(map[string]any)[key].(map[string]any)
	if cmp == nil || cmp["platform"] != "event" || cmp["state_topic"] != topic+"/event" {
		t.Fatalf("the %s component is not an event entity on %s/event: %v", key, topic, cmp)
	}
	wantTemplate := `{% if value_json.event == '` + key + `' %}{"event_type":"` + eventType + `"}{% endif %}`
	if cmp["value_template"] != wantTemplate {
		t.Errorf("value_template %q, want %q", cmp["value_template"], wantTemplate)
	}
	events := func() []mqtt.Message {
		var out []mqtt.Message
		for _, m := range h.rec.Messages() {
			if m.Topic == topic+"/event" {
				out = append(out, m)
			}
		}
		return out
	}
	isEvent := func(m mqtt.Message) bool { return m.Topic == topic+"/event" }
	// next waits for the first message after those recorded so far that
	// is the device's state with key at v.
	next := func(v bool) {
		t.Helper()
		after := len(h.rec.Messages())
		i := 0
		h.rec.Wait(t, wait, func(m mqtt.Message) bool {
			i++
			var s map[string]any
			return i > after && m.Topic == topic && json.Unmarshal(m.Payload, &s) == nil && s[key] == v
		})
	}

	s.press(t)
	first := h.rec.Wait(t, wait, isEvent)
	var ev map[string]any
	if err := json.Unmarshal(first.Payload, &ev); err != nil || ev["event"] != key || ev["event_type"] != eventType {
		t.Fatalf("event %q, want event %q of type %q", first.Payload, key, eventType)
	}
	if first.Retained {
		t.Error("the event was retained: a subscriber arriving later would see a press that is over")
	}
	s.other(t)
	next(true)
	mqtttest.Publish(t, h.url, h.topics.HAStatus(), []byte("online"), false)
	next(true) // the state re-published
	s.release(t)
	next(false)
	s.press(t)
	h.rec.Wait(t, wait, nth(2, isEvent))
	if got := events(); len(got) != 2 {
		t.Fatalf("%d events on %s/event, want 2 (the two presses): %v", len(got), topic, got)
	}
}

func TestWinkButtonPressIsOneEventAcrossRepublishes(t *testing.T) {
	h := newHarness(t, nil)
	cfg := h.discovery(t, "wink", "button-9310")
	update := func(reading map[string]any) func(t *testing.T) {
		return func(t *testing.T) {
			if err := h.srv.Update("button", "9310", reading); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkEvents(t, h, "wink/desk_button", "pressed", "press", cfg, eventSteps{
		press:   update(map[string]any{"pressed": true}),
		other:   update(map[string]any{"long_pressed": false, "battery": 0.5}),
		release: update(map[string]any{"pressed": false}),
	})
}

func TestHomeyDoorbellRingIsOneEventAcrossRepublishes(t *testing.T) {
	h, srv := newHomeyHarness(t)
	cfg := h.discovery(t, "homey", homeytest.DeviceDoorbell)
	set := func(capability string, v any) func(t *testing.T) {
		return func(t *testing.T) {
			if err := srv.SetCapability(homeytest.DeviceDoorbell, capability, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkEvents(t, h, "homey/doorbell", "pressed", "press", cfg, eventSteps{
		press:   set("alarm_generic", true),
		other:   set("alarm_motion", true),
		release: set("alarm_generic", false),
	})
}
