package mqtt_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// collect subscribes c to filter and returns the channel of its messages.
func collect(t *testing.T, c *mqtt.Client, filter string) <-chan mqtt.Message {
	t.Helper()
	got := make(chan mqtt.Message, 64)
	if err := c.Subscribe(ctxT(t), filter, func(m mqtt.Message) { got <- m }); err != nil {
		t.Fatalf("Subscribe %s: %v", filter, err)
	}
	return got
}

// publishQoS1 publishes with a client of its own, which the broker
// acknowledges (QoS 1) before it returns.
func publishQoS1(t *testing.T, url, topic string, payloads ...string) {
	t.Helper()
	pub := connect(t, url, mqtttest.BaseTopic(t), nil)
	for _, p := range payloads {
		if err := pub.Publish(ctxT(t), topic, []byte(p), false); err != nil {
			t.Fatalf("Publish %s: %v", topic, err)
		}
	}
}

func TestCommandsSentWhileAwayAreHandedOverOnReturn(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	id := mqtttest.SessionClientID(t, url)
	withID := func(o *mqtt.Options) { o.ClientID = id }

	first := connect(t, url, base, withID)
	collect(t, first, base+"/+/set")
	if err := first.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	publishQoS1(t, url, base+"/lamp/set", "1", "2", "3")

	// As at a process start: connect, then subscribe.
	second := connect(t, url, base, withID)
	got := collect(t, second, base+"/+/set")
	for _, want := range []string{"1", "2", "3"} {
		expect(t, got, base+"/lamp/set", want)
	}
}

func TestRandomClientIDHasCleanSession(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	first := connect(t, url, base, nil)
	collect(t, first, base+"/+/set")
	if err := first.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	publishQoS1(t, url, base+"/lamp/set", "while away")

	second := connect(t, url, base, nil)
	got := collect(t, second, base+"/+/set")
	publishQoS1(t, url, base+"/lamp/set", "now")
	expect(t, got, base+"/lamp/set", "now")
}

func TestQueuedCommandsSurviveBrokerRestart(t *testing.T) {
	b := mqtttest.StartOwnBroker(t)
	if !b.Persistent() {
		t.Skip("needs mosquitto for a broker with persistence")
	}
	base := mqtttest.BaseTopic(t)
	withID := func(o *mqtt.Options) { o.ClientID = "c2mtest-restart" }

	first := connect(t, b.URL(), base, withID)
	collect(t, first, base+"/+/set")
	if err := first.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	publishQoS1(t, b.URL(), base+"/lamp/set", "queued")
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	second := connect(t, b.URL(), base, withID)
	got := collect(t, second, base+"/+/set")
	expect(t, got, base+"/lamp/set", "queued")
}

func TestSubscribedAgainAfterEveryRestart(t *testing.T) {
	b := mqtttest.StartOwnBroker(t)
	base := mqtttest.BaseTopic(t)
	connected := make(chan struct{}, 16)
	c := connect(t, b.URL(), base, func(o *mqtt.Options) {
		o.ClientID = "c2mtest-again"
		o.OnConnect = func(context.Context) { connected <- struct{}{} }
	})
	<-connected
	got := collect(t, c, base+"/+/set")
	for i := range 5 {
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-connected:
		case <-time.After(wait):
			t.Fatalf("restart %d: no reconnect within %s", i+1, wait)
		}
		want := fmt.Sprint("after restart ", i+1)
		publishQoS1(t, b.URL(), base+"/lamp/set", want)
		expect(t, got, base+"/lamp/set", want)
	}
}
