// Package nodered holds the Node-RED example flow and the test that checks
// it drives cloud2mqtt as the README says.
package nodered

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// node is the part of a Node-RED node the test reads.
type node struct {
	ID, Type, Topic, Payload, Datatype string
	Wires                              [][]string
}

func loadFlow(t *testing.T) map[string]node {
	data, err := os.ReadFile("flow.json")
	if err != nil {
		t.Fatal(err)
	}
	var nodes []node
	if err := json.Unmarshal(data, &nodes); err != nil {
		t.Fatalf("flow.json: %v", err)
	}
	byID := map[string]node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	return byID
}

// TestFlowShowsStateAndToggles plays the flow's MQTT side against a bridge
// over the Wink emulator: the inject → mqtt out path toggles the lamp, and
// the mqtt in topic carries its JSON state.
func TestFlowShowsStateAndToggles(t *testing.T) {
	flow := loadFlow(t)
	in, out, inject := flow["c2m-state-in"], flow["c2m-set-out"], flow["c2m-toggle"]
	if in.Type != "mqtt in" || in.Datatype != "json" || out.Type != "mqtt out" || inject.Type != "inject" {
		t.Fatalf("unexpected flow nodes: %+v %+v %+v", in, out, inject)
	}
	if len(inject.Wires) != 1 || len(inject.Wires[0]) != 1 || inject.Wires[0][0] != out.ID {
		t.Fatalf("the inject node is not wired to the mqtt out node: %v", inject.Wires)
	}

	srv := winktest.NewServer(winktest.Options{})
	t.Cleanup(srv.Close)
	srv.Furnish()
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	prefix := base + "-ha"
	rel := func(topic string) string { return base + strings.TrimPrefix(topic, "cloud2mqtt") }
	rec := mqtttest.NewRecorder(t, url, rel(in.Topic))
	mqtttest.NewClearingRecorder(t, url, prefix+"/#")

	_, refresh := srv.IssueTokens()
	p, err := wink.New(wink.Config{Account: "wink", ClientID: "winktest-client", ClientSecret: "winktest-secret",
		RefreshToken: refresh, APIURL: srv.URL, PubNubOrigin: srv.PubNubOrigin, SubscribeTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	client, err := mqtt.Connect(ctx, mqtt.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bridge.New(client, []cloud.Provider{p}, bridge.Options{Topics: bridge.Topics{Base: base, DiscoveryPrefix: prefix}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = client.Close(context.Background()) })

	// state waits for a state message, after the first `after` ones, that
	// shows want.
	state := func(after int, want string) {
		seen := 0
		rec.Wait(t, 15*time.Second, func(m mqtt.Message) bool {
			seen++
			var s map[string]any
			return seen > after && json.Unmarshal(m.Payload, &s) == nil && s["state"] == want
		})
	}
	state(0, "OFF")
	for _, want := range []string{"ON", "OFF"} {
		before := len(rec.Messages())
		mqtttest.Publish(t, url, rel(out.Topic), []byte(inject.Payload), false)
		state(before, want)
	}
}
