// Package mqtttest provides MQTT helpers for tests across the project: a
// broker URL (a shared broker from the environment or an embedded one), a
// unique base topic per test that is cleaned up afterwards, a Recorder that
// records every message on a filter, one-shot publishing and a TCP proxy
// whose connections a test can cut.
package mqtttest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/broker"
)

// EnvBrokerURL names the environment variable that points the tests at a
// shared broker, e.g. tcp://127.0.0.1:1883.
const EnvBrokerURL = "CLOUD2MQTT_TEST_MQTT_URL"

// opTimeout bounds every broker operation the helpers perform.
const opTimeout = 10 * time.Second

// BrokerURL returns the broker the test should use: the value of
// CLOUD2MQTT_TEST_MQTT_URL when set, otherwise the URL of an embedded broker
// on 127.0.0.1 that is closed when the test ends.
func BrokerURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvBrokerURL); u != "" {
		return u
	}
	return StartBroker(t).URL()
}

// StartBroker starts an embedded broker on 127.0.0.1:0 that is closed when
// the test ends. Use it when the test must control the broker itself, e.g.
// restart it or drop a client.
func StartBroker(t testing.TB) *broker.Broker {
	t.Helper()
	return StartBrokerAt(t, "127.0.0.1:0")
}

// StartBrokerAt starts an embedded broker on addr that is closed when the
// test ends.
func StartBrokerAt(t testing.TB, addr string) *broker.Broker {
	t.Helper()
	b, err := broker.Start(addr, nil)
	if err != nil {
		t.Fatalf("mqtttest: start broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// BaseTopic returns a base topic unique to this test, "c2mtest-<random>".
// When CLOUD2MQTT_TEST_MQTT_URL names a shared broker, every retained message
// under the base topic is cleared there when the test ends, so the shared
// broker stays clean. (Embedded brokers end with the test anyway.)
func BaseTopic(t testing.TB) string {
	t.Helper()
	base := "c2mtest-" + randomHex(6)
	if u := os.Getenv(EnvBrokerURL); u != "" {
		t.Cleanup(func() { clearRetained(t, u, base) })
	}
	return base
}

// clearRetained publishes an empty retained message to every topic under
// base that holds a retained message. It scans with a QoS 0 subscription (a
// broker caps queued QoS 1 messages per client, e.g. mosquitto's
// max_queued_messages) and repeats until a scan finds nothing.
func clearRetained(t testing.TB, url, base string) {
	t.Helper()
	c, err := connect(url, "c2mtest-clean-"+randomHex(4))
	if err != nil {
		t.Errorf("mqtttest: clear retained under %s: %v", base, err)
		return
	}
	defer c.Disconnect(100)
	for range 5 {
		topics, err := scanRetained(c, base)
		if err != nil {
			t.Errorf("mqtttest: clear retained under %s: %v", base, err)
			return
		}
		if len(topics) == 0 {
			return
		}
		toks := make([]paho.Token, 0, len(topics))
		for _, topic := range topics {
			toks = append(toks, c.Publish(topic, 1, true, []byte{}))
		}
		for i, tok := range toks {
			if err := paho.WaitTokenTimeout(tok, opTimeout); err != nil {
				t.Errorf("mqtttest: clear retained %s: %v", topics[i], err)
				return
			}
		}
	}
	t.Errorf("mqtttest: retained messages keep appearing under %s", base)
}

// RetainedTopics returns the topics at and under base that hold a
// retained message now.
func RetainedTopics(t testing.TB, url, base string) []string {
	t.Helper()
	c, err := connect(url, "c2mtest-scan-"+randomHex(4))
	if err != nil {
		t.Fatalf("mqtttest: retained topics under %s: %v", base, err)
	}
	defer c.Disconnect(100)
	topics, err := scanRetained(c, base)
	if err != nil {
		t.Fatalf("mqtttest: retained topics under %s: %v", base, err)
	}
	slices.Sort(topics)
	return topics
}

// scanRetained returns the topics under base holding a retained message.
func scanRetained(c paho.Client, base string) ([]string, error) {
	marker := base + "/_mqtttest_marker/" + randomHex(4)
	var mu sync.Mutex
	var topics []string
	markerSeen := make(chan struct{})
	var once sync.Once
	filter := base + "/#"
	tok := c.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
		if m.Topic() == marker {
			once.Do(func() { close(markerSeen) })
			return
		}
		if m.Retained() && len(m.Payload()) > 0 {
			mu.Lock()
			topics = append(topics, m.Topic())
			mu.Unlock()
		}
	})
	if err := paho.WaitTokenTimeout(tok, opTimeout); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", filter, err)
	}
	defer func() { _ = paho.WaitTokenTimeout(c.Unsubscribe(filter), opTimeout) }()
	// The broker sends retained messages right after SUBACK; the marker,
	// published afterwards on the same connection, arrives after them.
	if err := paho.WaitTokenTimeout(c.Publish(marker, 1, false, []byte{}), opTimeout); err != nil {
		return nil, fmt.Errorf("publish marker: %w", err)
	}
	select {
	case <-markerSeen:
	case <-time.After(opTimeout):
		return nil, fmt.Errorf("marker not received within %s", opTimeout)
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), topics...), nil
}

// Publish sends one message with QoS 1 from a short-lived client and waits
// for the broker's acknowledgement.
func Publish(t testing.TB, url, topic string, payload []byte, retained bool) {
	t.Helper()
	c, err := connect(url, "c2mtest-pub-"+randomHex(4))
	if err != nil {
		t.Fatalf("mqtttest: publish to %s: %v", topic, err)
	}
	defer c.Disconnect(100)
	(&Publisher{c: c}).Publish(t, topic, payload, retained)
}

// Publisher is one MQTT client that publishes a test's commands in order,
// as Home Assistant or any one client does: a broker keeps the order of
// one connection's messages, not of several (the embedded broker acknowledges
// a message before it hands it on, so a message from the next connection
// can overtake it).
type Publisher struct {
	c paho.Client
}

// NewPublisher connects a publisher, disconnected when the test ends.
func NewPublisher(t testing.TB, url string) *Publisher {
	t.Helper()
	c, err := connect(url, "c2mtest-pub-"+randomHex(4))
	if err != nil {
		t.Fatalf("mqtttest: publisher: %v", err)
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return &Publisher{c: c}
}

// Publish publishes payload on topic with QoS 1 and waits for the broker's
// acknowledgement.
func (p *Publisher) Publish(t testing.TB, topic string, payload []byte, retained bool) {
	t.Helper()
	if payload == nil {
		payload = []byte{}
	}
	if err := paho.WaitTokenTimeout(p.c.Publish(topic, 1, retained, payload), opTimeout); err != nil {
		t.Fatalf("mqtttest: publish to %s: %v", topic, err)
	}
}

// Recorder is a separate MQTT client that records every message received on
// one filter.
type Recorder struct {
	filter string
	c      paho.Client

	mu      sync.Mutex
	msgs    []mqtt.Message
	changed chan struct{} // closed and replaced on every new message
}

// NewRecorder connects to url, subscribes to filter (QoS 0, see below) and
// returns once the broker acknowledged the subscription. It disconnects when the test ends.
func NewRecorder(t testing.TB, url, filter string) *Recorder {
	t.Helper()
	r := &Recorder{filter: filter, changed: make(chan struct{})}
	c, err := connect(url, "c2mtest-rec-"+randomHex(4))
	if err != nil {
		t.Fatalf("mqtttest: recorder on %s: %v", filter, err)
	}
	r.c = c
	t.Cleanup(func() { c.Disconnect(100) })
	// QoS 0: a broker caps the QoS 1 messages it queues per client (e.g.
	// mosquitto's max_queued_messages, 1000) and drops the rest, which a
	// burst of retained messages exceeds; QoS 0 to a connected client on
	// loopback is not capped.
	tok := c.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.msgs = append(r.msgs, mqtt.Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained()})
		close(r.changed)
		r.changed = make(chan struct{})
	})
	if err := paho.WaitTokenTimeout(tok, opTimeout); err != nil {
		t.Fatalf("mqtttest: recorder: subscribe %s: %v", filter, err)
	}
	return r
}

// Wait returns the first recorded message, past or future, for which match
// returns true. It fails the test with a dump of the recorded messages if
// none arrives within timeout. A nil match accepts any message.
func (r *Recorder) Wait(t testing.TB, timeout time.Duration, match func(mqtt.Message) bool) mqtt.Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		r.mu.Lock()
		for ; seen < len(r.msgs); seen++ {
			if match == nil || match(r.msgs[seen]) {
				m := r.msgs[seen]
				r.mu.Unlock()
				return m
			}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mqtttest: no matching message on %s within %s; recorded:\n%s", r.filter, timeout, r.dump())
			return mqtt.Message{}
		}
	}
}

// WaitTopic waits for the first message on topic whose payload equals
// payload (any payload when payload is nil).
func (r *Recorder) WaitTopic(t testing.TB, timeout time.Duration, topic string, payload []byte) mqtt.Message {
	t.Helper()
	return r.Wait(t, timeout, func(m mqtt.Message) bool {
		return m.Topic == topic && (payload == nil || string(m.Payload) == string(payload))
	})
}

// Messages returns a copy of the recorded messages in arrival order.
func (r *Recorder) Messages() []mqtt.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mqtt.Message(nil), r.msgs...)
}

// Last returns the most recent message recorded on topic.
func (r *Recorder) Last(topic string) (mqtt.Message, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.msgs) - 1; i >= 0; i-- {
		if r.msgs[i].Topic == topic {
			return r.msgs[i], true
		}
	}
	return mqtt.Message{}, false
}

func (r *Recorder) dump() string {
	msgs := r.Messages()
	if len(msgs) == 0 {
		return "  (nothing)"
	}
	var b strings.Builder
	for i, m := range msgs {
		fmt.Fprintf(&b, "  %d. %s retained=%t %q\n", i+1, m.Topic, m.Retained, truncate(m.Payload, 200))
	}
	return b.String()
}

func truncate(p []byte, n int) string {
	if len(p) <= n {
		return string(p)
	}
	return string(p[:n]) + "…"
}

// connect opens a plain paho client to url and waits for the connection.
func connect(url, clientID string) (paho.Client, error) {
	o := paho.NewClientOptions().
		AddBroker(url).
		SetClientID(clientID).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectTimeout(opTimeout).
		SetWriteTimeout(opTimeout)
	c := paho.NewClient(o)
	if err := paho.WaitTokenTimeout(c.Connect(), opTimeout); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	return c, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewClearingRecorder is NewRecorder whose retained messages are cleared
// from the broker when the test ends: for topics outside BaseTopic, such
// as a test's own discovery prefix.
func NewClearingRecorder(t testing.TB, url, filter string) *Recorder {
	t.Helper()
	r := NewRecorder(t, url, filter)
	t.Cleanup(func() {
		cleared := map[string]bool{}
		for _, m := range r.Messages() {
			if len(m.Payload) > 0 && !cleared[m.Topic] {
				cleared[m.Topic] = true
				Publish(t, url, m.Topic, nil, true)
			}
		}
	})
	return r
}
