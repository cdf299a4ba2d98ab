package bridge_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// TestWinkGroupsAndShortcuts: groups are announced by what they hold and
// commanded through POST /groups/{id}/activate, shortcuts are HA scenes
// run by POST /scenes/{id}/activate, built-in and empty groups stay out,
// and discover picks up a group added later.
func TestWinkGroupsAndShortcuts(t *testing.T) {
	h := newHarness(t, nil)
	for id, platform := range map[string]string{"group-9001": "light", "group-9002": "switch", "group-9003": "cover", "scene-9101": "scene"} {
		cfg := h.discovery(t, "wink", id)
		cmps, _ := cfg["components"].(map[string]any)
		if _, ok := cmps[platform]; !ok || len(cmps) != 1 {
			t.Errorf("%s: components %v, want one %s", id, cmps, platform)
		}
	}
	r := mqtttest.NewRecorder(t, h.url, h.topics.BridgeDevices())
	raw := r.Wait(t, wait, func(m mqtt.Message) bool { return strings.Contains(string(m.Payload), `"group-9001"`) }).Payload
	if !strings.Contains(string(raw), `"group-9001"`) {
		t.Fatalf("bridge/devices does not list the light group: %s", raw)
	}
	for _, skipped := range []string{"group-9004", "group-9005"} {
		if strings.Contains(string(raw), skipped) {
			t.Errorf("%s (a built-in or empty group) is published: %s", skipped, raw)
		}
	}

	activate := func(path string, after int) map[string]any {
		t.Helper()
		req := waitPOSTAfter(t, h.srv, path, after)
		var body map[string]any
		if len(req.Body) > 0 {
			if err := json.Unmarshal(req.Body, &body); err != nil {
				t.Fatalf("POST %s body %s: %v", path, req.Body, err)
			}
		}
		return body
	}

	sent := h.srv.CountRequests("POST", "/groups/9001/activate")
	h.publish(t, "wink/all_lamps/set", `{"state":"ON","brightness":51}`)
	body := activate("/groups/9001/activate", sent)
	ds, _ := body["desired_state"].(map[string]any)
	if ds["powered"] != true || math.Abs(ds["brightness"].(float64)-0.2) > 1e-9 {
		t.Errorf("light group activate body %v, want powered true and brightness 0.2", body)
	}
	h.state(t, "wink/bedroom_lamp", func(s map[string]any) bool { return s["state"] == "ON" && s["brightness"] == 51.0 })

	sent = h.srv.CountRequests("POST", "/groups/9002/activate")
	h.publish(t, "wink/outdoor_switches/set", `OFF`)
	if body := activate("/groups/9002/activate", sent); !contains(body, map[string]any{"desired_state": map[string]any{"powered": false}}) {
		t.Errorf("switch group activate body %v, want powered false", body)
	}

	sent = h.srv.CountRequests("POST", "/groups/9003/activate")
	h.publish(t, "wink/all_shades/set/position", `0`)
	if body := activate("/groups/9003/activate", sent); !contains(body, map[string]any{"desired_state": map[string]any{"position": 0.0}}) {
		t.Errorf("shade group activate body %v, want position 0", body)
	}

	sent = h.srv.CountRequests("POST", "/scenes/9101/activate")
	h.publish(t, "wink/movie_night/set/activate", `true`)
	activate("/scenes/9101/activate", sent)
	h.state(t, "wink/office_shade", func(s map[string]any) bool { return s["position"] == 0.0 })

	h.srv.AddDevice(map[string]any{"object_type": "group", "object_id": "9010", "name": "Porch group",
		"members": []any{map[string]any{"object_type": "binary_switch", "object_id": "451110"}}})
	h.request(t, "discover", `{"transaction":"again"}`)
	if cmps, _ := h.discovery(t, "wink", "group-9010")["components"].(map[string]any); cmps["switch"] == nil {
		t.Errorf("group added later: components %v, want a switch", cmps)
	}
}

// waitPOSTAfter waits for the first POST to path after the first `after`.
func waitPOSTAfter(t *testing.T, srv *winktest.Server, path string, after int) winktest.Request {
	t.Helper()
	return waitRequestAfter(t, srv, "POST", path, after)
}
