package bridge_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
)

// classCommand is one MQTT command and the capability write it must become.
type classCommand struct {
	topic, payload string // relative to the device's topic
	capability     string
	value          any
}

// TestHomeyEveryDeviceClass runs the bridge over one furnished Homey device
// of every class and checks what a Home Assistant user gets: the components
// (platform and device class) and the state fields, and that a command per
// writable field arrives at the Homey as the right capability write.
func TestHomeyEveryDeviceClass(t *testing.T) {
	h, srv := newHomeyHarness(t)
	cases := []struct {
		name, id, topic string
		components      map[string]string // component key → "platform/device_class"
		state           map[string]any    // some keys of the state object
		commands        []classCommand
	}{
		{name: "homealarm", id: homeytest.DeviceHomeAlarm, topic: "homey/home_alarm",
			components: map[string]string{"alarm": "alarm_control_panel/", "safety": "binary_sensor/safety", "tamper": "binary_sensor/tamper"},
			state:      map[string]any{"alarm_state": "disarmed", "safety": false},
			commands: []classCommand{
				{"/set/alarm_state", "ARM_AWAY", "homealarm_state", "armed"},
				{"/set/alarm_state", "ARM_HOME", "homealarm_state", "partially_armed"},
				{"/set/alarm_state", "DISARM", "homealarm_state", "disarmed"},
			}},
		{name: "vacuumcleaner", id: homeytest.DeviceVacuum, topic: "homey/robot_vacuum",
			components: map[string]string{"vacuum": "vacuum/", "on": "switch/", "battery": "sensor/battery", "problem_stuck": "binary_sensor/problem"},
			state:      map[string]any{"state": "docked", "on": false},
			commands: []classCommand{
				{"/set/state", "start", "vacuumcleaner_state", "cleaning"},
				{"/set/state", "clean_spot", "vacuumcleaner_state", "spot_cleaning"},
				{"/set/state", "return_to_base", "vacuumcleaner_state", "docked"},
				{"/set/state", "stop", "vacuumcleaner_state", "stopped"},
				{"/set/on", "true", "onoff", true},
			}},
		{name: "speaker", id: homeytest.DeviceSpeaker, topic: "homey/kitchen_speaker",
			components: map[string]string{"playing": "switch/", "volume": "number/", "mute": "switch/",
				"speaker_next": "button/", "speaker_prev": "button/"},
			state: map[string]any{"playing": false, "volume": 0.25, "mute": false},
			commands: []classCommand{
				{"/set/playing", "true", "speaker_playing", true},
				{"/set/volume", "0.5", "volume_set", 0.5},
				{"/set/mute", "true", "volume_mute", true},
				{"/set/speaker_next", "true", "speaker_next", true},
				{"/set/speaker_prev", "PRESS", "speaker_prev", true},
			}},
		{name: "tv", id: homeytest.DeviceTV, topic: "homey/television",
			components: map[string]string{"switch": "switch/", "volume": "number/", "mute": "switch/",
				"channel_up": "button/", "channel_down": "button/"},
			state: map[string]any{"state": "OFF", "volume": 0.4},
			commands: []classCommand{
				{"/set", "ON", "onoff", true},
				{"/set/channel_up", "true", "channel_up", true},
				{"/set/channel_down", "true", "channel_down", true},
			}},
		{name: "lock", id: homeytest.DeviceLock, topic: "homey/back_door_lock",
			components: map[string]string{"lock": "lock/", "lock_mode": "select/", "battery": "sensor/battery", "battery_low": "binary_sensor/battery"},
			state:      map[string]any{"state": "LOCKED", "lock_mode": "always_locked", "battery_low": false},
			commands: []classCommand{
				{"/set", "UNLOCK", "locked", false},
				{"/set/lock_mode", "locked_until_unlock", "lock_mode", "locked_until_unlock"},
			}},
		{name: "doorbell", id: homeytest.DeviceDoorbell, topic: "homey/doorbell",
			components: map[string]string{"pressed": "event/button", "motion": "binary_sensor/motion", "battery": "sensor/battery"},
			state:      map[string]any{"pressed": false, "motion": false}},
		{name: "button", id: homeytest.DeviceButton, topic: "homey/scene_button",
			components: map[string]string{"button": "button/"},
			commands:   []classCommand{{"/set/button", "true", "button", true}}},
		{name: "garagedoor", id: homeytest.DeviceGarageDoor, topic: "homey/garage_door",
			components: map[string]string{"cover": "cover/garage"},
			state:      map[string]any{"state": "closed", "position": 0.0},
			commands: []classCommand{
				{"/set", "OPEN", "garagedoor_closed", false},
				{"/set/position", "0", "garagedoor_closed", true},
			}},
		{name: "heater", id: homeytest.DeviceHeater, topic: "homey/bathroom_heater",
			components: map[string]string{"climate": "climate/", "on": "switch/", "energy": "sensor/energy", "temperature": "sensor/temperature"},
			state:      map[string]any{"target_temp": 22.0, "on": true, "energy": 345.6},
			commands: []classCommand{
				{"/set/target_temp", "19.5", "target_temperature", 19.5},
				{"/set/on", "false", "onoff", false},
			}},
		{name: "evcharger", id: homeytest.DeviceEVCharger, topic: "homey/car_charger",
			components: map[string]string{"switch": "switch/", "power": "sensor/power", "energy": "sensor/energy",
				"current": "sensor/current", "evcharger_charging_state": "sensor/enum"},
			state:    map[string]any{"state": "OFF", "evcharger_charging_state": "plugged_in_paused"},
			commands: []classCommand{{"/set", "ON", "evcharger_charging", true}}},
		{name: "thermostat with a floor sensor", id: homeytest.DeviceThermostat, topic: "homey/thermostat",
			components: map[string]string{"climate": "climate/", "temperature_floor": "sensor/temperature",
				"temperature": "sensor/temperature", "humidity": "sensor/humidity"},
			state:    map[string]any{"temperature_floor": 23.1},
			commands: []classCommand{{"/set/mode", "cool", "thermostat_mode", "cool"}}},
		{name: "smoke alarm", id: homeytest.DeviceSmokeAlarm, topic: "homey/smoke_alarm",
			components: map[string]string{"smoke": "binary_sensor/smoke", "heat": "binary_sensor/heat",
				"co": "binary_sensor/carbon_monoxide", "battery_low": "binary_sensor/battery", "temperature": "sensor/temperature"},
			state: map[string]any{"smoke": false, "heat": false, "co": false}},
		{name: "leak sensor", id: homeytest.DeviceLeak, topic: "homey/leak_sensor",
			components: map[string]string{"leak": "binary_sensor/moisture", "battery": "sensor/battery"},
			state:      map[string]any{"leak": false}},
		{name: "metered socket", id: homeytest.DeviceSocket, topic: "homey/coffee_machine",
			components: map[string]string{"switch": "switch/", "power": "sensor/power", "energy": "sensor/energy"},
			commands:   []classCommand{{"/set", "OFF", "onoff", false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := h.discovery(t, "homey", tc.id)
			got := map[string]string{}
			for key, c := range cfg["components"].(map[string]any) {
				c := c.(map[string]any)
				dc, _ := c["device_class"].(string)
				got[key] = c["platform"].(string) + "/" + dc
			}
			if !reflect.DeepEqual(got, tc.components) {
				t.Errorf("components = %v\nwant         %v", got, tc.components)
			}
			if energy, ok := cfg["components"].(map[string]any)["energy"].(map[string]any); ok && energy["state_class"] != "total_increasing" {
				t.Errorf("energy sensor state_class = %v, want total_increasing", energy["state_class"])
			}
			h.state(t, tc.topic, func(s map[string]any) bool {
				for k, want := range tc.state {
					if s[k] != want {
						return false
					}
				}
				return true
			})
			for _, cmd := range tc.commands {
				h.publish(t, tc.topic+cmd.topic, cmd.payload)
				r := waitRequest(t, srv, capabilityWriteOf(tc.id, cmd.capability, cmd.value))
				if r.Path == "" {
					t.Errorf("%s %s: no write of %s = %v", cmd.topic, cmd.payload, cmd.capability, cmd.value)
				}
			}
		})
	}
}

// capabilityWriteOf matches a write of value to a device's capability.
func capabilityWriteOf(id, capability string, value any) func(homeytest.Request) bool {
	put := capabilityPUT(id, capability)
	return func(r homeytest.Request) bool {
		if !put(r) {
			return false
		}
		var body struct {
			Value any `json:"value"`
		}
		return json.Unmarshal(r.Body, &body) == nil && body.Value == value
	}
}
