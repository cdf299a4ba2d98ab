package wink

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

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
	f.Fuzz(func(t *testing.T, obj []byte) {
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
