package jsonobj

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// same checks that Decode gives what json.Unmarshal gives, error or not.
func same(t *testing.T, data []byte) {
	t.Helper()
	got, err := Decode(data)
	var want map[string]any
	wantErr := json.Unmarshal(data, &want)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%q: error %v, json.Unmarshal's %v", data, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %#v, json.Unmarshal gives %#v", data, got, want)
	}
}

func TestDecodeIsUnmarshal(t *testing.T) {
	for _, s := range []string{
		`{}`, ` {"a":1} `, `{"a":-0.5e-3,"b":[1,"x",true,false,null,{"c":[]}],"d":{"e":{}}}`,
		`{"a":1,"a":2}`, `{"k\u00e9":"\n"}`, `{"naïve":"café"}`, "{\"a\":\"\xff\"}", `{"a":1e400}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1,}`, `{"a" 1}`, `{"a":1}}`, `{"a":1} x`, `[1]`, `null`, ``,
		`{"a":tru}`, `{"a":"x`, `{"a":-}`, `{"a":1E+2,"b":2e-2,"c":-0}`, "{\"a\":\"\x01\"}",
		`{"a":"q\"x\\y\/z\b\f\n\r\t"}`, `{"\"k\"":"v"}`, `{"a":"\u00e9\u20AC\u0000\u001f"}`,
		`{"a":"\ud83d\ude00"}`, `{"a":"\ud800"}`, `{"a":"\ude00x"}`, `{"a":"\'"}`, `{"a":"\x"}`,
		`{"a":"\u12"}`, `{"a":"\u12G4"}`, `{"a":"x\`, `{"a":"x\"`, "{\"a\":\"\\n\xff\"}",
		"{\"a\":\"caf\xc3\\u00a9\"}", "{\"a\":\"\\n\x01\"}", "{\"a\":\"\\n\u00e9\"}",
		`{"d":"{\"data\":{\"name\":\"Lamp\",\"last_reading\":{\"brightness\":0.5}}}"}`,
	} {
		same(t, []byte(s))
	}
}

func TestDecodeWinkAnswer(t *testing.T) {
	data, err := os.ReadFile("testdata/light_bulb.json")
	if err != nil {
		t.Fatal(err)
	}
	same(t, data)
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"a":-0.5e-3,"b":[1,"x",true,false,null,{"c":[]}],"d":{"e":{}}}`))
	f.Add([]byte(`{"k\u00e9":"\n","a":1e400}`))
	f.Add([]byte(`{"d":"{\"a\":\"\u00e9\\n\"}","e":"\ud83d\ude00\t"}`))
	f.Fuzz(func(t *testing.T, data []byte) { same(t, data) })
}

func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile("testdata/light_bulb.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jsonobj", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_, _ = Decode(data)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var m map[string]any
			_ = json.Unmarshal(data, &m)
		}
	})
}

// TestEscapesTakeTheFastWay: strings with JSON's escapes (a Wink push is an
// object encoded as a string) are read by the parser itself; a surrogate
// escape is left to encoding/json.
func TestEscapesTakeTheFastWay(t *testing.T) {
	for s, fast := range map[string]bool{
		`{"d":"{\"data\":{\"name\":\"Lamp \u00e9\\\/\n\"}}"}`: true,
		"{\"a\":\"\x01\"}":          false, // a raw control character
		`{"\t":"\u0001"}`:           true,
		`{"a\"b":"\b\f\r\t\u20ac"}`: true,
		`{"a":"\ud83d\ude00"}`:      false,
		`{"a":"\q"}`:                false,
		"{\"a\":\"\\n\xff\"}":       false, // invalid UTF-8
	} {
		p := parser{data: []byte(s)}
		if _, ok := p.object(); ok != fast {
			t.Errorf("%s: read by the parser %v, want %v", s, ok, fast)
		}
		same(t, []byte(s))
	}
}
