package bridge_test

import (
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// TestWinkCommandsGoToTheHubFirst: with local control a /set reaches the
// hub's local API, not the cloud, and bridge/info shows the hub's local
// control, and its failing once the hub stops answering.
func TestWinkCommandsGoToTheHubFirst(t *testing.T) {
	srv := furnishedWink(t)
	h := newBaseHarness(t)
	h.srv = srv
	h.start(t, newWinkClient(t, srv, "wink", func(c *wink.Config) {
		c.LocalControl, c.LocalURL = wink.LocalAuto, srv.HubLocalURL()
	}))
	h.state(t, "wink/bedroom_lamp", nil)
	h.publish(t, "wink/bedroom_lamp/set", `{"state":"ON"}`)
	h.state(t, "wink/bedroom_lamp", func(s map[string]any) bool { return s["state"] == "ON" })
	if n := srv.CountRequests("PUT", "/light_bulbs/29"); n != 1 {
		t.Errorf("%d local PUTs, want 1", n)
	}
	if n := srv.CountRequests("PUT", "/light_bulbs/2194253"); n != 0 {
		t.Errorf("%d cloud PUTs while the hub answers", n)
	}
	h.rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == h.topics.BridgeInfo() && strings.Contains(string(m.Payload), `"local_hubs":{"wink":[{"hub":"hub-511438","local":"ok"`)
	})

	// The hub stops answering: the command still reaches the cloud, and
	// bridge/info says so without waiting for another reason to publish.
	srv.SetHubLocalDown(true)
	h.publish(t, "wink/bedroom_lamp/set", `{"state":"OFF"}`)
	h.state(t, "wink/bedroom_lamp", func(s map[string]any) bool { return s["state"] == "OFF" })
	h.rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == h.topics.BridgeInfo() && strings.Contains(string(m.Payload), `"local_hubs":{"wink":[{"hub":"hub-511438","local":"failing","reason":`)
	})
}
