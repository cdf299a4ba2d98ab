package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/cloudtest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// A cloud registered with one call is configured, bridged, listed in
// bridge/devices, announced to Home Assistant and commanded, with no other
// file knowing of it.
func TestARegisteredCloudIsBridgedWithNoOtherChange(t *testing.T) {
	dir := inEmptyDir(t)
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	cfg := "state_dir: " + filepath.Join(dir, "state") + "\nweb: {listen: \"off\"}\nmqtt:\n  url: " + url +
		"\n  base_topic: " + base + "\n  discovery_prefix: " + base + "-ha\naccounts:\n  - {name: attic, cloud: memory, lamps: 2}\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	registry := clouds()
	cloudtest.RegisterMemory(registry)

	rec := mqtttest.NewRecorder(t, url, base+"/#")
	disc := mqtttest.NewClearingRecorder(t, url, base+"-ha/#")
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- executeWith(ctx, []string{"run"}, stdout, stderr, registry, nil) }()
	t.Cleanup(func() { cancel(); <-done })

	rec.Wait(t, wait, func(m mqtt.Message) bool {
		if m.Topic != base+"/bridge/devices" {
			return false
		}
		var devices []map[string]any
		if json.Unmarshal(m.Payload, &devices) != nil || len(devices) != 3 {
			return false
		}
		for _, d := range devices {
			if d["account"] == "attic" && d["topic"] == base+"/attic/lamp_1" {
				return true
			}
		}
		return false
	})
	disc.Wait(t, wait, func(m mqtt.Message) bool {
		return strings.HasPrefix(m.Topic, base+"-ha/device/") && strings.Contains(string(m.Payload), base+"/attic/lamp_2")
	})
	mqtttest.Publish(t, url, base+"/attic/lamp_2/set", []byte(`{"state":"ON","brightness":128}`), false)
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/attic/lamp_2" && strings.Contains(string(m.Payload), `"state":"ON"`) &&
			strings.Contains(string(m.Payload), `"brightness":128`)
	})

	// A cloud that is not registered is named with those that are.
	if code := executeWith(context.Background(), []string{"devices"}, stdout, stderr, clouds(), nil); code == 0 ||
		!strings.Contains(stderr.String(), `accounts[0].cloud: "memory" is not supported: use one of "homey", "wink"`) {
		t.Errorf("devices with an unregistered cloud exited %d:\n%s", code, stderr.String())
	}
}
