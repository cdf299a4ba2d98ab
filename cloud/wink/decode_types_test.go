package wink

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func decodeJSON(t *testing.T, obj map[string]any) []decoded {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := decodeAll(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestRelaySwitchPublishedOnlyForADumbLoad(t *testing.T) {
	relay := func(mode any) map[string]any {
		return map[string]any{"object_type": "binary_switch", "object_id": "7", "name": "Relay",
			"last_reading": map[string]any{"powered": true, "powering_mode": mode}}
	}
	if ds := decodeJSON(t, relay("dumb")); len(ds) != 1 {
		t.Errorf("dumb relay: %d devices, want 1", len(ds))
	}
	for _, mode := range []any{"smart", "none"} {
		if ds := decodeJSON(t, relay(mode)); len(ds) != 0 {
			t.Errorf("%v relay: %d devices, want none", mode, len(ds))
		}
		raw, _ := json.Marshal(relay(mode))
		if _, err := Decode(raw); !errors.Is(err, errNoLoad) {
			t.Errorf("Decode %v relay: %v, want errNoLoad", mode, err)
		}
	}
	if ds := decodeJSON(t, relay(nil)); len(ds) != 1 {
		t.Errorf("switch without powering_mode: %d devices, want 1", len(ds))
	}
}

func TestFieldDeclaredOnceItHasAValue(t *testing.T) {
	lock := func(alarm any) map[string]any {
		return map[string]any{"object_type": "lock", "object_id": "9", "name": "Door",
			"capabilities": map[string]any{"fields": []any{map[string]any{"field": "alarm_activated", "type": "boolean", "mutability": "read-only"}}},
			"last_reading": map[string]any{"locked": true, "alarm_activated": alarm}}
	}
	d := decodeJSON(t, lock(nil))[0].dev
	if _, ok := d.Field("alarm_activated"); ok {
		t.Error("alarm_activated declared without a reading")
	}
	d = decodeJSON(t, lock(true))[0].dev
	if f, ok := d.Field("alarm_activated"); !ok || f.Writable || d.State["alarm_activated"] != true {
		t.Errorf("alarm_activated with a reading: %+v %v", f, d.State["alarm_activated"])
	}
}

func TestThermostatPresets(t *testing.T) {
	th := func(mode string) decoded {
		return decodeJSON(t, map[string]any{"object_type": "thermostat", "object_id": "1", "name": "T",
			"last_reading": map[string]any{"powered": true, "mode": mode, "modes_allowed": []any{"heat_only", "cool_only", "auto", "aux", "eco"}}})[0]
	}
	d := th("aux")
	mode, _ := d.dev.Field(cloud.FieldMode)
	preset, _ := d.dev.Field(cloud.FieldPresetMode)
	if !reflect.DeepEqual(mode.Choices, []string{"off", "heat", "cool", "heat_cool"}) || !reflect.DeepEqual(preset.Choices, []string{"none", "aux", "eco"}) {
		t.Fatalf("modes %v presets %v", mode.Choices, preset.Choices)
	}
	if d.dev.State[cloud.FieldMode] != "heat" || d.dev.State[cloud.FieldPresetMode] != "aux" {
		t.Errorf("aux shows mode %v preset %v, want heat / aux", d.dev.State[cloud.FieldMode], d.dev.State[cloud.FieldPresetMode])
	}
	for _, tc := range []struct {
		d    decoded
		ch   cloud.Change
		want map[string]any
	}{
		{th("heat_only"), cloud.Change{cloud.FieldPresetMode: "eco"}, map[string]any{"powered": true, "mode": "eco"}},
		{th("aux"), cloud.Change{cloud.FieldPresetMode: "none"}, map[string]any{"powered": true, "mode": "heat_only"}},
		{th("eco"), cloud.Change{cloud.FieldPresetMode: "none"}, map[string]any{"powered": true, "mode": "auto"}},
		{th("aux"), cloud.Change{cloud.FieldMode: "heat_cool"}, map[string]any{"powered": true, "mode": "auto"}},
	} {
		got, _, err := toDesired(tc.d, tc.ch)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v from %v: %v %v, want %v", tc.ch, tc.d.dev.State[cloud.FieldMode], got, err, tc.want)
		}
	}
	if _, _, err := toDesired(th("heat_only"), cloud.Change{cloud.FieldMode: "aux"}); err == nil {
		t.Error("aux accepted as an HVAC mode")
	}
}

func TestGEFanSpeedsFromBrightness(t *testing.T) {
	for level, want := range map[float64]string{0.1: "low", 0.33: "low", 0.5: "medium", 0.66: "medium", 0.9: "high", 1: "high"} {
		d := decodeJSON(t, map[string]any{"object_type": "light_bulb", "object_id": "2", "name": "Fan",
			"manufacturer_device_model": "ge_jasco_in_wall_fan", "last_reading": map[string]any{"powered": true, "brightness": level}})[0]
		if d.dev.Class != cloud.ClassFan || d.dev.State[cloud.FieldSpeed] != want {
			t.Errorf("brightness %v: class %s speed %v, want fan %s", level, d.dev.Class, d.dev.State[cloud.FieldSpeed], want)
		}
	}
}

func TestCanaryModeAlwaysAnOption(t *testing.T) {
	d := decodeJSON(t, map[string]any{"object_type": "camera", "object_id": "3", "name": "Cam", "device_manufacturer": "canary",
		"last_reading": map[string]any{"mode": "privacy"}})[0].dev
	f, _ := d.Field(cloud.FieldMode)
	if !reflect.DeepEqual(f.Choices, []string{"home", "away", "night", "privacy"}) {
		t.Errorf("choices %v: the mode shown must be one of them", f.Choices)
	}
}

func TestPicoRemoteButtonsAreEvents(t *testing.T) {
	d := decodeJSON(t, map[string]any{"object_type": "remote", "object_id": "4", "name": "Pico", "model_name": "Pico",
		"last_reading": map[string]any{"button_on_pressed": false, "button_off_pressed": true}})[0].dev
	for _, k := range []string{"button_on_pressed", "button_off_pressed"} {
		if f, ok := d.Field(k); !ok || f.Kind != cloud.KindEvent || f.Writable || !reflect.DeepEqual(f.Choices, []string{"press"}) {
			t.Errorf("%s: %+v", k, f)
		}
	}
}

func TestUnknownTypeIsReadOnly(t *testing.T) {
	d := decodeJSON(t, map[string]any{"object_type": "gizmo", "object_id": "5", "name": "Gizmo",
		"capabilities": map[string]any{"fields": []any{map[string]any{"field": "level", "type": "integer", "mutability": "read-write"}}},
		"last_reading": map[string]any{"level": 3}})[0].dev
	if f, ok := d.Field("level"); !ok || f.Writable {
		t.Errorf("level: %+v, want a read-only field", f)
	}
}
