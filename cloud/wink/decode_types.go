package wink

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// This file decodes the Wink object types beyond the common lights,
// switches, locks, fans, thermostats, covers and sensors: each as Home
// Assistant's Wink integration (python-wink) presented it.

// speeds3 are the speeds of a fan driven by a 0..1 level: the GE in-wall fan
// control (a dimmer to Wink) and an air conditioner's fan_speed.
var speeds3 = []string{"low", "medium", "high"}

// speed3Levels is the level python-wink sent for each speed.
var speed3Levels = map[string]float64{"low": 0.33, "medium": 0.66, "high": 1.0}

// speed3 is the speed a level shows, as python-wink read it.
func speed3(level float64) string {
	switch {
	case level <= 0.33:
		return "low"
	case level <= 0.66:
		return "medium"
	}
	return "high"
}

// decodeMoreType fills b for the less common object types and reports
// whether it knew the type.
func (b *builder) decodeMoreType(typ string) bool {
	switch typ {
	case "air_conditioner":
		b.airConditioner()
	case "water_heater":
		b.waterHeater()
	case "sprinkler":
		b.class(cloud.ClassSwitch)
		b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
		b.generic(false)
	case "propane_tank":
		b.class(cloud.ClassSensor)
		b.add(spec{key: "remaining", name: "remaining", kind: cloud.KindNumber, conv: convPercent})
		b.add(spec{key: "tare", name: "tare", kind: cloud.KindNumber, rw: true, top: true, min: cloud.Range(0), max: cloud.Range(100), step: 0.1, unit: "lb", category: "config"})
		b.battery()
		b.generic(false)
	case "eggtray":
		b.class(cloud.ClassSensor)
		b.add(spec{key: "inventory", name: "inventory", kind: cloud.KindNumber, unit: "eggs"})
		for k := range b.lr {
			if strings.HasPrefix(k, "egg_") {
				b.used[k] = true
			}
		}
		b.battery()
		b.generic(false)
	case "piggy_bank":
		b.piggyBank()
	case "cloud_clock":
		b.cloudClock()
	case "camera":
		b.camera()
	case "door_bell":
		b.class(cloud.ClassSensor)
		b.add(spec{key: "button_pressed", name: "ring", kind: cloud.KindEvent, choices: []string{"ring"}})
		b.add(spec{key: "motion", name: cloud.FieldMotion, kind: cloud.KindBool})
		b.battery()
		b.generic(false)
	case "button":
		b.class(cloud.ClassSensor)
		b.add(spec{key: "pressed", name: cloud.FieldPressed, kind: cloud.KindEvent, choices: []string{"press"}})
		b.add(spec{key: "long_pressed", name: "long_pressed", kind: cloud.KindEvent, choices: []string{"long_press"}})
		b.battery()
		b.generic(false)
	case "remote":
		b.class(cloud.ClassSensor)
		for _, k := range []string{"button_on_pressed", "button_off_pressed", "button_up_pressed", "button_down_pressed"} {
			b.add(spec{key: k, name: k, kind: cloud.KindEvent, choices: []string{"press"}})
		}
		b.used["remote_pairable"] = true
		b.battery()
		b.generic(false)
	case "gang":
		b.class(cloud.ClassSensor)
		b.generic(false)
	case "key":
		b.key()
	case "robot":
		b.class(cloud.ClassSwitch)
		b.dev.Available = true // robots are virtual: they have no connection
		b.add(spec{key: "enabled", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
		b.add(spec{key: "fired", name: "fired", kind: cloud.KindEvent, choices: []string{"fired"}})
		b.used["fired_limit"] = true
	default:
		return false
	}
	return true
}

// battery declares a read-only battery percentage when there is a reading
// (python-wink ignored it on external power).
func (b *builder) battery() {
	if p, _ := b.lr["external_power"].(bool); p {
		b.used["battery"] = true
		return
	}
	b.add(spec{key: "battery", name: cloud.FieldBattery, kind: cloud.KindNumber, conv: convPercent, category: "diagnostic"})
	b.setWritable(cloud.FieldBattery, false)
}

// geFan decodes a GE in-wall fan control: Wink reports a dimmer
// (light_bulb), the device is a fan of three speeds set by brightness.
func (b *builder) geFan() {
	b.class(cloud.ClassFan)
	b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
	b.add(spec{key: "brightness", name: cloud.FieldSpeed, kind: cloud.KindEnum, rw: true, conv: convSpeed3, choices: speeds3, always: true})
	b.used["firmware_date_code"] = true
}

// poweredMode declares field name as the mode of a device whose "off" is
// powered false: choices are "off" and, in the order of order, the common
// word of every allowed Wink mode (modes maps them); a Wink mode in shown
// (not offered) displays as its word there.
func (b *builder) poweredMode(name string, order, allowed []string, modes, shown map[string]string) {
	choices := []string{"off"}
	wire := map[string]string{}
	for _, m := range order {
		if slices.Contains(allowed, m) {
			if w, ok := modes[m]; ok && !slices.Contains(choices, w) {
				choices = append(choices, w)
				wire[m] = w
			}
		}
	}
	f := cloud.Field{Name: name, Kind: cloud.KindEnum, Writable: true, Choices: choices}
	b.dev.Fields = append(b.dev.Fields, f)
	b.wire[name] = wireField{key: "mode", conv: convMode, modes: wire}
	b.used["mode"] = true
	b.used["modes_allowed"] = true
	if p, ok := b.lr["powered"].(bool); ok && !p {
		b.dev.State[name] = "off"
		return
	}
	if m, ok := b.lr["mode"].(string); ok {
		if w, ok := modes[m]; ok {
			b.dev.State[name] = w
		} else if w, ok := shown[m]; ok {
			b.dev.State[name] = w
		}
	}
}

// acModes maps air conditioner modes to Home Assistant HVAC modes.
var acModes = map[string]string{"cool_only": "cool", "fan_only": "fan_only", "auto_eco": "auto"}

func (b *builder) airConditioner() {
	b.class(cloud.ClassClimate)
	allowed := b.caps["mode"].choiceStrs
	if len(allowed) == 0 {
		allowed = []string{"cool_only", "fan_only", "auto_eco"}
	}
	b.poweredMode(cloud.FieldMode, []string{"cool_only", "fan_only", "auto_eco"}, allowed, acModes, nil)
	b.used["powered"] = true
	b.setPoint("max_set_point", cloud.FieldTargetTemp, "", "")
	b.add(spec{key: "fan_speed", name: cloud.FieldFanMode, kind: cloud.KindEnum, rw: true, conv: convSpeed3, choices: speeds3})
	b.add(spec{key: "temperature", name: cloud.FieldTemperature, kind: cloud.KindNumber, unit: "°C"})
	b.setWritable(cloud.FieldTemperature, false)
	b.add(spec{key: "consumption", name: "consumption", kind: cloud.KindNumber})
	b.setWritable("consumption", false)
	b.add(spec{key: "schedule_enabled", name: "schedule_enabled", kind: cloud.KindBool, rw: true, category: "config"})
	b.generic(false)
}

// waterHeaterModes maps Rheem water heater modes to Home Assistant's
// water heater operation modes.
var waterHeaterModes = map[string]string{"eco": "eco", "performance": "performance", "heat_pump": "heat_pump",
	"high_demand": "high_demand", "electric_only": "electric", "gas": "gas"}

func (b *builder) waterHeater() {
	b.class(cloud.ClassWaterHeater)
	allowed := strs(b.lr["modes_allowed"])
	if len(allowed) == 0 {
		allowed = b.caps["mode"].choiceStrs
	}
	if len(allowed) == 0 {
		allowed = []string{"eco", "performance", "heat_pump", "high_demand", "electric_only", "gas"}
	}
	b.poweredMode(cloud.FieldMode, []string{"eco", "heat_pump", "electric_only", "gas", "high_demand", "performance"}, allowed, waterHeaterModes, nil)
	b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
	b.setPoint("set_point", cloud.FieldTargetTemp, "min_set_point_allowed", "max_set_point_allowed")
	b.add(spec{key: "vacation_mode", name: "vacation_mode", kind: cloud.KindBool, rw: true, category: "config"})
	b.add(spec{key: "rheem_type", name: "rheem_type", kind: cloud.KindString, category: "diagnostic"})
	b.add(spec{key: "scald_message", name: "scald_message", kind: cloud.KindString, category: "diagnostic"})
	b.used["min_set_point_allowed"] = true
	b.used["max_set_point_allowed"] = true
	b.generic(false)
}

// piggyBank decodes a Porkfolio: its balance (cents on the wire, dollars
// here) and its nose colour, a key of the object itself.
func (b *builder) piggyBank() {
	b.class(cloud.ClassSensor)
	b.dev.Available = true // python-wink: the connection flag is unreliable, updates keep coming
	if n, ok := cloud.Number(b.lr["balance"]); ok {
		b.dev.Fields = append(b.dev.Fields, cloud.Field{Name: "balance", Kind: cloud.KindNumber, Unit: "USD"})
		b.dev.State["balance"] = round(n/100, 2)
	}
	b.used["balance"] = true
	b.add(spec{key: "nose_color", name: "nose_color", kind: cloud.KindString, rw: true, top: true, category: "config"})
	b.add(spec{key: "vibration", name: cloud.FieldVibration, kind: cloud.KindBool})
	b.battery()
	b.generic(false)
}

// cloudClock decodes a Nimbus: each dial's value and labels as read-only
// fields, and the next enabled alarm.
func (b *builder) cloudClock() {
	b.class(cloud.ClassSensor)
	dials, _ := b.obj["dials"].([]any)
	for i, x := range dials {
		d, _ := x.(map[string]any)
		if d == nil {
			continue
		}
		idx := i
		if n, ok := cloud.Number(d["dial_index"]); ok {
			idx = int(n)
		}
		prefix := fmt.Sprintf("dial_%d", idx+1)
		if n, ok := cloud.Number(d["value"]); ok {
			b.dev.Fields = append(b.dev.Fields, cloud.Field{Name: prefix, Kind: cloud.KindNumber})
			b.dev.State[prefix] = n
		}
		if labels := strs(d["labels"]); len(labels) > 0 {
			b.dev.Fields = append(b.dev.Fields, cloud.Field{Name: prefix + "_labels", Kind: cloud.KindString})
			b.dev.State[prefix+"_labels"] = strings.Join(labels, " / ")
		}
	}
	alarms, _ := b.obj["alarms"].([]any)
	var next float64
	for _, x := range alarms {
		a, _ := x.(map[string]any)
		if on, _ := a["enabled"].(bool); !on {
			continue
		}
		if n, ok := cloud.Number(a["next_at"]); ok && (next == 0 || n < next) {
			next = n
		}
	}
	if next > 0 {
		b.dev.Fields = append(b.dev.Fields, cloud.Field{Name: "next_alarm", Kind: cloud.KindString})
		b.dev.State["next_alarm"] = time.Unix(int64(next), 0).UTC().Format(time.RFC3339)
	}
	b.generic(false)
}

// canaryModes are a Canary camera's modes; its JSON does not list them.
var canaryModes = []string{"home", "away", "night"}

func (b *builder) camera() {
	b.class(cloud.ClassSensor)
	if str(b.obj["device_manufacturer"]) != "canary" {
		b.generic(false)
		return
	}
	choices := b.choicesOr("mode", canaryModes)
	if m, ok := b.lr["mode"].(string); ok && !slices.Contains(choices, m) {
		choices = append(slices.Clone(choices), m) // the select must offer the mode it shows
	}
	b.add(spec{key: "mode", name: cloud.FieldMode, kind: cloud.KindEnum, rw: true, choices: choices})
	b.add(spec{key: "private", name: "private", kind: cloud.KindBool, rw: true})
	b.generic(false)
}

// key decodes a lock's user code: "used" whenever activity is detected. It
// is reached through its lock.
func (b *builder) key() {
	b.class(cloud.ClassSensor)
	b.dev.Available = true // keys are virtual: they have no connection
	if str(b.obj["parent_object_type"]) == "lock" && str(b.obj["parent_object_id"]) != "" {
		b.dev.HubID = "lock-" + str(b.obj["parent_object_id"])
	}
	b.add(spec{key: "activity_detected", name: "used", kind: cloud.KindEvent, choices: []string{"used"}, always: true})
	b.used["slot_id"] = true
	b.generic(false)
}
