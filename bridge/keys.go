package bridge

import (
	"math"
	"slices"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// stateKey is one key of a device's MQTT state object: how its value is read
// from the common model, and how a command value for it becomes a change.
type stateKey struct {
	name     string
	field    cloud.Field // the field it is read from (the first, for composite keys)
	read     func(d *cloud.Device) (any, bool)
	write    func(d *cloud.Device, v any) (cloud.Change, error) // nil: read-only
	consumed []string                                           // fields this key stands for
	meta     *FieldInfo                                         // MQTT-side kind and range where they differ from the field's
	label    string                                             // FieldLabel(name), made once per shape ("" until then)
}

// entityName is the key's entity name in Home Assistant (FieldLabel).
func (k stateKey) entityName() string {
	if k.label != "" {
		return k.label
	}
	return FieldLabel(k.name)
}

// info describes the key for bridge/devices.
func (k stateKey) info() FieldInfo {
	fi := FieldInfo{Name: k.name, Kind: string(k.field.Kind), Min: k.field.Min, Max: k.field.Max,
		Unit: k.field.Unit, Choices: k.field.Choices}
	if k.meta != nil {
		fi = *k.meta
		fi.Name = k.name
	}
	fi.Writable = k.write != nil && k.field.Writable
	return fi
}

func enumMeta(choices ...string) *FieldInfo {
	return &FieldInfo{Kind: string(cloud.KindEnum), Choices: choices}
}

func rangeMeta(lo, hi float64, unit string) *FieldInfo {
	return &FieldInfo{Kind: string(cloud.KindNumber), Min: cloud.Range(lo), Max: cloud.Range(hi), Unit: unit}
}

// deviceKeys lists the MQTT state keys of a device, main keys first, in a
// stable order. Each cloud field is represented by exactly one key (plus
// derived read-only keys such as a cover's "state").
func deviceKeys(d *cloud.Device) []stateKey {
	var keys []stateKey
	used := map[string]bool{}
	add := func(k stateKey) {
		keys = append(keys, k)
		for _, f := range k.consumed {
			used[f] = true
		}
	}
	has := func(name string) (cloud.Field, bool) { return d.Field(name) }

	for _, k := range classKeys(d) {
		add(k)
	}
	if f, ok := has(cloud.FieldOn); ok && d.Class != cloud.ClassClimate && !ownsStateKey(d) {
		add(onKey(f))
	}
	if f, ok := has(cloud.FieldLocked); ok && d.Class == cloud.ClassLock {
		add(lockKey(f))
	}
	if f, ok := has(cloud.FieldPosition); ok {
		add(positionKey(f))
		add(coverStateKey(f))
	}
	if f, ok := has(cloud.FieldBrightness); ok {
		add(scaledKey("brightness", f, 255, 0))
	}
	if f, ok := has(cloud.FieldColorTemp); ok {
		add(colorTempKey(f))
	}
	hue, okH := has(cloud.FieldHue)
	sat, okS := has(cloud.FieldSaturation)
	if okH && okS {
		add(colorKey(hue, sat))
	}
	if f, ok := has(cloud.FieldSpeed); ok {
		if f.Kind == cloud.KindEnum {
			add(plainKey(f.Name, f))
			add(percentageKey(d, f))
		} else {
			k := scaledKey("percentage", f, 100, 0)
			add(k)
		}
	}
	if f, ok := has(cloud.FieldContact); ok {
		add(contactKey(f))
	}
	for _, f := range d.Fields {
		if used[f.Name] {
			continue
		}
		if f.Kind == cloud.KindPress {
			add(pressKey(f))
			continue
		}
		switch f.Name {
		case cloud.FieldBattery, cloud.FieldHumidity:
			add(roundedKey(f, 0))
		case cloud.FieldTemperature, cloud.FieldTargetTemp, cloud.FieldTargetTempLow, cloud.FieldTargetTempHigh:
			add(roundedKey(f, 2))
		case availabilityKey, colorModeKey:
			// Keys the bridge writes itself: the field gets another name.
			add(plainKey(f.Name+"_value", f))
		default:
			add(plainKey(f.Name, f))
		}
	}
	return keys
}

// value returns the device's state value of a field, if it has one.
func value(d *cloud.Device, name string) (any, bool) {
	v, ok := d.State[name]
	return v, ok && v != nil
}

// checkWritable rejects a command for a read-only field.
func checkWritable(key string, f cloud.Field) error {
	if !f.Writable {
		return reject(key, "is read-only")
	}
	return nil
}

func onKey(f cloud.Field) stateKey {
	return stateKey{
		name: "state", field: f, consumed: []string{f.Name}, meta: enumMeta("ON", "OFF", "TOGGLE"),
		read: func(d *cloud.Device) (any, bool) {
			v, ok := value(d, f.Name)
			if b, isBool := v.(bool); ok && isBool {
				return onOff(b), true
			}
			return nil, false
		},
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable("state", f); err != nil {
				return nil, err
			}
			if s, ok := v.(string); ok && strings.EqualFold(strings.TrimSpace(s), "toggle") {
				cur, _ := d.State[f.Name].(bool)
				return cloud.Change{f.Name: !cur}, nil
			}
			b, err := asBool("state", v)
			if err != nil {
				return nil, reject("state", "expected ON, OFF or TOGGLE, got %s", describe(v))
			}
			return cloud.Change{f.Name: b}, nil
		},
	}
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

func lockKey(f cloud.Field) stateKey {
	return stateKey{
		name: "state", field: f, consumed: []string{f.Name}, meta: enumMeta("LOCK", "UNLOCK"),
		read: func(d *cloud.Device) (any, bool) {
			v, ok := value(d, f.Name)
			if b, isBool := v.(bool); ok && isBool {
				if b {
					return "LOCKED", true
				}
				return "UNLOCKED", true
			}
			return nil, false
		},
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable("state", f); err != nil {
				return nil, err
			}
			// Only the words: a lock must not open on 0, OFF or false.
			if s, ok := v.(string); ok {
				switch strings.ToUpper(strings.TrimSpace(s)) {
				case "LOCK", "LOCKED":
					return cloud.Change{f.Name: true}, nil
				case "UNLOCK", "UNLOCKED":
					return cloud.Change{f.Name: false}, nil
				}
			}
			return nil, reject("state", "expected LOCK or UNLOCK, got %s (or {\"%s\": true/false})", describe(v), f.Name)
		},
	}
}

// scaledKey publishes a 0..1 fraction as 0..scale (rounded to decimals).
func scaledKey(name string, f cloud.Field, scale float64, decimals int) stateKey {
	return stateKey{
		name: name, field: f, consumed: []string{f.Name}, meta: rangeMeta(0, scale, ""),
		read: func(d *cloud.Device) (any, bool) {
			v, ok := value(d, f.Name)
			x, isNum := cloud.Number(v)
			if !ok || !isNum {
				return nil, false
			}
			return round(x*scale, decimals), true
		},
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable(name, f); err != nil {
				return nil, err
			}
			x, err := asNumber(name, v)
			if err != nil {
				return nil, err
			}
			if err := inRange(name, x, 0, scale); err != nil {
				return nil, err
			}
			return cloud.Change{f.Name: x / scale}, nil
		},
	}
}

func positionKey(f cloud.Field) stateKey {
	k := scaledKey("position", f, 100, 0)
	inner := k.write
	k.write = func(d *cloud.Device, v any) (cloud.Change, error) {
		c, err := inner(d, v)
		if err != nil {
			return nil, err
		}
		// A cover that only opens or closes (a garage door) takes 0 or 1.
		if f.Step >= 1 {
			x := c[f.Name].(float64)
			if x != 0 && x != 1 {
				return nil, reject("position", "this device only opens or closes: send 0 or 100 (or OPEN / CLOSE)")
			}
		}
		return c, nil
	}
	return k
}

// coverStateKey derives open/closed from the position and takes
// OPEN / CLOSE commands.
func coverStateKey(f cloud.Field) stateKey {
	return stateKey{
		name: "state", field: f, meta: enumMeta("OPEN", "CLOSE"),
		read: func(d *cloud.Device) (any, bool) {
			v, ok := value(d, f.Name)
			x, isNum := cloud.Number(v)
			if !ok || !isNum {
				return nil, false
			}
			if x > 0 {
				return "open", true
			}
			return "closed", true
		},
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable("state", f); err != nil {
				return nil, err
			}
			if s, ok := v.(string); ok {
				switch strings.ToUpper(strings.TrimSpace(s)) {
				case "OPEN":
					return cloud.Change{f.Name: 1.0}, nil
				case "CLOSE", "CLOSED":
					return cloud.Change{f.Name: 0.0}, nil
				case "STOP":
					return nil, reject("state", "this cover cannot stop mid-way: send OPEN, CLOSE or a position")
				}
			}
			return nil, reject("state", "expected OPEN or CLOSE, got %s", describe(v))
		},
	}
}

// colorTempKey publishes kelvin as mireds, as zigbee2mqtt and Home
// Assistant's JSON light do, and takes mireds. The range is checked in
// kelvin: a mired value that rounds just past an end of the range (Home
// Assistant sends 153 for 6500 K) is taken as that end.
func colorTempKey(f cloud.Field) stateKey {
	lo, hi := miredRange(f)
	return stateKey{
		name: "color_temp", field: f, consumed: []string{f.Name}, meta: rangeMeta(lo, hi, "mired"),
		read: func(d *cloud.Device) (any, bool) {
			v, ok := value(d, f.Name)
			k, isNum := cloud.Number(v)
			if !ok || !isNum || k <= 0 {
				return nil, false
			}
			return math.Round(1e6 / k), true
		},
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable("color_temp", f); err != nil {
				return nil, err
			}
			m, err := asNumber("color_temp", v)
			if err != nil {
				return nil, err
			}
			if err := inRange("color_temp", m, lo-1, hi+1); err != nil {
				return nil, reject("color_temp", "%s is out of range %s to %s mireds", trimFloat(m), trimFloat(lo), trimFloat(hi))
			}
			klo, khi := kelvinRange(f)
			return cloud.Change{f.Name: math.Min(math.Max(math.Round(1e6/m), klo), khi)}, nil
		},
	}
}

// kelvinRange is a colour temperature field's range in kelvin.
func kelvinRange(f cloud.Field) (lo, hi float64) {
	lo, hi = 2000, 6500
	if f.Min != nil && *f.Min > 0 {
		lo = *f.Min
	}
	if f.Max != nil && *f.Max > 0 {
		hi = *f.Max
	}
	return lo, hi
}

// miredRange is the same range in mireds (whole numbers, inclusive).
func miredRange(f cloud.Field) (lo, hi float64) {
	klo, khi := kelvinRange(f)
	return math.Ceil(1e6 / khi), math.Floor(1e6 / klo)
}

// colorKey publishes hue and saturation as {"h": 0..360, "s": 0..100} and
// takes {"h","s"} or {"r","g","b"}.
func colorKey(hue, sat cloud.Field) stateKey {
	return stateKey{
		name: "color", field: hue, consumed: []string{hue.Name, sat.Name}, meta: &FieldInfo{Kind: "color_hs"},
		read: func(d *cloud.Device) (any, bool) {
			h, okH := cloud.Number(d.State[hue.Name])
			s, okS := cloud.Number(d.State[sat.Name])
			if !okH || !okS {
				return nil, false
			}
			return map[string]any{"h": round(h*360, 1), "s": round(s*100, 1)}, true
		},
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable("color", hue); err != nil {
				return nil, err
			}
			if err := checkWritable("color", sat); err != nil {
				return nil, err
			}
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, reject("color", `expected an object such as {"h":30,"s":80} or {"r":255,"g":128,"b":0}, got %s`, describe(v))
			}
			var h, s float64
			if _, isHS := obj["h"]; isHS {
				var err error
				if h, err = asNumber("color.h", obj["h"]); err != nil {
					return nil, err
				}
				if s, err = asNumber("color.s", obj["s"]); err != nil {
					return nil, err
				}
				if err := inRange("color.h", h, 0, 360); err != nil {
					return nil, err
				}
				if err := inRange("color.s", s, 0, 100); err != nil {
					return nil, err
				}
			} else if _, isRGB := obj["r"]; isRGB {
				var rgb [3]float64
				for i, c := range []string{"r", "g", "b"} {
					x, err := asNumber("color."+c, obj[c])
					if err != nil {
						return nil, err
					}
					if err := inRange("color."+c, x, 0, 255); err != nil {
						return nil, err
					}
					rgb[i] = x
				}
				h, s = rgbToHS(rgb[0], rgb[1], rgb[2])
			} else {
				return nil, reject("color", `expected {"h","s"} or {"r","g","b"}, got %s`, describe(v))
			}
			return cloud.Change{hue.Name: h / 360, sat.Name: s / 100}, nil
		},
	}
}

// rgbToHS converts 0..255 RGB to hue in degrees and saturation in percent.
func rgbToHS(r, g, b float64) (h, s float64) {
	r, g, b = r/255, g/255, b/255
	mx := math.Max(r, math.Max(g, b))
	mn := math.Min(r, math.Min(g, b))
	d := mx - mn
	switch {
	case d == 0:
		h = 0
	case mx == r:
		h = 60 * math.Mod((g-b)/d, 6)
	case mx == g:
		h = 60 * ((b-r)/d + 2)
	default:
		h = 60 * ((r-g)/d + 4)
	}
	if h < 0 {
		h += 360
	}
	if mx > 0 {
		s = d / mx * 100
	}
	return h, s
}

// speedSteps are a fan's speed choices that are real speeds (not "auto"),
// slowest first.
func speedSteps(f cloud.Field) []string {
	var steps []string
	for _, c := range f.Choices {
		if !strings.EqualFold(c, "auto") {
			steps = append(steps, c)
		}
	}
	return steps
}

// percentageKey maps an enum fan speed to Home Assistant's percentage: the
// n-th of N speeds is n/N*100, and 0 turns the fan off.
func percentageKey(d *cloud.Device, f cloud.Field) stateKey {
	on, hasOn := d.Field(cloud.FieldOn)
	steps := speedSteps(f)
	return stateKey{
		name: "percentage", field: f, meta: rangeMeta(0, 100, "%"),
		read: func(d *cloud.Device) (any, bool) {
			if hasOn {
				if b, ok := d.State[on.Name].(bool); ok && !b {
					return 0.0, true
				}
			}
			s, _ := d.State[f.Name].(string)
			i := slices.Index(steps, s)
			if i < 0 || len(steps) == 0 {
				return nil, false
			}
			return math.Round(float64(i+1) / float64(len(steps)) * 100), true
		},
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable("percentage", f); err != nil {
				return nil, err
			}
			p, err := asNumber("percentage", v)
			if err != nil {
				return nil, err
			}
			if err := inRange("percentage", p, 0, 100); err != nil {
				return nil, err
			}
			if p == 0 {
				if !hasOn || !on.Writable {
					return nil, reject("percentage", "this fan cannot be turned off by speed")
				}
				return cloud.Change{on.Name: false}, nil
			}
			if len(steps) == 0 {
				return nil, reject("percentage", "this fan has no speeds")
			}
			i := int(math.Ceil(p/100*float64(len(steps)))) - 1
			c := cloud.Change{f.Name: steps[max(i, 0)]}
			if hasOn && on.Writable {
				c[on.Name] = true
			}
			return c, nil
		},
	}
}

// contactKey publishes "contact" as zigbee2mqtt does: true when closed.
func contactKey(f cloud.Field) stateKey {
	return stateKey{
		name: "contact", field: f, consumed: []string{f.Name}, meta: &FieldInfo{Kind: string(cloud.KindBool)},
		read: func(d *cloud.Device) (any, bool) {
			open, ok := d.State[f.Name].(bool)
			return !open, ok
		},
	}
}

// roundedKey publishes a number rounded for display.
func roundedKey(f cloud.Field, decimals int) stateKey {
	k := plainKey(f.Name, f)
	k.read = func(d *cloud.Device) (any, bool) {
		v, ok := value(d, f.Name)
		x, isNum := cloud.Number(v)
		if !ok || !isNum {
			return v, ok
		}
		return round(x, decimals), true
	}
	return k
}

// plainKey publishes a field as it is and validates commands by the
// field's kind, range and choices.
func plainKey(name string, f cloud.Field) stateKey {
	return stateKey{
		name: name, field: f, consumed: []string{f.Name},
		read: func(d *cloud.Device) (any, bool) { return value(d, f.Name) },
		write: func(d *cloud.Device, v any) (cloud.Change, error) {
			if err := checkWritable(name, f); err != nil {
				return nil, err
			}
			switch f.Kind {
			case cloud.KindBool:
				b, err := asBool(name, v)
				if err != nil {
					return nil, err
				}
				return cloud.Change{f.Name: b}, nil
			case cloud.KindNumber:
				x, err := asNumber(name, v)
				if err != nil {
					return nil, err
				}
				lo, hi := math.Inf(-1), math.Inf(1)
				if f.Min != nil {
					lo = *f.Min
				}
				if f.Max != nil {
					hi = *f.Max
				}
				if err := inRange(name, x, lo, hi); err != nil {
					return nil, err
				}
				if err := onStep(name, x, f); err != nil {
					return nil, err
				}
				return cloud.Change{f.Name: x}, nil
			case cloud.KindEnum:
				c, err := asChoice(name, v, f.Choices)
				if err != nil {
					return nil, err
				}
				return cloud.Change{f.Name: c}, nil
			default:
				s, ok := v.(string)
				if !ok {
					return nil, reject(name, "expected text, got %s", describe(v))
				}
				return cloud.Change{f.Name: s}, nil
			}
		},
	}
}

// onStep rejects a number that is not a whole number of steps from the
// field's minimum, nor from 0 (a minimum converted from °F need not lie on
// the step).
func onStep(name string, x float64, f cloud.Field) error {
	if f.Step <= 0 {
		return nil
	}
	onGrid := func(base float64) bool {
		n := (x - base) / f.Step
		return math.Abs(n-math.Round(n)) <= 1e-6
	}
	base := 0.0
	if f.Min != nil {
		base = *f.Min
	}
	if !onGrid(base) && !onGrid(0) {
		n := (x - base) / f.Step
		return reject(name, "%s is not a valid value: it goes in steps of %s from %s, e.g. %s",
			trimFloat(x), trimFloat(f.Step), trimFloat(base), trimFloat(round(base+math.Round(n)*f.Step, 6)))
	}
	return nil
}
