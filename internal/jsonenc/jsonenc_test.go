package jsonenc

import (
	"encoding/json"
	"math"
	"testing"
)

// FuzzAppendString checks the string encoder against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "<>&", "\x00\x1f", "\u2028", "\xff", "é", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

// AppendFloat writes what encoding/json writes for a finite float64, in
// both of its forms.
func TestAppendFloatIsMarshal(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -0.47, 0.1, 1e-6, 1e-7, 2.5e-9, 123456789.125, 1e20, 1e21, -3e-9,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1e100} {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f); string(got) != string(want) {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

// SortedKeys gives a map's keys in encoding/json's order, whether or not
// they fit the buffer.
func TestSortedKeys(t *testing.T) {
	m := map[string]int{"b": 1, "a": 2, "c": 3, "aa": 4}
	for _, size := range []int{0, 2, 8} {
		got := SortedKeys(make([]string, size), m)
		if len(got) != 4 || got[0] != "a" || got[1] != "aa" || got[2] != "b" || got[3] != "c" {
			t.Errorf("buffer of %d: %v", size, got)
		}
	}
}

// AppendObject writes a map's members as encoding/json does: keys sorted
// and escaped, more of them than its buffer holds included.
func TestAppendObjectIsMarshal(t *testing.T) {
	m := map[string]float64{"<b>": 1, "a": 0.5, "é": -2}
	for i := range 20 {
		m[string(rune('z'-i))+"k"] = float64(i)
	}
	want, _ := json.Marshal(m)
	got := AppendObject(nil, m, AppendFloat)
	if string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := AppendObject([]byte("x"), map[string]float64{}, AppendFloat); string(got) != "x{}" {
		t.Errorf("an empty map after x: %s", got)
	}
}

// AppendScalar writes the values it takes as encoding/json does and leaves
// the others, refused ones included, to its caller.
func TestAppendScalar(t *testing.T) {
	for _, v := range []any{nil, true, "a<b", 3, int64(-1) << 60, 0.25, 1e-9} {
		want, _ := json.Marshal(v)
		if got, ok := AppendScalar(nil, v); !ok || string(got) != string(want) {
			t.Errorf("%#v: %s %v, want %s", v, got, ok, want)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(-1), float32(1), uint(2), []string{}, map[string]any{}} {
		if got, ok := AppendScalar([]byte("x"), v); ok || string(got) != "x" {
			t.Errorf("%#v: %s %v, want it left", v, got, ok)
		}
	}
}
