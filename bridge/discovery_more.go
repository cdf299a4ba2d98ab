package bridge

import (
	"slices"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// waterHeaterComponent is the Home Assistant water_heater of a
// ClassWaterHeater device: its mode (off included), set point, current
// temperature and power. It marks the keys it stands for with cover.
func waterHeaterComponent(e *entry, uid string, cover func(keys ...string)) component {
	d := &e.device
	t := e.topic
	c := component{"p": "water_heater", "name": nil, "unique_id": uid,
		"temperature_unit": "C", "precision": 0.1}
	if f, ok := d.Field(cloud.FieldMode); ok && f.Kind == cloud.KindEnum {
		c["modes"] = f.Choices
		c["mode_state_topic"] = t
		c["mode_state_template"] = "{{ value_json.mode }}"
		if f.Writable {
			c["mode_command_topic"] = t + "/set/mode"
		}
		cover(cloud.FieldMode)
	}
	if f, ok := d.Field(cloud.FieldTargetTemp); ok {
		c["temperature_state_topic"] = t
		c["temperature_state_template"] = "{{ value_json." + cloud.FieldTargetTemp + " }}"
		if f.Writable {
			c["temperature_command_topic"] = t + "/set/" + cloud.FieldTargetTemp
		}
		if f.Min != nil {
			c["min_temp"] = *f.Min
		}
		if f.Max != nil {
			c["max_temp"] = *f.Max
		}
		cover(cloud.FieldTargetTemp)
	}
	if _, ok := d.Field(cloud.FieldTemperature); ok {
		c["current_temperature_topic"] = t
		c["current_temperature_template"] = "{{ value_json." + cloud.FieldTemperature + " }}"
		cover(cloud.FieldTemperature)
	}
	if f, ok := d.Field(cloud.FieldOn); ok && f.Writable {
		c["power_command_topic"] = t + "/set/state"
		c["payload_on"], c["payload_off"] = "ON", "OFF"
		cover("state")
	}
	return c
}

// climatePresets adds a climate's preset modes (FieldPresetMode without
// cloud.PresetNone, which Home Assistant keeps for itself).
func climatePresets(d *cloud.Device, t string, c component, cover func(keys ...string)) {
	f, ok := d.Field(cloud.FieldPresetMode)
	if !ok || f.Kind != cloud.KindEnum {
		return
	}
	presets := slices.DeleteFunc(slices.Clone(f.Choices), func(s string) bool { return s == cloud.PresetNone })
	if len(presets) == 0 {
		return
	}
	c["preset_modes"] = presets
	c["preset_mode_state_topic"] = t
	c["preset_mode_value_template"] = "{{ value_json." + f.Name + " }}"
	if f.Writable {
		c["preset_mode_command_topic"] = t + "/set/" + f.Name
	}
	cover(f.Name)
}

// eventComponent is the Home Assistant event entity of an event key: it
// reads the device's event topic and fires typ for the messages of its key.
// A button device's own press is the device's entity (no name of its own).
func eventComponent(e *entry, c component, k stateKey, typ string) component {
	c["p"] = "event"
	c["state_topic"] = eventTopic(e.topic)
	c["event_types"] = []string{typ}
	c["value_template"] = eventValueTemplate(k.name, typ)
	if dc, ok := eventClasses[typ]; ok {
		c["device_class"] = dc
	}
	if e.device.Class == cloud.ClassButton && k.field.Name == cloud.FieldPressed {
		c["name"] = nil
	}
	return c
}

// eventClasses are Home Assistant's event device classes by event type.
var eventClasses = map[string]string{"press": "button", "long_press": "button", "ring": "doorbell"}

// unitClasses gives a read-only number without a well-known name the
// device class its unit implies.
var unitClasses = map[string]sensorMeta{
	"°C": {deviceClass: "temperature", unit: "°C", stateClass: "measurement"},
	"°F": {deviceClass: "temperature", unit: "°F", stateClass: "measurement"},
}

// fahrenheit tells whether a climate device's set points are in °F (the
// unit its owner sees), so that Home Assistant gets whole degrees of it.
func fahrenheit(d *cloud.Device) bool {
	for _, name := range []string{cloud.FieldTargetTemp, cloud.FieldTargetTempLow, cloud.FieldTargetTempHigh} {
		if f, ok := d.Field(name); ok {
			return f.Unit == "°F"
		}
	}
	return false
}

// sceneComponent is the Home Assistant scene of a ClassScene device:
// activating it writes true to cloud.FieldActivate.
func sceneComponent(e *entry, uid string, cover func(keys ...string)) component {
	cover(cloud.FieldActivate)
	return component{"p": "scene", "name": nil, "unique_id": uid,
		"command_topic": e.topic + "/set/" + cloud.FieldActivate, "payload_on": "true"}
}
