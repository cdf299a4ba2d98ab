package wink

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/cloudtest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/outage"
)

// FuzzPushPayload feeds PubNub messages (a JSON text or an object, inside
// a subscribe answer) to the watcher: no panic, and every device it reports
// has an id. The payload is also read as a whole subscribe answer.
func FuzzPushPayload(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, true, "light_bulb-1")
			f.Add(b, false, "user-1")
		}
	}
	f.Add([]byte(`{"data":"{\"object_type\":\"lock\",\"object_id\":\"9\",\"last_reading\":{\"locked\":true}}"}`), true, "lock-9")
	f.Add([]byte(`{"pull_url":"https://api.wink.com/light_bulbs/1"}`), false, "light_bulb-1")
	f.Add([]byte(`{"data":[1,2]}`), false, "user-1")
	c, err := New(Config{Account: "fuzz", ClientID: "c", ClientSecret: "s", RefreshToken: "r",
		APIURL: "https://api.wink.com", HTTPClient: &http.Client{Transport: cloudtest.NotFound{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte, asText bool, channel string) {
		_, _ = decodeSubscribe(payload)
		d := payload
		if asText {
			d, _ = json.Marshal(string(payload))
		} else if !json.Valid(payload) {
			return
		}
		ch, _ := json.Marshal(channel)
		answer := `{"t":{"t":"2","r":1},"m":[{"c":` + string(ch) + `,"p":{"t":"1"},"d":` + string(d) + `}]}`
		a, err := decodeSubscribe([]byte(answer))
		if err != nil {
			t.Fatalf("answer %s: %v", answer, err)
		}
		msgs := a.msgs
		report := func(ev cloud.Event) {
			if ev.Kind == cloud.EventDevice && ev.Device.ID == "" {
				t.Fatalf("reported a device without an id from %q", payload)
			}
		}
		w := &watcher{c: c, report: report, health: &outage.Tracker{Cloud: "Wink", Report: report},
			lastTT: map[string]int64{}, userCh: "user-1"}
		for _, m := range msgs {
			w.onMessage(context.Background(), m)
		}
	})
}
