package homey

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

var testZones = map[string]string{
	"9eb2975d-49ea-4033-8db0-105a3e982117": "Living Room",
	"1815c884-af06-4d53-a2c1-6f4c77e9eb4e": "Study",
}

func TestDecodeFixtures(t *testing.T) {
	type want struct {
		name, area, manufacturer, model string
		class                           cloud.Class
		available                       bool
		state                           map[string]any
		writable, readOnly, absent      []string
		updated                         time.Time
		colorMode                       cloud.ColorMode
		coverKind                       cloud.CoverKind
	}
	tests := map[string]want{
		"color_bulb": {name: "Dining Room Lamp", area: "Living Room", manufacturer: "nl.philips.hue", model: "bulb",
			class: cloud.ClassLight, available: true,
			// light_temperature 0.63 → 6500 − 0.63·3800 = 4106 K
			state:     map[string]any{"on": true, "brightness": 0.75, "hue": 0.13, "saturation": 0.56, "color_temp": 4106.0},
			writable:  []string{"on", "brightness", "hue", "saturation", "color_temp"},
			absent:    []string{"light_mode", "color_model"},
			colorMode: cloud.ColorModeTemp,
			updated:   time.UnixMilli(1700000100000).UTC()},
		"study_lamp_v2": {name: "Study Lamp", area: "Study", manufacturer: "nl.philips.hue", model: "bulb",
			class: cloud.ClassLight, available: true,
			state:    map[string]any{"on": false, "brightness": 0.5},
			writable: []string{"on", "brightness"}, absent: []string{"hue", "color_temp"},
			updated: time.Date(2018, 12, 20, 2, 24, 36, 317e6, time.UTC)},
		"temphum_v2": {name: "Room 1 Temperature", area: "Living Room", manufacturer: "com.weather-sensors", model: "temphum",
			class: cloud.ClassSensor, available: true,
			state:    map[string]any{"temperature": 17.9, "humidity": 30.0},
			readOnly: []string{"temperature", "humidity"}},
		"thermostat": {class: cloud.ClassClimate, available: true, area: "Living Room",
			state:    map[string]any{"target_temp": 21.5, "temperature": 20.4, "temperature_floor": 23.1, "mode": "heat", "battery": 87.0},
			writable: []string{"target_temp", "mode"}, readOnly: []string{"temperature", "temperature_floor", "battery"},
			updated: time.Date(2024, 2, 1, 10, 5, 0, 0, time.UTC)},
		"heater_socket": {class: cloud.ClassSwitch, available: false, manufacturer: "com.fibaro", model: "FGWPx-102-PLUS",
			state:    map[string]any{"on": false, "power": 0.4, "energy": 123.456},
			writable: []string{"on"}, readOnly: []string{"power", "energy"}},
		"blinds": {class: cloud.ClassCover, available: true,
			state:     map[string]any{"position": 0.4, "windowcoverings_state": "idle"},
			writable:  []string{"position", "windowcoverings_state"},
			coverKind: cloud.CoverBlind},
		"lock": {class: cloud.ClassLock, available: true,
			state:    map[string]any{"locked": true, "lock_mode": "always_locked", "battery": 64.0, "tamper": false, "battery_low": false},
			writable: []string{"locked", "lock_mode"}, readOnly: []string{"battery", "tamper", "battery_low"}},
		"motion_sensor": {class: cloud.ClassSensor, available: true,
			// alarm_water has no value yet: the field exists, the state does not.
			state:    map[string]any{"motion": true, "illuminance": 120.0, "contact": false, "battery": 100.0},
			readOnly: []string{"motion", "illuminance", "contact", "leak", "battery"},
			updated:  time.UnixMilli(1712000000500).UTC()},
		"fan": {class: cloud.ClassFan, available: true, state: map[string]any{"on": true, "speed": 0.5}, writable: []string{"on", "speed"}},
		"remote": {class: cloud.ClassButton, available: true, manufacturer: "Homey", model: "vdevice:button",
			state: map[string]any{}, writable: []string{"button", "button_reset_meter"}},
		"speaker": {class: cloud.ClassSwitch, available: true,
			state:    map[string]any{"on": true, "volume": 0.3, "mute": false, "speaker_artist": "Nina Simone", "playing": true},
			writable: []string{"on", "volume", "mute", "playing"}, readOnly: []string{"speaker_artist"}},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := Decode(fixture(t, name), testZones)
			if err != nil {
				t.Fatal(err)
			}
			if d.ID == "" || d.Type == "" {
				t.Errorf("id %q type %q: want both set", d.ID, d.Type)
			}
			if w.name != "" && d.Name != w.name {
				t.Errorf("name = %q, want %q", d.Name, w.name)
			}
			if d.Area != w.area {
				t.Errorf("area = %q, want %q", d.Area, w.area)
			}
			if w.manufacturer != "" && (d.Manufacturer != w.manufacturer || d.Model != w.model) {
				t.Errorf("manufacturer/model = %q/%q, want %q/%q", d.Manufacturer, d.Model, w.manufacturer, w.model)
			}
			if d.Class != w.class {
				t.Errorf("class = %q, want %q", d.Class, w.class)
			}
			if d.Available != w.available {
				t.Errorf("available = %v, want %v", d.Available, w.available)
			}
			if !reflect.DeepEqual(d.State, w.state) {
				t.Errorf("state = %#v\nwant    %#v", d.State, w.state)
			}
			if d.ColorMode != w.colorMode || d.CoverKind != w.coverKind {
				t.Errorf("color mode %q, cover kind %q; want %q, %q", d.ColorMode, d.CoverKind, w.colorMode, w.coverKind)
			}
			for _, n := range w.writable {
				if f, ok := d.Field(n); !ok || !f.Writable {
					t.Errorf("field %s: present %v writable %v, want a writable field", n, ok, f.Writable)
				}
			}
			for _, n := range w.readOnly {
				if f, ok := d.Field(n); !ok || f.Writable {
					t.Errorf("field %s: present %v writable %v, want a read-only field", n, ok, f.Writable)
				}
			}
			for _, n := range w.absent {
				if _, ok := d.Field(n); ok {
					t.Errorf("field %s present, want none", n)
				}
			}
			if !w.updated.IsZero() && !d.UpdatedAt.Equal(w.updated) {
				t.Errorf("updated = %v, want %v", d.UpdatedAt, w.updated)
			}
			for _, f := range d.Fields {
				if f.Kind == cloud.KindEnum && len(f.Choices) == 0 {
					t.Errorf("enum field %s has no choices", f.Name)
				}
			}
		})
	}
}

func TestDecodeFieldDetails(t *testing.T) {
	bulb, err := Decode(fixture(t, "color_bulb"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := bulb.Field(cloud.FieldColorTemp)
	if ct.Unit != "K" || ct.Min == nil || *ct.Min != 2700 || ct.Max == nil || *ct.Max != 6500 {
		t.Errorf("color_temp field = %+v, want kelvin 2700..6500", ct)
	}
	br, _ := bulb.Field(cloud.FieldBrightness)
	if br.Unit != "" || *br.Min != 0 || *br.Max != 1 {
		t.Errorf("brightness field = %+v, want a 0..1 fraction without unit", br)
	}

	th, _ := Decode(fixture(t, "thermostat"), nil)
	tt, _ := th.Field(cloud.FieldTargetTemp)
	if tt.Unit != "°C" || *tt.Min != 1 || *tt.Max != 40 || tt.Step != 0.5 {
		t.Errorf("target_temp field = %+v, want °C 1..40 step 0.5 from capabilitiesObj", tt)
	}
	mode, _ := th.Field(cloud.FieldMode)
	if !reflect.DeepEqual(mode.Choices, []string{"auto", "heat", "cool", "off"}) || mode.Kind != cloud.KindEnum {
		t.Errorf("mode field = %+v", mode)
	}
	bat, _ := th.Field(cloud.FieldBattery)
	if bat.Category != "diagnostic" {
		t.Errorf("battery category = %q, want diagnostic", bat.Category)
	}

	heater, _ := Decode(fixture(t, "heater_socket"), nil)
	en, _ := heater.Field(cloud.FieldEnergy)
	if en.Unit != "kWh" {
		t.Errorf("energy unit = %q, want kWh (Homey's KWh corrected)", en.Unit)
	}

	bl, _ := Decode(fixture(t, "blinds"), nil)
	st, _ := bl.Field("windowcoverings_state")
	if st.Kind != cloud.KindEnum || !reflect.DeepEqual(st.Choices, []string{"up", "idle", "down"}) {
		t.Errorf("windowcoverings_state = %+v", st)
	}
}

func TestDecodeClassFallbacks(t *testing.T) {
	dev := func(class, virtual string, caps ...string) json.RawMessage {
		obj := map[string]any{}
		for _, c := range caps {
			obj[c] = map[string]any{"id": c, "type": "boolean", "value": false, "setable": true}
		}
		b, _ := json.Marshal(map[string]any{"id": "x", "class": class, "virtualClass": virtual, "capabilities": caps, "capabilitiesObj": obj})
		return b
	}
	tests := []struct {
		raw  json.RawMessage
		want cloud.Class
	}{
		{dev("tv", "", "onoff"), cloud.ClassSwitch},
		{dev("vacuumcleaner", "", "vacuumcleaner_state"), cloud.ClassVacuum},
		{dev("vacuumcleaner", "", "onoff"), cloud.ClassSwitch},
		{dev("socket", "light", "onoff"), cloud.ClassLight},
		{dev("homealarm", "", "homealarm_state"), cloud.ClassAlarm},
		{dev("doorbell", "", "alarm_generic"), cloud.ClassButton},
		{dev("heater", "", "onoff"), cloud.ClassSwitch},
		{dev("garagedoor", "", "garagedoor_closed"), cloud.ClassCover},
		{dev("garagedoor", "", "onoff"), cloud.ClassSwitch},
		{dev("other", "", "onoff"), cloud.ClassSwitch},
	}
	for _, tc := range tests {
		d, err := Decode(tc.raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Class != tc.want {
			t.Errorf("%s: class %q, want %q", tc.raw, d.Class, tc.want)
		}
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, raw := range []string{`[]`, `{"name":"no id"}`, `nope`} {
		if _, err := Decode(json.RawMessage(raw), nil); err == nil {
			t.Errorf("Decode(%s): want an error", raw)
		}
	}
}

func TestKelvinRoundTrip(t *testing.T) {
	w := wireField{capID: "light_temperature", conv: convKelvin, kind: cloud.KindNumber}
	for _, k := range []float64{2700, 4000, 5000, 6500} {
		h, err := toHomey(k, w)
		if err != nil {
			t.Fatal(err)
		}
		back, _ := toCommon(h, cloud.KindNumber, convKelvin)
		if back != k {
			t.Errorf("%v K → %v → %v K", k, h, back)
		}
	}
	if h, _ := toHomey(2000.0, w); h != 1.0 {
		t.Errorf("2000 K → %v, want 1 (warmest)", h)
	}
	if h, _ := toHomey(6500.0, w); h != 0.0 {
		t.Errorf("6500 K → %v, want 0 (coldest)", h)
	}
}
