package bridge_test

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// nth returns a matcher that accepts the n-th message (1-based) for which
// match is true, counting from the first recorded message.
func nth(n int, match func(mqtt.Message) bool) func(mqtt.Message) bool {
	seen := 0
	return func(m mqtt.Message) bool {
		if match(m) {
			seen++
		}
		return seen >= n
	}
}

func onTopic(topic string) func(mqtt.Message) bool {
	return func(m mqtt.Message) bool { return m.Topic == topic }
}

func count(r *mqtttest.Recorder, match func(mqtt.Message) bool) int {
	n := 0
	for _, m := range r.Messages() {
		if match(m) {
			n++
		}
	}
	return n
}

// request sends a bridge API request and returns the decoded response with
// the same transaction.
func (h *harness) request(t *testing.T, action, payload string) map[string]any {
	t.Helper()
	responses := mqtttest.NewRecorder(t, h.url, h.topics.BridgeResponse(action))
	h.publish(t, "bridge/request/"+action, payload)
	var req map[string]any
	_ = json.Unmarshal([]byte(payload), &req)
	var resp map[string]any
	responses.Wait(t, wait, func(m mqtt.Message) bool {
		var r map[string]any
		if json.Unmarshal(m.Payload, &r) != nil || r["transaction"] != req["transaction"] {
			return false
		}
		resp = r
		return true
	})
	return resp
}

func TestHomeAssistantBirthRepublishesDiscoveryAndState(t *testing.T) {
	h := newHarness(t, nil)
	disc := mqtttest.NewRecorder(t, h.url, h.topics.DeviceDiscovery("cloud2mqtt_wink_light_bulb-2194253"))
	disc.Wait(t, wait, nil) // the retained config
	stateTopic := h.topics.Base + "/wink/bedroom_lamp"
	before := count(h.rec, onTopic(stateTopic))

	mqtttest.Publish(t, h.url, h.topics.HAStatus(), []byte("online"), false)
	disc.Wait(t, wait, nth(2, func(mqtt.Message) bool { return true }))
	h.rec.Wait(t, wait, nth(before+1, onTopic(stateTopic)))
}

// TestStaleDiscoveryIsClearedAtStartAndForeignKept: retained configs of
// this bridge that match no device are cleared at start, in the
// abbreviated form of this version (with a "~" topic base) and in the
// full-key form of earlier versions, in both discovery modes; configs of
// other bridges stay.
func TestStaleDiscoveryIsClearedAtStartAndForeignKept(t *testing.T) {
	var stale, foreign []string
	var r *mqtttest.Recorder
	h := newHarness(t, func(h *harness) {
		r = mqtttest.NewRecorder(t, h.url, h.topics.DiscoveryPrefix+"/#")
		base, prefix := h.topics.Base, h.topics.DiscoveryPrefix
		retain := func(list *[]string, topic, payload string) {
			*list = append(*list, topic)
			mqtttest.Publish(t, h.url, topic, []byte(payload), true)
		}
		// Earlier versions: full keys.
		retain(&stale, h.topics.DeviceDiscovery("cloud2mqtt_wink_light_bulb-999"), `{"o":{"name":"cloud2mqtt"},"state_topic":"`+
			base+`/wink/old_lamp","dev":{"ids":["x"]},"cmps":{"light":{"p":"light","unique_id":"x"}}}`)
		retain(&stale, prefix+"/switch/cloud2mqtt_wink_binary_switch-998/switch/config", `{"origin":{"name":"cloud2mqtt"},`+
			`"availability":[{"topic":"`+base+`/bridge/state"},{"topic":"`+base+`/wink/old_switch/availability"}]}`)
		// This version: abbreviated keys, "~" in single-component configs.
		retain(&stale, h.topics.DeviceDiscovery("cloud2mqtt_wink_light_bulb-997"), `{"o":{"name":"cloud2mqtt"},"stat_t":"`+
			base+`/wink/old_bulb","avty":[{"t":"`+base+`/bridge/state"}],"dev":{"ids":["y"]},"cmps":{"light":{"p":"light","uniq_id":"y"}}}`)
		retain(&stale, prefix+"/light/cloud2mqtt_wink_light_bulb-996/light/config", `{"o":{"name":"cloud2mqtt"},"~":"`+
			base+`/wink/old_spot","stat_t":"~","avty":[{"t":"`+base+`/bridge/state"},{"t":"~/availability"}],"uniq_id":"z"}`)
		// Other bridges: another program, another base topic.
		retain(&foreign, prefix+"/device/other_bridge_1/config", `{"o":{"name":"zigbee2mqtt"},"state_topic":"z2m/lamp"}`)
		retain(&foreign, prefix+"/light/other_bridge_2/light/config", `{"o":{"name":"cloud2mqtt"},"~":"`+
			base+`-other/wink/lamp","stat_t":"~","avty":[{"t":"~/availability"}]}`)
		t.Cleanup(func() {
			for _, topic := range foreign {
				mqtttest.Publish(t, h.url, topic, nil, true)
			}
		})
	})
	for _, topic := range stale {
		r.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == topic && len(m.Payload) == 0 })
	}
	h.events.Wait(t, wait, func(m mqtt.Message) bool {
		return strings.Contains(string(m.Payload), "discovery_cleaned") && strings.Contains(string(m.Payload), `"cleared":4`)
	})
	// The other bridges' configs are still retained.
	for _, topic := range foreign {
		fresh := mqtttest.NewRecorder(t, h.url, topic)
		if m := fresh.Wait(t, wait, nil); !m.Retained || len(m.Payload) == 0 {
			t.Errorf("foreign config %s was touched: %q", topic, m.Payload)
		}
	}
}

func TestDeviceRemovedFromCloudLosesDiscoveryStateAndAvailability(t *testing.T) {
	h := newHarness(t, nil)
	config := h.topics.DeviceDiscovery("cloud2mqtt_wink_binary_switch-451110")
	disc := mqtttest.NewRecorder(t, h.url, config)
	disc.Wait(t, wait, nil)
	topic := h.topics.Base + "/wink/porch_light"
	if !h.srv.RemoveDevice("binary_switch", "451110") {
		t.Fatal("emulator has no porch light")
	}
	disc.Wait(t, wait, func(m mqtt.Message) bool { return len(m.Payload) == 0 })
	h.rec.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == topic && len(m.Payload) == 0 })
	h.rec.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == topic+"/availability" && len(m.Payload) == 0 })
	h.events.Wait(t, wait, func(m mqtt.Message) bool {
		return strings.Contains(string(m.Payload), `"device_removed"`) && strings.Contains(string(m.Payload), "451110")
	})
}

func TestRenameInCloudMovesTopicAndKeepsUniqueIDs(t *testing.T) {
	h := newHarness(t, nil)
	config := h.topics.DeviceDiscovery("cloud2mqtt_wink_binary_switch-451110")
	disc := mqtttest.NewRecorder(t, h.url, config)
	first := disc.Wait(t, wait, nil)
	if err := h.srv.Rename("binary_switch", "451110", "Garden light"); err != nil {
		t.Fatal(err)
	}
	h.state(t, "wink/garden_light", nil)
	old := h.topics.Base + "/wink/porch_light"
	h.rec.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == old && len(m.Payload) == 0 })
	h.rec.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == old+"/availability" && len(m.Payload) == 0 })
	second := disc.Wait(t, wait, func(m mqtt.Message) bool { return strings.Contains(string(m.Payload), "Garden light") })
	uid := func(m mqtt.Message) any {
		cmps, _ := haView(t, h.topics.DiscoveryPrefix, m.Topic, m.Payload)["components"].(map[string]any)
		sw, _ := cmps["switch"].(map[string]any)
		return sw["unique_id"]
	}
	if uid(first) == nil || uid(first) != uid(second) {
		t.Errorf("unique_id changed from %v to %v", uid(first), uid(second))
	}
}

func TestBridgeRequests(t *testing.T) {
	level := new(slog.LevelVar)
	h := newHarness(t, func(h *harness) {
		h.configure = func(o *bridge.Options) { o.LogLevel = level }
	})
	resp := h.request(t, "health_check", `{"transaction":"t1"}`)
	if resp["status"] != "ok" || resp["data"].(map[string]any)["healthy"] != true {
		t.Errorf("health_check = %v", resp)
	}

	// A device added while its push is lost appears on discover.
	h.srv.DropPushes(1)
	h.srv.AddDevice(map[string]any{"object_type": "binary_switch", "object_id": "777", "name": "Attic fan",
		"last_reading": map[string]any{"connection": true, "powered": false}})
	resp = h.request(t, "discover", `{"transaction":2}`)
	if added := resp["data"].(map[string]any)["added"]; resp["status"] != "ok" || len(added.([]any)) != 1 || added.([]any)[0] != "wink/binary_switch-777" {
		t.Errorf("discover = %v", resp)
	}
	h.state(t, "wink/attic_fan", func(s map[string]any) bool { return s["state"] == "OFF" })

	resp = h.request(t, "device/get", `{"transaction":"t3","id":"wink/bedroom_lamp"}`)
	data, _ := resp["data"].(map[string]any)
	if resp["status"] != "ok" || data["state"].(map[string]any)["state"] != "OFF" {
		t.Errorf("device/get = %v", resp)
	}
	resp = h.request(t, "device/get", `{"transaction":"t4","id":"wink/nothing"}`)
	if resp["status"] != "error" || !strings.Contains(resp["error"].(string), "unknown device") {
		t.Errorf("device/get of an unknown device = %v", resp)
	}

	resp = h.request(t, "options", `{"transaction":"t5","options":{"log_level":"debug"}}`)
	if resp["status"] != "ok" || level.Level() != slog.LevelDebug {
		t.Errorf("options = %v, level %v", resp, level.Level())
	}
	resp = h.request(t, "options", `{"transaction":"t6","options":{"log_level":"loud"}}`)
	if resp["status"] != "error" || !strings.Contains(resp["error"].(string), "debug, info, warn or error") {
		t.Errorf("bad options = %v", resp)
	}
	resp = h.request(t, "refresh", `{"transaction":"t7"}`)
	if resp["status"] != "ok" || resp["data"].(map[string]any)["devices"].(float64) < 10 {
		t.Errorf("refresh = %v", resp)
	}
	resp = h.request(t, "restart_everything", `{"transaction":"t8"}`)
	if resp["status"] != "error" || !strings.Contains(resp["error"].(string), "known: ") {
		t.Errorf("unknown request = %v", resp)
	}
}

func TestGetRereadsADeviceWhosePushWasLost(t *testing.T) {
	h := newHarness(t, nil)
	h.srv.DropPushes(1)
	if err := h.srv.Update("sensor_pod", "198190", map[string]any{"temperature": 30.5}); err != nil {
		t.Fatal(err)
	}
	h.publish(t, "wink/hallway_motion/get", "")
	h.state(t, "wink/hallway_motion", func(s map[string]any) bool { return s["temperature"] == 30.5 })
}

func TestAttributeOutputAndSetPerField(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.configure = func(o *bridge.Options) { o.Output = bridge.OutputAttributeAndJSON }
	})
	lamp := h.topics.Base + "/wink/bedroom_lamp"
	m := h.rec.Wait(t, wait, onTopic(lamp+"/state"))
	if string(m.Payload) != "OFF" {
		t.Errorf("attribute state = %q, want OFF", m.Payload)
	}
	h.publish(t, "wink/bedroom_lamp/set/state", "ON")
	h.rec.WaitTopic(t, wait, lamp+"/state", []byte("ON"))
	h.publish(t, "wink/bedroom_lamp/set/brightness", "51")
	h.rec.WaitTopic(t, wait, lamp+"/brightness", []byte("51"))
	h.state(t, "wink/bedroom_lamp", func(s map[string]any) bool { return s["brightness"] == 51.0 })
}

func TestPerDeviceOptions(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.configure = func(o *bridge.Options) {
			o.Devices = map[string]bridge.DeviceOptions{
				"wink/binary_switch-451110": {Exclude: true},
				"wink/light_bulb-2194253":   {Topic: "desk"},
				"wink/shade-31045":          {Optimistic: true},
			}
		}
	})
	h.state(t, "wink/desk", nil)
	// The optimistic shade shows the commanded position although the
	// cloud's confirmation push is lost.
	h.srv.DropPushes(1)
	h.publish(t, "wink/office_shade/set/position", "40")
	h.state(t, "wink/office_shade", func(s map[string]any) bool { return s["position"] == 40.0 })

	m := h.rec.Wait(t, wait, onTopic(h.topics.BridgeDevices()))
	if strings.Contains(string(m.Payload), "451110") || strings.Contains(string(m.Payload), "porch_light") {
		t.Errorf("excluded device listed: %s", m.Payload)
	}
	if count(h.rec, func(m mqtt.Message) bool { return strings.HasPrefix(m.Topic, h.topics.Base+"/wink/porch_light") }) != 0 {
		t.Error("excluded device was published")
	}
}

func TestPerComponentDiscovery(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.configure = func(o *bridge.Options) { o.Discovery = bridge.DiscoveryComponent }
	})
	topic := h.topics.DiscoveryPrefix + "/light/cloud2mqtt_wink_light_bulb-2194253/light/config"
	r := mqtttest.NewRecorder(t, h.url, topic)
	m := r.Wait(t, wait, nil)
	var raw map[string]any
	if err := json.Unmarshal(m.Payload, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["p"]; ok {
		t.Errorf("per-component config carries the device-based key p: %s", m.Payload)
	}
	cfg := haView(t, h.topics.DiscoveryPrefix, topic, m.Payload)
	for k, want := range map[string]any{"command_topic": h.topics.Base + "/wink/bedroom_lamp/set",
		"state_topic": h.topics.Base + "/wink/bedroom_lamp", "unique_id": "cloud2mqtt_wink_light_bulb-2194253_light",
		"schema": "json", "qos": float64(1)} {
		if cfg[k] != want {
			t.Errorf("per-component light config: %s = %v, want %v: %s", k, cfg[k], want, m.Payload)
		}
	}
	for _, k := range []string{"device", "origin", "availability"} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("per-component light config lacks %s: %s", k, m.Payload)
		}
	}
	// Home Assistant's view: the bridge's state, and the device's
	// availability read from its JSON state.
	want := []any{
		map[string]any{"topic": h.topics.BridgeState(), "value_template": "{{ value_json.state }}"},
		map[string]any{"topic": h.topics.Base + "/wink/bedroom_lamp", "value_template": "{{ value_json.availability }}"},
	}
	if !reflect.DeepEqual(cfg["availability"], want) {
		t.Errorf("per-component light config: availability %v, want %v", cfg["availability"], want)
	}
	lamp := h.state(t, "wink/bedroom_lamp", nil)
	if lamp["availability"] != "online" {
		t.Errorf("bedroom lamp state %v, want availability online", lamp)
	}
}
