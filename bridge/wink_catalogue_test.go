package bridge_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// TestWinkCatalogue goes over one furnished device of every Wink type beyond
// the common ones: the Home Assistant components it is announced with, and
// a command on each writable field reaching the emulator as the PUT Wink
// expects, with typed values.
func TestWinkCatalogue(t *testing.T) {
	h := newHarness(t, nil)
	type command struct {
		topic, payload string         // relative to the device topic
		path           string         // the PUT path
		body           map[string]any // keys the PUT body must hold (desired_state as a nested map)
	}
	ds := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"desired_state": m}
	}
	cases := []struct {
		id, topic string
		cmps      map[string]string // component key → platform
		commands  []command
	}{
		{"light_bulb-2194270", "ceiling_fan", map[string]string{"fan": "fan"}, []command{
			{"set/speed", "high", "/light_bulbs/2194270/desired_state", ds("powered", true, "brightness", 1.0)},
			{"set/percentage", "30", "/light_bulbs/2194270/desired_state", ds("powered", true, "brightness", 0.33)},
			{"set", `{"state":"OFF"}`, "/light_bulbs/2194270/desired_state", ds("powered", false)},
		}},
		{"air_conditioner-5612", "bedroom_ac", map[string]string{"climate": "climate", "consumption": "sensor",
			"schedule_enabled": "switch", "temperature": "sensor"}, []command{
			{"set/mode", "fan_only", "/air_conditioners/5612/desired_state", ds("powered", true, "mode", "fan_only")},
			{"set/mode", "off", "/air_conditioners/5612/desired_state", ds("powered", false)},
			{"set/target_temp", "21.5", "/air_conditioners/5612/desired_state", ds("max_set_point", 21.5)},
			{"set/fan_mode", "medium", "/air_conditioners/5612/desired_state", ds("fan_speed", 0.66)},
			{"set/schedule_enabled", "true", "/air_conditioners/5612/desired_state", ds("schedule_enabled", true)},
		}},
		{"water_heater-3318", "water_heater", map[string]string{"water_heater": "water_heater", "vacation_mode": "switch",
			"rheem_type": "sensor"}, []command{
			{"set/mode", "electric", "/water_heaters/3318/desired_state", ds("powered", true, "mode", "electric_only")},
			{"set/target_temp", "50", "/water_heaters/3318/desired_state", ds("set_point", 50.0)},
			{"set/state", "OFF", "/water_heaters/3318/desired_state", ds("powered", false)},
			{"set/vacation_mode", "true", "/water_heaters/3318/desired_state", ds("vacation_mode", true)},
		}},
		{"sprinkler-7731", "garden_sprinkler", map[string]string{"switch": "switch"}, []command{
			{"set", "ON", "/sprinklers/7731/desired_state", ds("powered", true)},
		}},
		{"propane_tank-9021", "grill_tank", map[string]string{"remaining": "sensor", "tare": "number", "battery": "sensor"}, []command{
			{"set/tare", "18", "/propane_tanks/9021", map[string]any{"tare": 18.0}},
		}},
		{"eggtray-1510", "egg_minder", map[string]string{"inventory": "sensor", "battery": "sensor"}, nil},
		{"piggy_bank-4410", "porkfolio", map[string]string{"balance": "sensor", "nose_color": "sensor", "vibration": "binary_sensor",
			"battery": "sensor"}, []command{
			{"set/nose_color", "FF0000", "/piggy_banks/4410", map[string]any{"nose_color": "FF0000"}},
		}},
		{"cloud_clock-2240", "nimbus", map[string]string{"dial_1": "sensor", "dial_1_labels": "sensor", "dial_2": "sensor",
			"dial_2_labels": "sensor", "next_alarm": "sensor"}, nil},
		{"camera-6620", "living_room_camera", map[string]string{"mode": "select", "private": "switch"}, []command{
			{"set/mode", "away", "/cameras/6620/desired_state", ds("mode", "away")},
			{"set/private", "true", "/cameras/6620/desired_state", ds("private", true)},
		}},
		{"door_bell-8800", "front_door_bell", map[string]string{"ring": "event", "motion": "binary_sensor", "battery": "sensor"}, nil},
		{"button-9310", "desk_button", map[string]string{"pressed": "event", "long_pressed": "event"}, nil},
		{"remote-80012", "living_room_remote", map[string]string{"button_on_pressed": "event", "button_off_pressed": "event",
			"button_up_pressed": "event", "button_down_pressed": "event"}, nil},
		{"gang-48", "kitchen_relay_2", map[string]string{"connectivity": "binary_sensor"}, nil},
		{"key-3501", "guest_code", map[string]string{"used": "event"}, nil},
		{"robot-12001", "lights_off_at_night", map[string]string{"switch": "switch", "fired": "event"}, []command{
			{"set", "OFF", "/robots/12001/desired_state", ds("enabled", false)},
		}},
		{"thermostat-180437", "hallway_thermostat", map[string]string{"climate": "climate", "on": "switch"}, []command{
			{"set/mode", "cool", "/thermostats/180437/desired_state", ds("powered", true, "mode", "cool_only")},
			{"set/mode", "off", "/thermostats/180437/desired_state", ds("powered", false)},
			// The owner sees °F: set points come and go in whole °F, Wink gets °C.
			{"set/target_temp_low", "68", "/thermostats/180437/desired_state", ds("min_set_point", 20.0)},
		}},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			cfg := h.discovery(t, "wink", c.id)
			cmps, _ := cfg["components"].(map[string]any)
			got := map[string]string{}
			for k, v := range cmps {
				p, _ := v.(map[string]any)["platform"].(string)
				got[k] = p
			}
			for k, p := range c.cmps {
				if got[k] != p {
					t.Errorf("component %s: platform %q, want %q (components %v)", k, got[k], p, got)
				}
			}
			for k, p := range got {
				if _, ok := c.cmps[k]; !ok && p != "sensor" && p != "binary_sensor" {
					t.Errorf("unexpected component %s (%s)", k, p)
				}
			}
			for _, cmd := range c.commands {
				sent := h.srv.CountRequests("PUT", cmd.path)
				h.publish(t, "wink/"+c.topic+"/"+cmd.topic, cmd.payload)
				req := waitPUTAfter(t, h.srv, cmd.path, sent)
				var body map[string]any
				if err := json.Unmarshal(req.Body, &body); err != nil {
					t.Fatalf("%s %s: PUT body %s: %v", cmd.topic, cmd.payload, req.Body, err)
				}
				if !contains(body, cmd.body) {
					t.Errorf("%s %s: PUT %s %s, want it to hold %v", cmd.topic, cmd.payload, req.Path, req.Body, cmd.body)
				}
			}
		})
	}
}

// waitPUTAfter waits for the first PUT to exactly path after the first
// `after` such requests.
func waitPUTAfter(t *testing.T, srv *winktest.Server, path string, after int) winktest.Request {
	t.Helper()
	return waitRequestAfter(t, srv, "PUT", path, after)
}

// waitRequestAfter waits for the first request of method to exactly path
// after the first `after` such requests.
func waitRequestAfter(t *testing.T, srv *winktest.Server, method, path string, after int) winktest.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	seen := 0
	r, err := srv.WaitRequest(ctx, func(r winktest.Request) bool {
		if r.Method != method || strings.TrimRight(r.Path, "/") != path {
			return false
		}
		seen++
		return seen > after
	})
	if err != nil {
		t.Fatalf("no %s %s: %v", method, path, err)
	}
	return r
}

// contains reports whether got holds every key of want with an equal value
// (maps compared key by key, recursively).
func contains(got, want map[string]any) bool {
	for k, w := range want {
		if wm, ok := w.(map[string]any); ok {
			gm, ok := got[k].(map[string]any)
			if !ok || !contains(gm, wm) || len(gm) != len(wm) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(got[k], w) {
			return false
		}
	}
	return true
}
