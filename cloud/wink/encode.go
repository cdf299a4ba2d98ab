package wink

import (
	"fmt"
	"math"
	"sort"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// toDesired translates a change in common names and units into a Wink
// desired_state for device d, and the keys of the object itself it sets
// (top; a piggy bank's nose_color, a propane tank's tare).
func toDesired(d decoded, ch cloud.Change) (out, top map[string]any, err error) {
	out = map[string]any{}
	top = map[string]any{}
	names := make([]string, 0, len(ch))
	for k := range ch {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := ch[name]
		f, ok := d.dev.Field(name)
		if !ok {
			return nil, nil, fmt.Errorf("field %s: %s has no such field", name, d.dev.ID)
		}
		if !f.Writable {
			return nil, nil, fmt.Errorf("field %s is read-only", name)
		}
		w := d.wire[name]
		val, err := toWire(f, v)
		if err != nil {
			return nil, nil, fmt.Errorf("field %s: %w", name, err)
		}
		switch {
		case w.top:
			top[w.key] = val
		case w.conv == convMode:
			if val == "off" {
				out["powered"] = false
				continue
			}
			m, ok := wireMode(w.modes, val.(string))
			if !ok {
				return nil, nil, fmt.Errorf("field %s: unknown mode %q", name, val)
			}
			out["powered"] = true
			out["mode"] = m
		case w.conv == convPreset:
			m := val.(string)
			if m == cloud.PresetNone {
				var ok bool
				if m, ok = presetOff(d, w.modes); !ok {
					return nil, nil, fmt.Errorf("field %s: no mode to return to", name)
				}
			}
			out["powered"] = true
			out["mode"] = m
		case w.conv == convSpeed3:
			out[w.key] = speed3Levels[val.(string)]
		case w.conv == convFahrenheit:
			out[w.key] = round((val.(float64)-32)*5/9, 4)
		case w.conv == convPercent:
			out[w.key] = val.(float64) / 100
		case w.conv == convHumidity:
			out[w.key] = val.(float64) / 100
		default:
			out[w.key] = val
		}
	}
	switch d.dev.Type {
	case "light_bulb":
		if v, ok := out["color_temperature"]; ok {
			out["color_temperature"] = math.Round(v.(float64))
			out["color_model"] = "color_temperature"
		}
		_, h := out["hue"]
		_, s := out["saturation"]
		if h || s {
			out["color_model"] = "hsb"
			if !h {
				out["hue"] = stateOr(d, cloud.FieldHue, 0.0)
			}
			if !s {
				out["saturation"] = stateOr(d, cloud.FieldSaturation, 1.0)
			}
		}
	case "fan":
		if _, ok := out["mode"]; ok {
			if _, on := out["powered"]; !on {
				out["powered"] = true
			}
		}
	}
	if d.dev.Class == cloud.ClassFan && d.wire[cloud.FieldSpeed].conv == convSpeed3 {
		// A GE in-wall fan control: a speed turns it on, as python-wink did.
		if _, ok := out["brightness"]; ok {
			if _, on := out["powered"]; !on {
				out["powered"] = true
			}
		}
	}
	if d.dev.Type == "garage_door" {
		if p, ok := out["position"].(float64); ok {
			out["position"] = math.Round(p)
		}
	}
	return out, top, nil
}

// wireMode is the Wink mode for a common mode word.
func wireMode(modes map[string]string, word string) (string, bool) {
	for k, v := range modes {
		if v == word {
			return k, true
		}
	}
	return "", false
}

// presetOff is the Wink mode a thermostat returns to when its preset is
// cleared: the HVAC mode it shows, else heating.
func presetOff(d decoded, modes map[string]string) (string, bool) {
	if cur, ok := d.dev.State[cloud.FieldMode].(string); ok {
		if m, ok := wireMode(modes, cur); ok {
			return m, true
		}
	}
	for _, m := range []string{"heat_only", "auto", "cool_only"} {
		if _, ok := modes[m]; ok {
			return m, true
		}
	}
	return "", false
}

func stateOr(d decoded, name string, def float64) float64 {
	if v, ok := d.dev.State[name].(float64); ok {
		return v
	}
	return def
}

// toWire checks v against f's kind and range and returns it normalised.
func toWire(f cloud.Field, v any) (any, error) {
	switch f.Kind {
	case cloud.KindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want true or false, got %v", v)
		}
		return b, nil
	case cloud.KindNumber:
		n, ok := cloud.Number(v)
		if !ok {
			return nil, fmt.Errorf("want a number, got %v", v)
		}
		if math.IsNaN(n) || (f.Min != nil && n < *f.Min) || (f.Max != nil && n > *f.Max) {
			return nil, fmt.Errorf("%v is out of range %s", v, rangeText(f))
		}
		return n, nil
	case cloud.KindEnum:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want one of %v, got %v", f.Choices, v)
		}
		for _, c := range f.Choices {
			if c == s {
				return s, nil
			}
		}
		return nil, fmt.Errorf("want one of %v, got %q", f.Choices, s)
	default:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want text, got %v", v)
		}
		return s, nil
	}
}

func rangeText(f cloud.Field) string {
	lo, hi := "-inf", "+inf"
	if f.Min != nil {
		lo = fmt.Sprint(*f.Min)
	}
	if f.Max != nil {
		hi = fmt.Sprint(*f.Max)
	}
	return "[" + lo + ", " + hi + "]"
}
