package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

const wait = 15 * time.Second

// harness is a running bridge between the Wink emulator and a real broker.
type harness struct {
	srv    *winktest.Server
	url    string
	topics bridge.Topics
	rec    *mqtttest.Recorder
	events *mqtttest.Recorder
	disc   *mqtttest.Recorder // everything under the discovery prefix
	pub    *mqtttest.Publisher
	bridge *bridge.Bridge
	client *mqtt.Client
	// configure, when set by the before hook, adjusts the bridge options.
	configure func(*bridge.Options)
	// stop stops the bridge (as at shutdown) and waits for it; the test's
	// end does too.
	stop func()
}

func testLogger(tb testing.TB) *slog.Logger {
	if os.Getenv("CLOUD2MQTT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newHarness furnishes the Wink emulator, connects the bridge to the broker
// and waits until every device's state has been published. before runs
// after the broker and topics are known but before the bridge starts.
func newHarness(tb testing.TB, before func(h *harness)) *harness {
	tb.Helper()
	srv := furnishedWink(tb)
	h := newBaseHarness(tb)
	h.srv = srv
	if before != nil {
		before(h)
	}
	h.start(tb, newWinkClient(tb, srv, "wink", nil))
	h.state(tb, "wink/alarm_siren", nil)
	return h
}

// newBaseHarness makes the topics and recorders of a harness.
func newBaseHarness(tb testing.TB) *harness {
	base := mqtttest.BaseTopic(tb)
	h := &harness{url: mqtttest.BrokerURL(tb), topics: bridge.Topics{Base: base, DiscoveryPrefix: base + "-ha"}}
	h.rec = mqtttest.NewRecorder(tb, h.url, base+"/#")
	h.events = mqtttest.NewRecorder(tb, h.url, h.topics.BridgeEvent())
	h.disc = mqtttest.NewClearingRecorder(tb, h.url, h.topics.DiscoveryPrefix+"/#")
	h.pub = mqtttest.NewPublisher(tb, h.url)
	return h
}

// start runs a bridge over the providers until the test ends and waits
// until every account is connected.
func (h *harness) start(tb testing.TB, providers ...cloud.Provider) {
	tb.Helper()
	log := testLogger(tb)
	ctx, cancel := context.WithCancel(context.Background())
	client, err := mqtt.Connect(ctx, mqtt.Options{URL: h.url, WillTopic: h.topics.BridgeState(),
		WillPayload: []byte(`{"state":"offline"}`), BirthPayload: []byte(`{"state":"online"}`), Logger: log})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	h.client = client
	opts := bridge.Options{Topics: h.topics, Version: "test", Logger: log}
	if h.configure != nil {
		h.configure(&opts)
	}
	h.bridge, err = bridge.New(client, providers, opts)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.bridge.Run(ctx) }()
	var stopOnce sync.Once
	h.stop = func() {
		stopOnce.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(wait):
				tb.Error("bridge did not stop")
			}
			closeCtx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			_ = client.Close(closeCtx)
		})
	}
	tb.Cleanup(h.stop)
	h.rec.Wait(tb, wait, func(m mqtt.Message) bool {
		if m.Topic != h.topics.BridgeInfo() {
			return false
		}
		var info struct {
			Accounts []struct{ Status string }
		}
		if json.Unmarshal(m.Payload, &info) != nil || len(info.Accounts) != len(providers) {
			return false
		}
		for _, a := range info.Accounts {
			if a.Status != bridge.StatusConnected {
				return false
			}
		}
		return true
	})
}

// state waits for a state message of the device at <base>/<rel> for which
// match (nil: any) returns true, and returns it decoded.
func (h *harness) state(tb testing.TB, rel string, match func(map[string]any) bool) map[string]any {
	tb.Helper()
	topic := h.topics.Base + "/" + rel
	var out map[string]any
	h.rec.Wait(tb, wait, func(m mqtt.Message) bool {
		if m.Topic != topic {
			return false
		}
		var s map[string]any
		if json.Unmarshal(m.Payload, &s) != nil {
			return false
		}
		if match == nil || match(s) {
			out = s
			return true
		}
		return false
	})
	return out
}

// availabilitySequence matches once the JSON state at topic has carried
// each of the availabilities in seq, in that order.
func availabilitySequence(topic string, seq ...string) func(mqtt.Message) bool {
	next := 0
	return func(m mqtt.Message) bool {
		if next < len(seq) && m.Topic == topic && availabilityIn(m.Payload) == seq[next] {
			next++
		}
		return next == len(seq)
	}
}

// availabilityIn is the availability a device's JSON state carries.
func availabilityIn(state []byte) string {
	var s struct {
		Availability string `json:"availability"`
	}
	_ = json.Unmarshal(state, &s)
	return s.Availability
}

// publish sends payload to <base>/<rel> from the harness's one publisher,
// so that a test's commands reach the broker, and the bridge, in order.
func (h *harness) publish(tb testing.TB, rel string, payload string) {
	tb.Helper()
	h.pub.Publish(tb, h.topics.Base+"/"+rel, []byte(payload), false)
}

// discovery returns the device discovery config of an account's device, as
// Home Assistant reads it (haView).
func (h *harness) discovery(tb testing.TB, account, id string) map[string]any {
	tb.Helper()
	topic := h.topics.DeviceDiscovery("cloud2mqtt_" + account + "_" + id)
	r := mqtttest.NewRecorder(tb, h.url, topic)
	m := r.Wait(tb, wait, func(m mqtt.Message) bool { return m.Retained && len(m.Payload) > 0 })
	return haView(tb, h.topics.DiscoveryPrefix, topic, m.Payload)
}

func TestWinkDevicesGetRetainedDiscoveryForEveryComponent(t *testing.T) {
	h := newHarness(t, nil)
	// The component each furnished device must produce, with the keys Home
	// Assistant requires for it.
	cases := []struct {
		id, platform string
		required     []string
	}{
		{"light_bulb-2194253", "light", []string{"command_topic", "schema", "supported_color_modes"}},
		{"light_bulb-2194260", "light", []string{"command_topic", "schema", "supported_color_modes", "min_kelvin", "max_kelvin"}},
		{"binary_switch-451110", "switch", []string{"command_topic", "value_template"}},
		{"lock-109898", "lock", []string{"command_topic", "value_template", "payload_lock", "state_locked"}},
		{"fan-27001", "fan", []string{"command_topic", "state_value_template", "preset_modes", "percentage_command_topic"}},
		{"thermostat-180437", "climate", []string{"modes", "mode_command_topic", "current_temperature_topic"}},
		{"shade-31045", "cover", []string{"set_position_topic", "position_topic"}},
		{"garage_door-72021", "cover", []string{"command_topic", "position_topic"}},
		{"sensor_pod-198190", "sensor", []string{"value_template", "device_class", "unit_of_measurement"}},
		{"sensor_pod-198184", "binary_sensor", []string{"value_template", "device_class", "payload_on"}},
		{"sensor_pod-198195", "binary_sensor", []string{"value_template", "device_class"}},
		{"smoke_detector-33012", "binary_sensor", []string{"value_template", "device_class"}},
	}
	for _, c := range cases {
		cfg := h.discovery(t, "wink", c.id)
		dev, _ := cfg["device"].(map[string]any)
		if ids, _ := dev["identifiers"].([]any); len(ids) != 1 || ids[0] != "cloud2mqtt_wink_"+c.id || dev["name"] == "" {
			t.Errorf("%s: device = %v, want identifiers [cloud2mqtt_wink_%s] and a name", c.id, dev, c.id)
		}
		if dev["via_device"] != "cloud2mqtt_wink_hub-"+winktest.HubID {
			t.Errorf("%s: via_device = %v, want the hub", c.id, dev["via_device"])
		}
		if o, _ := cfg["origin"].(map[string]any); o["name"] != "cloud2mqtt" {
			t.Errorf("%s: origin = %v", c.id, cfg["origin"])
		}
		if cfg["state_topic"] == nil || cfg["availability"] == nil {
			t.Errorf("%s: state_topic / availability missing: %v", c.id, cfg)
		}
		cmps, _ := cfg["components"].(map[string]any)
		complete := false
		for _, v := range cmps {
			cmp := v.(map[string]any)
			if cmp["platform"] == nil || cmp["unique_id"] == nil {
				t.Errorf("%s: component without platform or unique_id: %v", c.id, cmp)
			}
			// Home Assistant before 2026.5 takes no qos from the root.
			if cmp["qos"] != float64(1) || cmp["availability"] == nil || cmp["state_topic"] == nil {
				t.Errorf("%s: component without qos 1, availability and a state topic in Home Assistant: %v", c.id, cmp)
			}
			if uid, _ := cmp["unique_id"].(string); !strings.HasPrefix(uid, "cloud2mqtt_wink_"+c.id) {
				t.Errorf("%s: unique_id %q is not derived from the cloud id", c.id, uid)
			}
			if cmp["platform"] != c.platform {
				continue
			}
			has := true
			for _, k := range c.required {
				if _, ok := cmp[k]; !ok {
					has = false
				}
			}
			complete = complete || has
		}
		if !complete {
			t.Errorf("%s: no %s component with %v in %v", c.id, c.platform, c.required, cmps)
		}
	}
	color := h.discovery(t, "wink", "light_bulb-2194260")["components"].(map[string]any)["light"].(map[string]any)
	if fmt.Sprint(color["supported_color_modes"]) != "[color_temp hs]" {
		t.Errorf("colour bulb modes = %v, want [color_temp hs]", color["supported_color_modes"])
	}

	// bridge/devices lists every device with its type and topic.
	m := h.rec.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == h.topics.BridgeDevices() })
	var devices []map[string]any
	if err := json.Unmarshal(m.Payload, &devices); err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, d := range devices {
		types[d["id"].(string)] = d["type"].(string)
		if d["account"] != "wink" || !strings.HasPrefix(d["topic"].(string), h.topics.Base+"/wink/") {
			t.Errorf("device entry %v", d)
		}
	}
	for id, want := range map[string]string{"light_bulb-2194253": "light", "lock-109898": "lock",
		"thermostat-180437": "climate", "sensor_pod-198184": "binary_sensor", "hub-" + winktest.HubID: "hub"} {
		if types[id] != want {
			t.Errorf("bridge/devices type of %s = %q, want %q", id, types[id], want)
		}
	}
}

func TestPushesResumeAfterLongPollFails(t *testing.T) {
	h := newHarness(t, nil)
	h.srv.FailNextPolls(1, 500)
	if err := h.srv.Update("sensor_pod", "198190", map[string]any{"motion": true}); err != nil {
		t.Fatal(err)
	}
	h.state(t, "wink/hallway_motion", func(s map[string]any) bool { return s["motion"] == true })
	if err := h.srv.Update("sensor_pod", "198190", map[string]any{"motion": false}); err != nil {
		t.Fatal(err)
	}
	h.state(t, "wink/hallway_motion", func(s map[string]any) bool { return s["motion"] == false })
}
