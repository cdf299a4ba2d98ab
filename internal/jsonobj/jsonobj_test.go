package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"unsafe"
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

// listing is a Wink listing of n copies of the light bulb, in the
// envelope the cloud sends.
func listing(t testing.TB, n int) []byte {
	t.Helper()
	obj, err := os.ReadFile("testdata/light_bulb.json")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(bytes.TrimSpace(obj))
	}
	b.WriteString(`],"errors":[]}`)
	return b.Bytes()
}

// A listing (large enough for its keys to be interned) decodes as
// json.Unmarshal decodes it, escaped and non-ASCII keys included, and its
// objects share their keys' strings.
func TestDecodeListingIsUnmarshal(t *testing.T) {
	data := listing(t, 40)
	if len(data) < internFrom {
		t.Fatalf("the listing has %d bytes, under the %d of interned keys", len(data), internFrom)
	}
	same(t, data)
	odd := append(bytes.Clone(bytes.TrimSuffix(data, []byte(`],"errors":[]}`))),
		[]byte(`,{"k\u00e9":1,"naïve":2,"a\"b":3,"name":4}],"errors":[]}`)...)
	same(t, odd)
	// More distinct keys than are kept.
	var many strings.Builder
	many.WriteString(`{"pad":"` + strings.Repeat("x", internFrom) + `"`)
	for i := range maxKeys + 10 {
		many.WriteString(`,"k` + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + `_` + strings.Repeat("z", i/26) + `":1`)
	}
	many.WriteString(`}`)
	same(t, []byte(many.String()))
	// More distinct short values than are shared, and values that are not
	// shared: long, escaped, non-ASCII.
	var values strings.Builder
	values.WriteString(`{"pad":"` + strings.Repeat("x", internFrom) + `","v":[`)
	for i := range maxShared + 10 {
		fmt.Fprintf(&values, `"s%d",%d.5,"s%d",%d.5,`, i, i, i%50, i%50)
	}
	values.WriteString(`"` + strings.Repeat("l", sharedLen+1) + `","a\nb","é","",-0,1e3,1E3]}`)
	same(t, []byte(values.String()))

	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	list := m["data"].([]any)
	k0, k1 := keyOf(list[0].(map[string]any), "last_reading"), keyOf(list[1].(map[string]any), "last_reading")
	if k0 == "" || unsafeData(k0) != unsafeData(k1) {
		t.Error("two objects of a listing do not share their key's string")
	}
	v0, _ := list[0].(map[string]any)["object_type"].(string)
	v1, _ := list[1].(map[string]any)["object_type"].(string)
	if v0 == "" || unsafeData(v0) != unsafeData(v1) {
		t.Error("two objects of a listing do not share the string of a value they both spell")
	}
}

func keyOf(m map[string]any, want string) string {
	for k := range m {
		if k == want {
			return k
		}
	}
	return ""
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"a":-0.5e-3,"b":[1,"x",true,false,null,{"c":[]}],"d":{"e":{}}}`))
	f.Add([]byte(`{"k\u00e9":"\n","a":1e400}`))
	f.Add([]byte(`{"d":"{\"a\":\"\u00e9\\n\"}","e":"\ud83d\ude00\t"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		same(t, data)
		// The same document read as a listing is, keys interned.
		got, err := decode(data, true)
		want, wantErr := decode(data, false)
		if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: interned keys give %#v (%v), else %#v (%v)", data, got, err, want, wantErr)
		}
	})
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

// BenchmarkDecodeListing decodes a listing of 1,000 light bulbs.
func BenchmarkDecodeListing(b *testing.B) {
	data := listing(b, 1000)
	b.Run("jsonobj", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for range b.N {
			_, _ = Decode(data)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
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

// A Keys decodes as Decode does, and the second answer of a cloud shares
// the keys' strings of the first; decodes that run at once all succeed.
func TestKeysShareStringsAcrossDocuments(t *testing.T) {
	data, err := os.ReadFile("testdata/light_bulb.json")
	if err != nil {
		t.Fatal(err)
	}
	var k Keys
	first, err := k.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	second, err := k.Decode(bytes.Clone(data))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Decode(data)
	if !reflect.DeepEqual(second, want) {
		t.Fatalf("Keys.Decode gives %#v, Decode %#v", second, want)
	}
	if unsafeData(keyOf(first, "last_reading")) != unsafeData(keyOf(second, "last_reading")) {
		t.Error("two answers decoded with one Keys do not share their key's string")
	}
	for _, s := range []string{`{"a":1,"a":2}`, `{"k\u00e9":"\n"}`, `{"a":1,}`, `[1]`, ``} {
		got, err := k.Decode([]byte(s))
		want, wantErr := Decode([]byte(s))
		if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v (%v), Decode gives %#v (%v)", s, got, err, want, wantErr)
		}
	}
	done := make(chan error)
	for range 4 {
		go func() {
			m, err := k.Decode(data)
			if err == nil && !reflect.DeepEqual(m, want) {
				err = errors.New("a concurrent decode differs")
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
