package wink

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	pubnub "github.com/pubnub/go/v7"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/cloudtest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/outage"
)

// FuzzPushPayload feeds PubNub messages (as the SDK hands them over: a
// JSON text or a decoded object) to the watcher: no panic, and every
// device it reports has an id.
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
		var msg any = string(payload)
		if !asText {
			if json.Unmarshal(payload, &msg) != nil {
				return
			}
		}
		report := func(ev cloud.Event) {
			if ev.Kind == cloud.EventDevice && ev.Device.ID == "" {
				t.Fatalf("reported a device without an id from %q", payload)
			}
		}
		w := &watcher{c: c, report: report, health: &outage.Tracker{Cloud: "Wink", Report: report},
			lastTT: map[string]int64{}, userCh: "user-1"}
		w.onMessage(context.Background(), pubnub.PNMessage{Message: msg, Channel: channel, Timetoken: 1})
	})
}
