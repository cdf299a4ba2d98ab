package homey

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode decodes Homey device objects: no panic, and a decoded device
// has the object's id.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"id":"x","capabilitiesObj":{"dim":{"value":-0,"min":0,"max":1e-320}}}`))
	zones := map[string]string{"z": "Kitchen"}
	f.Fuzz(func(t *testing.T, obj []byte) {
		d, err := decodeJSON(json.RawMessage(obj), zones)
		if err != nil {
			return
		}
		if d.dev.ID == "" {
			t.Fatalf("decoded a device without an id from %q", obj)
		}
	})
}
