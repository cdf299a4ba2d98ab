package bridge

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// fuzzDevices are devices of every kind of key a command can address.
func fuzzDevices() []cloud.Device {
	lock := frontDoor()
	return []cloud.Device{
		colorBulb(),
		lock,
		{ID: "garage_door-1", Class: cloud.ClassCover, Type: "garage_door",
			Fields: []cloud.Field{{Name: cloud.FieldPosition, Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(0), Max: cloud.Range(1), Step: 1}},
			State:  map[string]any{"position": 0.0}},
		{ID: "fan-1", Class: cloud.ClassFan,
			Fields: []cloud.Field{{Name: cloud.FieldOn, Kind: cloud.KindBool, Writable: true},
				{Name: cloud.FieldSpeed, Kind: cloud.KindEnum, Writable: true, Choices: []string{"low", "medium", "high"}}},
			State: map[string]any{"on": true, "speed": "medium"}},
		{ID: "t", Class: cloud.ClassClimate, Fields: []cloud.Field{
			{Name: cloud.FieldTargetTemp, Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(5), Max: cloud.Range(30), Step: 0.5},
			{Name: "mode", Kind: cloud.KindEnum, Writable: true, Choices: []string{"heat", "off"}},
			{Name: "label", Kind: cloud.KindString, Writable: true}}},
	}
}

// FuzzParseCommand feeds /set and /set/<field> payloads to every device:
// no panic, and an accepted change holds only values a cloud can take.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []struct{ field, payload string }{
		{"", `{"state":"ON","brightness":255}`}, {"", "OFF"}, {"", "LOCK"}, {"", `{"locked":true}`},
		{"", `{"color":{"h":90,"s":50}}`}, {"", `{"color_temp_kelvin":5000}`}, {"brightness", "51"},
		{"", `{"brightness":-0}`}, {"", `{"state":"ON","state":"OFF"}`}, {"brightness", "051"},
		{"target_temp", "21.5"}, {"percentage", "100"}, {"", "100"}, {"color", `{"r":255,"g":0,"b":0}`},
	} {
		f.Add(s.field, []byte(s.payload))
	}
	devices := fuzzDevices()
	f.Fuzz(func(t *testing.T, field string, payload []byte) {
		for i := range devices {
			d := devices[i].Clone()
			change, err := parseCommand(&d, deviceKeys(&d), field, payload)
			if err != nil {
				if change != nil {
					t.Fatalf("%s: error %v with a change %v", d.ID, err, change)
				}
				continue
			}
			for k, v := range change {
				if x, ok := v.(float64); ok {
					if math.IsNaN(x) || math.IsInf(x, 0) || math.Signbit(x) && x == 0 || x != 0 && math.Abs(x) < smallestNormal {
						t.Fatalf("%s: %s %q gives %s = %v", d.ID, field, payload, k, x)
					}
				}
			}
			if d.Class == cloud.ClassLock {
				if _, ok := change[cloud.FieldLocked].(bool); !ok {
					t.Fatalf("lock: %s %q gives %v", field, payload, change)
				}
			}
		}
	})
}

// FuzzFieldValue reads one per-field value as every reader does: no panic,
// and numbers come out finite and normal.
func FuzzFieldValue(f *testing.F) {
	for _, s := range []string{"1", "-0", "0.5", "1e-320", "051", "ON", "off", `"LOCK"`, "true", "null", "1e400", "0x10", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v := plainValue([]byte(raw))
		if x, err := asNumber("f", v); err == nil {
			if math.IsNaN(x) || math.IsInf(x, 0) || math.Signbit(x) && x == 0 || x != 0 && math.Abs(x) < smallestNormal {
				t.Fatalf("asNumber(%q) = %v", raw, x)
			}
		}
		_, _ = asBool("f", v)
		_, _ = asChoice("f", v, []string{"heat", "cool", "off"})
		_ = describe(v)
	})
}

// FuzzBridgeRequest reads bridge/request payloads: no panic, and a key
// given twice is never accepted.
func FuzzBridgeRequest(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"transaction":"1"}`, `{"id":"wink/lamp","transaction":7}`,
		`{"account":"wink"}`, `{"options":{"log_level":"debug"}}`, `{"id":"a","id":"b"}`, `[1]`, `{"options":{"a":[{"b":1,"b":2}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		_, err := parseRequest(payload)
		if _, dup := duplicateKey(payload); dup && err == nil {
			t.Fatalf("request %q with a key twice was accepted", payload)
		}
	})
}

// FuzzNames checks the slugs of topic levels and the identifiers of
// discovery against their definition as regular expressions.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"Kitchen Light", "  Ünïcödé  lamp ", "a--b__c", "\xff\xfe", "K\u212a", "light_bulb-7", ""} {
		f.Add(s)
	}
	nonSlug := regexp.MustCompile(`[^a-z0-9]+`)
	nonDiscoveryID := regexp.MustCompile(`[^a-zA-Z0-9_-]+`)
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := Slug(name), strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "_"), "_"); got != want {
			t.Errorf("Slug(%q) = %q, want %q", name, got, want)
		}
		if got, want := discoveryID("cloud2mqtt", name), nonDiscoveryID.ReplaceAllString("cloud2mqtt_"+name, "_"); got != want {
			t.Errorf("discoveryID(%q) = %q, want %q", name, got, want)
		}
	})
}
