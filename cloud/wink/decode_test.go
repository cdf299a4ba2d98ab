package wink

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func fixture(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeFixture(t *testing.T, name string) []decoded {
	t.Helper()
	ds, err := decodeAll(fixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ds
}

// want describes what a fixture must decode to.
type want struct {
	id, name, hub string
	class         cloud.Class
	available     bool
	state         map[string]any
	writable      []string // fields that must be writable
	readOnly      []string // fields that must be read-only
	absent        []string // fields that must not exist
	colorMode     cloud.ColorMode
}

func TestDecodeFixtures(t *testing.T) {
	tests := map[string]want{
		"ge_link_bulb": {id: "light_bulb-2194253", name: "Bedroom lamp", hub: "hub-302528", class: cloud.ClassLight, available: true,
			state:    map[string]any{"on": false, "brightness": 1.0},
			writable: []string{"on", "brightness"}, absent: []string{"hue", "color_temp", "firmware_date_code", "connection"}},
		"color_bulb": {id: "light_bulb-501", class: cloud.ClassLight, available: true,
			// desired_state says powered:false; last_reading is the truth.
			state:     map[string]any{"on": true, "brightness": 0.5, "hue": 0.25, "saturation": 0.8, "color_temp": 2700.0},
			colorMode: cloud.ColorModeHS,
			writable:  []string{"on", "brightness", "hue", "saturation", "color_temp"}},
		"ge_in_wall_fan": {id: "light_bulb-502", class: cloud.ClassFan, available: true, state: map[string]any{"on": true, "speed": "medium"},
			writable: []string{"on", "speed"}, absent: []string{"brightness"}},
		"go_control_door_window_sensor": {id: "sensor_pod-198184", class: cloud.ClassSensor, available: true,
			state:    map[string]any{"contact": true, "battery": 100.0},
			readOnly: []string{"contact", "battery"}, absent: []string{"tamper", "tamper_detected_true", "agent_session_id"}},
		"binary_switch": {id: "binary_switch-601", class: cloud.ClassSwitch, available: true, state: map[string]any{"on": true},
			writable: []string{"on"}, readOnly: []string{"powering_mode"}},
		"valve": {id: "binary_switch-602", class: cloud.ClassSwitch, available: true, state: map[string]any{"on": false}, writable: []string{"on"}},
		"lock": {id: "lock-701", class: cloud.ClassLock, available: true,
			state:    map[string]any{"locked": true, "battery": 86.0, "alarm_mode": "tamper", "beeper_enabled": true},
			writable: []string{"locked", "alarm_mode", "alarm_sensitivity", "alarm_enabled", "beeper_enabled", "vacation_mode_enabled", "auto_lock_enabled"},
			readOnly: []string{"battery"}},
		"fan": {id: "fan-801", class: cloud.ClassFan, available: true,
			state:    map[string]any{"on": true, "speed": "medium", "direction": "forward", "timer": 0.0},
			writable: []string{"on", "speed", "direction", "timer"}},
		"thermostat": {id: "thermostat-901", class: cloud.ClassClimate, available: true,
			state: map[string]any{"mode": "heat_cool", "target_temp_low": 68.0, "target_temp_high": 76.1,
				"fan_mode": "auto", "temperature": 70.7, "humidity": 40.0},
			writable: []string{"mode", "target_temp_low", "target_temp_high", "fan_mode"},
			readOnly: []string{"temperature", "humidity", "heat_active"}},
		"thermostat_off": {id: "thermostat-902", class: cloud.ClassClimate, available: false,
			state: map[string]any{"mode": "off", "temperature": 8.0}},
		"shade": {id: "shade-1001", class: cloud.ClassCover, available: true, state: map[string]any{"position": 0.4}, writable: []string{"position"}},
		"garage_door": {id: "garage_door-1101", class: cloud.ClassCover, available: true,
			state: map[string]any{"position": 1.0, "battery": 50.0, "fault": false}, writable: []string{"position"}, readOnly: []string{"battery", "fault"}},
		"spotter": {id: "sensor_pod-1201", class: cloud.ClassSensor, available: true,
			// humidity 0..1 over this path becomes percent
			state:    map[string]any{"temperature": 22.3, "humidity": 45.0, "battery": 75.0, "vibration": true},
			readOnly: []string{"temperature", "humidity", "battery", "vibration"}},
		"motion_sensor": {id: "sensor_pod-1202", class: cloud.ClassSensor, available: true,
			state: map[string]any{"motion": true, "temperature": 19.0, "humidity": 52.0, "battery": 90.0, "tamper": false}},
		"leak_sensor": {id: "sensor_pod-1203", class: cloud.ClassSensor, available: true, state: map[string]any{"leak": true}},
		"smoke_detector": {id: "smoke_detector-1301", class: cloud.ClassSensor, available: true,
			state: map[string]any{"smoke": false, "co": true, "battery": 30.0}, readOnly: []string{"smoke", "co"}},
		"siren": {id: "siren-1401", class: cloud.ClassSiren, available: true,
			state: map[string]any{"on": false, "mode": "siren_and_strobe"}, writable: []string{"on", "mode"}, readOnly: []string{"battery"}},
		"hub": {id: "hub-302528", class: cloud.ClassHub, hub: "", available: true,
			state: map[string]any{"ip_address": "192.168.1.20"}, absent: []string{"pairing_mode", "kidde_radio_code", "local_control_id"}},
		"remote": {id: "remote-1601", class: cloud.ClassSensor, available: true,
			state: map[string]any{"button_off_pressed": true, "button_on_pressed": false}},
		"button": {id: "button-1701", class: cloud.ClassSensor, available: true, state: map[string]any{"pressed": true, "long_pressed": false}},
		"unknown": {id: "eggtray-1801", class: cloud.ClassSensor, available: true,
			state:    map[string]any{"inventory": 7.0, "status": "ok"},
			readOnly: []string{"inventory", "status"}, absent: []string{"inventory_updated_at", "connection"}},
		"no_connection": {id: "widget_pro-1901", class: cloud.ClassSensor, available: true,
			state: map[string]any{"level": 3.0, "flag": true}, absent: []string{"nested"}},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := Decode(fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != w.id {
				t.Errorf("ID = %q, want %q", d.ID, w.id)
			}
			if w.name != "" && d.Name != w.name {
				t.Errorf("Name = %q, want %q", d.Name, w.name)
			}
			if d.Class != w.class {
				t.Errorf("Class = %q, want %q", d.Class, w.class)
			}
			if d.Available != w.available {
				t.Errorf("Available = %v, want %v", d.Available, w.available)
			}
			if w.hub != "" && d.HubID != w.hub {
				t.Errorf("HubID = %q, want %q", d.HubID, w.hub)
			}
			if name == "hub" && d.HubID != "" {
				t.Errorf("a hub is not reached through a hub: HubID = %q", d.HubID)
			}
			for k, v := range w.state {
				if got := d.State[k]; !reflect.DeepEqual(got, v) {
					t.Errorf("State[%s] = %#v, want %#v", k, got, v)
				}
				if _, ok := d.Field(k); !ok {
					t.Errorf("state %s has no field", k)
				}
			}
			if d.ColorMode != w.colorMode {
				t.Errorf("ColorMode = %q, want %q", d.ColorMode, w.colorMode)
			}
			for _, k := range w.writable {
				if f, ok := d.Field(k); !ok || !f.Writable {
					t.Errorf("field %s: present=%v writable=%v, want writable", k, ok, f.Writable)
				}
			}
			for _, k := range w.readOnly {
				if f, ok := d.Field(k); !ok || f.Writable {
					t.Errorf("field %s: present=%v writable=%v, want read-only", k, ok, f.Writable)
				}
			}
			for _, k := range w.absent {
				if _, ok := d.Field(k); ok {
					t.Errorf("field %s should not exist", k)
				}
			}
			for k := range d.State {
				if _, ok := d.Field(k); !ok {
					t.Errorf("state %s has no field", k)
				}
			}
			for _, f := range d.Fields {
				if f.Kind == cloud.KindEnum && len(f.Choices) == 0 {
					t.Errorf("enum field %s without choices", f.Name)
				}
			}
		})
	}
}

func TestDecodeDetails(t *testing.T) {
	d, _ := Decode(fixture(t, "ge_link_bulb"))
	if d.Manufacturer != "ge" || d.Model != "GE Light Bulb" || d.Firmware != "0.1b03 / 0.4b00" || d.Type != "light_bulb" {
		t.Errorf("identity: %q %q %q %q", d.Manufacturer, d.Model, d.Firmware, d.Type)
	}
	// newest reading time, desired_* stamps ignored
	if want := time.Unix(1484289307, 470752477).UTC(); d.UpdatedAt.Sub(want).Abs() > time.Microsecond {
		t.Errorf("UpdatedAt = %v, want %v", d.UpdatedAt, want)
	}

	d, _ = Decode(fixture(t, "color_bulb"))
	ct, _ := d.Field("color_temp")
	if *ct.Min != 2200 || *ct.Max != 6500 || ct.Unit != "K" {
		t.Errorf("color_temp range from capabilities: %v..%v %s", *ct.Min, *ct.Max, ct.Unit)
	}

	d, _ = Decode(fixture(t, "fan"))
	sp, _ := d.Field("speed")
	if !reflect.DeepEqual(sp.Choices, []string{"lowest", "low", "medium", "high"}) {
		t.Errorf("fan speeds %v", sp.Choices)
	}

	d, _ = Decode(fixture(t, "thermostat"))
	mode, _ := d.Field("mode")
	if !reflect.DeepEqual(mode.Choices, []string{"off", "heat", "cool", "heat_cool"}) {
		t.Errorf("thermostat modes %v", mode.Choices)
	}
	if preset, _ := d.Field(cloud.FieldPresetMode); !reflect.DeepEqual(preset.Choices, []string{"none", "aux"}) || !preset.Writable {
		t.Errorf("thermostat presets %v (aux is no HVAC mode)", preset.Choices)
	}
	lo, _ := d.Field("target_temp_low")
	hi, _ := d.Field("target_temp_high")
	// The owner sees °F (units.temperature "f"): whole degrees of it, the
	// °C limits 4.4..32.2 and 7.2..35 rounded inwards.
	if *lo.Min != 40 || *lo.Max != 89 || *hi.Min != 45 || *hi.Max != 95 || lo.Unit != "°F" || lo.Step != 1 {
		t.Errorf("set point ranges %v..%v, %v..%v %s step %v", *lo.Min, *lo.Max, *hi.Min, *hi.Max, lo.Unit, lo.Step)
	}

	d, _ = Decode(fixture(t, "color_bulb"))
	if d.Manufacturer != "acme" {
		t.Errorf("Manufacturer %q", d.Manufacturer)
	}

	bat, _ := Decode(fixture(t, "lock"))
	if f, _ := bat.Field("battery"); f.Unit != "%" || *f.Max != 100 {
		t.Errorf("battery field %+v", f)
	}
}

func TestDecodePowerstripOutlets(t *testing.T) {
	ds := decodeFixture(t, "powerstrip")
	if len(ds) != 3 {
		t.Fatalf("powerstrip decoded to %d devices, want strip + 2 outlets", len(ds))
	}
	strip := ds[0].dev
	if strip.ID != "powerstrip-1501" || strip.Class != cloud.ClassHub {
		t.Errorf("strip %s %s", strip.ID, strip.Class)
	}
	o1, o2 := ds[1].dev, ds[2].dev
	if o1.ID != "outlet-3001" || o1.Class != cloud.ClassSwitch || o1.HubID != "powerstrip-1501" || o1.State["on"] != true || o1.Name != "Lamp outlet" {
		t.Errorf("outlet 1: %+v", o1)
	}
	if o2.ID != "outlet-3002" || o2.State["on"] != false || o2.Name == "" {
		t.Errorf("outlet 2: %+v", o2)
	}
	if ds[2].outlet == nil || ds[2].outlet.index != 1 || ds[2].outlet.stripID != "1501" {
		t.Errorf("outlet ref %+v", ds[2].outlet)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `{}`, `{"object_type":"light_bulb"}`, `null`, `{`} {
		if _, err := Decode(json.RawMessage(in)); err == nil {
			t.Errorf("Decode(%s) accepted", in)
		}
	}
	// odd values in a known type never crash
	odd := `{"object_type":"light_bulb","object_id":7,"last_reading":{"powered":"yes","brightness":null,"connection":"x"},"capabilities":{"fields":"no"}}`
	d, err := Decode(json.RawMessage(odd))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "light_bulb-7" {
		t.Errorf("numeric object_id: %s", d.ID)
	}
	if _, ok := d.State["on"]; ok {
		t.Errorf("non-boolean powered reported as state")
	}
}

func TestDecodeHumidityUnits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{{"0.45", 45}, {"45", 45}, {"1", 100}, {"0", 0}} {
		obj := `{"object_type":"sensor_pod","object_id":"1","last_reading":{"humidity":` + tc.in + `}}`
		d, err := Decode(json.RawMessage(obj))
		if err != nil {
			t.Fatal(err)
		}
		if d.State["humidity"] != tc.want {
			t.Errorf("humidity %s → %v, want %v", tc.in, d.State["humidity"], tc.want)
		}
	}
}

func TestObjectsOfKeepsEveryObjectOfAList(t *testing.T) {
	for _, tc := range []struct {
		name, list string
		objects    []string // object_id of each element, "" where it is no object
	}{
		{"all objects", `[{"object_id":"1"},{"object_id":"2"}]`, []string{"1", "2"}},
		{"with a null", `[{"object_id":"1"},null,{"object_id":"3"}]`, []string{"1", "", "3"}},
		{"with a string and a number", `[{"object_id":"1"},"x",5,{"object_id":"4"}]`, []string{"1", "", "", "4"}},
		{"empty", `[]`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, errs, err := objectsOf(json.RawMessage(tc.list))
			if err != nil {
				t.Fatalf("objectsOf: %v", err)
			}
			if len(objs) != len(tc.objects) || len(errs) != len(tc.objects) {
				t.Fatalf("%d objects and %d errors, want %d", len(objs), len(errs), len(tc.objects))
			}
			for i, want := range tc.objects {
				switch {
				case want == "" && (errs[i] == nil || objs[i] != nil):
					t.Errorf("element %d: %v, %v; want no object and an error", i, objs[i], errs[i])
				case want != "" && (errs[i] != nil || objs[i]["object_id"] != want):
					t.Errorf("element %d: %v, %v; want object %s", i, objs[i], errs[i], want)
				}
			}
		})
	}
	if _, _, err := objectsOf(json.RawMessage(`{"object_id":"1"}`)); err == nil {
		t.Error("an object where a list belongs was taken for a list")
	}
}
