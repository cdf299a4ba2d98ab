// Package cloud is the contract every home-automation cloud implements for
// the bridge: a common device model (Device, Field), the commands the bridge
// sends (Change) and the Provider interface that lists, watches and changes
// devices.
//
// Providers translate their wire formats into the common model so that the
// bridge never sees a cloud's own field names or units. Values in the common
// model use these units:
//
//   - levels (brightness, position, hue, saturation, fan speed as a number)
//     are fractions from 0.0 to 1.0;
//   - colour temperature is in kelvin;
//   - temperatures are in degrees Celsius, except in a field whose Unit is
//     "°F" (a device whose owner sees °F: its set points then come in
//     whole degrees of that unit);
//   - humidity and battery are percentages from 0 to 100;
//   - power is in watts, energy in kilowatt-hours;
//   - thermostat modes use Home Assistant's words (off, heat, cool, auto,
//     heat_cool, dry, fan_only).
package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// Class is the main role of a device. It decides which Home Assistant
// component represents the device's main feature.
type Class string

// The device classes the bridge knows. A provider uses ClassSensor for a
// device it does not recognise: its readable fields become sensors.
const (
	ClassLight   Class = "light"
	ClassSwitch  Class = "switch"
	ClassLock    Class = "lock"
	ClassFan     Class = "fan"
	ClassClimate Class = "climate"
	ClassCover   Class = "cover"
	ClassSiren   Class = "siren"
	ClassSensor  Class = "sensor"
	ClassButton  Class = "button"
	ClassHub     Class = "hub"
	// ClassWaterHeater is a water heater: FieldMode (Home Assistant's
	// water heater modes, "off" included), FieldTargetTemp and FieldOn.
	ClassWaterHeater Class = "water_heater"
	// ClassScene is a scene (a Wink shortcut): writing true to
	// FieldActivate runs it.
	ClassScene Class = "scene"
	// ClassAlarm is a security system armed and disarmed as a whole; its
	// main field is FieldAlarmState.
	ClassAlarm Class = "alarm"
	// ClassVacuum is a robot vacuum cleaner; its main field is
	// FieldVacuumState.
	ClassVacuum Class = "vacuum"
)

// Kind is the type of a field's value.
type Kind string

// Field kinds.
const (
	KindBool   Kind = "bool"   // true / false
	KindNumber Kind = "number" // float64
	KindEnum   Kind = "enum"   // one of Field.Choices
	KindString Kind = "string" // free text
	// KindEvent is a bool that is true while the device reports an event
	// (a button press, a key used); Choices[0] names the event type.
	// Events are read-only.
	KindEvent Kind = "event"
	// KindPress is a write-only trigger with no state, such as a remote's
	// "next" button: any value in a Change presses it once.
	KindPress Kind = "press"
)

// Well-known field names. Providers map their own fields onto these where the
// meaning matches; any other field keeps a provider-chosen snake_case name and
// is published as it is. A second field of the same meaning on one device is
// named after the well-known one plus "_" and a suffix ("temperature_floor")
// and is shown as that well-known field is.
const (
	FieldOn             = "on"              // bool: powered
	FieldBrightness     = "brightness"      // number 0..1
	FieldColorTemp      = "color_temp"      // number, kelvin
	FieldHue            = "hue"             // number 0..1
	FieldSaturation     = "saturation"      // number 0..1
	FieldLocked         = "locked"          // bool
	FieldPosition       = "position"        // number 0..1 (0 closed, 1 open)
	FieldSpeed          = "speed"           // enum (ordered slowest first) or number 0..1
	FieldMode           = "mode"            // enum: thermostat or siren mode
	FieldFanMode        = "fan_mode"        // enum: thermostat fan mode
	FieldPresetMode     = "preset_mode"     // enum: climate preset (aux, eco, …); PresetNone when none
	FieldActivate       = "activate"        // bool, write-only: true runs a scene
	FieldTargetTemp     = "target_temp"     // number °C: single set point
	FieldTargetTempLow  = "target_temp_low" // number °C: heat set point
	FieldTargetTempHigh = "target_temp_high"
	FieldTemperature    = "temperature"  // number °C, read-only
	FieldHumidity       = "humidity"     // number %, read-only
	FieldBattery        = "battery"      // number %, read-only
	FieldPower          = "power"        // number W
	FieldEnergy         = "energy"       // number kWh
	FieldIlluminance    = "illuminance"  // number lx
	FieldMotion         = "motion"       // bool
	FieldContact        = "contact"      // bool: true when open
	FieldLeak           = "leak"         // bool
	FieldSmoke          = "smoke"        // bool
	FieldCO             = "co"           // bool
	FieldTamper         = "tamper"       // bool
	FieldPresence       = "presence"     // bool
	FieldVibration      = "vibration"    // bool
	FieldPressed        = "pressed"      // bool: a button's last press
	FieldDirection      = "direction"    // enum DirectionForward / DirectionReverse: a fan's direction
	FieldBatteryLow     = "battery_low"  // bool: the battery needs replacing
	FieldProblem        = "problem"      // bool: the device reports a fault
	FieldSafety         = "safety"       // bool: a general alarm is raised (unsafe)
	FieldHeat           = "heat"         // bool: too hot (heat or fire alarm)
	FieldCold           = "cold"         // bool: too cold (freeze risk)
	FieldGas            = "gas"          // bool: gas or CO2 detected
	FieldOccupancy      = "occupancy"    // bool: a room is occupied
	FieldMoisture       = "moisture"     // bool: wet (rain, moisture)
	FieldSound          = "sound"        // bool: noise detected
	FieldLight          = "light"        // bool: light detected
	FieldRunning        = "running"      // bool: a machine is running
	FieldPlug           = "plug"         // bool: something is plugged in
	FieldOpening        = "opening"      // bool: true when open (a window, a tank)
	FieldPlaying        = "playing"      // bool: a speaker or TV plays
	FieldVolume         = "volume"       // number 0..1: loudness
	FieldMute           = "mute"         // bool: sound muted
	FieldCO2            = "co2"          // number ppm
	FieldPressure       = "pressure"     // number mbar
	FieldVoltage        = "voltage"      // number V
	FieldCurrent        = "current"      // number A
	FieldGasVolume      = "gas_volume"   // number m³, a meter reading that only grows
	FieldWaterVolume    = "water_volume" // number m³, a meter reading that only grows
	FieldPM25           = "pm25"         // number µg/m³
	FieldNoise          = "noise"        // number dB
	FieldAlarmState     = "alarm_state"  // enum AlarmDisarmed / AlarmArmed / AlarmPartiallyArmed
	FieldVacuumState    = "vacuum_state" // enum Vacuum*: what a robot vacuum does
)

// Security system states, the values of FieldAlarmState.
const (
	AlarmDisarmed       = "disarmed"
	AlarmArmed          = "armed"           // armed while nobody is home
	AlarmPartiallyArmed = "partially_armed" // armed while at home
)

// Robot vacuum states, the values of FieldVacuumState.
const (
	VacuumCleaning     = "cleaning"
	VacuumSpotCleaning = "spot_cleaning"
	VacuumDocked       = "docked"
	VacuumCharging     = "charging"
	VacuumStopped      = "stopped"
)

// PresetNone is the FieldPresetMode value of a climate device that runs no
// preset, as Home Assistant names it.
const PresetNone = "none"

// Fan directions, the values of FieldDirection.
const (
	DirectionForward = "forward"
	DirectionReverse = "reverse"
)

// CoverKind is what a cover moves; the values are Home Assistant's cover
// device classes.
type CoverKind string

// Cover kinds.
const (
	CoverShade   CoverKind = "shade"
	CoverBlind   CoverKind = "blind"
	CoverCurtain CoverKind = "curtain"
	CoverAwning  CoverKind = "awning"
	CoverGarage  CoverKind = "garage"
	CoverGate    CoverKind = "gate"
)

// ColorMode is what a light that can show both a colour temperature and a
// hue shows now.
type ColorMode string

// Colour modes; the values are Home Assistant's.
const (
	ColorModeHS   ColorMode = "hs"         // hue and saturation
	ColorModeTemp ColorMode = "color_temp" // colour temperature
)

// Field describes one readable or writable value of a device.
type Field struct {
	Name     string   `json:"name"`               // well-known name or the provider's snake_case name
	Kind     Kind     `json:"kind"`               // value type
	Writable bool     `json:"writable"`           // accepted in a Change
	Min      *float64 `json:"min,omitempty"`      // KindNumber: lowest accepted value
	Max      *float64 `json:"max,omitempty"`      // KindNumber: highest accepted value
	Step     float64  `json:"step,omitempty"`     // KindNumber: granularity, 0 when any
	Unit     string   `json:"unit,omitempty"`     // display unit ("°C", "%", "W", "K")
	Choices  []string `json:"choices,omitempty"`  // KindEnum: accepted values, in order
	Category string   `json:"category,omitempty"` // "diagnostic" or "config" for secondary fields
}

// Range returns a pointer to v, for Field.Min and Field.Max literals.
func Range(v float64) *float64 { return &v }

// Device is one cloud device in the common model. A Device value is a
// snapshot: providers hand out copies and never change one after handing it
// out.
type Device struct {
	ID           string `json:"id"`   // stable id within the account, e.g. "light_bulb-2194253"
	Name         string `json:"name"` // the name the owner gave it in the cloud's app
	Class        Class  `json:"class"`
	Type         string `json:"type"` // the cloud's own type, e.g. "light_bulb"
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Firmware     string `json:"firmware,omitempty"`
	HubID        string `json:"hub_id,omitempty"` // ID of the hub device it is reached through
	Area         string `json:"area,omitempty"`   // room or zone name
	Available    bool   `json:"available"`
	// CoverKind is what a ClassCover device moves; "" reads as CoverShade.
	CoverKind CoverKind `json:"cover_kind,omitempty"`
	// ColorMode is what a light with both colour temperature and hue shows
	// now; "" when unknown or when it has only one of them.
	ColorMode ColorMode      `json:"color_mode,omitempty"`
	Fields    []Field        `json:"fields"`
	State     map[string]any `json:"state"`      // field name → value in common units
	UpdatedAt time.Time      `json:"updated_at"` // when the cloud last changed it, zero if unknown
}

// Field returns the field named name, and whether the device has it.
func (d *Device) Field(name string) (Field, bool) {
	for _, f := range d.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Clone returns a deep copy of d.
func (d Device) Clone() Device {
	c := d
	c.Fields = make([]Field, len(d.Fields))
	copy(c.Fields, d.Fields)
	c.State = make(map[string]any, len(d.State))
	for k, v := range d.State {
		c.State[k] = v
	}
	return c
}

// Change is a command: field name → new value in common units. The bridge
// only sends fields the device declares writable, with values of the
// field's kind and within its range.
type Change map[string]any

// PushState says how a provider learns about changes.
type PushState string

// Push states.
const (
	PushLive    PushState = "live"    // a push channel is connected
	PushPolling PushState = "polling" // no push channel; state is re-read periodically
)

// EventKind tells what an Event carries.
type EventKind int

// Event kinds.
const (
	// EventDevice carries one device's new state.
	EventDevice EventKind = iota + 1
	// EventListing carries the full device list after a resync: devices
	// missing from it are gone from the cloud.
	EventListing
	// EventPush reports a change of push state.
	EventPush
	// EventAuth reports that the account stopped working (Err says why:
	// wrapping ErrAuth when the credentials were rejected, otherwise the
	// cloud does not answer) or works again (Err nil).
	EventAuth
)

// Event is what a provider reports while watching.
type Event struct {
	Kind    EventKind
	Device  Device    // EventDevice
	Devices []Device  // EventListing
	Push    PushState // EventPush
	Err     error     // EventAuth
}

// Provider is one account at one cloud.
type Provider interface {
	// Account is the configured account name, used in topics ("wink").
	Account() string
	// Cloud is the cloud's name ("wink", "homey").
	Cloud() string
	// Devices lists every device of the account.
	Devices(ctx context.Context) ([]Device, error)
	// Device re-reads one device from the cloud.
	Device(ctx context.Context, id string) (Device, error)
	// Watch reports events until ctx ends. It keeps going through push
	// outages (falling back to polling) and returns ctx.Err() at the end.
	Watch(ctx context.Context, report func(Event)) error
	// Set sends a change to the cloud and returns the device as the cloud
	// confirmed it.
	Set(ctx context.Context, id string, c Change) (Device, error)
}

// ErrNotFound is returned (wrapped) for an id the cloud does not know.
var ErrNotFound = errors.New("device not found")

// ErrAuth is returned (wrapped) when the cloud rejects the account's
// credentials and a new login is needed.
var ErrAuth = errors.New("credentials rejected")

// Number reads a numeric value as the common model and JSON decoding hold
// it (float64, also int, int64, float32 and json.Number).
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// Text reads a value for a text field: strings as they are, numbers and
// booleans written out.
func Text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}
