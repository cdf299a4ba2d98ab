package wink

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// checkCapFields holds capFieldOf to encoding/json's reading of every
// capabilities entry of obj.
func checkCapFields(t *testing.T, obj []byte) {
	t.Helper()
	var m map[string]any
	if json.Unmarshal(obj, &m) != nil {
		return
	}
	caps, _ := m["capabilities"].(map[string]any)
	for _, list := range []string{"fields", "sensor_types"} {
		entries, _ := caps[list].([]any)
		for _, e := range entries {
			got, gotOK := capFieldOf(e)
			want, wantOK := capFieldJSON(e)
			if gotOK != wantOK || gotOK && !reflect.DeepEqual(got, want) {
				t.Fatalf("capabilities entry %v: read %+v, %v; encoding/json reads %+v, %v", e, got, gotOK, want, wantOK)
			}
		}
	}
}

// FuzzDecode decodes Wink device objects: no panic, and a decoded device
// has an id and only fields with names.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"object_type":"light_bulb","object_id":"1","desired_state":{"brightness":-0},"last_reading":{"brightness":1e-320}}`))
	f.Add([]byte(`{"capabilities":{"fields":[{"field":"powered","Type":"boolean"},{"FIELD":"x","field":"y"},{"field":3},{"field":"a","choices":"on"},null,[1]]}}`))
	f.Fuzz(func(t *testing.T, obj []byte) {
		checkCapFields(t, obj)
		ds, err := decodeAll(json.RawMessage(obj))
		if err != nil {
			return
		}
		// No device and no error is an object Wink lists but the bridge
		// does not publish (a relay that drives no load, an empty group).
		for _, d := range ds {
			if d.dev.ID == "" {
				t.Fatalf("decoded a device without an id from %q", obj)
			}
			for _, fl := range d.dev.Fields {
				if fl.Name == "" {
					t.Fatalf("decoded a field without a name from %q", obj)
				}
			}
		}
	})
}

// TestCapFieldOfReadsAsEncodingJSON: the capabilities entries of every
// recorded object, and odd ones, read as encoding/json reads them.
func TestCapFieldOfReadsAsEncodingJSON(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkCapFields(t, b)
	}
	checkCapFields(t, []byte(`{"capabilities":{"fields":[
		{"field":"powered","type":"boolean","mutability":"read-write"},
		{"field":"mode","choices":["a","b",1,null],"range":[0,1]},
		{"field":"x","Type":"boolean"}, {"FIELD":"x","field":"y"}, {"Field":"z"},
		{"field":3}, {"field":""}, {"field":null}, {"field":"a","choices":"on"}, {"field":"a","range":{"lo":1}},
		{"field":"a","type":["t"]}, {"field":"a","other":{"x":1}}, null, [1], "field", 4
	], "sensor_types":[{"field":"temperature","type":"float"},{"field":"t","mutability":false}]}}`))
}
