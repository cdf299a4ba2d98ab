package winktest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// HubID is the object_id of the hub Furnish adds; every other furnished
// device has hub_id set to it.
const HubID = "511438"

// field builds one capabilities.fields / sensor_types entry.
func field(name, typ, mutability string, extra ...any) map[string]any {
	f := map[string]any{"field": name, "type": typ, "mutability": mutability}
	for i := 0; i+1 < len(extra); i += 2 {
		f[extra[i].(string)] = extra[i+1]
	}
	return f
}

func rw(name, typ string, extra ...any) map[string]any {
	return field(name, typ, "read-write", extra...)
}

func ro(name, typ string, extra ...any) map[string]any {
	return field(name, typ, "read-only", extra...)
}

func fields(f ...map[string]any) map[string]any {
	return map[string]any{"fields": f}
}

// sensorCaps is the capabilities shape of sensor pods.
func sensorCaps(f ...map[string]any) map[string]any {
	return map[string]any{"home_security_device": true, "sensor_types": f, "desired_state_fields": []any{}}
}

// Furnish adds a demo home: a hub, 16 devices of the common Wink types and
// one device of every further type python-wink knew (see catalogue), with
// realistic fields and capabilities, all connected and attached to the hub
// (hub_id HubID). Calling it twice replaces the same devices.
func (s *Server) Furnish() {
	home := s.demoHome()
	for _, d := range catalogue() {
		if d["object_type"] != "robot" {
			d["hub_id"] = HubID
		}
		home = append(home, d)
	}
	home = append(home, groupsAndScenes()...)
	s.AddDevices(home)
}

// FurnishGenerated adds n connected devices of four kinds in turn (light
// bulb, binary switch, sensor pod with motion, temperature and battery,
// lock), named "<prefix> device <i>" with object ids from 100000, pushing
// the device list once. It is the large home of benchmarks.
func (s *Server) FurnishGenerated(n int, prefix string) {
	objs := make([]map[string]any, 0, n)
	for i := range n {
		id := strconv.Itoa(100000 + i)
		name := fmt.Sprintf("%s device %d", prefix, i)
		var obj map[string]any
		switch i % 4 {
		case 0:
			obj = map[string]any{"object_type": "light_bulb", "object_id": id, "name": name,
				"last_reading": map[string]any{"connection": true, "powered": i%8 == 0, "brightness": 0.5}}
		case 1:
			obj = map[string]any{"object_type": "binary_switch", "object_id": id, "name": name,
				"last_reading": map[string]any{"connection": true, "powered": true}}
		case 2:
			obj = map[string]any{"object_type": "sensor_pod", "object_id": id, "name": name,
				"capabilities": sensorCaps(ro("motion", "boolean"), ro("temperature", "float"), ro("battery", "percentage")),
				"last_reading": map[string]any{"connection": true, "motion": false, "temperature": 21.5, "battery": 0.9}}
		default:
			obj = map[string]any{"object_type": "lock", "object_id": id, "name": name,
				"last_reading": map[string]any{"connection": true, "locked": true, "battery": 0.8}}
		}
		objs = append(objs, obj)
	}
	s.AddDevices(objs)
}

func (s *Server) demoHome() []map[string]any {
	hub := func(m map[string]any) map[string]any {
		m["hub_id"] = HubID
		return m
	}
	return []map[string]any{
		{
			"object_type": "hub", "object_id": HubID, "name": "Wink Hub 2",
			"manufacturer_device_model": "wink_hub2", "device_manufacturer": "wink", "model_name": "Hub2",
			"upc_id": "821", "upc_code": "wink_hub_2", "update_needed": false,
			"configuration": map[string]any{"kidde_radio_code": 0},
			"capabilities":  map[string]any{"oauth2_clients": []any{"wink_hub_2"}, "home_security_device": true, "provisioning_version": "1", "needs_wifi_network_list": true},
			"desired_state": map[string]any{"pairing_mode": nil, "pairing_device_type_selector": nil, "pairing_mode_duration": 0},
			"last_reading": map[string]any{
				"connection": true, "pairing_mode": nil, "pairing_device_type_selector": nil, "pairing_mode_duration": 0,
				"kidde_radio_code": 0, "updating_firmware": false, "firmware_version": "4.0.24-0-g8e6e7f2ec1-hub2-app",
				"update_needed": false, "mac_address": "D8:C4:6A:5E:50:27", "zigbee_mac_address": "000D6F000CD28630",
				"ip_address": "192.168.1.20", "hub_version": "00.01", "remote_pairable": nil,
				"local_control_id": "3c30a131-6891-4d5e-9a0c-2f6e0d9b1c44",
			},
		},
		hub(map[string]any{
			"object_type": "light_bulb", "object_id": "2194253", "name": "Bedroom lamp",
			"icon_id": "71", "icon_code": "light_bulb-light_bulb",
			"manufacturer_device_model": "ge_bulb", "device_manufacturer": "ge", "model_name": "GE Light Bulb",
			"upc_id": "483", "upc_code": "ge_zigbee4", "local_id": "29", "radio_type": "zigbee", "gang_id": nil,
			"capabilities":  map[string]any{},
			"desired_state": map[string]any{"powered": false, "brightness": 1.0},
			"last_reading": map[string]any{
				"connection": true, "firmware_version": "0.1b03 / 0.4b00", "firmware_date_code": "20140812",
				"powered": false, "brightness": 1.0,
			},
		}),
		hub(map[string]any{
			"object_type": "light_bulb", "object_id": "2194260", "name": "Living room color",
			"manufacturer_device_model": "sylvania_sylvania_rgbw", "device_manufacturer": "sylvania", "model_name": "Lightify RGBW Bulb",
			"upc_id": "534", "upc_code": "sylvania_rgbw", "local_id": "33", "radio_type": "zigbee",
			"capabilities": fields(
				ro("connection", "boolean"),
				rw("powered", "boolean"),
				rw("brightness", "percentage"),
				rw("color_model", "string", "choices", []any{"hsb", "color_temperature"}),
				rw("hue", "percentage"),
				rw("saturation", "percentage"),
				rw("color_temperature", "integer", "range", []any{2000, 6500}),
			),
			"last_reading": map[string]any{
				"connection": true, "powered": true, "brightness": 0.8, "color_model": "hsb",
				"hue": 0.62, "saturation": 0.75, "color_temperature": 2700,
				"firmware_version": "1.2.0.23", "firmware_date_code": "20160307",
			},
		}),
		hub(map[string]any{
			"object_type": "binary_switch", "object_id": "451110", "name": "Porch light",
			"manufacturer_device_model": "ge_jasco_binary", "device_manufacturer": "ge", "model_name": "Binary Switch",
			"upc_id": "184", "upc_code": "ge_jasco_binary", "local_id": "12", "radio_type": "zwave",
			"capabilities": fields(ro("connection", "boolean"), rw("powered", "boolean")),
			"last_reading": map[string]any{"connection": true, "powered": false},
		}),
		hub(map[string]any{
			"object_type": "binary_switch", "object_id": "451120", "name": "Kitchen relay",
			"manufacturer_device_model": "wink_relay_switch", "device_manufacturer": "wink", "model_name": "Wink Relay Switch",
			"upc_id": "188", "upc_code": "wink_p1_binary_switch", "local_id": "48.1", "radio_type": "project_one", "gang_id": "48",
			"capabilities": fields(
				ro("connection", "boolean"),
				rw("powered", "boolean"),
				rw("powering_mode", "selection", "choices", []any{"smart", "dumb", "none"}),
			),
			"last_reading": map[string]any{"connection": true, "powered": true, "powering_mode": "dumb"},
		}),
		hub(map[string]any{
			"object_type": "lock", "object_id": "109898", "name": "Front door",
			"manufacturer_device_model": "schlage_zwave_lock", "device_manufacturer": "schlage", "model_name": "BE469",
			"upc_id": "11", "upc_code": "043156312214", "local_id": "27", "radio_type": "zwave",
			"capabilities": map[string]any{"home_security_device": true, "fields": []any{
				ro("connection", "boolean"),
				rw("locked", "boolean"),
				ro("battery", "percentage"),
				ro("alarm_activated", "boolean"),
				rw("beeper_enabled", "boolean"),
				rw("vacation_mode_enabled", "boolean"),
				rw("auto_lock_enabled", "boolean"),
				rw("key_code_length", "integer", "range", []any{4, 8}),
				rw("alarm_mode", "string", "choices", []any{"alert", "tamper", "forced_entry", nil}),
				rw("alarm_sensitivity", "percentage", "choices", []any{0.2, 0.4, 0.6, 0.8, 1}),
				rw("alarm_enabled", "boolean"),
			}},
			"last_reading": map[string]any{
				"connection": true, "locked": true, "battery": 0.7, "alarm_activated": nil,
				"beeper_enabled": true, "vacation_mode_enabled": false, "auto_lock_enabled": true,
				"key_code_length": 4, "alarm_mode": "tamper", "alarm_sensitivity": 0.6, "alarm_enabled": true,
				"last_error": nil,
			},
		}),
		hub(map[string]any{
			"object_type": "fan", "object_id": "27001", "name": "Bedroom fan",
			"manufacturer_device_model": "home_decorators_home_decorators_fan", "device_manufacturer": "home_decorators",
			"model_name": "Ceiling Fan", "upc_id": "728", "upc_code": "home_decorators_fan", "local_id": "40.2", "radio_type": "zigbee",
			"capabilities": fields(
				ro("connection", "boolean"),
				rw("powered", "boolean"),
				rw("mode", "selection", "choices", []any{"lowest", "low", "medium", "high", "auto"}),
				rw("direction", "selection", "choices", []any{"forward", "reverse"}),
				rw("timer", "integer", "range", []any{0, 65535}),
			),
			"last_reading": map[string]any{"connection": true, "powered": false, "mode": "low", "direction": "forward", "timer": 0},
		}),
		hub(map[string]any{
			"object_type": "thermostat", "object_id": "180437", "name": "Hallway thermostat",
			"upc_id": "129", "upc_code": "generic_zwave_thermostat", "local_id": "31", "radio_type": "zwave",
			"smart_schedule_enabled": false,
			"capabilities": map[string]any{"notification_robots": []any{"aux_active_notification"}, "fields": []any{
				rw("max_set_point", "float"),
				rw("min_set_point", "float"),
				rw("powered", "boolean"),
				ro("units", "nested_hash"),
				ro("temperature", "float"),
				ro("external_temperature", "float"),
				ro("humidity", "percentage"),
				ro("min_min_set_point", "float"),
				ro("max_min_set_point", "float"),
				ro("min_max_set_point", "float"),
				ro("max_max_set_point", "float"),
				ro("deadband", "float"),
				ro("connection", "boolean"),
				rw("fan_mode", "selection", "choices", []any{"on", "auto"}),
				rw("mode", "selection", "choices", []any{"heat_only", "cool_only", "auto"}),
			}},
			"last_reading": map[string]any{
				"connection": true, "powered": true, "mode": "heat_only", "fan_mode": "auto",
				"min_set_point": 20.0, "max_set_point": 24.444444444444443,
				"units": map[string]any{"temperature": "f"}, "temperature": 20.5, "humidity": 41,
				"external_temperature": nil, "min_min_set_point": 4.444444444444445, "max_min_set_point": 32.22222222222222,
				"min_max_set_point": 4.444444444444445, "max_max_set_point": 32.22222222222222, "deadband": 1.6666666666666667,
				"modes_allowed": []any{"heat_only", "cool_only", "auto"},
				"heat_active":   false, "cool_active": false, "fan_active": false, "has_fan": true,
			},
		}),
		hub(map[string]any{
			"object_type": "shade", "object_id": "31045", "name": "Office shade",
			"manufacturer_device_model": "somfy_bali", "device_manufacturer": "somfy", "model_name": "Shade",
			"upc_id": "521", "upc_code": "somfy_bali", "local_id": "55", "radio_type": "zwave",
			"capabilities": map[string]any{},
			"last_reading": map[string]any{"connection": true, "position": 1.0},
		}),
		hub(map[string]any{
			"object_type": "garage_door", "object_id": "72021", "name": "Garage door",
			"manufacturer_device_model": "quirky_ge_garage_door_opener", "device_manufacturer": "quirky_ge", "model_name": "Garage Door",
			"upc_id": "331", "upc_code": "wink_garage_door", "local_id": "61", "radio_type": "zwave",
			"capabilities": fields(
				ro("connection", "boolean"),
				rw("position", "percentage", "choices", []any{0, 1}),
				ro("fault", "boolean"),
				ro("disabled", "boolean"),
				ro("control_enabled", "boolean"),
				ro("battery", "percentage"),
				ro("tamper_detected_true", "boolean"),
			),
			"last_reading": map[string]any{
				"connection": true, "position": 0.0, "fault": false, "disabled": false,
				"control_enabled": true, "battery": 0.9, "tamper_detected_true": nil,
			},
		}),
		hub(map[string]any{
			"object_type": "sensor_pod", "object_id": "198184", "name": "Back door",
			"manufacturer_device_model": "linear_wadwaz_1", "device_manufacturer": "linear",
			"model_name": "Z-Wave Door / Window Transmitter", "upc_id": "189", "upc_code": "9386312509",
			"local_id": "17", "radio_type": "zwave", "gang_id": nil,
			"last_event":   map[string]any{"brightness_occurred_at": nil, "loudness_occurred_at": nil, "vibration_occurred_at": nil},
			"capabilities": sensorCaps(ro("opened", "boolean"), ro("tamper_detected", "boolean"), ro("battery", "percentage")),
			"last_reading": map[string]any{
				"connection": true, "opened": false, "tamper_detected": false, "battery": 1.0,
				"tamper_detected_true": "N/A", "agent_session_id": nil,
			},
		}),
		hub(map[string]any{
			"object_type": "sensor_pod", "object_id": "198190", "name": "Hallway motion",
			"manufacturer_device_model": "linear_wapirz_1", "device_manufacturer": "linear",
			"model_name": "Z-Wave Passive Infrared (PIR) Sensor", "upc_id": "190", "upc_code": "linear_wapirz",
			"local_id": "18", "radio_type": "zwave",
			"capabilities": sensorCaps(
				ro("motion", "boolean"), ro("temperature", "float"), ro("humidity", "integer"),
				ro("tamper_detected", "boolean"), ro("battery", "percentage"),
			),
			"last_reading": map[string]any{
				"connection": true, "motion": false, "motion_true": "N/A", "temperature": 21.5, "humidity": 43,
				"tamper_detected": false, "battery": 0.85,
			},
		}),
		hub(map[string]any{
			"object_type": "sensor_pod", "object_id": "198195", "name": "Basement leak",
			"manufacturer_device_model": "leaksmart_leak_sensor", "device_manufacturer": "leaksmart",
			"model_name": "Water Sensor", "upc_id": "573", "upc_code": "leaksmart_water_sensor",
			"local_id": "20", "radio_type": "zigbee",
			"capabilities": sensorCaps(ro("liquid_detected", "boolean"), ro("battery", "percentage")),
			"last_reading": map[string]any{"connection": true, "liquid_detected": false, "battery": 0.95},
		}),
		hub(map[string]any{
			"object_type": "smoke_detector", "object_id": "33012", "name": "Hallway smoke",
			"manufacturer_device_model": "kidde_smoke_alarm", "device_manufacturer": "kidde", "model_name": "Smoke + CO Alarm",
			"upc_id": "12", "upc_code": "kidde_smoke_co", "local_id": "22", "radio_type": "kidde",
			"capabilities": fields(
				ro("connection", "boolean"), ro("smoke_detected", "boolean"), ro("co_detected", "boolean"),
				ro("test_activated", "boolean"), ro("battery", "percentage"),
			),
			"last_reading": map[string]any{
				"connection": true, "smoke_detected": false, "co_detected": false, "test_activated": false, "battery": 1.0,
			},
		}),
		hub(map[string]any{
			"object_type": "siren", "object_id": "41012", "name": "Alarm siren",
			"manufacturer_device_model": "linear_wa105dbz_1", "device_manufacturer": "linear", "model_name": "Siren/Strobe",
			"upc_id": "243", "upc_code": "linear_siren", "local_id": "24", "radio_type": "zwave",
			"capabilities": fields(
				ro("connection", "boolean"),
				rw("powered", "boolean"),
				rw("mode", "selection", "choices", []any{"siren_only", "strobe_only", "siren_and_strobe"}),
				rw("auto_shutoff", "selection", "choices", []any{nil, 30, 60, 120}),
				ro("battery", "percentage"),
			),
			"last_reading": map[string]any{"connection": true, "powered": false, "mode": "siren_and_strobe", "auto_shutoff": 60, "battery": 1.0},
		}),
		hub(map[string]any{
			"object_type": "powerstrip", "object_id": "24313", "name": "Office power strip",
			"device_manufacturer": "quirky_ge", "model_name": "Pivot Power Genius",
			"upc_id": "24", "upc_code": "814434017226", "mac_address": "0c2a69012345", "serial": "AAAA00012345",
			"capabilities": map[string]any{"needs_wifi_network_list": true},
			"last_reading": map[string]any{"connection": true},
			"outlets": []any{
				map[string]any{
					"outlet_id": "48628", "name": "Desk lamp", "icon_id": "8", "icon_code": "outlet-lamp",
					"scheduled_outlet_states": []any{}, "last_reading": map[string]any{"powered": false},
				},
				map[string]any{
					"outlet_id": "48629", "name": "Monitor", "icon_id": "4", "icon_code": "outlet-default",
					"scheduled_outlet_states": []any{}, "last_reading": map[string]any{"powered": true},
				},
			},
		}),
		hub(map[string]any{
			"object_type": "remote", "object_id": "80012", "name": "Living room remote",
			"manufacturer_device_model": "lutron_pico", "device_manufacturer": "lutron", "model_name": "Pico",
			"upc_id": "622", "upc_code": "lutron_pico_remote", "local_id": "70", "radio_type": "lutron",
			"capabilities": fields(
				ro("connection", "boolean"),
				ro("button_on_pressed", "boolean"), ro("button_off_pressed", "boolean"),
				ro("button_up_pressed", "boolean"), ro("button_down_pressed", "boolean"),
			),
			"last_reading": map[string]any{
				"connection": true, "button_on_pressed": false, "button_off_pressed": false,
				"button_up_pressed": false, "button_down_pressed": false, "remote_pairable": nil,
			},
		}),
	}
}

// Animate changes furnished sensors now and then, so a demo shows pushes:
// in turn the hallway motion sensor toggles motion, its temperature
// drifts by a tenth of a degree and the back door opens or closes. It
// waits every between changes and returns when ctx ends or the server
// closes. Devices that were removed are skipped.
func (s *Server) Animate(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for step := 0; ; step++ {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
		}
		switch step % 3 {
		case 0:
			if d, ok := s.Device("sensor_pod", "198190"); ok {
				_ = s.Update("sensor_pod", "198190", map[string]any{"motion": reading(d)["motion"] != true})
			}
		case 1:
			if d, ok := s.Device("sensor_pod", "198190"); ok {
				temp, _ := reading(d)["temperature"].(float64)
				delta := 0.1
				if step%2 == 1 {
					delta = -0.1
				}
				if temp > 24 {
					delta = -0.1
				}
				_ = s.Update("sensor_pod", "198190", map[string]any{"temperature": math.Round((temp+delta)*10) / 10})
			}
		case 2:
			if d, ok := s.Device("sensor_pod", "198184"); ok {
				_ = s.Update("sensor_pod", "198184", map[string]any{"opened": reading(d)["opened"] != true})
			}
		}
	}
}

func reading(obj map[string]any) map[string]any { return asMap(obj["last_reading"]) }
