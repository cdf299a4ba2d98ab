package homeytest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPingNeedsNoAuthAndNamesTheHomey(t *testing.T) {
	s := newTestServer(t, Options{HomeyID: "5f0c1b2a3d4e5f6a7b8c9d0e"})
	a := request(t, http.MethodGet, s.HomeyURL+"/api/manager/system/ping", nil, nil)
	wantStatus(t, a, http.StatusOK)
	if string(a.raw) != "true" || a.header.Get("X-Homey-ID") != "5f0c1b2a3d4e5f6a7b8c9d0e" || a.header.Get("X-Homey-Version") == "" {
		t.Fatalf("ping answered %s with headers %v", a.raw, a.header)
	}
	same := request(t, http.MethodGet, s.HomeyURL+"/api/manager/system/ping?id=5f0c1b2a3d4e5f6a7b8c9d0e", nil, nil)
	if string(same.raw) != "true" {
		t.Fatalf("ping with own id answered %s", same.raw)
	}
	other := request(t, http.MethodGet, s.HomeyURL+"/api/manager/system/ping?id=000000000000000000000000", nil, nil)
	wantStatus(t, other, http.StatusOK)
	if string(other.raw) != "false" {
		t.Fatalf("ping for another Homey answered %s, want false", other.raw)
	}
}

func TestSessionExpiryAnswers401(t *testing.T) {
	s := newTestServer(t, Options{})
	token := login(t, s)
	wantStatus(t, get(t, s.HomeyURL+"/api/manager/devices/device/", token), http.StatusOK)
	s.ExpireSessions()
	wantError(t, get(t, s.HomeyURL+"/api/manager/devices/device/", token), http.StatusUnauthorized, "invalid_token")
	wantError(t, request(t, http.MethodGet, s.HomeyURL+"/api/manager/zones/zone", nil, nil), http.StatusUnauthorized, "not_logged_in")
	wantError(t, get(t, s.HomeyURL+"/api/manager/zones/zone", "unknown"), http.StatusUnauthorized, "invalid_token")

	// A fresh login works again.
	wantStatus(t, get(t, s.HomeyURL+"/api/manager/devices/device/", login(t, s)), http.StatusOK)
}

func TestSessionTTL(t *testing.T) {
	s := newTestServer(t, Options{SessionTTL: time.Nanosecond})
	wantError(t, get(t, s.HomeyURL+"/api/manager/devices/device", login(t, s)), http.StatusUnauthorized, "invalid_token")
}

func TestAPIKeyScopesArePrefixes(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	readonly := s.NewAPIKey("homey.device.readonly")
	if parts := strings.Split(readonly, ":"); len(parts) != 3 {
		t.Fatalf("API key %q is not three colon-separated parts", readonly)
	}
	onoff := capURL(s, DeviceLight, "onoff")

	wantStatus(t, get(t, s.HomeyURL+"/api/manager/devices/device", readonly), http.StatusOK)
	wantStatus(t, get(t, onoff, readonly), http.StatusOK)
	body := wantError(t, put(t, onoff, readonly, map[string]any{"value": false}), http.StatusForbidden, "Missing Scopes")
	if !strings.Contains(body["error_description"].(string), "homey.device.control") {
		t.Fatalf("403 body %v does not name the missing scope", body)
	}
	wantError(t, get(t, s.HomeyURL+"/api/manager/zones/zone", readonly), http.StatusForbidden, "Missing Scopes")

	for _, scope := range []string{"homey", "homey.device", "homey.device.control"} {
		key := s.NewAPIKey(scope)
		wantStatus(t, put(t, onoff, key, map[string]any{"value": false}), http.StatusOK)
	}
	wantError(t, put(t, onoff, s.NewAPIKey("homey.dev"), map[string]any{"value": false}), http.StatusForbidden, "Missing Scopes")
	wantStatus(t, get(t, s.HomeyURL+"/api/manager/zones/zone", s.NewAPIKey("homey")), http.StatusOK)
	wantError(t, get(t, s.HomeyURL+"/api/manager/system/", readonly), http.StatusForbidden, "Missing Scopes")

	me := get(t, s.HomeyURL+"/api/manager/sessions/session/me", readonly).obj(t)
	if scopes, _ := me["scopes"].([]any); len(scopes) != 1 || scopes[0] != "homey.device.readonly" {
		t.Fatalf("session/me of a key: %v", me)
	}
}

func TestCapabilityPutValidation(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	key := s.NewAPIKey("homey")
	cases := []struct {
		name, dev, capability string
		body                  any
		status                int
		mention               string
	}{
		{"not setable", DeviceSocket, "measure_power", map[string]any{"value": 5}, 400, "not setable"},
		{"above max", DeviceLight, "dim", map[string]any{"value": 1.5}, 400, "maximum"},
		{"below driver min", DeviceThermostat, "target_temperature", map[string]any{"value": 4.5}, 400, "minimum"},
		{"above driver max", DeviceThermostat, "target_temperature", map[string]any{"value": 31}, 400, "maximum"},
		{"bad enum", DeviceColourLight, "light_mode", map[string]any{"value": "disco"}, 400, "disco"},
		{"wrong type bool", DeviceLight, "onoff", map[string]any{"value": "yes"}, 400, "boolean"},
		{"wrong type number", DeviceLight, "dim", map[string]any{"value": "0.5"}, 400, "number"},
		{"missing value", DeviceLight, "dim", map[string]any{"opts": map[string]any{}}, 400, "value"},
		{"not JSON", DeviceLight, "dim", "value=1", 400, "JSON"},
		{"no device", "nope", "dim", map[string]any{"value": 0.5}, 404, "nope"},
		{"no capability", DeviceLight, "light_hue", map[string]any{"value": 0.5}, 404, "light_hue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := put(t, capURL(s, c.dev, c.capability), key, c.body)
			wantStatus(t, a, c.status)
			body := a.obj(t)
			if !strings.Contains(body["error_description"].(string), c.mention) {
				t.Fatalf("error %s does not mention %q", a.raw, c.mention)
			}
		})
	}
	// Nothing changed.
	if d, _ := s.Device(DeviceLight); capValue(d, "dim") != 0.8 || capValue(d, "onoff") != true {
		t.Fatalf("rejected writes changed the light: %v", d["capabilitiesObj"])
	}
}

func TestCapabilityPutAppliesAndKeepsLastUpdatedForm(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	key := s.NewAPIKey("homey")
	before, _ := s.Device(DeviceThermostat)
	a := put(t, capURL(s, DeviceThermostat, "target_temperature"), key, map[string]any{"value": 22.5, "transactionId": "homey-api-1"})
	wantStatus(t, a, http.StatusOK)
	if len(a.raw) != 0 {
		t.Fatalf("PUT answered a body %q, want empty", a.raw)
	}
	got := get(t, capURL(s, DeviceThermostat, "target_temperature"), key)
	if string(got.raw) != "22.5" {
		t.Fatalf("GET capability = %s, want 22.5", got.raw)
	}
	after := get(t, s.HomeyURL+"/api/manager/devices/device/"+DeviceThermostat, key).obj(t)
	o := asMap(asMap(after["capabilitiesObj"])["target_temperature"])
	old := asMap(asMap(before["capabilitiesObj"])["target_temperature"])
	ms, ok := o["lastUpdated"].(float64)
	if !ok || ms <= old["lastUpdated"].(float64) {
		t.Fatalf("lastUpdated %v (was %v), want a later epoch-ms number", o["lastUpdated"], old["lastUpdated"])
	}

	wantStatus(t, put(t, capURL(s, DeviceLight, "dim"), key, map[string]any{"value": 0.3, "opts": map[string]any{"duration": 500}}), http.StatusOK)
	light, _ := s.Device(DeviceLight)
	iso, ok := asMap(asMap(light["capabilitiesObj"])["dim"])["lastUpdated"].(string)
	if _, err := time.Parse(time.RFC3339, iso); !ok || err != nil {
		t.Fatalf("light lastUpdated %v, want an ISO string", iso)
	}
	wantStatus(t, put(t, capURL(s, DeviceColourLight, "light_mode"), key, map[string]any{"value": "color"}), http.StatusOK)
	wantStatus(t, put(t, capURL(s, DeviceFan, "onoff"), key, map[string]any{"value": true}), http.StatusOK)
}

func TestUnavailableDeviceRejectsWrites(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	key := s.NewAPIKey("homey")
	if err := s.SetAvailable(DeviceFan, false); err != nil {
		t.Fatal(err)
	}
	d := get(t, s.HomeyURL+"/api/manager/devices/device/"+DeviceFan, key).obj(t)
	if d["available"] != false || d["unavailableMessage"] == nil {
		t.Fatalf("unavailable device %v", d)
	}
	wantError(t, put(t, capURL(s, DeviceFan, "onoff"), key, map[string]any{"value": true}), http.StatusBadRequest, "device_unavailable")
}

func TestFurnishedHomeShape(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	s.Furnish() // idempotent
	key := s.NewAPIKey("homey")
	zones := get(t, s.HomeyURL+"/api/manager/zones/zone/", key).obj(t)
	if len(zones) != 5 {
		t.Fatalf("%d zones, want 5", len(zones))
	}
	if root := asMap(zones[RootZoneID]); root["name"] != "Home" || root["parent"] != nil {
		t.Fatalf("root zone %v", root)
	}
	if k := asMap(zones[ZoneKitchen]); k["name"] != "Kitchen" || k["parent"] != RootZoneID {
		t.Fatalf("kitchen zone %v", k)
	}
	wantStatus(t, get(t, s.HomeyURL+"/api/manager/zones/zone/"+ZoneBedroom, key), http.StatusOK)
	wantStatus(t, get(t, s.HomeyURL+"/api/manager/zones/zone/nope", key), http.StatusNotFound)

	devs := get(t, s.HomeyURL+"/api/manager/devices/device", key).obj(t)
	if len(devs) != 20 {
		t.Fatalf("%d devices, want 20", len(devs))
	}
	var iso, ms int
	for id, raw := range devs {
		d := asMap(raw)
		if d["id"] != id || d["zone"] == nil || d["driverId"] == nil || d["available"] != true || d["ui"] == nil {
			t.Fatalf("device %s lacks V3 fields: %v", id, d)
		}
		obj := asMap(d["capabilitiesObj"])
		for _, c := range d["capabilities"].([]any) {
			o := asMap(obj[c.(string)])
			for _, f := range []string{"id", "type", "value", "title", "getable", "setable", "lastUpdated"} {
				if _, ok := o[f]; !ok {
					t.Fatalf("device %s capability %s lacks %s: %v", d["name"], c, f, o)
				}
			}
			switch o["lastUpdated"].(type) {
			case string:
				iso++
			case float64:
				ms++
			}
		}
	}
	if iso == 0 || ms == 0 {
		t.Fatalf("lastUpdated forms: %d ISO, %d ms; want both", iso, ms)
	}
	th := asMap(asMap(devs[DeviceThermostat])["capabilitiesObj"])
	tt := asMap(th["target_temperature"])
	if tt["min"] != 5.0 || tt["max"] != 30.0 || tt["step"] != 0.5 || tt["units"] != "°C" || tt["setable"] != true {
		t.Fatalf("target_temperature %v", tt)
	}
	floor := asMap(th["measure_temperature.floor"])
	if floor["type"] != "number" || floor["title"] != "Floor temperature" || floor["setable"] != false {
		t.Fatalf("sub-capability %v", floor)
	}
	mode := asMap(asMap(asMap(devs[DeviceColourLight])["capabilitiesObj"])["light_mode"])
	if vals, _ := mode["values"].([]any); mode["type"] != "enum" || len(vals) != 2 {
		t.Fatalf("light_mode %v", mode)
	}
}

func TestFailNextAndRequestLog(t *testing.T) {
	s := newTestServer(t, Options{})
	key := s.NewAPIKey("homey")
	s.FailNext(2, http.StatusServiceUnavailable)
	wantStatus(t, get(t, s.HomeyURL+"/api/manager/devices/device", key), http.StatusServiceUnavailable)
	wantStatus(t, request(t, http.MethodGet, s.HomeyURL+"/api/manager/system/ping", nil, nil), http.StatusServiceUnavailable)
	wantStatus(t, get(t, s.HomeyURL+"/api/manager/devices/device", key), http.StatusOK)

	s.FailNextCloud(1, http.StatusBadGateway)
	access, _ := s.IssueTokens()
	wantStatus(t, get(t, s.CloudURL+"/user/me", access), http.StatusBadGateway)
	wantStatus(t, get(t, s.CloudURL+"/user/me", access), http.StatusOK)

	if n := s.CountRequests(HostHomey, http.MethodGet, "/api/manager/devices"); n != 2 {
		t.Fatalf("CountRequests = %d, want 2", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	r, err := s.WaitRequest(ctx, func(r Request) bool { return r.Host == HostCloud && r.Path == "/user/me" })
	if err != nil || r.Header.Get("Authorization") == "" {
		t.Fatalf("WaitRequest: %v %v", r, err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := s.WaitRequest(short, func(r Request) bool { return r.Path == "/never" }); err == nil {
		t.Fatalf("WaitRequest for a request that never comes succeeded")
	}
}

func TestAddRemoveDevice(t *testing.T) {
	s := newTestServer(t, Options{})
	id := s.AddDevice(map[string]any{"name": "Lock", "class": "lock", "capabilities": []string{"locked", "measure_battery"},
		"capabilitiesObj": map[string]any{"measure_battery": map[string]any{"value": 50, "lastUpdated": 1700000000000}}})
	d, ok := s.Device(id)
	if !ok || len(id) != 36 || d["zone"] != RootZoneID {
		t.Fatalf("added device %q: %v", id, d)
	}
	obj := asMap(d["capabilitiesObj"])
	if _, isMS := asMap(obj["locked"])["lastUpdated"].(float64); !isMS || capValue(d, "measure_battery") != 50.0 || capValue(d, "locked") != false {
		t.Fatalf("capabilitiesObj %v", obj)
	}
	if err := s.SetCapability(id, "locked", "yes"); err == nil {
		t.Fatalf("SetCapability accepted a string for a boolean")
	}
	if err := s.SetCapability(id, "measure_battery", 40); err != nil {
		t.Fatalf("SetCapability of a read-only capability: %v", err)
	}
	if !s.RemoveDevice(id) || s.RemoveDevice(id) {
		t.Fatalf("RemoveDevice did not report existence")
	}
	if _, ok := s.Device(id); ok {
		t.Fatalf("device still there")
	}
}
