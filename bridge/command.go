package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonobj"
)

// MaxCommandSize is the largest /set payload the bridge reads.
const MaxCommandSize = 64 << 10

// ignoredCommandKeys are keys Home Assistant may send that have no cloud
// counterpart; they are accepted and dropped.
var ignoredCommandKeys = []string{"transition", "flash", "effect"}

// stateObject is the device's MQTT state object.
func stateObject(d *cloud.Device, keys []stateKey) map[string]any {
	out := make(map[string]any, len(keys)+1)
	for _, k := range keys {
		if v, ok := k.read(d); ok {
			out[k.name] = v
		}
	}
	if mode, ok := colorMode(d); ok {
		out[colorModeKey] = mode
	}
	return out
}

// colorMode is the light's current Home Assistant color mode, when it has
// more than one.
func colorMode(d *cloud.Device) (string, bool) {
	_, ct := d.Field(cloud.FieldColorTemp)
	_, hue := d.Field(cloud.FieldHue)
	switch {
	case ct && hue:
		if d.ColorMode == cloud.ColorModeTemp {
			return string(cloud.ColorModeTemp), true
		}
		return string(cloud.ColorModeHS), true
	case ct:
		return "color_temp", true
	case hue:
		return "hs", true
	}
	return "", false
}

// mainKey is the key a plain (non-JSON-object) /set payload addresses.
func mainKey(d *cloud.Device, keys []stateKey, v any) (string, error) {
	switch d.Class {
	case cloud.ClassCover:
		if _, isNum := v.(float64); isNum {
			return "position", nil
		}
		return "state", nil
	case cloud.ClassClimate:
		return "mode", nil
	}
	for _, k := range keys {
		if k.name == "state" && k.write != nil {
			return "state", nil
		}
	}
	var writable []string
	for _, k := range keys {
		if k.write != nil && k.field.Writable {
			writable = append(writable, k.name)
		}
	}
	if len(writable) == 1 {
		return writable[0], nil
	}
	return "", reject("", "a plain value needs a field: publish JSON such as {\"%s\": …} or use /set/<field>; writable fields: %s",
		firstOr(writable, "field"), listOrNone(writable))
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// parseCommand turns a /set or /set/<field> payload into a change for d.
// It validates everything before returning: a non-nil change is safe to
// send.
func parseCommand(d *cloud.Device, keys []stateKey, field string, payload []byte) (cloud.Change, error) {
	if len(payload) > MaxCommandSize {
		return nil, reject(field, "payload of %d bytes is too large (at most %d)", len(payload), MaxCommandSize)
	}
	values := map[string]any{}
	trimmed := bytes.TrimSpace(payload)
	switch {
	case len(trimmed) == 0:
		return nil, reject(field, "empty payload: send JSON such as {\"state\":\"ON\"} or a plain value")
	case field != "":
		v := plainValue(trimmed)
		if trimmed[0] == '{' {
			if dup, found := duplicateKey(trimmed); found {
				return nil, reject(field, "%s.%s appears twice in the payload: send each field once", field, dup)
			}
			if obj, err := jsonobj.Decode(trimmed); err == nil {
				v = obj
			}
		}
		values[field] = v
	case trimmed[0] == '{':
		if dup, found := duplicateKey(trimmed); found {
			return nil, reject(dup, "appears twice in the payload: send each field once")
		}
		obj, err := decodeObject(trimmed)
		if err != nil {
			return nil, err
		}
		values = obj
		if len(values) == 0 {
			return nil, reject("", "empty JSON object: name at least one field")
		}
	default:
		v := plainValue(trimmed)
		k, err := mainKey(d, keys, v)
		if err != nil {
			return nil, err
		}
		values[k] = v
	}

	change := cloud.Change{}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		v := values[name]
		if slices.Contains(ignoredCommandKeys, name) {
			continue
		}
		if name == "color_temp_kelvin" {
			k, err := asNumber(name, v)
			if err != nil {
				return nil, err
			}
			if k <= 0 {
				return nil, reject(name, "must be a positive number of kelvin")
			}
			name, v = "color_temp", 1e6/k
		}
		if name == cloud.FieldLocked && d.Class == cloud.ClassLock {
			// The lock's boolean field by name: true locks, false unlocks.
			b, isBool := v.(bool)
			if !isBool {
				return nil, reject(name, "expected true or false, got %s; or send {\"state\":\"LOCK\"} or UNLOCK", describe(v))
			}
			name, v = "state", map[bool]string{true: "LOCK", false: "UNLOCK"}[b]
		}
		if name == availabilityKey {
			return nil, reject(name, "is reported by the cloud and cannot be set")
		}
		key, ok := findKey(keys, name)
		if !ok {
			return nil, reject(name, "unknown field for this device; writable fields: %s", listOrNone(writableNames(keys)))
		}
		if key.write == nil {
			return nil, reject(name, "is read-only")
		}
		c, err := key.write(d, v)
		if err != nil {
			return nil, err
		}
		for k, x := range c {
			change[k] = x
		}
	}
	if len(change) == 0 {
		return nil, reject("", "nothing to change")
	}
	return change, nil
}

// decodeObject decodes a /set payload starting with '{', one object and
// nothing after it; jsonobj reads it in one pass (encoding/json's needs
// two, and a third to tell the errors apart).
func decodeObject(payload []byte) (map[string]any, error) {
	if values, err := jsonobj.Decode(payload); err == nil {
		return values, nil
	}
	var values map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&values); err != nil {
		return nil, reject("", "payload is not valid JSON (%s): send an object such as {\"state\":\"ON\"} or a plain value such as ON", jsonProblem(err))
	}
	if dec.More() {
		return nil, reject("", "payload has data after the JSON object")
	}
	return values, nil
}

func findKey(keys []stateKey, name string) (stateKey, bool) {
	for _, k := range keys {
		if k.name == name {
			return k, true
		}
	}
	return stateKey{}, false
}

func writableNames(keys []stateKey) []string {
	var out []string
	for _, k := range keys {
		if k.write != nil && k.field.Writable && !slices.Contains(out, k.name) {
			out = append(out, k.name)
		}
	}
	return out
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return "expected a JSON object"
	}
	return err.Error()
}
