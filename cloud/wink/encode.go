package wink

import (
	"fmt"
	"math"
	"sort"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// toDesired translates a change in common names and units into a Wink
// desired_state for device d.
func toDesired(d decoded, ch cloud.Change) (map[string]any, error) {
	out := map[string]any{}
	names := make([]string, 0, len(ch))
	for k := range ch {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := ch[name]
		f, ok := d.dev.Field(name)
		if !ok {
			return nil, fmt.Errorf("field %s: %s has no such field", name, d.dev.ID)
		}
		if !f.Writable {
			return nil, fmt.Errorf("field %s is read-only", name)
		}
		w := d.wire[name]
		val, err := toWire(f, v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		switch {
		case w.conv == convThermo:
			if val == "off" {
				out["powered"] = false
				continue
			}
			m, ok := thermoToWink(val.(string))
			if !ok {
				return nil, fmt.Errorf("field %s: unknown mode %q", name, val)
			}
			out["powered"] = true
			out["mode"] = m
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
	case "garage_door":
		if p, ok := out["position"].(float64); ok {
			out["position"] = math.Round(p)
		}
	}
	return out, nil
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
