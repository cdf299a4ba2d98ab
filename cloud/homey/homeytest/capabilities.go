package homeytest

import "strings"

// capDef is the homey-lib definition of a standard capability: the
// defaults a capabilitiesObj entry gets.
type capDef struct {
	typ       string // boolean, number, enum, string
	title     string
	units     any // string or nil
	decimals  any // number or nil
	min, max  any // number or nil
	step      any // number or nil
	chartType string
	getable   bool
	setable   bool
	values    []enumValue
	duration  bool // options.opts.duration
}

type enumValue struct{ id, title string }

func enums(pairs ...string) []enumValue {
	var v []enumValue
	for i := 0; i+1 < len(pairs); i += 2 {
		v = append(v, enumValue{pairs[i], pairs[i+1]})
	}
	return v
}

func boolCap(title string, setable bool) capDef {
	return capDef{typ: "boolean", title: title, getable: true, setable: setable, chartType: "stepLine"}
}

func numCap(title string, units any, decimals any, min, max any, setable bool) capDef {
	return capDef{typ: "number", title: title, units: units, decimals: decimals, min: min, max: max, getable: true, setable: setable, chartType: "spline"}
}

func unitCap(title string, min, max float64, duration bool) capDef {
	return capDef{typ: "number", title: title, units: "%", decimals: 2, min: min, max: max, getable: true, setable: true, chartType: "stepLine", duration: duration}
}

func enumCap(title string, values []enumValue) capDef {
	return capDef{typ: "enum", title: title, getable: true, setable: true, values: values}
}

// capDefs holds the standard capabilities of homey-lib 2.52.2 used here.
func capDefFor(id string) (capDef, bool) {
	base, _, _ := strings.Cut(id, ".") // sub-capabilities share the base type
	switch base {
	case "onoff":
		return boolCap("Turned on", true), true
	case "dim":
		return unitCap("Dim level", 0, 1, true), true
	case "light_hue":
		d := unitCap("Hue", 0, 1, true)
		d.units = nil
		return d, true
	case "light_saturation":
		d := unitCap("Color saturation", 0, 1, true)
		d.units = nil
		return d, true
	case "light_temperature":
		d := unitCap("Color temperature", 0, 1, true)
		d.units = nil
		return d, true
	case "light_mode":
		return enumCap("Light mode", enums("color", "Color", "temperature", "Temperature")), true
	case "target_temperature":
		d := numCap("Target temperature", "°C", 1, 4, 35, true)
		d.step = 0.5
		return d, true
	case "measure_temperature":
		return numCap("Temperature", "°C", 1, nil, nil, false), true
	case "measure_humidity":
		return numCap("Humidity", "%", 2, nil, nil, false), true
	case "measure_power":
		return numCap("Power", "W", 2, nil, nil, false), true
	case "meter_power":
		return numCap("Energy", "kWh", 3, nil, nil, false), true
	case "measure_battery":
		return numCap("Battery", "%", 0, 0, 100, false), true
	case "measure_luminance":
		return numCap("Luminance", "lx", 0, nil, nil, false), true
	case "measure_co2":
		return numCap("CO2", "ppm", 0, nil, nil, false), true
	case "measure_pressure":
		return numCap("Pressure", "mbar", 0, nil, nil, false), true
	case "measure_voltage":
		return numCap("Voltage", "V", 2, nil, nil, false), true
	case "measure_current":
		return numCap("Current", "A", 2, nil, nil, false), true
	case "meter_gas":
		return numCap("Gas", "m³", 3, 0, nil, false), true
	case "alarm_motion":
		return boolCap("Motion alarm", false), true
	case "alarm_contact":
		return boolCap("Contact alarm", false), true
	case "alarm_battery":
		return boolCap("Battery alarm", false), true
	case "alarm_tamper":
		return boolCap("Tamper alarm", false), true
	case "alarm_water":
		return boolCap("Water alarm", false), true
	case "alarm_smoke":
		return boolCap("Smoke alarm", false), true
	case "alarm_generic":
		return boolCap("Generic alarm", false), true
	case "locked":
		return boolCap("Locked", true), true
	case "lock_mode":
		return enumCap("Lock mode", enums("always_locked", "Always locked", "always_unlocked", "Always unlocked", "locked_until_unlock", "Locked until unlock")), true
	case "windowcoverings_state":
		return enumCap("Window coverings state", enums("up", "Up", "idle", "Idle", "down", "Down")), true
	case "windowcoverings_set":
		return unitCap("Position", 0, 1, false), true
	case "windowcoverings_tilt_set":
		return unitCap("Tilt position", 0, 1, false), true
	case "volume_set":
		return unitCap("Volume", 0, 1, false), true
	case "volume_mute":
		return boolCap("Mute", true), true
	case "thermostat_mode":
		return enumCap("Thermostat mode", enums("auto", "Automatic", "heat", "Heat", "cool", "Cool", "off", "Off")), true
	case "fan_speed":
		return unitCap("Fan speed", 0, 1, false), true
	case "homealarm_state":
		return enumCap("Home alarm state", enums("armed", "Armed", "disarmed", "Disarmed", "partially_armed", "Partially armed")), true
	case "vacuumcleaner_state":
		return enumCap("Vacuum cleaner state", enums("cleaning", "Cleaning", "spot_cleaning", "Spot cleaning", "docked", "Docked", "charging", "Charging", "stopped", "Stopped")), true
	case "garagedoor_closed":
		return boolCap("Garage door closed", true), true
	case "speaker_playing":
		return boolCap("Playing", true), true
	case "button", "speaker_next", "speaker_prev", "volume_up", "volume_down", "channel_up", "channel_down":
		d := boolCap(pressTitles[base], true)
		d.getable = false
		return d, true
	case "alarm_co":
		return boolCap("CO alarm", false), true
	case "alarm_heat":
		return boolCap("Heat alarm", false), true
	case "alarm_stuck":
		return boolCap("Stuck", false), true
	case "evcharger_charging":
		return boolCap("Charging", true), true
	case "evcharger_charging_state":
		d := enumCap("Charging state", enums("plugged_in_charging", "Plugged in and charging",
			"plugged_in_paused", "Plugged in and paused", "plugged_out", "Plugged out", "plugged_in", "Plugged in"))
		d.setable = false
		return d, true
	}
	return capDef{}, false
}

// pressTitles are the titles of the write-only trigger capabilities.
var pressTitles = map[string]string{"button": "Button", "speaker_next": "Next", "speaker_prev": "Previous",
	"volume_up": "Volume up", "volume_down": "Volume down", "channel_up": "Channel up", "channel_down": "Channel down"}

// capObj builds the default capabilitiesObj entry of a capability.
func capObj(id string) map[string]any {
	d, ok := capDefFor(id)
	if !ok {
		d = capDef{typ: "string", title: id, getable: true}
	}
	o := map[string]any{
		"id": id, "type": d.typ, "title": d.title, "desc": nil, "units": d.units,
		"getable": d.getable, "setable": d.setable, "iconObj": nil, "options": map[string]any{},
	}
	if d.chartType != "" {
		o["chartType"] = d.chartType
	}
	if d.duration {
		o["options"] = map[string]any{"opts": map[string]any{"duration": true}}
	}
	var value any
	switch d.typ {
	case "boolean":
		value = false
	case "number":
		o["decimals"] = d.decimals
		if d.min != nil {
			o["min"] = d.min
		}
		if d.max != nil {
			o["max"] = d.max
		}
		if d.step != nil {
			o["step"] = d.step
		}
		value = 0
		if d.min != nil {
			value = d.min
		}
	case "enum":
		vals := make([]any, len(d.values))
		for i, v := range d.values {
			vals[i] = map[string]any{"id": v.id, "title": v.title}
		}
		o["values"] = vals
		if len(d.values) > 0 {
			value = d.values[0].id
		}
	}
	if !d.getable {
		value = nil
	}
	o["value"] = value
	return o
}
