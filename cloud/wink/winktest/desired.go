package winktest

import (
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// typeWritable lists the desired_state fields of an object type, used
// when a device's capabilities do not list its fields (e.g. GE bulbs,
// shades). ok is false for types the emulator has no table for.
func typeWritable(objectType string) (fields []string, ok bool) {
	switch objectType {
	case "light_bulb":
		return []string{"powered", "brightness", "color_model", "hue", "saturation", "color_temperature", "color_x", "color_y", "color", "powering_mode"}, true
	case "binary_switch":
		return []string{"powered", "opened", "powering_mode", "identify_mode"}, true
	case "lock":
		return []string{"locked", "alarm_mode", "alarm_sensitivity", "alarm_enabled", "beeper_enabled", "vacation_mode_enabled", "auto_lock_enabled", "key_code_length"}, true
	case "thermostat":
		return []string{"powered", "mode", "min_set_point", "max_set_point", "fan_mode", "users_away", "profile", "fan_run_time"}, true
	case "fan":
		return []string{"powered", "mode", "direction", "timer"}, true
	case "shade":
		return []string{"position"}, true
	case "garage_door":
		return []string{"position", "laser", "calibration_enabled"}, true
	case "siren":
		return []string{"powered", "mode", "auto_shutoff", "siren_volume", "chime_volume", "siren_sound", "activate_chime", "chime_cycles", "strobe_enabled", "chime_strobe_enabled"}, true
	case "hub":
		return []string{"pairing_mode", "pairing_mode_duration", "pairing_device_type_selector", "kidde_radio_code"}, true
	case "water_heater":
		return []string{"mode", "powered", "set_point", "vacation_mode"}, true
	case "air_conditioner":
		return []string{"powered", "mode", "max_set_point", "fan_speed", "schedule_enabled"}, true
	case "camera":
		return []string{"mode", "private", "capturing_video", "capturing_audio"}, true
	case "sprinkler":
		return []string{"powered"}, true
	case "robot":
		return []string{"enabled", "fired_limit"}, true
	case "sensor_pod", "smoke_detector", "remote", "button", "powerstrip", "eggtray", "propane_tank", "door_bell", "key", "gang",
		"piggy_bank", "cloud_clock":
		return nil, true
	}
	return nil, false
}

// objectWritable reports whether a PUT /{plural}/{id} may change an
// object-level key directly (besides name, desired_state and outlets).
func objectWritable(key string) bool {
	switch key {
	case "location", "lat_lng", "locale", "tare", "nose_color", "freshness_period":
		return true
	}
	return false
}

// capField is one entry of capabilities.fields or sensor_types.
type capField struct {
	typ, mutability string
	choices         []any
	hasChoices      bool
	rng             []any
}

func capabilityFields(obj map[string]any) map[string]capField {
	out := map[string]capField{}
	caps := asMap(obj["capabilities"])
	for _, list := range []string{"fields", "sensor_types"} {
		arr, _ := caps[list].([]any)
		for _, x := range arr {
			f := asMap(x)
			name := str(f["field"])
			if name == "" {
				continue
			}
			cf := capField{typ: str(f["type"]), mutability: str(f["mutability"])}
			cf.choices, cf.hasChoices = f["choices"].([]any)
			cf.rng, _ = f["range"].([]any)
			out[name] = cf
		}
	}
	if arr, ok := caps["desired_state_fields"].([]any); ok {
		for _, x := range arr {
			name := str(x)
			if m := asMap(x); m != nil {
				name = str(m["field"])
			}
			if name != "" {
				cf := out[name]
				cf.mutability = "read-write"
				out[name] = cf
			}
		}
	}
	return out
}

// writableFields lists the fields a device accepts in desired_state.
func writableFields(obj map[string]any, caps map[string]capField) []string {
	set := map[string]bool{}
	for k, f := range caps {
		if f.mutability == "read-write" {
			set[k] = true
		}
	}
	fields, _ := typeWritable(str(obj["object_type"]))
	for _, k := range fields {
		if f, ok := caps[k]; !ok || f.mutability != "read-only" {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// validateDesired checks a desired_state hash against the device and
// returns a message for the client, or "".
func validateDesired(obj map[string]any, ds map[string]any) string {
	objType, id := str(obj["object_type"]), str(obj["object_id"])
	caps := capabilityFields(obj)
	writable := writableFields(obj, caps)
	_, typeKnown := typeWritable(objType)
	keys := make([]string, 0, len(ds))
	for k := range ds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := ds[k]
		cf, inCaps := caps[k]
		if (inCaps && cf.mutability == "read-only") || (!inCaps && typeKnown && !slices.Contains(writable, k)) || k == "connection" {
			list := "none"
			if len(writable) > 0 {
				list = strings.Join(writable, ", ")
			}
			return fmt.Sprintf("%s is read-only on %s %s and cannot be set in desired_state; writable fields: %s", k, objType, id, list)
		}
		if inCaps {
			if msg := checkValue(k, v, cf); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func checkValue(k string, v any, cf capField) string {
	if cf.hasChoices {
		for _, c := range cf.choices {
			if reflect.DeepEqual(c, v) {
				return ""
			}
		}
		names := make([]string, len(cf.choices))
		for i, c := range cf.choices {
			if c == nil {
				names[i] = "null"
			} else {
				names[i] = str(c)
			}
		}
		return fmt.Sprintf("%s must be one of: %s", k, strings.Join(names, ", "))
	}
	num, isNum := v.(float64)
	switch cf.typ {
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("%s must be true or false", k)
		}
	case "percentage":
		if !isNum || num < 0 || num > 1 {
			return fmt.Sprintf("%s must be a number from 0.0 to 1.0", k)
		}
	case "integer":
		if !isNum || num != math.Trunc(num) {
			return fmt.Sprintf("%s must be an integer", k)
		}
	case "float":
		if !isNum {
			return fmt.Sprintf("%s must be a number", k)
		}
	case "string":
		if _, ok := v.(string); !ok && v != nil {
			return fmt.Sprintf("%s must be a string", k)
		}
	}
	if len(cf.rng) == 2 && isNum {
		lo, okLo := cf.rng[0].(float64)
		hi, okHi := cf.rng[1].(float64)
		if okLo && okHi && (num < lo || num > hi) {
			return fmt.Sprintf("%s must be between %s and %s", k, str(lo), str(hi))
		}
	}
	return ""
}

// pending is one requested field waiting to be applied.
type pending struct {
	outlet int // -1 for the device itself
	field  string
	value  any
	seq    uint64
}

func (p pending) path() string {
	if p.outlet < 0 {
		return p.field
	}
	return "outlets/" + strconv.Itoa(p.outlet) + "/" + p.field
}

// applyPut handles PUT /{plural}/{id} and PUT …/desired_state. It returns
// the device as answered, or an error status and message.
func (s *Server) applyPut(objType, id string, body map[string]any, desiredOnly bool) (map[string]any, int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := deviceKey(objType, id)
	d, ok := s.devices[key]
	if !ok {
		return nil, http.StatusNotFound, fmt.Sprintf("not found: no %s with id %q", objType, id)
	}
	d.changedLocked() // desired_state and its stamps change without a push

	rawDS, hasDS := body["desired_state"]
	ds, dsIsMap := rawDS.(map[string]any)
	if hasDS && !dsIsMap {
		return nil, http.StatusBadRequest, "missing desired_state hash"
	}
	if desiredOnly && !hasDS {
		return nil, http.StatusBadRequest, "missing desired_state hash"
	}
	if hasDS {
		if msg := validateDesired(d.obj, ds); msg != "" {
			return nil, http.StatusBadRequest, msg
		}
	}

	var name string
	var hasName bool
	var outletDS []map[string]any
	objectKeys := map[string]any{}
	if !desiredOnly {
		if v, ok := body["name"]; ok {
			n, isStr := v.(string)
			if !isStr || strings.TrimSpace(n) == "" {
				return nil, http.StatusBadRequest, "name must be a non-empty string"
			}
			name, hasName = n, true
		}
		if v, ok := body["outlets"]; ok {
			req, isArr := v.([]any)
			have, _ := d.obj["outlets"].([]any)
			if !isArr || len(have) == 0 {
				return nil, http.StatusBadRequest, fmt.Sprintf("outlets must be an array of outlet objects, and %s %s has no outlets", objType, id)
			}
			if len(req) > len(have) {
				return nil, http.StatusBadRequest, fmt.Sprintf("outlets has %d entries but %s %s has %d outlets", len(req), objType, id, len(have))
			}
			for i, x := range req {
				o := asMap(x)
				if o == nil {
					return nil, http.StatusBadRequest, fmt.Sprintf("outlets[%d] must be an object (use {} to leave an outlet unchanged)", i)
				}
				var ods map[string]any
				if raw, ok := o["desired_state"]; ok {
					ods = asMap(raw)
					if ods == nil {
						return nil, http.StatusBadRequest, fmt.Sprintf("outlets[%d]: missing desired_state hash", i)
					}
					for k, v := range ods {
						if k != "powered" {
							return nil, http.StatusBadRequest, fmt.Sprintf("outlets[%d]: %s is read-only; writable fields: powered", i, k)
						}
						if _, isBool := v.(bool); !isBool {
							return nil, http.StatusBadRequest, fmt.Sprintf("outlets[%d]: powered must be true or false", i)
						}
					}
				}
				outletDS = append(outletDS, ods)
			}
		}
		for k, v := range body {
			if objectWritable(k) {
				objectKeys[k] = v
			}
		}
		if !hasDS && !hasName && outletDS == nil && len(objectKeys) == 0 {
			return nil, http.StatusBadRequest, "missing desired_state hash"
		}
	}

	now := stamp(time.Now())
	var changes []pending
	request := func(target map[string]any, outlet int, values map[string]any) {
		tds := subMap(target, "desired_state")
		lr := subMap(target, "last_reading")
		for k, v := range values {
			old, had := tds[k]
			tds[k] = deepCopy(v)
			lr["desired_"+k+"_updated_at"] = now
			if !had || !reflect.DeepEqual(old, v) {
				lr["desired_"+k+"_changed_at"] = now
			}
			s.applySeq++
			p := pending{outlet: outlet, field: k, value: deepCopy(v), seq: s.applySeq}
			d.seq[p.path()] = p.seq
			changes = append(changes, p)
		}
	}
	if hasDS {
		request(d.obj, -1, ds)
	}
	outlets, _ := d.obj["outlets"].([]any)
	for i, ods := range outletDS {
		if len(ods) > 0 {
			request(asMap(outlets[i]), i, ods)
		}
	}
	pushNow := false
	if hasName {
		d.obj["name"] = name
		pushNow = true
	}
	for k, v := range objectKeys {
		d.obj[k] = v
		pushNow = true
	}
	if pushNow {
		s.pushDeviceLocked(key, d)
	}
	if len(changes) > 0 {
		s.scheduleLocked(key, d, changes)
	}
	return deepCopy(d.obj).(map[string]any), http.StatusOK, ""
}

// scheduleLocked arranges for changes to be applied after ApplyDelay, or,
// when the device is disconnected, to be dropped after GiveUpAfter.
func (s *Server) scheduleLocked(key string, d *device, changes []pending) {
	if s.closed {
		return
	}
	connected := asMap(d.obj["last_reading"])["connection"] == true
	delay, apply := s.opts.ApplyDelay, true
	if !connected {
		delay, apply = s.opts.GiveUpAfter, false
	}
	s.timers.Add(1)
	go func() {
		defer s.timers.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			s.settle(key, changes, apply)
		case <-s.done:
		}
	}()
}

// resumePendingLocked schedules what is still in desired_state once a
// device reconnects.
func (s *Server) resumePendingLocked(key string, d *device) {
	var changes []pending
	for k, v := range asMap(d.obj["desired_state"]) {
		if seq, ok := d.seq[k]; ok {
			changes = append(changes, pending{outlet: -1, field: k, value: deepCopy(v), seq: seq})
		}
	}
	outlets, _ := d.obj["outlets"].([]any)
	for i, o := range outlets {
		for k, v := range asMap(asMap(o)["desired_state"]) {
			p := pending{outlet: i, field: k, value: deepCopy(v)}
			if seq, ok := d.seq[p.path()]; ok {
				p.seq = seq
				changes = append(changes, p)
			}
		}
	}
	if len(changes) > 0 {
		s.scheduleLocked(key, d, changes)
	}
}

// settle applies (or gives up on) changes that no newer request has
// superseded, then pushes the device.
func (s *Server) settle(key string, changes []pending, apply bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[key]
	if !ok {
		return
	}
	d.changedLocked()
	if apply && asMap(d.obj["last_reading"])["connection"] != true {
		s.scheduleLocked(key, d, changes) // went offline meanwhile: give up later
		return
	}
	now := stamp(time.Now())
	outlets, _ := d.obj["outlets"].([]any)
	changed := false
	for _, c := range changes {
		if d.seq[c.path()] != c.seq {
			continue
		}
		delete(d.seq, c.path())
		target := d.obj
		if c.outlet >= 0 {
			if c.outlet >= len(outlets) {
				continue
			}
			target = asMap(outlets[c.outlet])
		}
		lr := subMap(target, "last_reading")
		if apply && s.opts.KeepDesired {
			subMap(target, "desired_state")[c.field] = c.value
		} else {
			delete(subMap(target, "desired_state"), c.field)
		}
		lr[c.field+"_updated_at"] = now
		if apply {
			old, had := lr[c.field]
			lr[c.field] = c.value
			if !had || !reflect.DeepEqual(old, c.value) {
				lr[c.field+"_changed_at"] = now
			}
			if c.outlet >= 0 {
				target[c.field] = c.value // outlets repeat their state at top level
			}
		}
		changed = true
	}
	if changed {
		s.pushDeviceLocked(key, d)
	}
}
