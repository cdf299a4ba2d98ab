package bridge

import (
	"slices"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// This file holds the Home Assistant components of the less common device
// classes and fields: security systems (alarm_control_panel), robot vacuums
// (vacuum), write-only triggers (button) and pressed buttons (event), and
// the sensor and binary-sensor classes of the rarer well-known fields.

// moreBinaryClasses are the binary-sensor classes of the rarer alarm fields.
var moreBinaryClasses = map[string]string{
	cloud.FieldBatteryLow: "battery",
	cloud.FieldProblem:    "problem",
	cloud.FieldSafety:     "safety",
	cloud.FieldHeat:       "heat",
	cloud.FieldCold:       "cold",
	cloud.FieldGas:        "gas",
	cloud.FieldOccupancy:  "occupancy",
	cloud.FieldMoisture:   "moisture",
	cloud.FieldSound:      "sound",
	cloud.FieldLight:      "light",
	cloud.FieldRunning:    "running",
	cloud.FieldPlug:       "plug",
	cloud.FieldOpening:    "opening",
}

// wellKnownOf finds name, or the well-known field it is a second one of
// ("temperature_floor" → "temperature"), in table.
func wellKnownOf[V any](table map[string]V, name string) (V, bool) {
	if v, ok := table[name]; ok {
		return v, true
	}
	best, found := "", false
	var out V
	for k, v := range table {
		if strings.HasPrefix(name, k+"_") && len(k) > len(best) {
			best, out, found = k, v, true
		}
	}
	return out, found
}

// sensorMetaFor is how Home Assistant shows a numeric field, if known.
func sensorMetaFor(name string) (sensorMeta, bool) {
	return wellKnownOf(sensorMetas, name)
}

// binaryClassFor is the binary-sensor class of a boolean field, if known.
// Of the rarer alarm fields only those whose names read as a category take
// suffixes ("problem_stuck"); "heat_active" is no heat alarm.
func binaryClassFor(name string) (string, bool) {
	if c, ok := wellKnownOf(binarySensorClasses, name); ok {
		return c, true
	}
	if c, ok := moreBinaryClasses[name]; ok {
		return c, true
	}
	for _, base := range []string{cloud.FieldProblem, cloud.FieldSafety, cloud.FieldCold, cloud.FieldGas, cloud.FieldMoisture, cloud.FieldOpening} {
		if strings.HasPrefix(name, base+"_") {
			return moreBinaryClasses[base], true
		}
	}
	return "", false
}

// Home Assistant's words for a security system's states and commands.
var (
	haAlarmStates = map[string]string{cloud.AlarmDisarmed: "disarmed", cloud.AlarmArmed: "armed_away",
		cloud.AlarmPartiallyArmed: "armed_home"}
	haAlarmCommands = map[string]string{"DISARM": cloud.AlarmDisarmed, "ARM_AWAY": cloud.AlarmArmed,
		"ARM_HOME": cloud.AlarmPartiallyArmed, "DISARMED": cloud.AlarmDisarmed, "ARMED_AWAY": cloud.AlarmArmed,
		"ARMED_HOME": cloud.AlarmPartiallyArmed, "ARMED": cloud.AlarmArmed, "PARTIALLY_ARMED": cloud.AlarmPartiallyArmed}
)

// Home Assistant's words for a robot vacuum's states and commands.
var (
	haVacuumStates = map[string]string{cloud.VacuumCleaning: "cleaning", cloud.VacuumSpotCleaning: "cleaning",
		cloud.VacuumDocked: "docked", cloud.VacuumCharging: "docked", cloud.VacuumStopped: "idle"}
	haVacuumCommands = map[string]string{"start": cloud.VacuumCleaning, "clean_spot": cloud.VacuumSpotCleaning,
		"stop": cloud.VacuumStopped, "pause": cloud.VacuumStopped, "return_to_base": cloud.VacuumDocked}
)

// classKeys are the main keys of the classes defined here, added before a
// device's other keys.
func classKeys(d *cloud.Device) []stateKey {
	switch d.Class {
	case cloud.ClassAlarm:
		if f, ok := d.Field(cloud.FieldAlarmState); ok {
			return []stateKey{alarmKey(f)}
		}
	case cloud.ClassVacuum:
		if f, ok := d.Field(cloud.FieldVacuumState); ok {
			return []stateKey{vacuumKey(f)}
		}
	}
	return nil
}

// ownsStateKey says whether a class's main key is named "state", so that an
// on/off field of the device is published under its own name.
func ownsStateKey(d *cloud.Device) bool {
	_, ok := d.Field(cloud.FieldVacuumState)
	return d.Class == cloud.ClassVacuum && ok
}

// translatedKey publishes an enum field in Home Assistant's words (states)
// and takes Home Assistant's commands (commands, matched in any case) or
// the field's own choices.
func translatedKey(name string, f cloud.Field, states, commands map[string]string, haChoices []string) stateKey {
	return stateKey{
		name: name, field: f, consumed: []string{f.Name}, meta: enumMeta(haChoices...),
		read: func(d *cloud.Device) (any, bool) {
			s, ok := d.State[f.Name].(string)
			if !ok {
				return nil, false
			}
			if ha, known := states[s]; known {
				return ha, true
			}
			return s, true
		},
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable(name, f); err != nil {
				return nil, err
			}
			s, ok := v.(string)
			if !ok {
				return nil, reject(name, "expected one of %s, got %s", strings.Join(commandWords(commands), ", "), describe(v))
			}
			s = strings.TrimSpace(s)
			for word, value := range commands {
				if strings.EqualFold(word, s) {
					return cloud.Change{f.Name: value}, nil
				}
			}
			for _, c := range f.Choices {
				if c == s {
					return cloud.Change{f.Name: c}, nil
				}
			}
			return nil, reject(name, "expected one of %s, got %s", strings.Join(commandWords(commands), ", "), describe(v))
		},
	}
}

// commandWords lists a command table's words in a stable order.
func commandWords(commands map[string]string) []string {
	words := make([]string, 0, len(commands))
	for w := range commands {
		words = append(words, w)
	}
	slices.Sort(words)
	return words
}

func alarmKey(f cloud.Field) stateKey {
	return translatedKey(f.Name, f, haAlarmStates, haAlarmCommands, []string{"disarmed", "armed_home", "armed_away"})
}

func vacuumKey(f cloud.Field) stateKey {
	return translatedKey("state", f, haVacuumStates, haVacuumCommands, []string{"cleaning", "docked", "idle"})
}

// pressKey takes any value (a button press) for a write-only field and
// publishes no state.
func pressKey(f cloud.Field) stateKey {
	return stateKey{
		name: f.Name, field: f, consumed: []string{f.Name}, meta: &FieldInfo{Kind: string(cloud.KindPress)},
		read: func(*cloud.Device) (any, bool) { return nil, false },
		write: func(*cloud.Device, any) (cloud.Change, error) {
			if err := checkWritable(f.Name, f); err != nil {
				return nil, err
			}
			return cloud.Change{f.Name: true}, nil
		},
	}
}

// classComponents adds the main component of the classes defined here.
func classComponents(e *entry, cmps map[string]component, cover func(keys ...string)) {
	d := &e.device
	t := e.topic
	uid := func(suffix string) string { return e.discoveryID + "_" + suffix }
	switch d.Class {
	case cloud.ClassAlarm:
		f, ok := d.Field(cloud.FieldAlarmState)
		if !ok {
			return
		}
		c := component{"p": "alarm_control_panel", "name": nil, "unique_id": uid("alarm"),
			"state_topic": t, "value_template": "{{ value_json." + f.Name + " }}",
			"code_arm_required": false, "code_disarm_required": false,
			"supported_features": []string{"arm_home", "arm_away"}}
		if f.Writable {
			c["command_topic"] = t + "/set/" + f.Name
			c["payload_arm_away"], c["payload_arm_home"], c["payload_disarm"] = "ARM_AWAY", "ARM_HOME", "DISARM"
		}
		cmps["alarm"] = c
		cover(f.Name)
	case cloud.ClassVacuum:
		f, ok := d.Field(cloud.FieldVacuumState)
		if !ok {
			return
		}
		c := component{"p": "vacuum", "name": nil, "unique_id": uid("vacuum"), "state_topic": t,
			"supported_features": []string{"status"}}
		if f.Writable {
			c["command_topic"] = t + "/set/state"
			c["supported_features"] = []string{"start", "stop", "pause", "return_home", "clean_spot", "status"}
			c["payload_start"], c["payload_stop"], c["payload_pause"] = "start", "stop", "pause"
			c["payload_return_to_base"], c["payload_clean_spot"] = "return_to_base", "clean_spot"
		}
		cmps["vacuum"] = c
		cover("state")
	}
}

// triggerComponent is the component of a write-only trigger (a button); nil
// for any other key.
func triggerComponent(e *entry, k stateKey) component {
	f := k.field
	t := e.topic
	id := e.discoveryID + "_" + discoveryID(k.name)
	switch {
	case f.Kind == cloud.KindPress && f.Writable:
		c := component{"p": "button", "unique_id": id, "name": k.entityName(),
			"command_topic": t + "/set/" + k.name, "payload_press": "true"}
		if f.Category != "" {
			c["entity_category"] = f.Category
		}
		return c
	}
	return nil
}
