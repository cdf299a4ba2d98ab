package bridge_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// newHomeyHarness runs the bridge over the furnished Homey emulator, in
// cloud mode, or with a local API key of the given scopes when scopes are
// given.
func newHomeyHarness(tb testing.TB, scopes ...string) (*harness, *homeytest.Server) {
	tb.Helper()
	log := testLogger(tb)
	srv := homeytest.NewServer(homeytest.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second, Logger: log})
	tb.Cleanup(srv.Close)
	srv.Furnish()
	h := newBaseHarness(tb)
	cfg := homey.Config{Account: "homey", PollInterval: 100 * time.Millisecond, Logger: log}
	if len(scopes) > 0 {
		cfg.Address, cfg.APIKey = srv.HomeyURL, srv.NewAPIKey(scopes...)
	} else {
		_, refresh := srv.IssueTokens()
		cfg.ClientID, cfg.ClientSecret, cfg.RefreshToken, cfg.CloudURL = "homeytest-client", "homeytest-secret", refresh, srv.CloudURL
	}
	p, err := homey.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	h.start(tb, p)
	h.state(tb, "homey/bedroom_fan", nil)
	return h, srv
}

func capabilityPUT(id, capability string) func(homeytest.Request) bool {
	return func(r homeytest.Request) bool {
		return r.Host == homeytest.HostHomey && r.Method == "PUT" &&
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
		for _, c := range cfg["cmps"].(map[string]any) {
			if c.(map[string]any)["p"] == platform {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s component: %v", id, platform, cfg["cmps"])
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

func TestHomeySetBecomesCapabilityPUTsInOrder(t *testing.T) {
	h, srv := newHomeyHarness(t)
	h.publish(t, "homey/ceiling_light/set", `{"state":"ON","brightness":128}`)
	on := waitRequest(t, srv, capabilityPUT(homeytest.DeviceLight, "onoff"))
	dim := waitRequest(t, srv, capabilityPUT(homeytest.DeviceLight, "dim"))
	if !on.At.Before(dim.At) && !on.At.Equal(dim.At) {
		t.Errorf("dim (%v) was sent before onoff (%v)", dim.At, on.At)
	}
	var body struct {
		Value         any    `json:"value"`
		TransactionID string `json:"transactionId"`
	}
	if err := json.Unmarshal(dim.Body, &body); err != nil || body.TransactionID == "" {
		t.Errorf("dim body %s: %v", dim.Body, err)
	}
	if v, _ := body.Value.(float64); v < 0.50 || v > 0.51 {
		t.Errorf("dim value = %v, want 128/255", body.Value)
	}
	h.state(t, "homey/ceiling_light", func(s map[string]any) bool { return s["state"] == "ON" && s["brightness"] == 128.0 })
}

func TestHomeyChangeArrivesThroughRealtime(t *testing.T) {
	h, srv := newHomeyHarness(t)
	if err := srv.SetCapability(homeytest.DeviceMotion, "alarm_motion", true); err != nil {
		t.Fatal(err)
	}
	h.state(t, "homey/hallway_motion", func(s map[string]any) bool { return s["motion"] == true })
}

func TestHomeySessionExpiryLosesNoCommand(t *testing.T) {
	h, srv := newHomeyHarness(t)
	logins := srv.CountRequests(homeytest.HostHomey, "POST", "/api/manager/users/login")
	srv.ExpireSessions()
	h.publish(t, "homey/coffee_machine/set", "OFF")
	waitRequest(t, srv, func(r homeytest.Request) bool {
		return capabilityPUT(homeytest.DeviceSocket, "onoff")(r) && strings.Contains(string(r.Body), "false")
	})
	h.state(t, "homey/coffee_machine", func(s map[string]any) bool { return s["state"] == "OFF" })
	if n := srv.CountRequests(homeytest.HostHomey, "POST", "/api/manager/users/login") - logins; n != 1 {
		t.Errorf("%d new logins, want exactly one renewal", n)
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

func TestHomeyBadCommandsAreRejectedWithoutPUT(t *testing.T) {
	h, srv := newHomeyHarness(t)
	for _, c := range []struct{ topic, payload, text string }{
		{"homey/ceiling_light/set", `{"brightness":"bright"}`, "expected a number"},
		{"homey/thermostat/set/target_temp", `99`, "out of range"},
		{"homey/hallway_motion/set/motion", `true`, "read-only"},
	} {
		h.publish(t, c.topic, c.payload)
		m := h.events.Wait(t, wait, func(m mqtt.Message) bool {
			return strings.Contains(string(m.Payload), `"topic":"`+h.topics.Base+"/"+c.topic+`"`)
		})
		if !strings.Contains(string(m.Payload), c.text) {
			t.Errorf("%s %s: %s, want %q", c.topic, c.payload, m.Payload, c.text)
		}
	}
	h.publish(t, "homey/coffee_machine/set", "OFF")
	waitRequest(t, srv, capabilityPUT(homeytest.DeviceSocket, "onoff"))
	if n := srv.CountRequests(homeytest.HostHomey, "PUT", "/"); n != 1 {
		t.Errorf("%d PUTs reached the Homey, want only the good command's", n)
	}
}
