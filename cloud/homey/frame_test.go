package homey

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// The frame of a call is what encoding/json made of it, for plain values
// and for those it escapes, prints with an exponent or refuses.
func TestCallFrameIsMarshal(t *testing.T) {
	values := []any{nil, true, false, "", "dim", "a\"b", `back\slash`, "<b>&amp;", "é", "\u2028", "tab\t", "\x7f", string([]byte{0xff}),
		0.0, math.Copysign(0, -1), 1.0, -0.47, 0.5, 1e-6, 1e-7, 123456789.125, 1e20, 1e21, -3e-9, 42, -7, int64(1) << 53,
		float32(0.1), uint8(3), []any{1.0, "x"}, map[string]any{"z": 1.0, "a": []string{"b"}}, json.Number("12")}
	for i, v := range values {
		args := map[string]any{"deviceId": "8d4d0c5c-2ef1", "capabilityId": "dim", "value": v, "transactionId": "tx-" + strconv.Itoa(i)}
		for _, nsp := range []string{"", "/api"} {
			got, err := appendCallFrame(nil, nsp, i, "homey:manager:devices", "setCapabilityValue", args)
			want, wantErr := json.Marshal([]any{"api", map[string]any{"uri": "homey:manager:devices", "operation": "setCapabilityValue", "args": args}})
			if err != nil || wantErr != nil {
				t.Fatalf("%#v: %v, encoding/json %v", v, err, wantErr)
			}
			if w := "42" + nsp + "," + strconv.Itoa(i) + string(want); string(got) != w {
				t.Errorf("%#v: frame %s, want %s", v, got, w)
			}
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), make(chan int)} {
		if _, err := appendCallFrame(nil, "", 1, "u", "op", map[string]any{"value": v}); err == nil {
			t.Errorf("%v: no error, as encoding/json gives", v)
		}
	}
	got, _ := appendCallFrame(nil, "", 1, "u", "op", nil)
	want, _ := json.Marshal([]any{"api", map[string]any{"uri": "u", "operation": "op", "args": map[string]any(nil)}})
	if string(got) != "42,1"+string(want) {
		t.Errorf("no args: %s, want 42,1%s", got, want)
	}
}

// BenchmarkCallFrame encodes the frame of one capability write.
func BenchmarkCallFrame(b *testing.B) {
	args := map[string]any{"deviceId": "8d4d0c5c-2ef1-4a1c-9b2a-0d8e0f1c2a3b", "capabilityId": "dim", "value": 0.47, "transactionId": "cloud2mqtt-12345-abcdef"}
	b.Run("appendCallFrame", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for range b.N {
			buf, _ = appendCallFrame(buf[:0], "/api", 7, "homey:manager:devices", "setCapabilityValue", args)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			m, _ := json.Marshal([]any{"api", map[string]any{"uri": "homey:manager:devices", "operation": "setCapabilityValue", "args": args}})
			_ = "42/api," + strconv.Itoa(7) + string(m)
		}
	})
}
