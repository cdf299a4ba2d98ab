package broker_test

import (
	"fmt"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt/broker"
)

// Messages queued for a persistent session while its client is away reach
// it, once back, in the order they were published.
func TestQueuedMessagesKeepTheirOrder(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan string, 200)
	connect := func(id string, clean bool) paho.Client {
		t.Helper()
		o := paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetCleanSession(clean).
			SetAutoReconnect(false).SetOrderMatters(true).
			SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
		c := paho.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect %s: %v", id, tok.Error())
		}
		return c
	}
	away := connect("away", false)
	if tok := away.Subscribe("lamp/set", 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	away.Disconnect(250)

	// A sentinel's message, published after the others by the same client,
	// arrives once the broker has queued them all: it hands one client's
	// messages on in order (its acknowledgement comes before that).
	sentinel := make(chan struct{}, 1)
	watcher := connect("watcher", true)
	defer watcher.Disconnect(250)
	if tok := watcher.Subscribe("sentinel", 1, func(paho.Client, paho.Message) { sentinel <- struct{}{} }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	const n = 100
	pub := connect("publisher", true)
	for i := range n {
		if tok := pub.Publish("lamp/set", 1, false, fmt.Sprint(i)); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	pub.Publish("sentinel", 1, false, "done")
	select {
	case <-sentinel:
	case <-time.After(10 * time.Second):
		t.Fatal("the sentinel never arrived")
	}
	pub.Disconnect(250)

	back := connect("away", false)
	defer back.Disconnect(250)
	for i := range n {
		select {
		case m := <-got:
			if m != fmt.Sprint(i) {
				t.Fatalf("message %d is %q: the queued messages came out of order", i, m)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d queued messages arrived", i, n)
		}
	}
}
