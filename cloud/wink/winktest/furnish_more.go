package winktest

// catalogue is one furnished device of every further object type
// python-wink knew, so that a demo and the tests see the whole catalogue:
// a GE in-wall fan control (a light_bulb to Wink), an air conditioner, a
// water heater, a sprinkler, a propane tank, an egg tray, a piggy bank, a
// Nimbus cloud clock, a Canary camera, a door bell, a button, a gang, a
// lock key and a robot (listed by /users/me/robots, not wink_devices).
func catalogue() []map[string]any {
	return []map[string]any{
		{
			"object_type": "light_bulb", "object_id": "2194270", "name": "Ceiling fan",
			"manufacturer_device_model": "ge_jasco_in_wall_fan", "device_manufacturer": "ge", "model_name": "In-Wall Fan Control",
			"upc_id": "420", "upc_code": "ge_jasco_zwave_fan", "local_id": "35", "radio_type": "zwave",
			"capabilities": fields(ro("connection", "boolean"), rw("powered", "boolean"), rw("brightness", "percentage")),
			"last_reading": map[string]any{"connection": true, "powered": true, "brightness": 0.66},
		},
		{
			"object_type": "air_conditioner", "object_id": "5612", "name": "Bedroom AC",
			"manufacturer_device_model": "quirky_ge_aros", "device_manufacturer": "quirky_ge", "model_name": "Aros",
			"upc_id": "212", "upc_code": "quirky_ge_aros",
			"capabilities": fields(
				ro("connection", "boolean"),
				rw("powered", "boolean"),
				rw("mode", "selection", "choices", []any{"auto_eco", "cool_only", "fan_only"}),
				rw("fan_speed", "percentage"),
				rw("max_set_point", "float"),
				rw("schedule_enabled", "boolean"),
				ro("temperature", "float"),
				ro("consumption", "float"),
			),
			"last_reading": map[string]any{
				"connection": true, "powered": true, "mode": "cool_only", "fan_speed": 0.33, "max_set_point": 22.0,
				"schedule_enabled": false, "temperature": 24.5, "consumption": 0.31,
			},
		},
		{
			"object_type": "water_heater", "object_id": "3318", "name": "Water heater",
			"manufacturer_device_model": "rheem_hpwh", "device_manufacturer": "rheem", "model_name": "Heat Pump Water Heater",
			"upc_id": "650", "upc_code": "rheem_hpwh",
			"last_reading": map[string]any{
				"connection": true, "powered": true, "mode": "heat_pump", "set_point": 48.9, "vacation_mode": false,
				"modes_allowed":         []any{"eco", "heat_pump", "high_demand", "electric_only"},
				"min_set_point_allowed": 43.3, "max_set_point_allowed": 60.0, "rheem_type": "Heat Pump Water Heater",
			},
		},
		{
			"object_type": "sprinkler", "object_id": "7731", "name": "Garden sprinkler",
			"manufacturer_device_model": "rachio_iro", "device_manufacturer": "rachio", "model_name": "Iro",
			"upc_id": "430", "upc_code": "rachio_iro",
			"capabilities": fields(ro("connection", "boolean"), rw("powered", "boolean")),
			"last_reading": map[string]any{"connection": true, "powered": false},
		},
		{
			"object_type": "propane_tank", "object_id": "9021", "name": "Grill tank",
			"device_manufacturer": "quirky_ge", "model_name": "Refuel", "upc_id": "302", "upc_code": "quirky_ge_refuel",
			"tare":         17.5,
			"last_reading": map[string]any{"connection": true, "remaining": 0.62, "battery": 0.8},
		},
		{
			"object_type": "eggtray", "object_id": "1510", "name": "Egg Minder",
			"device_manufacturer": "quirky_ge", "model_name": "Egg Minder", "upc_id": "23", "upc_code": "quirky_ge_eggminder",
			"freshness_period": 1814400,
			"last_reading":     map[string]any{"connection": true, "inventory": 7, "battery": 0.9, "egg_1_timestamp": 1484000000.0},
		},
		{
			"object_type": "piggy_bank", "object_id": "4410", "name": "Porkfolio",
			"device_manufacturer": "quirky_ge", "model_name": "Porkfolio", "upc_id": "27", "upc_code": "quirky_ge_porkfolio",
			"nose_color":   "00FF00",
			"last_reading": map[string]any{"connection": true, "balance": 1250, "battery": 0.75, "vibration": false},
		},
		{
			"object_type": "cloud_clock", "object_id": "2240", "name": "Nimbus",
			"device_manufacturer": "quirky_ge", "model_name": "Nimbus", "upc_id": "25", "upc_code": "quirky_ge_nimbus",
			"last_reading": map[string]any{"connection": true},
			"dials": []any{
				map[string]any{"dial_id": "456", "dial_index": 0, "name": "Time", "value": 14.5, "labels": []any{"2:30 PM", "NEW YORK"},
					"parent_object_type": "cloud_clock", "parent_object_id": "2240"},
				map[string]any{"dial_id": "457", "dial_index": 1, "name": "Eggs", "value": 7, "labels": []any{"EGGS", "7"},
					"parent_object_type": "cloud_clock", "parent_object_id": "2240"},
			},
			"alarms": []any{
				map[string]any{"alarm_id": "555", "name": "Wake up", "recurrence": "DTSTART:20130821T140000Z\nRRULE:FREQ=DAILY", "enabled": true, "next_at": 1924990000.0},
			},
		},
		{
			"object_type": "camera", "object_id": "6620", "name": "Living room camera",
			"device_manufacturer": "canary", "model_name": "Canary", "upc_id": "610", "upc_code": "canary",
			"last_reading": map[string]any{"connection": true, "mode": "home", "private": false},
		},
		{
			"object_type": "door_bell", "object_id": "8800", "name": "Front door bell",
			"device_manufacturer": "ring", "model_name": "Ring Video Doorbell", "upc_id": "640", "upc_code": "ring_doorbell",
			"capabilities": fields(ro("connection", "boolean"), ro("motion", "boolean"), ro("button_pressed", "boolean"), ro("battery", "percentage")),
			"last_reading": map[string]any{"connection": true, "motion": false, "button_pressed": false, "battery": 0.95},
		},
		{
			"object_type": "button", "object_id": "9310", "name": "Desk button",
			"device_manufacturer": "quirky_ge", "model_name": "Spotter Button", "upc_id": "701", "upc_code": "wink_relay_button",
			"capabilities": fields(ro("connection", "boolean"), ro("pressed", "boolean"), ro("long_pressed", "boolean")),
			"last_reading": map[string]any{"connection": true, "pressed": false, "long_pressed": false},
		},
		{
			"object_type": "gang", "object_id": "48", "name": "Kitchen relay",
			"device_manufacturer": "wink", "model_name": "Wink Relay", "upc_id": "187", "upc_code": "wink_p1_gang",
			"local_id": "48", "radio_type": "project_one",
			"last_reading": map[string]any{"connection": true},
		},
		{
			"object_type": "key", "object_id": "3501", "name": "Guest code",
			"parent_object_type": "lock", "parent_object_id": "109898", "slot_id": 2,
			"last_reading": map[string]any{"activity_detected": false},
		},
		{
			"object_type": "robot", "object_id": "12001", "name": "Lights off at night",
			"automation_mode": nil, "fired_limit": 0, "causes": []any{}, "restrictions": []any{}, "effects": []any{},
			"last_reading": map[string]any{"enabled": true, "fired": false},
		},
	}
}
