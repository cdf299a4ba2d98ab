package wink

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonobj"
)

// conv says how a field's wire value relates to its common value.
type conv int

const (
	convSame       conv = iota // same value and unit
	convPercent                // wire 0..1 → common 0..100 %
	convHumidity               // wire 0..1 or 0..100 → common %
	convMode                   // mode with off = powered false: powered + mode ↔ HA words (wireField.modes)
	convPreset                 // thermostat preset: a mode HA has no HVAC mode for (aux, eco)
	convSpeed3                 // enum low/medium/high ↔ wire 0.33/0.66/1.0
	convFahrenheit             // wire °C, common °F: a device whose owner sees °F
	convLevel                  // wire 0..1 number, common 0..1 (clamped)
)

// wireField ties a common field to the Wink last_reading / desired_state key.
type wireField struct {
	key   string
	conv  conv
	top   bool              // a key of the object itself, not of desired_state
	modes map[string]string // convMode, convPreset: Wink mode → common word
}

// outletRef locates a powerstrip outlet: the strip and the outlet's place in
// the strip's positional outlets array.
type outletRef struct {
	stripID string // object_id of the powerstrip
	index   int
	count   int
}

// decoded is a device in the common model together with what Set needs to
// translate a change back.
type decoded struct {
	dev    cloud.Device
	wire   map[string]wireField
	outlet *outletRef
}

// capField is one entry of capabilities.fields or capabilities.sensor_types.
type capField struct {
	Field      string   `json:"field"`
	Type       string   `json:"type"`
	Mutability string   `json:"mutability"`
	Choices    []any    `json:"choices"`
	Range      []any    `json:"range"`
	present    bool     // the entry exists
	choiceStrs []string // Choices as strings
}

// spec maps one Wink field onto a common field.
type spec struct {
	key      string     // Wink field
	name     string     // common field name
	kind     cloud.Kind // "" = from capabilities or the value
	rw       bool       // writable when capabilities do not say
	conv     conv
	unit     string
	min, max *float64
	step     float64
	choices  []string
	category string
	always   bool // declare even when last_reading has no value for it
	top      bool // read from and written to the object itself (nose_color, tare)
}

// Decode translates one Wink object (as in the data of GET /{plural}/{id})
// into the common device model. It never fails for an unknown object_type:
// such a device becomes a sensor of its readable fields. A powerstrip
// decodes to the strip itself; its outlets are separate devices in Devices.
func Decode(obj json.RawMessage) (cloud.Device, error) {
	ds, err := decodeAll(obj)
	if err != nil {
		return cloud.Device{}, err
	}
	if len(ds) == 0 {
		return cloud.Device{}, errNoLoad
	}
	return ds[0].dev, nil
}

// errNoLoad is Decode's answer for a relay button that switches no load.
var errNoLoad = errors.New("wink: decode device: a relay switch whose powering_mode is not dumb controls nothing and is not published")

// decodeAll decodes one Wink object into one or more devices (a powerstrip
// yields itself followed by its outlets); none for a relay button that
// switches no load.
func decodeAll(obj json.RawMessage) ([]decoded, error) {
	m, err := objectOf(obj)
	if err != nil {
		return nil, err
	}
	return decodeObject(m)
}

// errNotObject is an element of a list that is null, not an object.
var errNotObject = errors.New("wink: decode device: not an object")

// objectOf parses one Wink object.
func objectOf(obj json.RawMessage) (map[string]any, error) {
	m, err := jsonobj.Decode(obj)
	if err != nil {
		return nil, fmt.Errorf("wink: decode device: %w", err)
	}
	if m == nil {
		return nil, errNotObject
	}
	return m, nil
}

// objectsOf parses a list of Wink objects: in one pass when every element
// is an object (or null), else element by element as objectOf does. errs[i]
// tells why element i is no object.
func objectsOf(list json.RawMessage) (objs []map[string]any, errs []error, err error) {
	if json.Unmarshal(list, &objs) == nil {
		errs = make([]error, len(objs))
		for i, m := range objs {
			if m == nil {
				errs[i] = errNotObject
			}
		}
		return objs, errs, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(list, &raw); err != nil {
		return nil, nil, err
	}
	objs, errs = make([]map[string]any, len(raw)), make([]error, len(raw))
	for i, r := range raw {
		objs[i], errs[i] = objectOf(r)
	}
	return objs, errs, nil
}

// objectsIn is objectsOf for a list already parsed: its objects, and
// errs[i] telling why element i is no object (as objectsOf words it).
func objectsIn(list []any) (objs []map[string]any, errs []error) {
	objs, errs = make([]map[string]any, len(list)), make([]error, len(list))
	for i, v := range list {
		switch x := v.(type) {
		case map[string]any:
			objs[i] = x
		case nil:
			errs[i] = errNotObject
		default:
			raw, err := json.Marshal(x)
			if err != nil {
				errs[i] = fmt.Errorf("wink: decode device: %w", err)
				continue
			}
			objs[i], errs[i] = objectOf(raw)
		}
	}
	return objs, errs
}

// decodeObject is decodeAll of a parsed object; m is left as it was.
func decodeObject(m map[string]any) ([]decoded, error) {
	typ := str(m["object_type"])
	id := str(m["object_id"])
	if typ == "" || id == "" {
		return nil, fmt.Errorf("wink: decode device: object_type or object_id missing")
	}
	switch typ {
	case "group":
		if !publishedGroup(m) {
			return nil, nil
		}
		m = maps.Clone(m)
		m["last_reading"] = groupReading(m)
	case "scene":
		m = maps.Clone(m)
		m["last_reading"] = map[string]any{}
	}
	b := newBuilder(m, typ, id)
	var extra []decoded
	switch {
	case typ == "group":
		b.group()
	case typ == "scene":
		b.scene()
	case str(m["manufacturer_device_model"]) == "ge_jasco_in_wall_fan":
		b.geFan()
	case typ == "binary_switch" && !drivesLoad(b.lr):
		return nil, nil
	default:
		if !b.decodeType(typ) {
			b.class(cloud.ClassSensor)
			b.generic(false)
		}
	}
	if typ == "powerstrip" {
		extra = b.outlets()
	}
	return append([]decoded{{dev: b.dev, wire: b.wire}}, extra...), nil
}

// drivesLoad tells whether a binary switch controls a load: a Wink Relay's
// buttons report powering_mode and only a "dumb" one switches something, as
// python-wink decided.
func drivesLoad(lr map[string]any) bool {
	mode, ok := lr["powering_mode"].(string)
	return !ok || mode == "dumb"
}

// decodeType fills b for a known object type and reports whether it knew
// the type.
func (b *builder) decodeType(typ string) bool {
	switch typ {
	case "light_bulb":
		b.light()
	case "binary_switch":
		b.binarySwitch()
	case "lock":
		b.lock()
	case "fan":
		b.fan()
	case "thermostat":
		b.thermostat()
	case "shade":
		b.class(cloud.ClassCover)
		b.dev.CoverKind = cloud.CoverShade
		b.add(spec{key: "position", name: cloud.FieldPosition, kind: cloud.KindNumber, rw: true, conv: convLevel, min: cloud.Range(0), max: cloud.Range(1), always: true})
	case "garage_door":
		b.garage()
	case "sensor_pod":
		b.sensorPod()
	case "smoke_detector":
		b.smoke()
	case "siren":
		b.siren()
	case "hub":
		b.hub()
	case "powerstrip":
		b.class(cloud.ClassHub)
	default:
		return b.decodeMoreType(typ)
	}
	return true
}

// builder accumulates one device.
type builder struct {
	obj  map[string]any
	lr   map[string]any
	caps map[string]capField
	dev  cloud.Device
	wire map[string]wireField
	used map[string]bool // Wink keys already mapped
}

func newBuilder(m map[string]any, typ, id string) *builder {
	lr, _ := m["last_reading"].(map[string]any)
	if lr == nil {
		lr = map[string]any{}
	}
	b := &builder{
		obj:  m,
		lr:   lr,
		caps: parseCaps(m["capabilities"]),
		wire: map[string]wireField{},
		used: map[string]bool{},
	}
	b.dev = cloud.Device{
		ID:           typ + "-" + id,
		Name:         str(m["name"]),
		Class:        cloud.ClassSensor,
		Type:         typ,
		Manufacturer: str(m["device_manufacturer"]),
		Model:        str(m["model_name"]),
		Firmware:     str(lr["firmware_version"]),
		Available:    true,
		Fields:       []cloud.Field{},
		State:        map[string]any{},
	}
	if hub := str(m["hub_id"]); hub != "" {
		b.dev.HubID = "hub-" + hub
	}
	if c, ok := lr["connection"].(bool); ok {
		b.dev.Available = c
	}
	b.dev.UpdatedAt = newestUpdate(lr)
	b.used["connection"] = true
	b.used["firmware_version"] = true
	return b
}

func parseCaps(v any) map[string]capField {
	out := map[string]capField{}
	cm, _ := v.(map[string]any)
	for _, list := range []string{"fields", "sensor_types"} {
		arr, _ := cm[list].([]any)
		for _, e := range arr {
			f, ok := capFieldOf(e)
			if !ok {
				continue
			}
			f.present = true
			for _, c := range f.Choices {
				if s, ok := c.(string); ok {
					f.choiceStrs = append(f.choiceStrs, s)
				}
			}
			out[f.Field] = f
		}
	}
	return out
}

// capFieldOf reads one capabilities entry as encoding/json would decode it
// into a capField, and tells whether it is one: an object whose field is
// a non-empty string, no key of it of the wrong type. A key that differs
// from capField's only in case (encoding/json matches those too) goes
// through encoding/json itself; the entries Wink sends take the direct way.
func capFieldOf(e any) (capField, bool) {
	m, ok := e.(map[string]any)
	if !ok {
		return capField{}, false
	}
	var f capField
	for k, v := range m {
		var text *string
		var list *[]any
		switch k {
		case "field":
			text = &f.Field
		case "type":
			text = &f.Type
		case "mutability":
			text = &f.Mutability
		case "choices":
			list = &f.Choices
		case "range":
			list = &f.Range
		default:
			if foldsToCapKey(k) {
				return capFieldJSON(e)
			}
			continue
		}
		switch v := v.(type) {
		case nil: // JSON null leaves the field as it is
		case string:
			if text == nil {
				return capField{}, false
			}
			*text = v
		case []any:
			if list == nil {
				return capField{}, false
			}
			*list = v
		default:
			return capField{}, false
		}
	}
	return f, f.Field != ""
}

// capKeys are capField's JSON keys.
var capKeys = []string{"field", "type", "mutability", "choices", "range"}

// foldsToCapKey tells whether k is one of capKeys in other letter case.
func foldsToCapKey(k string) bool {
	for _, c := range capKeys {
		if strings.EqualFold(k, c) {
			return true
		}
	}
	return false
}

// capFieldJSON decodes one capabilities entry through encoding/json.
func capFieldJSON(e any) (capField, bool) {
	raw, err := json.Marshal(e)
	if err != nil {
		return capField{}, false
	}
	var f capField
	if json.Unmarshal(raw, &f) != nil || f.Field == "" {
		return capField{}, false
	}
	return f, true
}

func (b *builder) class(c cloud.Class) { b.dev.Class = c }

// has reports whether the Wink field exists in last_reading or capabilities.
func (b *builder) has(key string) bool {
	if _, ok := b.lr[key]; ok {
		return true
	}
	return b.caps[key].present
}

// valueOf is the wire value of s: from last_reading, or from the object
// itself for s.top.
func (b *builder) valueOf(s spec) any {
	if s.top {
		return b.obj[s.key]
	}
	return b.lr[s.key]
}

// add declares a field from s when the device has a value for it (or
// s.always) and sets its state from that value. A field without a value is
// not declared: it is added when a reading brings one. It reports whether
// the field was added.
func (b *builder) add(s spec) bool {
	if !s.always && b.valueOf(s) == nil {
		return false
	}
	if _, dup := b.wire[s.name]; dup {
		return false
	}
	c := b.caps[s.key]
	f := cloud.Field{
		Name:     s.name,
		Kind:     s.kind,
		Writable: s.rw,
		Min:      s.min,
		Max:      s.max,
		Step:     s.step,
		Unit:     s.unit,
		Choices:  s.choices,
		Category: s.category,
	}
	if c.present {
		switch c.Mutability {
		case "read-write":
			f.Writable = true
		case "read-only":
			f.Writable = false
		}
		if f.Kind == "" {
			f.Kind = kindOfCap(c)
		}
		if len(c.choiceStrs) > 0 && f.Kind == cloud.KindEnum && s.choices == nil {
			f.Choices = c.choiceStrs
		}
		if lo, hi, ok := capRange(c); ok && f.Kind == cloud.KindNumber && s.conv == convSame {
			f.Min, f.Max = cloud.Range(lo), cloud.Range(hi)
		}
	}
	v := b.valueOf(s)
	if f.Kind == "" {
		f.Kind = kindOfValue(v)
	}
	if f.Kind == "" {
		f.Kind = cloud.KindString
	}
	if f.Kind == cloud.KindEnum && len(f.Choices) == 0 {
		f.Kind = cloud.KindString
	}
	if s.conv == convPercent || s.conv == convHumidity {
		f.Unit = "%"
		f.Min, f.Max = cloud.Range(0), cloud.Range(100)
	}
	b.dev.Fields = append(b.dev.Fields, f)
	b.wire[s.name] = wireField{key: s.key, conv: s.conv, top: s.top}
	b.used[s.key] = true
	if cv, ok := convert(v, s.conv, f.Kind); ok {
		b.dev.State[s.name] = cv
	}
	return true
}

// convert turns a wire value into a common one of kind k.
func convert(v any, c conv, k cloud.Kind) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch k {
	case cloud.KindBool, cloud.KindEvent:
		bv, ok := v.(bool)
		return bv, ok
	case cloud.KindEnum:
		if c == convSpeed3 {
			n, ok := cloud.Number(v)
			if !ok {
				return nil, false
			}
			return speed3(n), true
		}
		if t, ok := cloud.Text(v); ok {
			return t, true
		}
		return nil, false
	case cloud.KindNumber:
		n, ok := cloud.Number(v)
		if !ok {
			return nil, false
		}
		switch c {
		case convPercent:
			n = round(n*100, 1)
		case convHumidity:
			if n <= 1 {
				n *= 100
			}
			n = round(n, 1)
		case convLevel:
			n = math.Max(0, math.Min(1, n))
		case convFahrenheit:
			n = round(toFahrenheit(n), 1)
		}
		return n, true
	default:
		if t, ok := cloud.Text(v); ok {
			return t, true
		}
		return nil, false
	}
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func kindOfCap(c capField) cloud.Kind {
	switch c.Type {
	case "boolean":
		return cloud.KindBool
	case "percentage", "integer", "float":
		return cloud.KindNumber
	case "selection", "string":
		if len(c.choiceStrs) > 0 {
			return cloud.KindEnum
		}
		return cloud.KindString
	}
	return ""
}

func kindOfValue(v any) cloud.Kind {
	switch v.(type) {
	case bool:
		return cloud.KindBool
	case float64:
		return cloud.KindNumber
	case string:
		return cloud.KindString
	}
	return ""
}

func capRange(c capField) (float64, float64, bool) {
	if len(c.Range) != 2 {
		return 0, 0, false
	}
	lo, ok1 := cloud.Number(c.Range[0])
	hi, ok2 := cloud.Number(c.Range[1])
	return lo, hi, ok1 && ok2 && lo <= hi
}

// generic declares every readable scalar of last_reading not mapped yet, as
// read-only unless capabilities say read-write (only when allowWrite).
func (b *builder) generic(allowWrite bool) {
	keys := make([]string, 0, len(b.lr))
	for k := range b.lr {
		keys = append(keys, k)
	}
	for k := range b.caps {
		if _, ok := b.lr[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if b.used[k] || skipKey(k) {
			continue
		}
		v := b.lr[k]
		c := b.caps[k]
		if kindOfValue(v) == "" {
			continue // no value yet, or a nested one
		}
		if c.present && c.Type == "nested_hash" {
			continue
		}
		s := spec{key: k, name: k}
		switch k {
		case "battery":
			s.name, s.kind, s.conv, s.category = cloud.FieldBattery, cloud.KindNumber, convPercent, "diagnostic"
		case "humidity":
			s.name, s.kind, s.conv = cloud.FieldHumidity, cloud.KindNumber, convHumidity
		case "temperature":
			s.kind, s.unit = cloud.KindNumber, "°C"
		case "opened":
			s.name = cloud.FieldContact
		case "liquid_detected":
			s.name = cloud.FieldLeak
		case "tamper_detected":
			s.name = cloud.FieldTamper
		case "smoke_detected":
			s.name = cloud.FieldSmoke
		case "co_detected":
			s.name = cloud.FieldCO
		case "powered":
			s.name = cloud.FieldOn
		}
		if b.add(s) && !allowWrite {
			b.setWritable(s.name, false)
		}
	}
}

func (b *builder) setWritable(name string, w bool) {
	for i := range b.dev.Fields {
		if b.dev.Fields[i].Name == name {
			b.dev.Fields[i].Writable = w
		}
	}
}

// skipKey tells last_reading keys that are metadata, not readings.
// plainKey tells whether k can name a field: snake_case letters and
// digits, as Wink's keys are. Anything else (an empty key, spaces, '/',
// '#', quotes) would not survive an MQTT topic or a Home Assistant
// template, and is left out.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

func skipKey(k string) bool {
	return !plainKey(k) || strings.HasSuffix(k, "_updated_at") || strings.HasSuffix(k, "_changed_at") ||
		strings.HasPrefix(k, "desired_") || strings.HasSuffix(k, "_true") ||
		k == "connection" || k == "agent_session_id" || k == "firmware_version" ||
		strings.HasPrefix(k, "firmware_")
}

func (b *builder) light() {
	b.class(cloud.ClassLight)
	b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
	b.add(spec{key: "brightness", name: cloud.FieldBrightness, kind: cloud.KindNumber, rw: true, conv: convLevel, min: cloud.Range(0), max: cloud.Range(1)})
	cm := b.caps["color_model"]
	models := cm.choiceStrs
	if cm.present && slices.Contains(models, "color_temperature") || !cm.present && b.has("color_temperature") {
		lo, hi := 2000.0, 6500.0
		if l, h, ok := capRange(b.caps["color_temperature"]); ok {
			lo, hi = l, h
		}
		b.add(spec{key: "color_temperature", name: cloud.FieldColorTemp, kind: cloud.KindNumber, rw: true, unit: "K", min: cloud.Range(lo), max: cloud.Range(hi), step: 1, always: true})
	}
	if cm.present && slices.Contains(models, "hsb") || !cm.present && b.has("hue") && b.has("saturation") {
		b.add(spec{key: "hue", name: cloud.FieldHue, kind: cloud.KindNumber, rw: true, conv: convLevel, min: cloud.Range(0), max: cloud.Range(1), always: true})
		b.add(spec{key: "saturation", name: cloud.FieldSaturation, kind: cloud.KindNumber, rw: true, conv: convLevel, min: cloud.Range(0), max: cloud.Range(1), always: true})
	}
	for _, k := range []string{"color_model", "color_x", "color_y", "color", "firmware_date_code"} {
		b.used[k] = true
	}
	// The colour model in use tells whether the light shows a colour
	// temperature or a hue; it is state only, set through those fields.
	switch b.lr["color_model"] {
	case "color_temperature":
		b.dev.ColorMode = cloud.ColorModeTemp
	case "hsb", "xy", "rgb":
		b.dev.ColorMode = cloud.ColorModeHS
	}
}

func (b *builder) binarySwitch() {
	b.class(cloud.ClassSwitch)
	key := "powered"
	if !b.has("powered") && b.has("opened") {
		key = "opened" // a valve: on means open
	}
	b.add(spec{key: key, name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
	b.add(spec{key: "powering_mode", name: "powering_mode", kind: cloud.KindEnum, choices: []string{"smart", "dumb", "none"}, category: "config"})
	b.generic(false)
}

func (b *builder) lock() {
	b.class(cloud.ClassLock)
	b.add(spec{key: "locked", name: cloud.FieldLocked, kind: cloud.KindBool, rw: true, always: true})
	b.add(spec{key: "alarm_mode", name: "alarm_mode", kind: cloud.KindEnum, rw: true, choices: b.choicesOr("alarm_mode", []string{"alert", "tamper", "forced_entry"}), category: "config"})
	b.add(spec{key: "alarm_sensitivity", name: "alarm_sensitivity", kind: cloud.KindNumber, rw: true, min: cloud.Range(0.2), max: cloud.Range(1), step: 0.2, category: "config"})
	for _, k := range []string{"alarm_enabled", "beeper_enabled", "vacation_mode_enabled", "auto_lock_enabled"} {
		b.add(spec{key: k, name: k, kind: cloud.KindBool, rw: true, category: "config"})
	}
	b.add(spec{key: "battery", name: cloud.FieldBattery, kind: cloud.KindNumber, conv: convPercent, category: "diagnostic"})
	b.add(spec{key: "alarm_activated", name: "alarm_activated", kind: cloud.KindBool})
	b.add(spec{key: "last_error", name: "last_error", kind: cloud.KindString, category: "diagnostic"})
	b.used["key_code_length"] = true
	b.setWritable(cloud.FieldBattery, false)
}

func (b *builder) choicesOr(key string, def []string) []string {
	if c := b.caps[key]; len(c.choiceStrs) > 0 {
		return c.choiceStrs
	}
	return def
}

// fanSpeeds is the order of Wink fan modes, slowest first.
var fanSpeeds = [...]string{"lowest", "low", "medium", "high"}

func (b *builder) fan() {
	b.class(cloud.ClassFan)
	b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
	var speeds []string
	choices := b.caps["mode"].choiceStrs
	for _, s := range fanSpeeds {
		if len(choices) == 0 && s != "lowest" || slices.Contains(choices, s) {
			speeds = append(speeds, s)
		}
	}
	b.add(spec{key: "mode", name: cloud.FieldSpeed, kind: cloud.KindEnum, rw: true, choices: speeds, always: true})
	b.add(spec{key: "direction", name: cloud.FieldDirection, kind: cloud.KindEnum, rw: true, choices: b.choicesOr("direction", []string{cloud.DirectionForward, cloud.DirectionReverse})})
	b.add(spec{key: "timer", name: "timer", kind: cloud.KindNumber, rw: true, min: cloud.Range(0), max: cloud.Range(65535), step: 1, unit: "s", category: "config"})
	b.generic(false)
}

// thermostatHVAC maps Wink thermostat modes to Home Assistant HVAC modes;
// thermostatPresets are the Wink modes HA has no HVAC mode for, offered as
// presets, with the HVAC mode they show as.
var (
	thermostatHVAC    = map[string]string{"heat_only": "heat", "cool_only": "cool", "auto": "heat_cool"}
	thermostatPresets = map[string]string{"aux": "heat", "eco": "heat_cool"}
)

func (b *builder) thermostat() {
	b.class(cloud.ClassClimate)
	winkModes := b.caps["mode"].choiceStrs
	if len(winkModes) == 0 {
		winkModes = strs(b.lr["modes_allowed"])
	}
	if len(winkModes) == 0 {
		winkModes = []string{"heat_only", "cool_only", "auto"}
	}
	b.poweredMode(cloud.FieldMode, []string{"heat_only", "cool_only", "auto"}, winkModes, thermostatHVAC, thermostatPresets)
	var presets []string
	for _, m := range []string{"aux", "eco"} {
		if slices.Contains(winkModes, m) {
			presets = append(presets, m)
		}
	}
	if len(presets) > 0 {
		f := cloud.Field{Name: cloud.FieldPresetMode, Kind: cloud.KindEnum, Writable: true, Choices: append([]string{cloud.PresetNone}, presets...)}
		b.dev.Fields = append(b.dev.Fields, f)
		modes := map[string]string{}
		for k, v := range thermostatHVAC {
			if slices.Contains(winkModes, k) {
				modes[k] = v
			}
		}
		b.wire[f.Name] = wireField{key: "mode", conv: convPreset, modes: modes}
		if m, ok := b.lr["mode"].(string); ok {
			if slices.Contains(presets, m) {
				b.dev.State[f.Name] = m
			} else {
				b.dev.State[f.Name] = cloud.PresetNone
			}
		}
	}
	b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true, category: "config"})
	b.setPoint("min_set_point", cloud.FieldTargetTempLow, "min_min_set_point", "max_min_set_point")
	b.setPoint("max_set_point", cloud.FieldTargetTempHigh, "min_max_set_point", "max_max_set_point")
	b.add(spec{key: "fan_mode", name: cloud.FieldFanMode, kind: cloud.KindEnum, rw: true, choices: b.choicesOr("fan_mode", []string{"on", "auto"})})
	unit, conv := "°C", convSame
	if b.fahrenheit() {
		unit, conv = "°F", convFahrenheit
	}
	b.add(spec{key: "temperature", name: cloud.FieldTemperature, kind: cloud.KindNumber, unit: unit, conv: conv})
	b.add(spec{key: "external_temperature", name: "external_temperature", kind: cloud.KindNumber, unit: unit, conv: conv})
	b.add(spec{key: "last_error", name: "last_error", kind: cloud.KindString, category: "diagnostic"})
	b.add(spec{key: "humidity", name: cloud.FieldHumidity, kind: cloud.KindNumber, conv: convHumidity})
	b.add(spec{key: "users_away", name: "users_away", kind: cloud.KindBool, rw: true, category: "config"})
	b.add(spec{key: "profile", name: "profile", kind: cloud.KindEnum, rw: true, choices: b.choicesOr("profile", []string{"home", "away"}), category: "config"})
	for _, k := range []string{"cool_active", "heat_active", "aux_active", "fan_active", "has_fan", "occupied"} {
		if b.add(spec{key: k, name: k, kind: cloud.KindBool, category: "diagnostic"}) {
			b.setWritable(k, false)
		}
	}
	for _, k := range []string{"modes_allowed", "min_min_set_point", "max_min_set_point", "min_max_set_point", "max_max_set_point", "units", "deadband", "eco_target", "smart_temperature", "fan_run_time"} {
		b.used[k] = true
	}
	for _, n := range []string{cloud.FieldTemperature, "external_temperature", cloud.FieldHumidity} {
		b.setWritable(n, false)
	}
}

func (b *builder) setPoint(key, name, minKey, maxKey string) {
	if b.lr[key] == nil {
		return
	}
	s := spec{key: key, name: name, kind: cloud.KindNumber, rw: true, unit: "°C", step: 0.5, always: true}
	lo, okLo := cloud.Number(b.lr[minKey])
	hi, okHi := cloud.Number(b.lr[maxKey])
	if l, h, ok := capRange(b.caps[key]); ok {
		lo, hi, okLo, okHi = l, h, true, true
	}
	if b.fahrenheit() {
		// Whole degrees of the owner's unit: 40..90 °F, not 4.44..32.22 °C.
		s.unit, s.step = "°F", 1
		lo, hi = math.Ceil(round(toFahrenheit(lo), 6)), math.Floor(round(toFahrenheit(hi), 6))
	}
	if okLo {
		s.min = cloud.Range(lo)
	}
	if okHi {
		s.max = cloud.Range(hi)
	}
	// Ranges come from the limits above, not from capabilities' range
	// handling in add.
	s.conv = convSame
	if s.unit == "°F" {
		s.conv = convFahrenheit
	}
	b.add(s)
	if okLo || okHi {
		for i := range b.dev.Fields {
			if b.dev.Fields[i].Name == name {
				b.dev.Fields[i].Min, b.dev.Fields[i].Max = s.min, s.max
			}
		}
	}
}

func (b *builder) garage() {
	b.class(cloud.ClassCover)
	b.dev.CoverKind = cloud.CoverGarage
	b.add(spec{key: "position", name: cloud.FieldPosition, kind: cloud.KindNumber, rw: true, conv: convLevel, min: cloud.Range(0), max: cloud.Range(1), step: 1, always: true})
	b.add(spec{key: "battery", name: cloud.FieldBattery, kind: cloud.KindNumber, conv: convPercent, category: "diagnostic"})
	b.add(spec{key: "fault", name: "fault", kind: cloud.KindBool, category: "diagnostic"})
	b.add(spec{key: "tamper_detected", name: cloud.FieldTamper, kind: cloud.KindBool})
	b.generic(false)
}

func (b *builder) sensorPod() {
	b.class(cloud.ClassSensor)
	for _, s := range []spec{
		{key: "opened", name: cloud.FieldContact, kind: cloud.KindBool},
		{key: "motion", name: cloud.FieldMotion, kind: cloud.KindBool},
		{key: "temperature", name: cloud.FieldTemperature, kind: cloud.KindNumber, unit: "°C"},
		{key: "humidity", name: cloud.FieldHumidity, kind: cloud.KindNumber, conv: convHumidity},
		{key: "battery", name: cloud.FieldBattery, kind: cloud.KindNumber, conv: convPercent, category: "diagnostic"},
		{key: "tamper_detected", name: cloud.FieldTamper, kind: cloud.KindBool},
		{key: "liquid_detected", name: cloud.FieldLeak, kind: cloud.KindBool},
		{key: "vibration", name: cloud.FieldVibration, kind: cloud.KindBool},
		{key: "presence", name: cloud.FieldPresence, kind: cloud.KindBool},
		{key: "illuminance", name: cloud.FieldIlluminance, kind: cloud.KindNumber, unit: "lx"},
		{key: "brightness", name: "light_level", kind: cloud.KindNumber, conv: convPercent},
		{key: "external_power", name: "external_power", kind: cloud.KindBool, category: "diagnostic"},
	} {
		b.add(s)
	}
	b.generic(false)
	for i := range b.dev.Fields {
		b.dev.Fields[i].Writable = false
	}
}

func (b *builder) smoke() {
	b.class(cloud.ClassSensor)
	b.add(spec{key: "smoke_detected", name: cloud.FieldSmoke, kind: cloud.KindBool, always: true})
	b.add(spec{key: "co_detected", name: cloud.FieldCO, kind: cloud.KindBool})
	b.add(spec{key: "battery", name: cloud.FieldBattery, kind: cloud.KindNumber, conv: convPercent, category: "diagnostic"})
	b.add(spec{key: "test_activated", name: "test_activated", kind: cloud.KindBool, category: "diagnostic"})
	b.generic(false)
	for i := range b.dev.Fields {
		b.dev.Fields[i].Writable = false
	}
}

func (b *builder) siren() {
	b.class(cloud.ClassSiren)
	b.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
	b.add(spec{key: "mode", name: cloud.FieldMode, kind: cloud.KindEnum, rw: true, choices: b.choicesOr("mode", []string{"siren_only", "strobe_only", "siren_and_strobe"})})
	b.add(spec{key: "auto_shutoff", name: "auto_shutoff", kind: cloud.KindNumber, rw: true, unit: "s", category: "config"})
	vol := []string{"low", "medium", "high"}
	b.add(spec{key: "siren_volume", name: "siren_volume", kind: cloud.KindEnum, rw: true, choices: b.choicesOr("siren_volume", vol), category: "config"})
	b.add(spec{key: "chime_volume", name: "chime_volume", kind: cloud.KindEnum, rw: true, choices: b.choicesOr("chime_volume", vol), category: "config"})
	for _, k := range []string{"strobe_enabled", "chime_strobe_enabled"} {
		b.add(spec{key: k, name: k, kind: cloud.KindBool, rw: true, category: "config"})
	}
	b.add(spec{key: "battery", name: cloud.FieldBattery, kind: cloud.KindNumber, conv: convPercent, category: "diagnostic"})
	b.setWritable(cloud.FieldBattery, false)
	b.generic(false)
}

func (b *builder) hub() {
	b.class(cloud.ClassHub)
	b.dev.HubID = ""
	for _, k := range []string{"ip_address", "mac_address"} {
		b.add(spec{key: k, name: k, kind: cloud.KindString, category: "diagnostic"})
	}
	for _, k := range []string{"update_needed", "updating_firmware"} {
		b.add(spec{key: k, name: k, kind: cloud.KindBool, category: "diagnostic"})
	}
	for i := range b.dev.Fields {
		b.dev.Fields[i].Writable = false
	}
	for k := range b.lr {
		b.used[k] = true // pairing fields and the rest stay out of the model
	}
}

// outlets decodes a powerstrip's outlets as switches reached through the strip.
func (b *builder) outlets() []decoded {
	arr, _ := b.obj["outlets"].([]any)
	stripID := str(b.obj["object_id"])
	var out []decoded
	for i, e := range arr {
		om, _ := e.(map[string]any)
		oid := str(om["outlet_id"])
		if oid == "" {
			oid = str(om["object_id"])
		}
		if oid == "" {
			continue
		}
		idx := i
		if n, ok := cloud.Number(om["outlet_index"]); ok {
			idx = int(n)
		}
		ob := newBuilder(om, "outlet", oid)
		ob.dev.HubID = b.dev.ID
		ob.dev.Available = b.dev.Available
		if c, ok := ob.lr["connection"].(bool); ok {
			ob.dev.Available = c && b.dev.Available
		}
		if ob.dev.Name == "" {
			ob.dev.Name = fmt.Sprintf("%s outlet %d", b.dev.Name, idx+1)
		}
		ob.dev.Manufacturer, ob.dev.Model = b.dev.Manufacturer, b.dev.Model
		ob.class(cloud.ClassSwitch)
		ob.add(spec{key: "powered", name: cloud.FieldOn, kind: cloud.KindBool, rw: true, always: true})
		out = append(out, decoded{dev: ob.dev, wire: ob.wire, outlet: &outletRef{stripID: stripID, index: i, count: len(arr)}})
	}
	return out
}

// newestUpdate returns the newest *_updated_at reading time.
func newestUpdate(lr map[string]any) time.Time {
	var best float64
	for k, v := range lr {
		if !strings.HasSuffix(k, "_updated_at") || strings.HasPrefix(k, "desired_") {
			continue
		}
		if n, ok := cloud.Number(v); ok && n > best {
			best = n
		}
	}
	if best == 0 {
		return time.Time{}
	}
	sec, frac := math.Modf(best)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}

func strs(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// fahrenheit tells whether the device's owner sees °F: Wink keeps °C on
// the wire and says in units (a hash, or sensi's bare string) what the
// app shows.
func (b *builder) fahrenheit() bool {
	for _, u := range []any{b.lr["units"], b.obj["units"]} {
		switch x := u.(type) {
		case string:
			if strings.EqualFold(x, "f") {
				return true
			}
		case map[string]any:
			if t, _ := x["temperature"].(string); strings.EqualFold(t, "f") {
				return true
			}
		}
	}
	return false
}

func toFahrenheit(c float64) float64 { return c*9/5 + 32 }
