package bridge

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonenc"
)

// encodeDevices writes the bridge/devices list as json.Marshal writes it,
// without its reflection and buffer copies: with 10,000 devices the list is
// megabytes, and it is written once at start and after every change. A
// list json.Marshal would refuse (a NaN bound, a time it cannot write) goes
// to json.Marshal, for its error.
func encodeDevices(ds []DeviceInfo) ([]byte, error) {
	if ds == nil {
		return []byte("null"), nil
	}
	size := 2
	for i := range ds {
		size += 256 + 96*len(ds[i].Fields)
	}
	b := make([]byte, 0, size)
	b = append(b, '[')
	for i := range ds {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendDeviceInfo(b, &ds[i]); !ok {
			return json.Marshal(ds)
		}
	}
	return append(b, ']'), nil
}

// appendDeviceInfo appends d with DeviceInfo's JSON tags; false when
// json.Marshal would fail on it.
func appendDeviceInfo(b []byte, d *DeviceInfo) ([]byte, bool) {
	b = append(b, `{"account":`...)
	b = jsonenc.AppendString(b, d.Account)
	b = append(b, `,"id":`...)
	b = jsonenc.AppendString(b, d.ID)
	b = append(b, `,"name":`...)
	b = jsonenc.AppendString(b, d.Name)
	b = append(b, `,"type":`...)
	b = jsonenc.AppendString(b, d.Type)
	b = append(b, `,"cloud_type":`...)
	b = jsonenc.AppendString(b, d.CloudType)
	b = append(b, `,"topic":`...)
	b = jsonenc.AppendString(b, d.Topic)
	b = appendOmitEmpty(b, "manufacturer", d.Manufacturer)
	b = appendOmitEmpty(b, "model", d.Model)
	b = append(b, `,"available":`...)
	b = strconv.AppendBool(b, d.Available)
	b = append(b, `,"fields":`...)
	if d.Fields == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendFieldInfo(b, &d.Fields[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"discovery_id":`...)
	b = jsonenc.AppendString(b, d.Discovery)
	b = appendOmitEmpty(b, "hub_id", d.Hub)
	b = appendOmitEmpty(b, "area", d.Area)
	if d.UpdatedAt != nil {
		// Time.MarshalJSON's text, written in place.
		b = append(b, `,"updated_at":"`...)
		var err error
		if b, err = d.UpdatedAt.AppendText(b); err != nil {
			return b, false
		}
		b = append(b, '"')
	}
	return append(b, '}'), true
}

// appendFieldInfo appends f with FieldInfo's JSON tags; false when
// json.Marshal would fail on it.
func appendFieldInfo(b []byte, f *FieldInfo) ([]byte, bool) {
	b = append(b, `{"name":`...)
	b = jsonenc.AppendString(b, f.Name)
	b = append(b, `,"kind":`...)
	b = jsonenc.AppendString(b, f.Kind)
	b = append(b, `,"writable":`...)
	b = strconv.AppendBool(b, f.Writable)
	var ok bool
	if b, ok = appendBound(b, `,"min":`, f.Min); !ok {
		return b, false
	}
	if b, ok = appendBound(b, `,"max":`, f.Max); !ok {
		return b, false
	}
	b = appendOmitEmpty(b, "unit", f.Unit)
	if len(f.Choices) > 0 {
		b = append(b, `,"choices":`...)
		b = appendArray(b, f.Choices, jsonenc.AppendString)
	}
	return append(b, '}'), true
}

// appendBound appends key and *v unless v is nil (omitempty); false for a
// NaN or ±Inf, which json.Marshal refuses.
func appendBound(b []byte, key string, v *float64) ([]byte, bool) {
	if v == nil {
		return b, true
	}
	if math.IsNaN(*v) || math.IsInf(*v, 0) {
		return b, false
	}
	return jsonenc.AppendFloat(append(b, key...), *v), true
}

// appendOmitEmpty appends ,"key":s unless s is empty (omitempty).
func appendOmitEmpty(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return jsonenc.AppendString(b, s)
}
