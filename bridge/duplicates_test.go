package bridge

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// The quick key comparison never clears a payload in which the decoder
// finds a repeated key.
func TestRepeatsKeyMissesNoDuplicate(t *testing.T) {
	for _, payload := range []string{
		`{"brightness":12}`,
		`{"a":1,"a":2}`,
		`{"a":1,"b":{"a":1,"c":[{"x":1},{"x":2}]}}`,
		`{"a":1,"b":{"c":1,"c":2}}`,
		`{"a":[{"x":1,"x":2}]}`,
		`{"a":"}{\"a\"","b":[],"c":{}}`,
		`{"\u0061":1,"a":2}`,
		`{"a\"":1,"a":2}`,
		`{"a":{"b":1},"a":{"b":1}}`,
		`{"s":"x,\"a\":1","a":1}`,
		`[{"a":1},{"a":1}]`,
		` { "a" : 1 , "b" : 2 , "a" : 3 } `,
		"{\"\xba\xba\xe8\":11,\"\xba\xba\xba\":22}", // both decode to three U+FFFD
	} {
		data := []byte(payload)
		if !json.Valid(data) {
			t.Fatalf("%s is not valid JSON", payload)
		}
		_, found, _ := scanDuplicates(json.NewDecoder(bytes.NewReader(data)), "")
		if found && !repeatsKey(data) {
			t.Errorf("%s: the decoder finds a repeated key, repeatsKey does not", payload)
		}
		if !found && repeatsKey(data) && !bytes.Contains(data, []byte(`\`)) && utf8.Valid(data) {
			t.Errorf("%s: repeatsKey sees a repeated key the decoder does not", payload)
		}
	}
}

// FuzzRepeatsKey checks the same on any valid JSON.
func FuzzRepeatsKey(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"a":[{"c":1,"c":2}]}}`))
	f.Add([]byte(`{"\u0062":1,"b":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		_, found, _ := scanDuplicates(json.NewDecoder(bytes.NewReader(data)), "")
		if found && !repeatsKey(data) {
			t.Errorf("%q: the decoder finds a repeated key, repeatsKey does not", data)
		}
	})
}
