package mqtt_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

func TestPipelineDeliversEveryMessageInOrderPerTopic(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	rec := mqtttest.NewRecorder(t, url, base+"/#")
	c := connect(t, url, base, nil)

	const perTopic = 300 // 900 in all: below mosquitto's 1,000 queued QoS 1 messages per subscriber
	topics := []string{base + "/a", base + "/b", base + "/c"}
	p := c.Pipeline(ctxT(t), 16)
	acked := 0
	for i := range perTopic {
		for _, topic := range topics {
			p.Publish(topic, []byte(strconv.Itoa(i)), false, func(err error) {
				if err != nil {
					t.Errorf("publish %s %d: %v", topic, i, err)
				}
				acked++
			})
		}
	}
	if err := p.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if want := perTopic * len(topics); acked != want || p.Sent() != want {
		t.Fatalf("acknowledged %d, sent %d; want %d each", acked, p.Sent(), want)
	}
	last := base + "/c"
	rec.Wait(t, wait, isState(last, strconv.Itoa(perTopic-1)))
	next := map[string]int{}
	for _, m := range rec.Messages() {
		if m.Topic == base+"/bridge/state" {
			continue
		}
		if got, want := string(m.Payload), strconv.Itoa(next[m.Topic]); got != want {
			t.Fatalf("%s: got %s, want %s (out of order or lost)", m.Topic, got, want)
		}
		next[m.Topic]++
	}
	for _, topic := range topics {
		if next[topic] != perTopic {
			t.Errorf("%s: %d messages, want %d", topic, next[topic], perTopic)
		}
	}
}

func TestPipelineCollectsErrors(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	c := connect(t, url, base, nil)
	p := c.Pipeline(ctxT(t), 0)
	var reported []error
	p.Publish(base+"/ok", []byte("1"), false, func(err error) { reported = append(reported, err) })
	p.Publish(base+"/bad/#", []byte("2"), false, func(err error) { reported = append(reported, err) })
	err := p.Flush()
	if err == nil {
		t.Fatal("Flush returned nil after a publish to a wildcard topic")
	}
	if len(reported) != 2 || reported[1] == nil {
		t.Fatalf("reported %v; want nil for the good topic and an error for the wildcard", reported)
	}
	if want := fmt.Sprintf("%q", base+"/bad/#"); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the topic %s", err, want)
	}

	if err := c.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	p.Publish(base+"/late", []byte("3"), false, nil)
	if err := p.Flush(); !errors.Is(err, mqtt.ErrNotConnected) {
		t.Errorf("publish after Close: got %v, want ErrNotConnected", err)
	}
}
