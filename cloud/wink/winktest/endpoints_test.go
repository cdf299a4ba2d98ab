package winktest

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestEverySubscriptionNamesTheOrigin(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	access, _ := s.IssueTokens()
	a := call(t, "GET", s.URL+"/users/me/wink_devices", access, nil)
	list, _ := a.body["data"].([]any)
	for _, x := range list {
		d := asMap(x)
		if o := asMap(asMap(d["subscription"])["pubnub"])["origin"]; o != s.PubNubOrigin {
			t.Errorf("%s-%s: origin %v, want %s", d["object_type"], d["object_id"], o, s.PubNubOrigin)
		}
	}
	if o := asMap(asMap(a.body["subscription"])["pubnub"])["origin"]; o != s.PubNubOrigin {
		t.Errorf("user subscription origin %v", o)
	}
	bare := newTestServer(t, Options{NoOrigin: true})
	bare.Furnish()
	d, _ := bare.Device("light_bulb", "2194253")
	if _, ok := asMap(asMap(d["subscription"])["pubnub"])["origin"]; ok {
		t.Error("NoOrigin still names an origin")
	}
}

func TestKeepDesiredLeavesTheAppliedValue(t *testing.T) {
	s := newTestServer(t, Options{ApplyDelay: 5 * time.Millisecond, KeepDesired: true})
	s.Furnish()
	access, _ := s.IssueTokens()
	if a := call(t, "PUT", s.URL+"/locks/109898/desired_state", access, map[string]any{"desired_state": map[string]any{"locked": false}}); a.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", a.status, a.raw)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		d, _ := s.Device("lock", "109898")
		if reading(d)["locked"] == false {
			if v, ok := desired(d)["locked"]; !ok || v != false {
				t.Errorf("desired_state locked = %v (present %v), want false kept beside last_reading", v, ok)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("change never applied")
		}
		<-time.After(5 * time.Millisecond)
	}
}

func TestKeepAliveQuirkSwallowsPushesUntilAnAppLikeCall(t *testing.T) {
	s := newTestServer(t, Options{PushesStopAfter: 300 * time.Millisecond})
	s.Furnish()
	access, _ := s.IssueTokens()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := s.WaitPushesStopped(ctx); err != nil {
		t.Fatal(err)
	}
	before := s.QuirkDrops()
	_ = s.Update("light_bulb", "2194253", map[string]any{"brightness": 0.5})
	if s.QuirkDrops() == before {
		t.Fatalf("QuirkDrops = %d after the limit: the push was not swallowed", s.QuirkDrops())
	}
	callUA := func(ua string) {
		req, _ := http.NewRequest("GET", s.URL+"/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("User-Agent", ua)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	callUA("cloud2mqtt/1.0")
	before = s.QuirkDrops()
	_ = s.Update("light_bulb", "2194253", map[string]any{"brightness": 0.6})
	if s.QuirkDrops() == before {
		t.Errorf("a non-app User-Agent revived pushes")
	}
	// The emulator's clock runs on: the revived pushes last
	// PushesStopAfter from the call, ample for the next update.
	callUA("1700000000")
	before = s.QuirkDrops()
	_ = s.Update("light_bulb", "2194253", map[string]any{"brightness": 0.7})
	if s.QuirkDrops() != before {
		t.Errorf("an app-like call did not revive pushes")
	}
}

func TestOtherPythonWinkEndpoints(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	access, _ := s.IssueTokens()
	if a := call(t, "POST", s.URL+"/hubs/"+HubID+"/update_firmware", access, map[string]any{}); a.status != http.StatusOK || reading(a.data())["updating_firmware"] != true {
		t.Errorf("update_firmware: %d %s", a.status, a.raw)
	}
	a := call(t, "POST", s.URL+"/locks/109898/keys", access, map[string]any{"code": "4321", "name": "Cleaner"})
	if a.status != http.StatusCreated || a.data()["object_type"] != "key" || a.data()["parent_object_id"] != "109898" || a.data()["name"] != "Cleaner" {
		t.Errorf("new key: %d %s", a.status, a.raw)
	}
	if a := call(t, "POST", s.URL+"/locks/109898/keys", access, map[string]any{"code": "12"}); a.status != http.StatusBadRequest {
		t.Errorf("short code: %d, want 400", a.status)
	}
	if a := call(t, "POST", s.URL+"/piggy_banks/4410/deposits", access, map[string]any{"amount": 250}); a.status != http.StatusCreated {
		t.Errorf("deposit: %d %s", a.status, a.raw)
	}
	if d, _ := s.Device("piggy_bank", "4410"); reading(d)["balance"] != 1500.0 {
		t.Errorf("balance after a 250 deposit = %v, want 1500", reading(d)["balance"])
	}
	if a := call(t, "POST", s.URL+"/cloud_clocks/2240/alarms", access, map[string]any{"name": "Tea", "next_at": 1924990500.0}); a.status != http.StatusCreated || a.data()["name"] != "Tea" {
		t.Errorf("alarm: %d %s", a.status, a.raw)
	}
	// Groups and scenes are their own lists.
	for list, want := range map[string]int{"groups": 5, "scenes": 1, "robots": 1} {
		a := call(t, "GET", s.URL+"/users/me/"+list, access, nil)
		if got, _ := a.body["data"].([]any); len(got) != want {
			t.Errorf("/users/me/%s: %d objects, want %d", list, len(got), want)
		}
	}
	if a := call(t, "POST", s.URL+"/groups/9001/activate", access, map[string]any{"desired_state": map[string]any{"powered": true}}); a.status != http.StatusOK || a.data()["object_type"] != "group" {
		t.Errorf("group activate: %d %s", a.status, a.raw)
	}
	if a := call(t, "POST", s.URL+"/groups/9001/activate", access, map[string]any{}); a.status != http.StatusBadRequest {
		t.Errorf("group activate without desired_state: %d, want 400", a.status)
	}
	if a := call(t, "POST", s.URL+"/scenes/9101/activate", access, nil); a.status != http.StatusOK || a.data()["object_type"] != "scene" {
		t.Errorf("scene activate: %d %s", a.status, a.raw)
	}
}
