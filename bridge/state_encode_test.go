package bridge

import (
	"encoding/json"
	"testing"
)

// stateSeeds are states as the clouds' devices have them, and the corners
// of JSON a cloud may put in one.
var stateSeeds = []string{
	`{"state":"ON","brightness":254,"color_mode":"color_temp","color_temp":370,"availability":"online"}`,
	`{"locked":true,"battery":80,"alarm_mode":null,"beeper_enabled":false,"availability":"offline"}`,
	`{"temperature":21.5,"humidity":0.43,"co2":1e-7,"big":1e21,"neg":-12.25,"zero":0,"max":1.7976931348623157e308}`,
	`{"colors":["red","<b>"],"nested":{"b":[1,{"c":null}],"a":"&"},"":"empty key","\u2028":"sep"}`,
	`{"text":"µg/m³ °C ü 中文 🙂 \" \\ \/ \b\f\n\r\t \u0000 \u001f","bad":"\ud800"}`,
	`{}`,
}

// TestEncodeStateWritesWhatEncodingJSONWrites: a state's bytes are
// encoding/json's, keys sorted, so a state published before and after
// the bridge's own encoder is the same retained message.
func TestEncodeStateWritesWhatEncodingJSONWrites(t *testing.T) {
	for _, seed := range stateSeeds {
		checkEncodeState(t, []byte(seed))
	}
}

// FuzzEncodeState checks the state encoder against encoding/json for any
// JSON object a cloud may send as a device's state.
func FuzzEncodeState(f *testing.F) {
	for _, seed := range stateSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEncodeState(t, data)
	})
}

func checkEncodeState(t *testing.T, data []byte) {
	t.Helper()
	var state map[string]any
	if err := json.Unmarshal(data, &state); err != nil || state == nil {
		return
	}
	want, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeState(state); string(got) != string(want) {
		t.Errorf("%s:\n got  %s\n want %s", data, got, want)
	}
}
