package bridge

import (
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// sensorMeta is how Home Assistant should show a well-known read-only field.
type sensorMeta struct {
	deviceClass string
	unit        string
	stateClass  string
	category    string
}

var sensorMetas = map[string]sensorMeta{
	cloud.FieldTemperature: {deviceClass: "temperature", unit: "°C", stateClass: "measurement"},
	cloud.FieldHumidity:    {deviceClass: "humidity", unit: "%", stateClass: "measurement"},
	cloud.FieldBattery:     {deviceClass: "battery", unit: "%", stateClass: "measurement", category: "diagnostic"},
	cloud.FieldPower:       {deviceClass: "power", unit: "W", stateClass: "measurement"},
	cloud.FieldEnergy:      {deviceClass: "energy", unit: "kWh", stateClass: "total_increasing"},
	cloud.FieldIlluminance: {deviceClass: "illuminance", unit: "lx", stateClass: "measurement"},
	cloud.FieldCO2:         {deviceClass: "carbon_dioxide", unit: "ppm", stateClass: "measurement"},
	cloud.FieldPressure:    {deviceClass: "pressure", unit: "mbar", stateClass: "measurement"},
	cloud.FieldVoltage:     {deviceClass: "voltage", unit: "V", stateClass: "measurement"},
	cloud.FieldCurrent:     {deviceClass: "current", unit: "A", stateClass: "measurement"},
	cloud.FieldGasVolume:   {deviceClass: "gas", unit: "m³", stateClass: "total_increasing"},
	cloud.FieldWaterVolume: {deviceClass: "water", unit: "m³", stateClass: "total_increasing"},
	cloud.FieldPM25:        {deviceClass: "pm25", unit: "µg/m³", stateClass: "measurement"},
	cloud.FieldNoise:       {deviceClass: "sound_pressure", unit: "dB", stateClass: "measurement"},
}

var binarySensorClasses = map[string]string{
	cloud.FieldMotion:    "motion",
	cloud.FieldContact:   "door",
	cloud.FieldLeak:      "moisture",
	cloud.FieldSmoke:     "smoke",
	cloud.FieldCO:        "carbon_monoxide",
	cloud.FieldTamper:    "tamper",
	cloud.FieldPresence:  "presence",
	cloud.FieldVibration: "vibration",
}

// component is one entry of a device discovery payload's "cmps".
type component map[string]any

// discoveryPayload is the device-based discovery config of one device,
// with full keys but for the availability entries (encodeDevice shortens
// it for sending).
func (b *Bridge) discoveryPayload(e *entry) map[string]any {
	d := &e.device
	dev := map[string]any{
		"ids":  []string{e.discoveryID},
		"name": d.Name,
	}
	if d.Manufacturer != "" {
		dev["mf"] = d.Manufacturer
	}
	if d.Model != "" {
		dev["mdl"] = d.Model
	}
	if d.Firmware != "" {
		dev["sw"] = d.Firmware
	}
	if d.Area != "" {
		dev["sa"] = d.Area
	}
	if d.HubID != "" && d.HubID != d.ID {
		dev["via_device"] = discoveryID("cloud2mqtt", e.account, d.HubID)
	}
	avail := b.deviceAvailability(e)
	return map[string]any{
		"dev": dev,
		"o":   b.fixed.origin,
		// The entries are built with Home Assistant's abbreviations (t,
		// val_tpl): compactDevice and compactConfig leave them alone.
		"availability":      []map[string]any{b.fixed.bridgeAvail, avail},
		"availability_mode": "all",
		"state_topic":       e.topic,
		"qos":               1,
		"cmps":              components(e, avail),
	}
}

// fixedParts are the parts of every device's discovery config that do not
// depend on the device, built once: they are shared by all the configs and
// never changed (useTopicBase copies availability entries before it
// rewrites their topics).
type fixedParts struct {
	origin      map[string]any // Home Assistant's "o"
	bridgeAvail map[string]any // the bridge's own availability entry
}

func newFixedParts(topics Topics, version string) fixedParts {
	return fixedParts{
		origin:      map[string]any{"name": "cloud2mqtt", "sw": version, "url": "https://github.com/cloud2mqtt/cloud2mqtt"},
		bridgeAvail: map[string]any{"t": topics.BridgeState(), "val_tpl": "{{ value_json.state }}"},
	}
}

// deviceAvailability is the entry of a device's own availability in its
// discovery's availability list: its JSON state's availability key, or its
// availability topic when that is published.
func (b *Bridge) deviceAvailability(e *entry) map[string]any {
	if b.opts.availabilityTopic() {
		return map[string]any{"t": e.topic + "/availability", "val_tpl": "{{ value_json.state }}"}
	}
	return map[string]any{"t": e.topic, "val_tpl": availabilityTemplate}
}

// availabilityTemplate reads a device's availability from its JSON state.
const availabilityTemplate = "{{ value_json." + availabilityKey + " }}"

// components maps a device onto Home Assistant components: the main one for
// its class, then one per remaining field; a device without fields gets a
// connectivity sensor reading avail, its availability entry.
func components(e *entry, avail map[string]any) map[string]component {
	d := &e.device
	t := e.topic
	uid := func(suffix string) string { return e.discoveryID + "_" + suffix }
	cmps := map[string]component{}
	covered := map[string]bool{}
	cover := func(keys ...string) {
		for _, k := range keys {
			covered[k] = true
		}
	}
	key := func(name string) (stateKey, bool) { return findKey(e.keys, name) }

	switch d.Class {
	case cloud.ClassLight:
		if _, ok := key("state"); ok {
			modes := []string{}
			c := component{"p": "light", "name": nil, "unique_id": uid("light"), "schema": "json",
				"command_topic": t + "/set", "brightness_scale": 255}
			if f, ok := d.Field(cloud.FieldColorTemp); ok {
				modes = append(modes, "color_temp")
				lo, hi := kelvinRange(f)
				c["min_kelvin"], c["max_kelvin"] = lo, hi
				cover("color_temp")
			}
			if _, ok := key("color"); ok {
				modes = append(modes, "hs")
				cover("color")
			}
			if len(modes) == 0 {
				if _, ok := key("brightness"); ok {
					modes = []string{"brightness"}
				} else {
					modes = []string{"onoff"}
				}
			}
			if _, ok := key("brightness"); ok {
				c["brightness"] = true
			}
			c["supported_color_modes"] = modes
			cmps["light"] = c
			cover("state", "brightness")
		}
	case cloud.ClassSwitch:
		if _, ok := key("state"); ok {
			cmps["switch"] = component{"p": "switch", "name": nil, "unique_id": uid("switch"),
				"command_topic": t + "/set", "value_template": "{{ value_json.state }}",
				"payload_on": "ON", "payload_off": "OFF"}
			cover("state")
		}
	case cloud.ClassSiren:
		if _, ok := key("state"); ok {
			cmps["siren"] = component{"p": "siren", "name": nil, "unique_id": uid("siren"),
				"command_topic": t + "/set", "state_value_template": "{{ value_json.state }}",
				"payload_on": "ON", "payload_off": "OFF"}
			cover("state")
		}
	case cloud.ClassLock:
		if _, ok := key("state"); ok {
			cmps["lock"] = component{"p": "lock", "name": nil, "unique_id": uid("lock"),
				"command_topic": t + "/set", "value_template": "{{ value_json.state }}",
				"payload_lock": "LOCK", "payload_unlock": "UNLOCK",
				"state_locked": "LOCKED", "state_unlocked": "UNLOCKED"}
			cover("state")
		}
	case cloud.ClassFan:
		if _, ok := key("state"); ok {
			c := component{"p": "fan", "name": nil, "unique_id": uid("fan"),
				"command_topic": t + "/set", "state_value_template": "{{ value_json.state }}",
				"payload_on": "ON", "payload_off": "OFF"}
			if _, ok := key("percentage"); ok {
				c["percentage_state_topic"] = t
				c["percentage_value_template"] = "{{ value_json.percentage }}"
				c["percentage_command_topic"] = t + "/set/percentage"
				cover("percentage")
			}
			if f, ok := d.Field(cloud.FieldSpeed); ok && f.Kind == cloud.KindEnum {
				c["preset_modes"] = f.Choices
				c["preset_mode_state_topic"] = t
				c["preset_mode_value_template"] = "{{ value_json." + f.Name + " }}"
				c["preset_mode_command_topic"] = t + "/set/" + f.Name
				cover(f.Name)
			}
			if f, ok := d.Field(cloud.FieldDirection); ok && f.Writable {
				c["direction_state_topic"] = t
				c["direction_value_template"] = "{{ value_json.direction }}"
				c["direction_command_topic"] = t + "/set/direction"
				cover("direction")
			}
			cmps["fan"] = c
			cover("state")
		}
	case cloud.ClassCover:
		if _, ok := key("position"); ok {
			c := component{"p": "cover", "name": nil, "unique_id": uid("cover"),
				"command_topic": t + "/set", "value_template": "{{ value_json.state }}",
				"state_open": "open", "state_closed": "closed",
				"payload_open": "OPEN", "payload_close": "CLOSE", "payload_stop": nil,
				"position_topic": t, "position_template": "{{ value_json.position }}",
				"set_position_topic": t + "/set/position"}
			c["device_class"] = coverClass(d.CoverKind)
			cmps["cover"] = c
			cover("state", "position")
		}
	case cloud.ClassClimate:
		c := component{"p": "climate", "name": nil, "unique_id": uid("climate"),
			"temperature_unit": "C", "precision": 0.1, "temp_step": 0.5}
		if fahrenheit(d) {
			c["temperature_unit"], c["temp_step"] = "F", 1
		}
		if f, ok := d.Field(cloud.FieldMode); ok {
			c["modes"] = f.Choices
			c["mode_state_topic"] = t
			c["mode_state_template"] = "{{ value_json.mode }}"
			c["mode_command_topic"] = t + "/set/mode"
			cover("mode")
		}
		setPoint := func(prefix, field string) {
			f, ok := d.Field(field)
			if !ok {
				return
			}
			c[prefix+"state_topic"] = t
			c[prefix+"state_template"] = "{{ value_json." + field + " }}"
			if f.Writable {
				c[prefix+"command_topic"] = t + "/set/" + field
			}
			if f.Min != nil {
				c["min_temp"] = *f.Min
			}
			if f.Max != nil {
				c["max_temp"] = *f.Max
			}
			cover(field)
		}
		setPoint("temperature_", cloud.FieldTargetTemp)
		setPoint("temperature_low_", cloud.FieldTargetTempLow)
		setPoint("temperature_high_", cloud.FieldTargetTempHigh)
		if _, ok := d.Field(cloud.FieldTemperature); ok {
			c["current_temperature_topic"] = t
			c["current_temperature_template"] = "{{ value_json.temperature }}"
		}
		if _, ok := d.Field(cloud.FieldHumidity); ok {
			c["current_humidity_topic"] = t
			c["current_humidity_template"] = "{{ value_json.humidity }}"
		}
		if f, ok := d.Field(cloud.FieldFanMode); ok {
			c["fan_modes"] = f.Choices
			c["fan_mode_state_topic"] = t
			c["fan_mode_state_template"] = "{{ value_json.fan_mode }}"
			if f.Writable {
				c["fan_mode_command_topic"] = t + "/set/fan_mode"
			}
			cover(cloud.FieldFanMode)
		}
		climatePresets(d, t, c, cover)
		cmps["climate"] = c
	case cloud.ClassWaterHeater:
		cmps["water_heater"] = waterHeaterComponent(e, uid("water_heater"), cover)
	case cloud.ClassScene:
		cmps["scene"] = sceneComponent(e, uid("scene"), cover)
	default:
		classComponents(e, cmps, cover)
	}

	for _, k := range e.keys {
		if covered[k.name] {
			continue
		}
		if c := fieldComponent(e, k); c != nil {
			cmps[discoveryID(k.name)] = c
		}
	}
	if len(cmps) == 0 {
		cmps["connectivity"] = component{"p": "binary_sensor", "unique_id": uid("connectivity"),
			"device_class": "connectivity", "entity_category": "diagnostic",
			"state_topic": avail["t"], "value_template": avail["val_tpl"],
			"payload_on": "online", "payload_off": "offline"}
	}
	return cmps
}

// fieldComponent is the component of one secondary field: sensors and
// binary sensors for read-only values, switch / number / select for writable
// ones.
func fieldComponent(e *entry, k stateKey) component {
	if c := triggerComponent(e, k); c != nil {
		return c
	}
	f := k.field
	t := e.topic
	c := component{"unique_id": e.discoveryID + "_" + discoveryID(k.name), "name": k.entityName(),
		"value_template": "{{ value_json." + k.name + " }}"}
	if f.Category != "" {
		c["entity_category"] = f.Category
	}
	if typ, ok := eventType(e, k); ok {
		return eventComponent(e, c, k, typ)
	}
	writable := k.write != nil && f.Writable
	switch {
	case f.Kind == cloud.KindBool && !writable:
		c["p"] = "binary_sensor"
		c["payload_on"], c["payload_off"] = true, false
		if dc, ok := binaryClassFor(f.Name); ok {
			c["device_class"] = dc
			c["name"] = nil
			if f.Name == cloud.FieldContact {
				// "contact" is true when closed, as in zigbee2mqtt.
				c["payload_on"], c["payload_off"] = false, true
			}
		}
		if f.Name == cloud.FieldTamper {
			c["entity_category"] = "diagnostic"
		}
	case f.Kind == cloud.KindBool:
		c["p"] = "switch"
		c["command_topic"] = t + "/set/" + k.name
		c["payload_on"], c["payload_off"] = "true", "false"
		c["state_on"], c["state_off"] = "True", "False"
		setDefault(c, "entity_category", "config")
	case f.Kind == cloud.KindNumber && writable:
		c["p"] = "number"
		c["command_topic"] = t + "/set/" + k.name
		if f.Min != nil {
			c["min"] = *f.Min
		}
		if f.Max != nil {
			c["max"] = *f.Max
		}
		if f.Step > 0 {
			c["step"] = f.Step
		}
		if f.Unit != "" {
			c["unit_of_measurement"] = f.Unit
		}
		setDefault(c, "entity_category", "config")
	case f.Kind == cloud.KindEnum && writable:
		c["p"] = "select"
		c["command_topic"] = t + "/set/" + k.name
		c["options"] = f.Choices
		setDefault(c, "entity_category", "config")
	default:
		c["p"] = "sensor"
		if m, ok := sensorMetaFor(f.Name); ok {
			c["device_class"] = m.deviceClass
			c["unit_of_measurement"] = m.unit
			if m.deviceClass == "temperature" && f.Unit != "" {
				c["unit_of_measurement"] = f.Unit // °F where the device speaks it
			}
			c["state_class"] = m.stateClass
			c["name"] = nil
			if m.category != "" {
				c["entity_category"] = m.category
			}
		} else if m, ok := unitClasses[f.Unit]; ok && f.Kind == cloud.KindNumber {
			c["device_class"], c["unit_of_measurement"], c["state_class"] = m.deviceClass, m.unit, m.stateClass
		} else if f.Kind == cloud.KindNumber {
			if f.Unit != "" {
				c["unit_of_measurement"] = f.Unit
			}
			c["state_class"] = "measurement"
		}
		if f.Kind == cloud.KindEnum && len(f.Choices) > 0 {
			c["device_class"] = "enum"
			c["options"] = f.Choices
		}
	}
	return c
}

func setDefault(c component, k string, v any) {
	if _, ok := c[k]; !ok {
		c[k] = v
	}
}

// mainType is the device's type in bridge/devices: its main component, or
// sensor / binary_sensor / hub for devices without one.
func mainType(e *entry, cmps map[string]component) string {
	if e.device.Class == cloud.ClassHub {
		return "hub"
	}
	for _, p := range []string{"light", "switch", "lock", "fan", "climate", "cover", "siren", "water_heater", "scene", "alarm", "vacuum"} {
		if _, ok := cmps[p]; ok {
			return p
		}
	}
	for _, c := range cmps {
		if c["p"] == "binary_sensor" && c["entity_category"] == nil {
			return "binary_sensor"
		}
	}
	return "sensor"
}

// platformsWithStateTopic are the platforms that read the shared
// state_topic; in per-component discovery it is copied into their config.
var platformsWithStateTopic = map[string]bool{"light": true, "switch": true, "lock": true, "fan": true,
	"cover": true, "sensor": true, "binary_sensor": true, "siren": true, "select": true, "number": true,
	"alarm_control_panel": true, "vacuum": true, "event": true}

// discoveryMessages is every discovery config of a device: topic → payload,
// with Home Assistant's abbreviated keys; and the device's main type, read
// off the components built for them ("" with discovery off).
func (b *Bridge) discoveryMessages(e *entry) (map[string][]byte, string) {
	out := map[string][]byte{}
	switch b.opts.Discovery {
	case DiscoveryOff:
		return out, ""
	case DiscoveryComponent:
		root := b.discoveryPayload(e)
		cmps := root["cmps"].(map[string]component)
		main := mainType(e, cmps)
		for key, c := range cmps {
			cfg := map[string]any{}
			for k, v := range c {
				if k != "p" {
					cfg[k] = v
				}
			}
			for _, k := range []string{"dev", "o", "availability", "availability_mode", "qos"} {
				cfg[k] = root[k]
			}
			platform, _ := c["p"].(string)
			if _, ok := cfg["state_topic"]; !ok && platformsWithStateTopic[platform] {
				cfg["state_topic"] = root["state_topic"]
			}
			payload := b.encoded(func(dst []byte) []byte { return encodeConfig(dst, cfg, platform, e.topic) })
			out[b.topics.DiscoveryPrefix+"/"+platform+"/"+e.discoveryID+"/"+key+"/config"] = payload
		}
		return out, main
	default:
		root := b.discoveryPayload(e)
		main := mainType(e, root["cmps"].(map[string]component))
		out[b.topics.DeviceDiscovery(e.discoveryID)] = b.encoded(func(dst []byte) []byte { return encodeDevice(dst, root, e.topic) })
		return out, main
	}
}

// coverClass is Home Assistant's cover device class for a cover kind.
func coverClass(k cloud.CoverKind) string {
	if k == "" {
		return string(cloud.CoverShade)
	}
	return string(k)
}
