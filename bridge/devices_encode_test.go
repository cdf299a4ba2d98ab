package bridge

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"
)

// sameAsMarshal fails unless encodeDevices writes what json.Marshal writes
// for ds, or fails where it fails.
func sameAsMarshal(t *testing.T, ds []DeviceInfo) {
	t.Helper()
	got, err := encodeDevices(ds)
	want, wantErr := json.Marshal(ds)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("error %v, json.Marshal's %v", err, wantErr)
	}
	if string(got) != string(want) {
		t.Fatalf("encodeDevices wrote\n%s\njson.Marshal writes\n%s", got, want)
	}
}

func TestDevicesEncodeAsEncodingJSONWrites(t *testing.T) {
	lo, hi, tiny, huge := 0.0, 255.0, 1e-7, -1e21
	at := time.Date(2026, 12, 3, 9, 30, 1, 500, time.FixedZone("CET", 3600))
	utc := time.Unix(1796166487, 0).UTC()
	sameAsMarshal(t, nil)
	sameAsMarshal(t, []DeviceInfo{})
	sameAsMarshal(t, []DeviceInfo{
		{Account: "wink", ID: "light_bulb-1", Name: "Bedroom <lamp> & \"co\"", Type: "light", CloudType: "light_bulb",
			Topic: "cloud2mqtt/wink/bedroom_lamp", Manufacturer: "GE", Model: "Link", Available: true,
			Fields: []FieldInfo{
				{Name: "brightness", Kind: "number", Writable: true, Min: &lo, Max: &hi, Unit: "%"},
				{Name: "mode", Kind: "enum", Choices: []string{"a", "b\u2028", "\xff"}},
				{Name: "empty", Kind: "enum", Choices: []string{}},
				{Name: "small", Kind: "number", Min: &tiny, Max: &huge},
			},
			Discovery: "c2m_wink_light_bulb_1", Hub: "hub-1", Area: "Bedroom", UpdatedAt: &at},
		{Account: "homey", ID: "x", Name: "naïve\tcafé\x01", Fields: []FieldInfo{}, UpdatedAt: &utc},
		{},
	})
}

func TestDevicesEncodeFailsWhereEncodingJSONFails(t *testing.T) {
	nan, late := math.NaN(), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []DeviceInfo{
		{Fields: []FieldInfo{{Name: "x", Max: &nan}}},
		{UpdatedAt: &late},
	} {
		if _, err := encodeDevices([]DeviceInfo{{ID: "ok"}, d}); err == nil {
			t.Errorf("%+v: no error, json.Marshal has one", d)
		}
	}
}

func FuzzEncodeDevices(f *testing.F) {
	f.Add("wink", "Lamp <1>", "light", "%", "a\u2028b", 0.5, int64(1796166487), true)
	f.Add("", "\xff\x01", "", "", "", math.Inf(1), int64(-1), false)
	f.Fuzz(func(t *testing.T, account, name, kind, unit, choice string, bound float64, unix int64, writable bool) {
		at := time.Unix(unix, 0).In(time.FixedZone("", int(unix%50000)))
		d := DeviceInfo{Account: account, ID: name + "-1", Name: name, Type: kind, CloudType: kind, Topic: account + "/" + name,
			Manufacturer: unit, Model: choice, Available: writable, Discovery: name, Hub: choice, Area: unit, UpdatedAt: &at,
			Fields: []FieldInfo{{Name: name, Kind: kind, Writable: writable, Min: &bound, Unit: unit, Choices: []string{choice, name}},
				{Name: choice}}}
		sameAsMarshal(t, []DeviceInfo{d, {Name: choice}})
	})
}

// BenchmarkEncodeDevices writes a bridge/devices list of 10,000 lights,
// beside json.Marshal.
func BenchmarkEncodeDevices(b *testing.B) {
	lo, hi := 0.0, 100.0
	at := time.Unix(1796166487, 0).UTC()
	ds := make([]DeviceInfo, 10000)
	for i := range ds {
		ds[i] = DeviceInfo{Account: "wink", ID: "light_bulb-" + strconv.Itoa(i), Name: "Lamp " + strconv.Itoa(i), Type: "light",
			CloudType: "light_bulb", Topic: "cloud2mqtt/wink/lamp_" + strconv.Itoa(i), Manufacturer: "ge", Model: "link",
			Available: true, Discovery: "c2m_wink_light_bulb_" + strconv.Itoa(i), Hub: "hub-1", UpdatedAt: &at,
			Fields: []FieldInfo{{Name: "state", Kind: "enum", Writable: true, Choices: []string{"ON", "OFF"}},
				{Name: "brightness", Kind: "number", Writable: true, Min: &lo, Max: &hi, Unit: "%"},
				{Name: "connection", Kind: "binary"}}}
	}
	b.Run("encodeDevices", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_, _ = encodeDevices(ds)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_, _ = json.Marshal(ds)
		}
	})
}
