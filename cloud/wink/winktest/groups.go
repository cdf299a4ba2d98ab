package winktest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Groups and scenes (shortcuts): stored as objects of type "group" and
// "scene", listed by /users/me/groups and /users/me/scenes, run by
// POST /groups/{id}/activate {"desired_state": …} and
// POST /scenes/{id}/activate.

// aggregateLocked recomputes a group's reading_aggregation from its
// members' last_reading: powered as a boolean aggregation, brightness and
// position as numeric ones.
func (s *Server) aggregateLocked(group map[string]any) {
	members, _ := group["members"].([]any)
	type boolAgg struct{ trues, falses int }
	bools := map[string]*boolAgg{}
	nums := map[string][]float64{}
	for _, x := range members {
		m := asMap(x)
		d, ok := s.devices[deviceKey(str(m["object_type"]), str(m["object_id"]))]
		if !ok {
			continue
		}
		lr := reading(d.obj)
		if p, ok := lr["powered"].(bool); ok {
			if bools["powered"] == nil {
				bools["powered"] = &boolAgg{}
			}
			if p {
				bools["powered"].trues++
			} else {
				bools["powered"].falses++
			}
		}
		for _, k := range []string{"brightness", "position"} {
			if n, ok := lr[k].(float64); ok {
				nums[k] = append(nums[k], n)
			}
		}
	}
	agg := map[string]any{}
	for k, b := range bools {
		agg[k] = map[string]any{"or": b.trues > 0, "and": b.falses == 0, "true_count": float64(b.trues), "false_count": float64(b.falses)}
	}
	for k, ns := range nums {
		lo, hi, sum := ns[0], ns[0], 0.0
		for _, n := range ns {
			lo, hi, sum = min(lo, n), max(hi, n), sum+n
		}
		agg[k] = map[string]any{"min": lo, "max": hi, "average": sum / float64(len(ns))}
	}
	group["reading_aggregation"] = agg
}

// activate answers POST /groups/{id}/activate and POST /scenes/{id}/activate:
// a group's desired_state goes to every member, a scene's members get
// their own desired_state. The answer is the group or scene.
func (s *Server) activate(objType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		obj, ok := s.Device(objType, id)
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no %s with id %q", objType, id))
			return
		}
		var groupDS map[string]any
		if objType == "group" {
			raw, err := readBody(r)
			var body map[string]any
			if err != nil || json.Unmarshal(raw, &body) != nil {
				writeError(w, http.StatusBadRequest, "request body must be a JSON object")
				return
			}
			if groupDS, ok = body["desired_state"].(map[string]any); !ok {
				writeError(w, http.StatusBadRequest, "missing desired_state hash")
				return
			}
		}
		members, _ := obj["members"].([]any)
		for _, x := range members {
			m := asMap(x)
			ds := groupDS
			if objType == "scene" {
				ds = asMap(m["desired_state"])
			}
			if len(ds) == 0 {
				continue
			}
			// A member that does not take a field keeps its state, as
			// Wink's groups of mixed devices do.
			_, _, _ = s.applyPut(str(m["object_type"]), str(m["object_id"]), map[string]any{"desired_state": deepCopy(ds)}, true)
		}
		obj, _ = s.Device(objType, id)
		writeJSON(w, http.StatusOK, envelope(obj, nil))
	}
}

// groupsAndScenes are the furnished groups and shortcuts: a light group of
// both bulbs, a switch group, a shade group, a scene, and a built-in and an
// empty group that clients skip.
func groupsAndScenes() []map[string]any {
	member := func(typ, id string) map[string]any { return map[string]any{"object_type": typ, "object_id": id} }
	return []map[string]any{
		{"object_type": "group", "object_id": "9001", "name": "All lamps",
			"members": []any{member("light_bulb", "2194253"), member("light_bulb", "2194260")}},
		{"object_type": "group", "object_id": "9002", "name": "Outdoor switches",
			"members": []any{member("binary_switch", "451110")}},
		{"object_type": "group", "object_id": "9003", "name": "All shades",
			"members": []any{member("shade", "31045")}},
		{"object_type": "group", "object_id": "9004", "name": ".all",
			"members": []any{member("light_bulb", "2194253")}},
		{"object_type": "group", "object_id": "9005", "name": "Empty group", "members": []any{}},
		{"object_type": "scene", "object_id": "9101", "name": "Movie night", "icon_code": "scene-shortcut",
			"members": []any{
				map[string]any{"object_type": "light_bulb", "object_id": "2194253", "desired_state": map[string]any{"powered": true, "brightness": 0.2}},
				map[string]any{"object_type": "shade", "object_id": "31045", "desired_state": map[string]any{"position": 0.0}},
			}},
	}
}
