package homeytest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSocketWireSequence(t *testing.T) {
	s := newTestServer(t, Options{PingInterval: 1500 * time.Millisecond, PingTimeout: 2 * time.Second})
	s.Furnish()
	token := login(t, s)
	c := mustDial(t, s)

	open := c.open()
	if open["sid"] == "" || open["pingInterval"] != 1500.0 || open["pingTimeout"] != 2000.0 {
		t.Fatalf("open packet %v", open)
	}
	if up, ok := open["upgrades"].([]any); !ok || len(up) != 0 {
		t.Fatalf("open packet upgrades %v, want []", open["upgrades"])
	}
	c.send(handshakeFrame(t, token, s.HomeyID))
	f := c.expectPrefix("430[null,")
	var ack []map[string]any
	if err := json.Unmarshal([]byte(f[3:]), &ack); err != nil || len(ack) != 2 {
		t.Fatalf("handshake ack %q", f)
	}
	if ack[1]["namespace"] != "/api" || ack[1]["success"] != true || ack[1]["token"] == "" {
		t.Fatalf("handshake result %v", ack[1])
	}
	c.send("40/api,")
	c.expect("40/api,")
	c.send(`42/api,1["subscribe","homey:device:` + DeviceLight + `"]`)
	c.expect("43/api,1[null]")

	// A change from the device itself.
	if err := s.SetCapability(DeviceLight, "onoff", false); err != nil {
		t.Fatal(err)
	}
	uri, name, data := c.event()
	if uri != "homey:device:"+DeviceLight || name != "capability" || data["capabilityId"] != "onoff" || data["value"] != false {
		t.Fatalf("event %s %s %v", uri, name, data)
	}
	if tx, _ := data["transactionId"].(string); tx == "" {
		t.Fatalf("event without transactionId: %v", data)
	}
	if tt, _ := data["transactionTime"].(float64); tt < float64(time.Now().Add(-time.Minute).UnixMilli()) {
		t.Fatalf("transactionTime %v is not epoch ms", data["transactionTime"])
	}

	// A PUT echoes the setter's transactionId.
	a := put(t, capURL(s, DeviceLight, "dim"), token, map[string]any{"value": 0.25, "transactionId": "homey-api-abc"})
	wantStatus(t, a, http.StatusOK)
	_, _, data = c.event()
	if data["capabilityId"] != "dim" || data["value"] != 0.25 || data["transactionId"] != "homey-api-abc" {
		t.Fatalf("event after PUT %v", data)
	}

	// Other devices' changes do not arrive.
	if err := s.SetCapability(DeviceFan, "onoff", true); err != nil {
		t.Fatal(err)
	}
	c.nothingPending()

	// After unsubscribing nothing arrives.
	c.send(`42/api,["unsubscribe","homey:device:` + DeviceLight + `"]`)
	c.nothingPending()
	if err := s.SetCapability(DeviceLight, "onoff", true); err != nil {
		t.Fatal(err)
	}
	c.nothingPending()
}

func TestSocketManagerEvents(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	c := mustDial(t, s)
	c.connect(login(t, s), s.HomeyID)
	c.send(`42/api,7["subscribe","homey:manager:devices"]`)
	c.expect("43/api,7[null]")

	if err := s.Rename(DeviceFan, "Ceiling fan"); err != nil {
		t.Fatal(err)
	}
	uri, name, data := c.event()
	if uri != DevicesURI || name != "device.update" || data["id"] != DeviceFan || data["name"] != "Ceiling fan" {
		t.Fatalf("rename event %s %s %v", uri, name, data)
	}
	if err := s.SetAvailable(DeviceFan, false); err != nil {
		t.Fatal(err)
	}
	if _, name, data = c.event(); name != "device.update" || data["available"] != false {
		t.Fatalf("availability event %s %v", name, data)
	}
	id := s.AddDevice(map[string]any{"name": "Plug", "class": "socket", "capabilities": []string{"onoff"}})
	if _, name, data = c.event(); name != "device.create" || data["id"] != id || asMap(data["capabilitiesObj"])["onoff"] == nil {
		t.Fatalf("create event %s %v", name, data)
	}
	s.RemoveDevice(id)
	if _, name, data = c.event(); name != "device.delete" || data["id"] != id {
		t.Fatalf("delete event %s %v", name, data)
	}
	// Capability changes go to the device URI only.
	if err := s.SetCapability(DeviceLight, "onoff", false); err != nil {
		t.Fatal(err)
	}
	c.nothingPending()
}

func TestSocketNotSubscribedGetsNothing(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	token := login(t, s)
	quiet := mustDial(t, s)
	quiet.connect(token, s.HomeyID)
	loud := mustDial(t, s)
	loud.connect(token, s.HomeyID)
	loud.send(`42/api,1["subscribe","homey:device:` + DeviceMotion + `"]`)
	loud.expect("43/api,1[null]")

	if err := s.SetCapability(DeviceMotion, "alarm_motion", true); err != nil {
		t.Fatal(err)
	}
	if _, _, data := loud.event(); data["value"] != true {
		t.Fatalf("event %v", data)
	}
	quiet.nothingPending()
}

func TestSocketHandshakeFailures(t *testing.T) {
	s := newTestServer(t, Options{})
	token := login(t, s)
	s.ExpireSessions()

	c := mustDial(t, s)
	c.open()
	c.send("40/api,")
	c.expectPrefix("44/api,")
	c.send(handshakeFrame(t, token, s.HomeyID))
	f := c.expectPrefix("430[{")
	var ack []map[string]any
	if err := json.Unmarshal([]byte(f[3:]), &ack); err != nil || len(ack) != 1 || ack[0]["statusCode"] != 401.0 || ack[0]["error"] == "" {
		t.Fatalf("handshake error ack %q", f)
	}
	c.send(handshakeFrame(t, "garbage", s.HomeyID))
	c.expectPrefix(`430[{"error"`)
	c.send(handshakeFrame(t, s.NewAPIKey("homey"), "000000000000000000000000"))
	c.expectPrefix(`430[{"error"`)

	// A valid API key on the same connection then works.
	c.send(strings.Replace(handshakeFrame(t, s.NewAPIKey("homey.zone.readonly"), s.HomeyID), "420", "425", 1))
	c.expectPrefix("435[null,")
	c.send("40/api,")
	c.expect("40/api,")
	c.send(`42/api,2["subscribe","homey:manager:devices"]`)
	if f := c.expectPrefix("43/api,2[{"); !strings.Contains(f, "Missing Scopes") {
		t.Fatalf("subscribe without the scope: %q", f)
	}
	c.send(`42/api,3["subscribe","homey:manager:zones"]`)
	c.expect("43/api,3[null]")
}

func TestSocketRPC(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	c := mustDial(t, s)
	c.connect(s.NewAPIKey("homey"), s.HomeyID)
	c.send(`42/api,4["api",{"uri":"homey:manager:devices","operation":"setCapabilityValue","args":{"deviceId":"` + DeviceFan + `","capabilityId":"fan_speed","value":0.9,"transactionId":"homey-api-x"}}]`)
	c.expect("43/api,4[null,null]")
	if d, _ := s.Device(DeviceFan); capValue(d, "fan_speed") != 0.9 {
		t.Fatalf("fan_speed %v after RPC", capValue(d, "fan_speed"))
	}
	c.send(`42/api,5["api",{"uri":"homey:manager:devices","operation":"setCapabilityValue","args":{"deviceId":"` + DeviceFan + `","capabilityId":"fan_speed","value":2}}]`)
	if f := c.expectPrefix("43/api,5[{"); !strings.Contains(f, `"statusCode":400`) {
		t.Fatalf("invalid RPC answered %q", f)
	}
	c.send(`42/api,6["api",{"uri":"homey:manager:devices","operation":"getCapabilityValue","args":{"deviceId":"` + DeviceFan + `","capabilityId":"fan_speed"}}]`)
	c.expect("43/api,6[null,0.9]")
}

func TestSocketPingPongAndTimeout(t *testing.T) {
	s := newTestServer(t, Options{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	c := mustDial(t, s)
	c.open()
	c.send("2")
	c.expect("3")
	c.send("2probe")
	c.expect("3probe")
	// Without further pings the server closes the connection.
	c.waitClosed()
}

func TestDropSockets(t *testing.T) {
	s := newTestServer(t, Options{})
	c := mustDial(t, s)
	c.connect(login(t, s), s.HomeyID)
	if n := s.SocketCount(); n != 1 {
		t.Fatalf("SocketCount = %d, want 1", n)
	}
	s.DropSockets()
	c.waitClosed()
	if n := s.SocketCount(); n != 0 {
		t.Fatalf("SocketCount = %d after DropSockets, want 0", n)
	}
	// Reconnecting works.
	again := mustDial(t, s)
	again.connect(login(t, s), s.HomeyID)
}

func TestRefuseSockets(t *testing.T) {
	s := newTestServer(t, Options{})
	s.RefuseSockets(true)
	_, resp, err := dialSocket(t, s)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial while refusing: err %v, resp %v; want a 503", err, resp)
	}
	// REST keeps working, so clients can poll.
	wantStatus(t, get(t, s.HomeyURL+"/api/manager/devices/device", s.NewAPIKey("homey")), http.StatusOK)
	s.RefuseSockets(false)
	c := mustDial(t, s)
	c.open()
}

func TestSocketRejectsOtherProtocols(t *testing.T) {
	s := newTestServer(t, Options{})
	a := request(t, http.MethodGet, s.HomeyURL+"/socket.io/?EIO=4&transport=websocket", nil, nil)
	wantStatus(t, a, http.StatusBadRequest)
	a = request(t, http.MethodGet, s.HomeyURL+"/socket.io/?EIO=3&transport=polling", nil, nil)
	wantStatus(t, a, http.StatusBadRequest)
	if n := s.CountRequests(HostHomey, http.MethodGet, "/socket.io/"); n != 2 {
		t.Fatalf("recorded %d socket requests, want 2", n)
	}
}

func TestAnimateSendsEvents(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	c := mustDial(t, s)
	c.connect(s.NewAPIKey("homey.device.readonly"), s.HomeyID)
	c.send(`42/api,1["subscribe","homey:device:` + DeviceMotion + `"]`)
	c.expect("43/api,1[null]")
	c.send(`42/api,2["subscribe","homey:device:` + DeviceSocket + `"]`)
	c.expect("43/api,2[null]")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Animate(ctx, 10*time.Millisecond)
	_, _, data := c.event()
	if data["capabilityId"] != "alarm_motion" || data["value"] != true {
		t.Fatalf("first animation event %v", data)
	}
	seen := map[string]bool{}
	for !seen["measure_power"] || !seen["meter_power"] {
		uri, _, data := c.event()
		if uri == DeviceURI(DeviceSocket) {
			seen[data["capabilityId"].(string)] = true
		}
	}
}
