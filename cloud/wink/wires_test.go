package wink

import (
	"reflect"
	"testing"
)

// Devices whose fields map to Wink the same way share one wire map; any
// difference (a key, a conversion, a top-level key, a mode) keeps them
// apart.
func TestWireCacheSharesEqualMapsOnly(t *testing.T) {
	base := func() map[string]wireField {
		return map[string]wireField{
			"on":         {key: "powered"},
			"brightness": {key: "brightness", conv: convLevel},
			"mode":       {key: "mode", conv: convMode, modes: map[string]string{"cool_only": "cool", "heat_only": "heat"}},
		}
	}
	var c wireCache
	first := c.shared(base())
	if again := c.shared(base()); !sameMap(again, first) {
		t.Error("an equal wire map is not shared")
	}
	for name, change := range map[string]func(map[string]wireField){
		"key":   func(w map[string]wireField) { w["on"] = wireField{key: "on"} },
		"conv":  func(w map[string]wireField) { w["brightness"] = wireField{key: "brightness"} },
		"top":   func(w map[string]wireField) { w["on"] = wireField{key: "powered", top: true} },
		"mode":  func(w map[string]wireField) { w["mode"].modes["auto"] = "auto" },
		"field": func(w map[string]wireField) { w["speed"] = wireField{key: "speed"} },
		"fewer": func(w map[string]wireField) { delete(w, "on") },
	} {
		w := base()
		change(w)
		if got := c.shared(w); sameMap(got, first) {
			t.Errorf("a wire map with another %s is given the first one", name)
		}
	}
}

// sameMap tells whether x and y are one map.
func sameMap(x, y map[string]wireField) bool {
	return reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer()
}
