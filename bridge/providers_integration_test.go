package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// cloudSide is what the bridge scenarios do to, and ask of, one cloud's
// emulator.
type cloudSide interface {
	// SetMotion changes the motion sensor in the cloud.
	SetMotion(t *testing.T, on bool)
	// OpenDoor opens the door sensor in the cloud.
	OpenDoor(t *testing.T)
	// Disconnect makes the unreachable device (providerCase.offline)
	// unreachable.
	Disconnect(t *testing.T)
	// ExpireLogin ends the access token or session the bridge holds, as
	// time would.
	ExpireLogin(t *testing.T)
	// Logins counts the token refreshes or session logins so far.
	Logins() int
	// Commands counts the device changes the cloud has received.
	Commands() int
	// WaitCommand waits for a device change whose body contains text.
	WaitCommand(t *testing.T, text string)
	// CheckLightCommand checks the cloud's requests for the light command
	// {"state":"ON","brightness":128}.
	CheckLightCommand(t *testing.T)
}

// providerCase is one cloud in the bridge scenarios: its furnished devices'
// topics (relative to the base topic) and its emulator.
type providerCase struct {
	name string
	// start runs a bridge over the furnished emulator; before, when set,
	// runs once the broker and topics are known.
	start   func(t *testing.T, before func(*harness)) (*harness, cloudSide)
	light   string // a dimmable light, off at the start
	motion  string // the motion sensor, no motion at the start
	door    string // the door sensor, closed at the start
	sw      string // a switch
	swCmd   string // a command that changes the switch
	offline string // the device Disconnect makes unreachable
}

var providerCases = []providerCase{
	{name: "wink", start: startWink, light: "wink/bedroom_lamp", motion: "wink/hallway_motion",
		door: "wink/back_door", sw: "wink/porch_light", swCmd: "ON", offline: "wink/front_door"},
	{name: "homey", start: startHomey, light: "homey/colour_lamp", motion: "homey/hallway_motion",
		door: "homey/front_door", sw: "homey/coffee_machine", swCmd: "OFF", offline: "homey/bedroom_fan"},
}

func forEachProvider(t *testing.T, run func(t *testing.T, pc providerCase)) {
	for _, pc := range providerCases {
		t.Run(pc.name, func(t *testing.T) { run(t, pc) })
	}
}

func TestProvidersSetOnLightChangesCloudAndStateComesBackRetained(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		h, side := pc.start(t, nil)
		h.state(t, pc.light, func(s map[string]any) bool { return s["state"] == "OFF" })
		h.publish(t, pc.light+"/set", `{"state":"ON","brightness":128}`)
		side.CheckLightCommand(t)
		h.state(t, pc.light, func(s map[string]any) bool { return s["state"] == "ON" && s["brightness"] == 128.0 })
		// A new subscriber gets the state as a retained message.
		fresh := mqtttest.NewRecorder(t, h.url, h.topics.Base+"/"+pc.light)
		m := fresh.Wait(t, wait, nil)
		if !m.Retained || !strings.Contains(string(m.Payload), `"state":"ON"`) {
			t.Errorf("retained state = %s (retained %v)", m.Payload, m.Retained)
		}
	})
}

func TestProvidersChangeInTheAppArrivesPushed(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		h, side := pc.start(t, nil)
		side.SetMotion(t, true)
		h.state(t, pc.motion, func(s map[string]any) bool { return s["motion"] == true })
		side.OpenDoor(t)
		h.state(t, pc.door, func(s map[string]any) bool { return s["contact"] == false })
		side.Disconnect(t)
		h.state(t, pc.offline, func(s map[string]any) bool { return s["availability"] == "offline" })
	})
}

func TestProvidersBadCommandsAreRejectedWithoutCloudCalls(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		h, side := pc.start(t, func(h *harness) {
			// A retained command left on the broker from long ago.
			stale := h.topics.Base + "/" + pc.sw + "/set"
			mqtttest.Publish(t, h.url, stale, []byte(pc.swCmd), true)
			t.Cleanup(func() { mqtttest.Publish(t, h.url, stale, nil, true) })
		})
		cases := []struct {
			topic, payload, field, text string
		}{
			{pc.light + "/set", `{"brightness":"bright"}`, "brightness", "expected a number"},
			{pc.light + "/set", `{"brightness":300}`, "brightness", "out of range 0 to 255"},
			{pc.motion + "/set/motion", `true`, "motion", "read-only"},
			{pc.name + "/no_such_device/set", `ON`, "", "unknown device"},
			{pc.light + "/set", `{"state":"ON",`, "", "not valid JSON"},
			{pc.light + "/set", huge, "", "too large"},
		}
		for _, c := range cases {
			h.publish(t, c.topic, c.payload)
			m := h.events.Wait(t, wait, func(m mqtt.Message) bool {
				var ev struct{ Data map[string]any }
				if json.Unmarshal(m.Payload, &ev) != nil || ev.Data["topic"] != h.topics.Base+"/"+c.topic {
					return false
				}
				echoed, _ := ev.Data["payload"].(string)
				return strings.HasPrefix(c.payload, strings.TrimSuffix(echoed, "…"))
			})
			var ev struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(m.Payload, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Type != "command_rejected" || !strings.Contains(fmt.Sprint(ev.Data["error"]), c.text) ||
				(c.field != "" && ev.Data["field"] != c.field) {
				t.Errorf("%s %.30q: event %s, want field %q and %q", c.topic, c.payload, m.Payload, c.field, c.text)
			}
		}
		// A good command after the bad ones is the only change the cloud sees.
		h.publish(t, pc.sw+"/set", pc.swCmd)
		side.WaitCommand(t, "")
		if n := side.Commands(); n != 1 {
			t.Errorf("%d device changes reached the cloud, want only the good command's", n)
		}
	})
}

func TestProvidersExpiredLoginLosesNoCommand(t *testing.T) {
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		h, side := pc.start(t, nil)
		before := side.Logins()
		side.ExpireLogin(t)
		h.publish(t, pc.sw+"/set", pc.swCmd)
		side.WaitCommand(t, "")
		h.state(t, pc.sw, func(s map[string]any) bool { return s["state"] == pc.swCmd })
		if n := side.Logins() - before; n != 1 {
			t.Errorf("%d new logins, want exactly one renewal", n)
		}
	})
}

// The Wink emulator as the scenarios see it.

func startWink(t *testing.T, before func(*harness)) (*harness, cloudSide) {
	h := newHarness(t, before)
	return h, winkSide{h.srv}
}

type winkSide struct{ srv *winktest.Server }

func (w winkSide) update(t *testing.T, typ, id string, reading map[string]any) {
	t.Helper()
	if err := w.srv.Update(typ, id, reading); err != nil {
		t.Fatal(err)
	}
}

func (w winkSide) SetMotion(t *testing.T, on bool) {
	w.update(t, "sensor_pod", "198190", map[string]any{"motion": on})
}
func (w winkSide) OpenDoor(t *testing.T) {
	w.update(t, "sensor_pod", "198184", map[string]any{"opened": true})
}
func (w winkSide) Disconnect(t *testing.T) {
	w.update(t, "lock", "109898", map[string]any{"connection": false})
}
func (w winkSide) ExpireLogin(*testing.T) { w.srv.ExpireAccessTokens() }
func (w winkSide) Logins() int            { return w.srv.CountRequests("POST", "/oauth2/token") }
func (w winkSide) Commands() int          { return w.srv.CountRequests("PUT", "/") }

func (w winkSide) waitPUT(t *testing.T, match func(winktest.Request) bool) winktest.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := w.srv.WaitRequest(ctx, func(r winktest.Request) bool { return r.Method == "PUT" && match(r) })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w winkSide) WaitCommand(t *testing.T, text string) {
	w.waitPUT(t, func(r winktest.Request) bool { return strings.Contains(string(r.Body), text) })
}

func (w winkSide) CheckLightCommand(t *testing.T) {
	req := w.waitPUT(t, func(r winktest.Request) bool { return strings.HasPrefix(r.Path, "/light_bulbs/2194253") })
	var body struct {
		DesiredState map[string]any `json:"desired_state"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatalf("PUT body %s: %v", req.Body, err)
	}
	if body.DesiredState["powered"] != true || math.Abs(body.DesiredState["brightness"].(float64)-128.0/255) > 1e-9 {
		t.Errorf("desired_state = %v, want powered true and brightness 128/255", body.DesiredState)
	}
}

// The Homey emulator as the scenarios see it.

func startHomey(t *testing.T, before func(*harness)) (*harness, cloudSide) {
	srv := furnishedHomey(t)
	h := newBaseHarness(t)
	if before != nil {
		before(h)
	}
	h.start(t, newHomeyClient(t, srv, "homey"))
	h.state(t, "homey/bedroom_fan", nil)
	return h, homeySide{srv}
}

type homeySide struct{ srv *homeytest.Server }

func (s homeySide) set(t *testing.T, id, capability string, value any) {
	t.Helper()
	if err := s.srv.SetCapability(id, capability, value); err != nil {
		t.Fatal(err)
	}
}

func (s homeySide) SetMotion(t *testing.T, on bool) {
	s.set(t, homeytest.DeviceMotion, "alarm_motion", on)
}
func (s homeySide) OpenDoor(t *testing.T) { s.set(t, homeytest.DeviceDoor, "alarm_contact", true) }
func (s homeySide) Disconnect(t *testing.T) {
	if err := s.srv.SetAvailable(homeytest.DeviceFan, false); err != nil {
		t.Fatal(err)
	}
}
func (s homeySide) ExpireLogin(*testing.T) { s.srv.ExpireSessions() }
func (s homeySide) Logins() int {
	return s.srv.CountRequests(homeytest.HostHomey, "POST", "/api/manager/users/login")
}

// Commands counts capability writes over HTTP and over the realtime
// socket's RPC (logged as the PUTs they stand for).
func (s homeySide) Commands() int {
	return s.srv.CountRequests(homeytest.HostHomey, "PUT", "/") + s.srv.CountRequests(homeytest.HostSocket, "PUT", "/")
}

func (s homeySide) WaitCommand(t *testing.T, text string) {
	waitRequest(t, s.srv, func(r homeytest.Request) bool {
		return (r.Host == homeytest.HostHomey || r.Host == homeytest.HostSocket) && r.Method == "PUT" && strings.Contains(string(r.Body), text)
	})
}

// CheckLightCommand: onoff is sent before dim, each with a transaction id.
func (s homeySide) CheckLightCommand(t *testing.T) {
	on := waitRequest(t, s.srv, capabilityPUT(homeytest.DeviceColourLight, "onoff"))
	dim := waitRequest(t, s.srv, capabilityPUT(homeytest.DeviceColourLight, "dim"))
	if dim.At.Before(on.At) {
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
}
