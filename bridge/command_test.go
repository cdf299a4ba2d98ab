package bridge

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func colorBulb() cloud.Device {
	return cloud.Device{ID: "light_bulb-1", Name: "Desk lamp", Class: cloud.ClassLight, Available: true,
		Fields: []cloud.Field{
			{Name: cloud.FieldOn, Kind: cloud.KindBool, Writable: true},
			{Name: cloud.FieldBrightness, Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(0), Max: cloud.Range(1)},
			{Name: cloud.FieldColorTemp, Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(2000), Max: cloud.Range(6500)},
			{Name: cloud.FieldHue, Kind: cloud.KindNumber, Writable: true},
			{Name: cloud.FieldSaturation, Kind: cloud.KindNumber, Writable: true},
			{Name: "firmware_version", Kind: cloud.KindString},
		},
		ColorMode: cloud.ColorModeTemp,
		State:     map[string]any{"on": true, "brightness": 0.5, "color_temp": 2700.0, "hue": 0.5, "saturation": 1.0, "firmware_version": "1.0"},
	}
}

func TestStateObjectUsesHomeAssistantUnits(t *testing.T) {
	d := colorBulb()
	got := stateObject(&d, deviceKeys(&d))
	want := map[string]any{"state": "ON", "brightness": 128.0, "color_temp": 370.0,
		"color": map[string]any{"h": 180.0, "s": 100.0}, "color_mode": "color_temp", "firmware_version": "1.0"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("state = %v\nwant %v", got, want)
	}
}

func TestParseCommandConverts(t *testing.T) {
	d := colorBulb()
	keys := deviceKeys(&d)
	cases := []struct {
		field, payload string
		want           cloud.Change
	}{
		{"", `{"state":"ON","brightness":255}`, cloud.Change{"on": true, "brightness": 1.0}},
		{"", `OFF`, cloud.Change{"on": false}},
		{"", `off`, cloud.Change{"on": false}},
		{"", `true`, cloud.Change{"on": true}},
		{"", `1`, cloud.Change{"on": true}},
		{"", `TOGGLE`, cloud.Change{"on": false}},
		{"", `{"color_temp":250}`, cloud.Change{"color_temp": 4000.0}},
		{"", `{"color_temp_kelvin":5000}`, cloud.Change{"color_temp": 5000.0}},
		{"", `{"color":{"h":90,"s":50}}`, cloud.Change{"hue": 0.25, "saturation": 0.5}},
		{"", `{"color":{"r":255,"g":0,"b":0}}`, cloud.Change{"hue": 0.0, "saturation": 1.0}},
		{"", `{"state":"ON","transition":2}`, cloud.Change{"on": true}},
		{"brightness", `51`, cloud.Change{"brightness": 0.2}},
		{"brightness", `"51"`, cloud.Change{"brightness": 0.2}},
		{"state", `ON`, cloud.Change{"on": true}},
	}
	for _, c := range cases {
		got, err := parseCommand(&d, keys, c.field, []byte(c.payload))
		if err != nil {
			t.Errorf("%s %s: %v", c.field, c.payload, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s = %v, want %v", c.field, c.payload, got, c.want)
		}
	}
}

func TestParseCommandRejects(t *testing.T) {
	d := colorBulb()
	keys := deviceKeys(&d)
	huge := bytes.Repeat([]byte("x"), 1<<20)
	cases := []struct {
		field, payload string
		wantField      string
		wantText       string
	}{
		{"", `{"brightness":"bright"}`, "brightness", "expected a number"},
		{"", `{"brightness":300}`, "brightness", "300 is out of range 0 to 255"},
		{"", `{"firmware_version":"2"}`, "firmware_version", "read-only"},
		{"", `{"colour":1}`, "colour", "unknown field"},
		{"", `{"color_temp":100}`, "color_temp", "out of range 154 to 500"},
		{"", `{"state":"MAYBE"}`, "state", "expected ON, OFF or TOGGLE"},
		{"", `{not json`, "", "not valid JSON"},
		{"", `{}`, "", "empty JSON object"},
		{"", ``, "", "empty payload"},
		{"", `bright`, "state", "expected ON, OFF or TOGGLE"},
		{"", string(huge), "", "too large"},
		{"", `{"color":{"h":400,"s":1}}`, "color.h", "out of range"},
		{"", `{"state":"ON","availability":"online"}`, "availability", "reported by the cloud"},
		{"availability", `offline`, "availability", "reported by the cloud"},
	}
	for _, c := range cases {
		_, err := parseCommand(&d, keys, c.field, []byte(c.payload))
		if err == nil {
			t.Errorf("%.30q: accepted, want an error", c.payload)
			continue
		}
		ce, ok := err.(*commandError)
		if !ok || ce.Field != c.wantField || !strings.Contains(err.Error(), c.wantText) {
			t.Errorf("%.30q: error %q (field %q), want field %q and text %q", c.payload, err, fieldOf(err), c.wantField, c.wantText)
		}
	}
}

func fieldOf(err error) string {
	if ce, ok := err.(*commandError); ok {
		return ce.Field
	}
	return "?"
}

func TestCoverLockFanCommands(t *testing.T) {
	garage := cloud.Device{ID: "garage_door-1", Class: cloud.ClassCover, Type: "garage_door",
		Fields: []cloud.Field{{Name: cloud.FieldPosition, Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(0), Max: cloud.Range(1), Step: 1}},
		State:  map[string]any{"position": 0.0}}
	lock := cloud.Device{ID: "lock-1", Class: cloud.ClassLock,
		Fields: []cloud.Field{{Name: cloud.FieldLocked, Kind: cloud.KindBool, Writable: true}, {Name: cloud.FieldBattery, Kind: cloud.KindNumber}},
		State:  map[string]any{"locked": true, "battery": 80.0}}
	fan := cloud.Device{ID: "fan-1", Class: cloud.ClassFan,
		Fields: []cloud.Field{{Name: cloud.FieldOn, Kind: cloud.KindBool, Writable: true},
			{Name: cloud.FieldSpeed, Kind: cloud.KindEnum, Writable: true, Choices: []string{"lowest", "low", "medium", "high", "auto"}}},
		State: map[string]any{"on": true, "speed": "medium"}}
	cases := []struct {
		d              cloud.Device
		field, payload string
		want           cloud.Change
		wantErr        string
	}{
		{garage, "", "OPEN", cloud.Change{"position": 1.0}, ""},
		{garage, "", "100", cloud.Change{"position": 1.0}, ""},
		{garage, "position", "50", nil, "only opens or closes"},
		{garage, "", "STOP", nil, "cannot stop"},
		{lock, "", "LOCK", cloud.Change{"locked": true}, ""},
		{lock, "", `{"state":"UNLOCK"}`, cloud.Change{"locked": false}, ""},
		{lock, "battery", "5", nil, "read-only"},
		{fan, "percentage", "100", cloud.Change{"on": true, "speed": "high"}, ""},
		{fan, "percentage", "10", cloud.Change{"on": true, "speed": "lowest"}, ""},
		{fan, "percentage", "0", cloud.Change{"on": false}, ""},
		{fan, "speed", "AUTO", cloud.Change{"speed": "auto"}, ""},
		{fan, "speed", "turbo", nil, "expected one of lowest, low, medium, high, auto"},
	}
	for _, c := range cases {
		got, err := parseCommand(&c.d, deviceKeys(&c.d), c.field, []byte(c.payload))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s %s/%s: error %v, want %q", c.d.ID, c.field, c.payload, err, c.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s/%s = %v, %v; want %v", c.d.ID, c.field, c.payload, got, err, c.want)
		}
	}
	s := stateObject(&fan, deviceKeys(&fan))
	if s["percentage"] != 75.0 || s["state"] != "ON" || s["speed"] != "medium" {
		t.Errorf("fan state = %v", s)
	}
	s = stateObject(&lock, deviceKeys(&lock))
	if s["state"] != "LOCKED" || s["battery"] != 80.0 {
		t.Errorf("lock state = %v", s)
	}
}

func TestSlugs(t *testing.T) {
	taken := map[string]bool{"kitchen_light": true}
	if got := uniqueSlug("Kitchen Light", "x", func(s string) bool { return taken[s] }); got != "kitchen_light_2" {
		t.Errorf("slug = %q", got)
	}
	if got := uniqueSlug("!!!", "light_bulb-7", func(string) bool { return false }); got != "light_bulb_7" {
		t.Errorf("fallback slug = %q", got)
	}
	tp := Topics{Base: "c2m/home"}
	ct, ok := tp.parseCommandTopic("c2m/home/wink/lamp/set/brightness")
	if !ok || ct != (commandTopic{"wink", "lamp", "set", "brightness"}) {
		t.Errorf("parse = %+v %v", ct, ok)
	}
	for _, bad := range []string{"c2m/home/bridge/x/set", "c2m/home/wink/lamp", "other/wink/lamp/set", "c2m/home/wink/lamp/get/x"} {
		if _, ok := tp.parseCommandTopic(bad); ok {
			t.Errorf("%s parsed as a command", bad)
		}
	}
}

func TestColourTemperatureEndsAndSteps(t *testing.T) {
	d := colorBulb()
	keys := deviceKeys(&d)
	for payload, want := range map[string]float64{
		`{"color_temp_kelvin":6500}`: 6500, `{"color_temp_kelvin":2000}`: 2000,
		`{"color_temp":153}`: 6500, `{"color_temp":500}`: 2000,
	} {
		c, err := parseCommand(&d, keys, "", []byte(payload))
		if err != nil || c["color_temp"] != want {
			t.Errorf("%s = %v, %v; want color_temp %v", payload, c, err, want)
		}
	}
	thermostat := cloud.Device{ID: "t", Class: cloud.ClassClimate, Fields: []cloud.Field{
		{Name: cloud.FieldTargetTemp, Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(5), Max: cloud.Range(30), Step: 0.5}}}
	if _, err := parseCommand(&thermostat, deviceKeys(&thermostat), "target_temp", []byte("21.5")); err != nil {
		t.Errorf("21.5 on a 0.5 step: %v", err)
	}
	_, err := parseCommand(&thermostat, deviceKeys(&thermostat), "target_temp", []byte("21.3"))
	if err == nil || !strings.Contains(err.Error(), "steps of 0.5") {
		t.Errorf("21.3 on a 0.5 step: %v, want a step error", err)
	}
}

// A cloud field named like a key the bridge writes itself gets another key,
// so the device's availability and color mode stay the bridge's.
func TestFieldNamedLikeBridgeKeyIsRenamed(t *testing.T) {
	d := cloud.Device{ID: "odd-1", Class: cloud.ClassSensor,
		Fields: []cloud.Field{{Name: "availability", Kind: cloud.KindString}, {Name: "color_mode", Kind: cloud.KindString}},
		State:  map[string]any{"availability": "in stock", "color_mode": "warm"}}
	got := stateObject(&d, deviceKeys(&d))
	want := map[string]any{"availability_value": "in stock", "color_mode_value": "warm"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("state = %v, want %v", got, want)
	}
}
