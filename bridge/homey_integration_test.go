package bridge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// newHomeyHarness runs the bridge over the furnished Homey emulator, in
// cloud mode, or with a local API key of the given scopes when scopes are
// given.
func newHomeyHarness(tb testing.TB, scopes ...string) (*harness, *homeytest.Server) {
	tb.Helper()
	srv := furnishedHomey(tb)
	h := newBaseHarness(tb)
	h.start(tb, newHomeyClient(tb, srv, "homey", scopes...))
	h.state(tb, "homey/bedroom_fan", nil)
	return h, srv
}

func capabilityPUT(id, capability string) func(homeytest.Request) bool {
	return func(r homeytest.Request) bool {
		// Over HTTP, or over the realtime socket's RPC (logged as the
		// PUT it stands for).
		return (r.Host == homeytest.HostHomey || r.Host == homeytest.HostSocket) && r.Method == "PUT" &&
			r.Path == "/api/manager/devices/device/"+id+"/capability/"+capability
	}
}

func waitRequest(t *testing.T, srv *homeytest.Server, match func(homeytest.Request) bool) homeytest.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := srv.WaitRequest(ctx, match)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHomeyDevicesGetDiscovery(t *testing.T) {
	h, _ := newHomeyHarness(t)
	cases := map[string]string{
		homeytest.DeviceLight:      "light",
		homeytest.DeviceSocket:     "switch",
		homeytest.DeviceThermostat: "climate",
		homeytest.DeviceMotion:     "binary_sensor",
		homeytest.DeviceBlinds:     "cover",
		homeytest.DeviceFan:        "fan",
	}
	for id, platform := range cases {
		cfg := h.discovery(t, "homey", id)
		found := false
		for _, c := range cfg["components"].(map[string]any) {
			if c.(map[string]any)["platform"] == platform {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s component: %v", id, platform, cfg["components"])
		}
	}
	socket := h.state(t, "homey/coffee_machine", nil)
	if _, ok := socket["power"]; !ok {
		t.Errorf("metered socket state lacks power: %v", socket)
	}
	if _, ok := socket["energy"]; !ok {
		t.Errorf("metered socket state lacks energy: %v", socket)
	}
}

func TestHomeyLocalAPIKey(t *testing.T) {
	h, srv := newHomeyHarness(t, "homey")
	h.publish(t, "homey/bedroom_blinds/set/position", "25")
	waitRequest(t, srv, capabilityPUT(homeytest.DeviceBlinds, "windowcoverings_set"))
	h.state(t, "homey/bedroom_blinds", func(s map[string]any) bool { return s["position"] == 25.0 })
}

func TestHomeyReadOnlyKeyExplainsTheMissingScope(t *testing.T) {
	h, _ := newHomeyHarness(t, "homey.device.readonly", "homey.zone.readonly")
	h.publish(t, "homey/ceiling_light/set", "ON")
	m := h.events.Wait(t, wait, func(m mqtt.Message) bool { return strings.Contains(string(m.Payload), "command_failed") })
	if !strings.Contains(string(m.Payload), "homey.device.control") {
		t.Errorf("failure does not name the missing scope: %s", m.Payload)
	}
}

func TestHomeySocketLossFallsBackToPollingAndRecovers(t *testing.T) {
	h, srv := newHomeyHarness(t)
	push := func(state string) func(mqtt.Message) bool {
		return func(m mqtt.Message) bool {
			return m.Topic == h.topics.BridgeInfo() && strings.Contains(string(m.Payload), `"push":"`+state+`"`)
		}
	}
	h.rec.Wait(t, wait, push("live"))
	polling := count(h.rec, push("polling"))
	srv.RefuseSockets(true)
	srv.DropSockets()
	h.rec.Wait(t, wait, nth(polling+1, push("polling")))
	if err := srv.SetCapability(homeytest.DeviceDoor, "alarm_contact", true); err != nil {
		t.Fatal(err)
	}
	h.state(t, "homey/front_door", func(s map[string]any) bool { return s["contact"] == false })
	live := count(h.rec, push("live"))
	srv.RefuseSockets(false)
	h.rec.Wait(t, wait, nth(live+1, push("live")))
	if err := srv.SetCapability(homeytest.DeviceDoor, "alarm_contact", false); err != nil {
		t.Fatal(err)
	}
	h.state(t, "homey/front_door", func(s map[string]any) bool { return s["contact"] == true })
}

func TestHomeyInfoShowsThePath(t *testing.T) {
	h, _ := newHomeyHarness(t)
	h.rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == h.topics.BridgeInfo() && strings.Contains(string(m.Payload), `"path":"local","path_reason":"the best path the Homey offers"`)
	})
}
