package bridge

import (
	"encoding/json"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// A device's events (a button pressed, a doorbell rung, a key used, a robot
// fired) are published once each, not retained, on <device>/event, when the
// field that reports them turns true. The state keeps the field as it is;
// Home Assistant's event entities read the event topic, so re-publishing the
// state (a refresh, Home Assistant's birth, another field changing while the
// field stays true) fires nothing.

// eventTopic is where a device's events are published.
func eventTopic(deviceTopic string) string { return deviceTopic + "/event" }

// eventType is the Home Assistant event type a state key reports, when it
// is an event: a KindEvent field (its first choice names the type), or the
// last press of a button device.
func eventType(e *entry, k stateKey) (string, bool) {
	f := k.field
	switch {
	case f.Kind == cloud.KindEvent:
		if len(f.Choices) > 0 {
			return f.Choices[0], true
		}
		return "event", true
	case e.device.Class == cloud.ClassButton && f.Kind == cloud.KindBool && !f.Writable &&
		(f.Name == cloud.FieldPressed || strings.HasPrefix(f.Name, cloud.FieldPressed+"_")):
		return "press", true
	}
	return "", false
}

// deviceEvent is one message on <device>/event.
type deviceEvent struct {
	Event     string `json:"event"`      // the state key that reported it
	EventType string `json:"event_type"` // Home Assistant's event type
}

// newEvents are the events of the device's update from old to the entry's
// current state: each event key that turned true. Call with b.mu held,
// after e.device and e.keys took the update.
func newEvents(e *entry, old *cloud.Device) [][]byte {
	var out [][]byte
	for _, k := range e.keys {
		typ, ok := eventType(e, k)
		if !ok || !isTrue(k, &e.device) || isTrue(k, old) {
			continue
		}
		payload, _ := json.Marshal(deviceEvent{Event: k.name, EventType: typ})
		out = append(out, payload)
	}
	return out
}

// isTrue tells whether key k reads true on d.
func isTrue(k stateKey, d *cloud.Device) bool {
	v, ok := k.read(d)
	b, isBool := v.(bool)
	return ok && isBool && b
}

// eventValueTemplate renders Home Assistant's event payload for the
// messages of key on the event topic, and nothing for the others (Home
// Assistant ignores an empty payload).
func eventValueTemplate(key, typ string) string {
	payload, _ := json.Marshal(map[string]string{"event_type": typ})
	return "{% if value_json.event == '" + key + "' %}" + string(payload) + "{% endif %}"
}
