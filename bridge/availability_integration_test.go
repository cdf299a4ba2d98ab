package bridge_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// haAvailable evaluates a component's availability as Home Assistant does
// with availability_mode all: every entry's topic, through its value
// template, must read its payload_available ("online"). last gives the
// retained payload of a topic. Only the templates the bridge sends,
// {{ value_json.<key> }}, are understood; any other fails the test.
func haAvailable(tb testing.TB, cmp map[string]any, last func(topic string) []byte) bool {
	tb.Helper()
	if mode := cmp["availability_mode"]; mode != "all" {
		tb.Fatalf("availability_mode %v, want all", mode)
	}
	entries, _ := cmp["availability"].([]any)
	if len(entries) == 0 {
		tb.Fatalf("no availability entries: %v", cmp)
	}
	for _, raw := range entries {
		e, _ := raw.(map[string]any)
		topic, _ := e["topic"].(string)
		tpl, _ := e["value_template"].(string)
		key, ok := strings.CutPrefix(tpl, "{{ value_json.")
		key, ok2 := strings.CutSuffix(key, " }}")
		if !ok || !ok2 || strings.ContainsAny(key, " .[|") {
			tb.Fatalf("availability entry %v: template %q is not {{ value_json.<key> }}", e, tpl)
		}
		var payload map[string]any
		if json.Unmarshal(last(topic), &payload) != nil || payload[key] != "online" {
			return false
		}
	}
	return true
}

// retainedPayload reads the retained payload of a topic from a fresh
// subscription.
func retainedPayload(tb testing.TB, url string) func(topic string) []byte {
	return func(topic string) []byte {
		tb.Helper()
		return mqtttest.NewRecorder(tb, url, topic).Wait(tb, wait, nil).Payload
	}
}

// mustLast is the last payload recorded on topic.
func (h *harness) mustLast(tb testing.TB, topic string) []byte {
	tb.Helper()
	m, ok := h.rec.Last(topic)
	if !ok {
		tb.Fatalf("nothing recorded on %s", topic)
	}
	return m.Payload
}

func TestAvailabilityRidesInTheState(t *testing.T) {
	h := newHarness(t, nil)
	porch := h.topics.Base + "/wink/porch_light"
	config := h.topics.DeviceDiscovery("cloud2mqtt_wink_binary_switch-451110")
	m := h.disc.Wait(t, wait, onTopic(config))
	view := haView(t, h.topics.DiscoveryPrefix, config, m.Payload)
	sw, _ := view["components"].(map[string]any)["switch"].(map[string]any)
	if sw == nil {
		t.Fatalf("porch light config has no switch: %s", m.Payload)
	}
	if !haAvailable(t, sw, retainedPayload(t, h.url)) {
		t.Errorf("Home Assistant shows the porch light unavailable; state %s", h.mustLast(t, porch))
	}

	// The hub loses the device: its state says so, and Home Assistant
	// shows it unavailable.
	if err := h.srv.Update("binary_switch", "451110", map[string]any{"connection": false}); err != nil {
		t.Fatal(err)
	}
	h.rec.Wait(t, wait, availabilitySequence(porch, "online", "offline"))
	if haAvailable(t, sw, retainedPayload(t, h.url)) {
		t.Errorf("Home Assistant shows the disconnected porch light available; state %s", h.mustLast(t, porch))
	}
	if err := h.srv.Update("binary_switch", "451110", map[string]any{"connection": true}); err != nil {
		t.Fatal(err)
	}
	h.rec.Wait(t, wait, availabilitySequence(porch, "online", "offline", "online"))

	// No device has an availability topic of its own.
	for _, m := range h.rec.Messages() {
		if strings.HasSuffix(m.Topic, "/availability") {
			t.Errorf("%s published with availability: state", m.Topic)
		}
	}

	// At shutdown the bridge says it is gone; the devices' states keep
	// the cloud's word on them.
	h.stop()
	h.rec.WaitTopic(t, wait, h.topics.BridgeState(), []byte(`{"state":"offline"}`))
	if haAvailable(t, sw, retainedPayload(t, h.url)) {
		t.Error("Home Assistant shows the porch light available with the bridge gone")
	}
	if got := availabilityIn(h.mustLast(t, porch)); got != "online" {
		t.Errorf("porch light's availability %q after shutdown, want its last word, online", got)
	}
}

func TestAvailabilityTopicModeKeepsTheTopicAndMarksOfflineAtShutdown(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.configure = func(o *bridge.Options) { o.Availability = bridge.AvailabilityTopic }
	})
	porch := h.topics.Base + "/wink/porch_light"
	h.rec.WaitTopic(t, wait, porch+"/availability", []byte(`{"state":"online"}`))
	config := h.topics.DeviceDiscovery("cloud2mqtt_wink_binary_switch-451110")
	m := h.disc.Wait(t, wait, onTopic(config))
	view := haView(t, h.topics.DiscoveryPrefix, config, m.Payload)
	sw, _ := view["components"].(map[string]any)["switch"].(map[string]any)
	entries, _ := sw["availability"].([]any)
	if len(entries) != 2 || entries[1].(map[string]any)["topic"] != porch+"/availability" {
		t.Errorf("availability %v, want the bridge's state and %s/availability", sw["availability"], porch)
	}
	if !haAvailable(t, sw, retainedPayload(t, h.url)) {
		t.Error("Home Assistant shows the porch light unavailable")
	}
	h.stop()
	h.rec.WaitTopic(t, wait, porch+"/availability", []byte(`{"state":"offline"}`))
}

func TestAttributeOutputPublishesTheAvailabilityTopic(t *testing.T) {
	h := newBaseHarness(t)
	h.srv = furnishedWink(t)
	h.configure = func(o *bridge.Options) { o.Output = bridge.OutputAttribute }
	h.start(t, newWinkClient(t, h.srv, "wink", nil))
	porch := h.topics.Base + "/wink/porch_light"
	h.rec.WaitTopic(t, wait, porch+"/availability", []byte(`{"state":"online"}`))
	config := h.topics.DeviceDiscovery("cloud2mqtt_wink_binary_switch-451110")
	m := h.disc.Wait(t, wait, onTopic(config))
	sw, _ := haView(t, h.topics.DiscoveryPrefix, config, m.Payload)["components"].(map[string]any)["switch"].(map[string]any)
	if !haAvailable(t, sw, retainedPayload(t, h.url)) {
		t.Errorf("Home Assistant shows the porch light unavailable: %v", sw["availability"])
	}
}

// A broker still holds the availability topics of a run before
// availability moved into the state: they are cleared at start, unless
// availability: topic keeps publishing them.
func TestAvailabilityTopicsOfAnEarlierRunAreCleared(t *testing.T) {
	for _, mode := range []bridge.AvailabilityMode{bridge.AvailabilityState, bridge.AvailabilityTopic} {
		t.Run(string(mode), func(t *testing.T) {
			var porch, gone string
			h := newHarness(t, func(h *harness) {
				h.configure = func(o *bridge.Options) { o.Availability = mode }
				base := h.topics.Base
				// gone sorts after porch: the cleanup clears in topic order,
				// so once gone's is cleared, porch's would have been too.
				porch, gone = base+"/wink/porch_light", base+"/wink/zz_old_switch"
				// The earlier run's config of a device still there, of one
				// removed since, and their availability topics.
				for id, topic := range map[string]string{"binary_switch-451110": porch, "binary_switch-998": gone} {
					mqtttest.Publish(t, h.url, h.topics.DeviceDiscovery("cloud2mqtt_wink_"+id), []byte(`{"o":{"name":"cloud2mqtt"},"stat_t":"`+
						topic+`","avty":[{"t":"`+base+`/bridge/state"},{"t":"`+topic+`/availability"}],"dev":{"ids":["`+id+`"]},"cmps":{"switch":{"p":"switch","uniq_id":"`+id+`"}}}`), true)
					mqtttest.Publish(t, h.url, topic+"/availability", []byte(`{"state":"online"}`), true)
				}
				t.Cleanup(func() {
					mqtttest.Publish(t, h.url, porch+"/availability", nil, true)
					mqtttest.Publish(t, h.url, gone+"/availability", nil, true)
				})
			})
			cleared := func(topic string) func(mqtt.Message) bool {
				return func(m mqtt.Message) bool { return m.Topic == topic && len(m.Payload) == 0 }
			}
			// The removed device's availability goes with its config either way.
			h.rec.Wait(t, wait, cleared(gone+"/availability"))
			h.state(t, "wink/porch_light", nil)
			if mode == bridge.AvailabilityState {
				h.rec.Wait(t, wait, cleared(porch+"/availability"))
				if got := mqtttest.RetainedTopics(t, h.url, porch); !slices.Equal(got, []string{porch}) {
					t.Errorf("retained under the porch light: %v, want its state alone", got)
				}
				return
			}
			h.rec.Wait(t, wait, nth(2, onTopic(porch+"/availability")))
			if got := retainedPayload(t, h.url)(porch + "/availability"); string(got) != `{"state":"online"}` {
				t.Errorf("porch light's availability topic %q, want it kept", got)
			}
			if n := count(h.rec, cleared(porch+"/availability")); n != 0 {
				t.Errorf("porch light's availability topic cleared %d times with availability: topic", n)
			}
		})
	}
}
