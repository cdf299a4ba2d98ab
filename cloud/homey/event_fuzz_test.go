package homey

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

// FuzzSocketEvent feeds realtime socket events (the uri, event name and
// data of a "42/realtime,…" frame) to the watcher: no panic, and every
// device it reports has an id.
func FuzzSocketEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	var known []decoded
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f.Add(devicePrefix+"x", "update", b)
		f.Add("homey:manager:devices", "device.update", b)
		if d, err := decodeJSON(b, nil); err == nil {
			known = append(known, d)
			f.Add(devicePrefix+d.dev.ID, "capability", []byte(`{"capabilityId":"onoff","value":true,"transactionId":"t"}`))
		}
	}
	f.Add("homey:manager:devices", "device.delete", []byte(`{"id":"x"}`))
	f.Add(devicePrefix+"x", "capability", []byte(`{"capabilityId":"dim","value":"-0"}`))
	c, err := New(Config{Account: "fuzz", Address: "http://192.0.2.1", APIKey: "k", HTTPClient: &http.Client{Transport: cloudtest.NotFound{}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range known {
		c.remember(d)
	}
	f.Fuzz(func(t *testing.T, uri, event string, data []byte) {
		report := func(ev cloud.Event) {
			if ev.Kind == cloud.EventDevice && ev.Device.ID == "" {
				t.Fatalf("reported a device without an id from %s %s %q", uri, event, data)
			}
		}
		w := &watcher{c: c, report: report, health: &outage.Tracker{Cloud: "Homey", Report: report}}
		w.onEvent(context.Background(), sockEvent{uri: uri, event: event, data: json.RawMessage(data)})
	})
}
