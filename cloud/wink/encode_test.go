package wink

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func TestToDesired(t *testing.T) {
	tests := []struct {
		fixture string
		change  cloud.Change
		want    map[string]any
	}{
		{"thermostat", cloud.Change{"on": false}, map[string]any{"powered": false}},
		{"thermostat", cloud.Change{"mode": "off"}, map[string]any{"powered": false}},
		{"thermostat", cloud.Change{"mode": "heat"}, map[string]any{"powered": true, "mode": "heat_only"}},
		{"thermostat", cloud.Change{"mode": "heat_cool"}, map[string]any{"powered": true, "mode": "auto"}},
		{"thermostat", cloud.Change{"target_temp_low": 67.0, "target_temp_high": 77.0}, map[string]any{"min_set_point": 19.4444, "max_set_point": 25.0}},
		{"thermostat", cloud.Change{"fan_mode": "on"}, map[string]any{"fan_mode": "on"}},
		{"color_bulb", cloud.Change{"color_temp": 2700.0}, map[string]any{"color_model": "color_temperature", "color_temperature": 2700.0}},
		{"color_bulb", cloud.Change{"hue": 0.5, "saturation": 1.0}, map[string]any{"color_model": "hsb", "hue": 0.5, "saturation": 1.0}},
		{"color_bulb", cloud.Change{"hue": 0.1}, map[string]any{"color_model": "hsb", "hue": 0.1, "saturation": 0.8}},
		{"color_bulb", cloud.Change{"on": true, "brightness": 0.3}, map[string]any{"powered": true, "brightness": 0.3}},
		{"fan", cloud.Change{"speed": "high"}, map[string]any{"powered": true, "mode": "high"}},
		{"fan", cloud.Change{"on": false}, map[string]any{"powered": false}},
		{"valve", cloud.Change{"on": true}, map[string]any{"opened": true}},
		{"lock", cloud.Change{"locked": false}, map[string]any{"locked": false}},
		{"lock", cloud.Change{"alarm_mode": "alert"}, map[string]any{"alarm_mode": "alert"}},
		{"garage_door", cloud.Change{"position": 0.0}, map[string]any{"position": 0.0}},
		{"shade", cloud.Change{"position": 0.25}, map[string]any{"position": 0.25}},
		{"siren", cloud.Change{"mode": "strobe_only"}, map[string]any{"mode": "strobe_only"}},
		{"powerstrip", cloud.Change{}, map[string]any{}},
	}
	for _, tc := range tests {
		d := decodeFixture(t, tc.fixture)[0]
		got, _, err := toDesired(d, tc.change)
		if err != nil {
			t.Errorf("%s %v: %v", tc.fixture, tc.change, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v = %v, want %v", tc.fixture, tc.change, got, tc.want)
		}
	}
}

func TestToDesiredRejects(t *testing.T) {
	tests := []struct {
		fixture string
		change  cloud.Change
		msg     string
	}{
		{"lock", cloud.Change{"battery": 50.0}, "battery is read-only"},
		{"go_control_door_window_sensor", cloud.Change{"contact": true}, "read-only"},
		{"ge_link_bulb", cloud.Change{"hue": 0.5}, "no such field"},
		{"ge_link_bulb", cloud.Change{"brightness": 1.5}, "out of range"},
		{"ge_link_bulb", cloud.Change{"on": "yes"}, "true or false"},
		{"thermostat", cloud.Change{"mode": "dry"}, "want one of"},
		{"thermostat", cloud.Change{"target_temp_low": 95.0}, "out of range"},
	}
	for _, tc := range tests {
		d := decodeFixture(t, tc.fixture)[0]
		_, _, err := toDesired(d, tc.change)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s %v: error %v, want %q", tc.fixture, tc.change, err, tc.msg)
		}
	}
}
