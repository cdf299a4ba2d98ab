package homeytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// rpc sends one "api" call over the socket and returns the ack's error (nil
// when none) and result.
func (c *eio) rpc(ack int, uri, operation string, args map[string]any) (map[string]any, any) {
	c.t.Helper()
	b, err := json.Marshal([]any{"api", map[string]any{"uri": uri, "operation": operation, "args": args}})
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(fmt.Sprintf("42/api,%d%s", ack, b))
	f := c.expectPrefix(fmt.Sprintf("43/api,%d[", ack))
	var out []json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimPrefix(f, fmt.Sprintf("43/api,%d", ack))), &out); err != nil || len(out) == 0 {
		c.t.Fatalf("ack %q: want [error, result]", f)
	}
	var fail map[string]any
	_ = json.Unmarshal(out[0], &fail)
	var result any
	if len(out) > 1 {
		_ = json.Unmarshal(out[1], &result)
	}
	return fail, result
}

// TestEveryOperationAnswersTheSameOverTheSocket runs every operation the
// emulator serves over HTTP also as a socket RPC call and compares the
// answers: the same result, or the same error and status.
func TestEveryOperationAnswersTheSameOverTheSocket(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	token := login(t, s)
	c := mustDial(t, s)
	c.connect(token, s.HomeyID)
	const unknown = "00000000-0000-4000-8000-000000000000"
	jwt := func() string {
		access, _ := s.IssueTokens()
		a := request(t, http.MethodPost, s.CloudURL+"/delegation/token?audience=homey", auth(access), map[string]any{})
		return a.str(t)
	}
	devCap := func(id, capability string) string { return "/devices/device/" + id + "/capability/" + capability }
	cases := []struct {
		uri, op        string
		method, path   string // HTTP request under /api/manager
		args           map[string]any
		body           any
		sameValueKinds bool // results differ by design (a new session token): compare types only
	}{
		{uri: SystemURI, op: "ping", method: "GET", path: "/system/ping?id=" + s.HomeyID, args: map[string]any{"id": s.HomeyID}},
		{uri: SystemURI, op: "ping", method: "GET", path: "/system/ping?id=other", args: map[string]any{"id": "other"}},
		{uri: SystemURI, op: "getInfo", method: "GET", path: "/system/"},
		{uri: UsersURI, op: "login", method: "POST", path: "/users/login", body: map[string]any{"token": jwt()},
			args: map[string]any{"token": jwt()}, sameValueKinds: true},
		{uri: UsersURI, op: "login", method: "POST", path: "/users/login", body: map[string]any{"token": "nope"},
			args: map[string]any{"token": "nope"}},
		{uri: SessionsURI, op: "getSessionMe", method: "GET", path: "/sessions/session/me"},
		{uri: DevicesURI, op: "getDevices", method: "GET", path: "/devices/device/"},
		{uri: DevicesURI, op: "getDevice", method: "GET", path: "/devices/device/" + DeviceLight, args: map[string]any{"id": DeviceLight}},
		{uri: DevicesURI, op: "getDevice", method: "GET", path: "/devices/device/" + unknown, args: map[string]any{"id": unknown}},
		{uri: DevicesURI, op: "getCapabilityValue", method: "GET", path: devCap(DeviceLight, "dim"),
			args: map[string]any{"deviceId": DeviceLight, "capabilityId": "dim"}},
		{uri: DevicesURI, op: "getCapabilityValue", method: "GET", path: devCap(DeviceLight, "nope"),
			args: map[string]any{"deviceId": DeviceLight, "capabilityId": "nope"}},
		{uri: DevicesURI, op: "setCapabilityValue", method: "PUT", path: devCap(DeviceLight, "dim"), body: map[string]any{"value": 0.3},
			args: map[string]any{"deviceId": DeviceLight, "capabilityId": "dim", "value": 0.3}},
		{uri: DevicesURI, op: "setCapabilityValue", method: "PUT", path: devCap(DeviceLight, "dim"), body: map[string]any{"value": 7},
			args: map[string]any{"deviceId": DeviceLight, "capabilityId": "dim", "value": 7}},
		{uri: ZonesURI, op: "getZones", method: "GET", path: "/zones/zone/"},
		{uri: ZonesURI, op: "getZone", method: "GET", path: "/zones/zone/" + ZoneKitchen, args: map[string]any{"id": ZoneKitchen}},
		{uri: ZonesURI, op: "getZone", method: "GET", path: "/zones/zone/" + unknown, args: map[string]any{"id": unknown}},
	}
	covered := map[string]bool{}
	for i, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			covered[tc.uri+" "+tc.op] = true
			c.t = t
			a := request(t, tc.method, s.HomeyURL+"/api/manager"+tc.path, auth(token), tc.body)
			fail, result := c.rpc(10+i, tc.uri, tc.op, tc.args)
			if a.status != http.StatusOK {
				if fail == nil {
					t.Fatalf("HTTP answered %d %s; the socket succeeded with %v", a.status, a.raw, result)
				}
				var httpErr map[string]any
				_ = json.Unmarshal(a.raw, &httpErr)
				if !reflect.DeepEqual(httpErr, fail) {
					t.Errorf("errors differ:\nHTTP   %v\nsocket %v", httpErr, fail)
				}
				return
			}
			if fail != nil {
				t.Fatalf("HTTP succeeded with %s; the socket failed with %v", a.raw, fail)
			}
			var httpResult any
			if len(a.raw) > 0 {
				if err := json.Unmarshal(a.raw, &httpResult); err != nil {
					t.Fatalf("HTTP answer %q: %v", a.raw, err)
				}
			}
			if tc.sameValueKinds {
				if reflect.TypeOf(httpResult) != reflect.TypeOf(result) {
					t.Errorf("HTTP answered %T, the socket %T", httpResult, result)
				}
				return
			}
			if !reflect.DeepEqual(httpResult, result) {
				t.Errorf("answers differ:\nHTTP   %v\nsocket %v", httpResult, result)
			}
		})
	}
	for _, id := range s.OperationIDs() {
		if !covered[id] {
			t.Errorf("operation %s is not compared", id)
		}
	}
	if !slices.Contains(s.OperationIDs(), SessionsURI+" getSessionMe") {
		t.Errorf("operations %v lack getSessionMe", s.OperationIDs())
	}
}

func TestSessionTypesFromTheSpec(t *testing.T) {
	s := newTestServer(t, Options{})
	for token, want := range map[string]string{login(t, s): SessionTypeOAuth, s.NewAPIKey("homey.device.readonly"): SessionTypePAT} {
		me := get(t, s.HomeyURL+"/api/manager/sessions/session/me", token).obj(t)
		if me["type"] != want {
			t.Errorf("session type %v, want %s", me["type"], want)
		}
	}
}
