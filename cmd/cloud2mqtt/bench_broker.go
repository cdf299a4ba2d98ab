package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// benchMessage is one message a bench subscriber received.
type benchMessage struct {
	topic   string
	payload []byte
	// at is when the subscriber's client handed it over: the figures
	// are taken from it, not from when a waiter got to look at it.
	at time.Time
}

// pahoConnect connects a bare paho client, as any MQTT client would.
func pahoConnect(url, id string) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(10 * time.Second).SetWriteTimeout(30 * time.Second)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("bench: connect to %s: %v", url, tokenError(tok))
	}
	return c, nil
}

func tokenError(tok paho.Token) error {
	if err := tok.Error(); err != nil {
		return err
	}
	return fmt.Errorf("timed out")
}

// subscribe subscribes c to filters with QoS 0 (a broker drops QoS 1
// messages beyond its per-client queue when a subscriber lags) and hands
// every message to h.
func subscribe(c paho.Client, h func(benchMessage), filters ...string) error {
	subs := map[string]byte{}
	for _, f := range filters {
		subs[f] = 0
	}
	tok := c.SubscribeMultiple(subs, func(_ paho.Client, m paho.Message) {
		h(benchMessage{topic: m.Topic(), payload: m.Payload(), at: time.Now()})
	})
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return fmt.Errorf("bench: subscribe to %s: %v", strings.Join(filters, ", "), tokenError(tok))
	}
	return nil
}

// collector keeps every message of a subscription and lets a caller wait
// for a condition over them.
type collector struct {
	mu     sync.Mutex
	msgs   []benchMessage
	notify chan struct{}
}

func newCollector() *collector { return &collector{notify: make(chan struct{}, 1)} }

func (c *collector) add(m benchMessage) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// wait feeds every message, in arrival order and each once, to done until
// it returns true; it fails after timeout.
func (c *collector) wait(ctx context.Context, timeout time.Duration, done func(benchMessage) bool) error {
	_, err := c.waitFrom(ctx, 0, timeout, done)
	return err
}

// mark is the index the next message will have: waitFrom(mark) looks at
// what arrives after it, not at the whole history again.
func (c *collector) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// waitFrom feeds the messages from index next on, in arrival order and
// each once, to done until it returns true, and returns that message; it
// fails after timeout.
func (c *collector) waitFrom(ctx context.Context, next int, timeout time.Duration, done func(benchMessage) bool) (benchMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		c.mu.Lock()
		batch := c.msgs[min(next, len(c.msgs)):]
		next = len(c.msgs)
		c.mu.Unlock()
		for _, m := range batch {
			if done(m) {
				return m, nil
			}
		}
		select {
		case <-c.notify:
		case <-ctx.Done():
			return benchMessage{}, fmt.Errorf("bench: waited %s: %w", timeout, context.Cause(ctx))
		}
	}
}

func (c *collector) messages() []benchMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// latencies summarises samples.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// brokerRoundTrip measures a bare paho client's QoS 1 publish until
// another bare paho client receives it, n times one after the other.
func brokerRoundTrip(ctx context.Context, url, topic string, n int) (latencies, error) {
	return roundTrips(ctx, url, topic, topic, n)
}

// roundTrips publishes n messages on pubTopic one after the other, each
// once the previous one arrived on subTopic, and returns how long each
// took.
func roundTrips(ctx context.Context, url, pubTopic, subTopic string, n int) (latencies, error) {
	sub, err := pahoConnect(url, "c2m-bench-rt-sub-"+randomSuffix())
	if err != nil {
		return nil, err
	}
	defer sub.Disconnect(100)
	got := make(chan benchMessage, 16)
	tok := sub.Subscribe(subTopic, 1, func(_ paho.Client, m paho.Message) {
		got <- benchMessage{payload: m.Payload(), at: time.Now()}
	})
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("bench: subscribe to %s: %v", subTopic, tokenError(tok))
	}
	pub, err := pahoConnect(url, "c2m-bench-rt-pub-"+randomSuffix())
	if err != nil {
		return nil, err
	}
	defer pub.Disconnect(100)
	out := make(latencies, 0, n)
	for i := range n {
		want := strconv.Itoa(i)
		start := time.Now()
		pub.Publish(pubTopic, 1, false, want)
		at, err := waitPayload(ctx, got, want)
		if err != nil {
			return nil, fmt.Errorf("bench: round trip %d from %s to %s: %w", i, pubTopic, subTopic, err)
		}
		out = append(out, at.Sub(start))
	}
	return out, nil
}

// relayed is what the relay reference measured: the round trips through
// it, and its CPU time per message relayed.
type relayed struct {
	latencies
	cpu time.Duration
}

// relayRoundTrip measures what brokerRoundTrip does with a relay process
// in the path: a bare client publishes on <prefix>/in, the relay publishes
// it again on <prefix>/out, and another bare client receives it there.
func relayRoundTrip(ctx context.Context, url, prefix string, n int, logDir string) (relayed, error) {
	relay, err := startRelay(url, prefix+"/in", prefix+"/out", logDir)
	if err != nil {
		return relayed{}, err
	}
	defer relay.stop()
	before, err := relay.cpu()
	if err != nil {
		return relayed{}, err
	}
	l, err := roundTrips(ctx, url, prefix+"/in", prefix+"/out", n)
	if err != nil {
		return relayed{}, err
	}
	after, err := relay.cpu()
	if err != nil {
		return relayed{}, err
	}
	return relayed{latencies: l, cpu: (after - before) / time.Duration(n)}, nil
}

// waitPayload returns when the message with payload want was received.
func waitPayload(ctx context.Context, got <-chan benchMessage, want string) (time.Time, error) {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case m := <-got:
			if string(m.payload) == want {
				return m.at, nil
			}
		case <-t.C:
			return time.Time{}, fmt.Errorf("no delivery within 10s")
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// publishWindow is how many publishes the baseline keeps in flight: a
// bare paho client publishing as fast as the broker acknowledges.
const publishWindow = 256

// publishAll publishes msgs with a bare paho client, publishWindow in
// flight at once, under prefix, and returns once a subscriber received
// them all.
func publishAllBaseline(ctx context.Context, url, prefix string, msgs []benchMessage, retained func(string) bool) (time.Duration, error) {
	sub, err := pahoConnect(url, "c2m-bench-base-sub-"+randomSuffix())
	if err != nil {
		return 0, err
	}
	defer sub.Disconnect(100)
	col := newCollector()
	if err := subscribe(sub, col.add, prefix+"/#"); err != nil {
		return 0, err
	}
	pub, err := pahoConnect(url, "c2m-bench-base-pub-"+randomSuffix())
	if err != nil {
		return 0, err
	}
	defer pub.Disconnect(100)
	start := time.Now()
	if err := publishPipelined(pub, msgs, func(m benchMessage) (string, bool) {
		return prefix + "/" + m.topic, retained(m.topic)
	}); err != nil {
		return 0, err
	}
	n := 0
	last, err := col.waitFrom(ctx, 0, 3*time.Minute, func(benchMessage) bool { n++; return n >= len(msgs) })
	if err != nil {
		return 0, fmt.Errorf("bench: baseline received %d of %d messages: %w", n, len(msgs), err)
	}
	return last.at.Sub(start), nil
}

// publishPipelined publishes msgs with up to publishWindow unacknowledged.
func publishPipelined(c paho.Client, msgs []benchMessage, to func(benchMessage) (string, bool)) error {
	window := make([]paho.Token, 0, publishWindow)
	settle := func(tok paho.Token) error {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			return fmt.Errorf("bench: publish: %v", tokenError(tok))
		}
		return nil
	}
	for _, m := range msgs {
		if len(window) == publishWindow {
			if err := settle(window[0]); err != nil {
				return err
			}
			window = window[1:]
		}
		topic, retained := to(m)
		window = append(window, c.Publish(topic, 1, retained, m.payload))
	}
	for _, tok := range window {
		if err := settle(tok); err != nil {
			return err
		}
	}
	return nil
}

// clearRetained deletes the retained messages on topics.
func clearRetained(url string, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	c, err := pahoConnect(url, "c2m-bench-clear-"+randomSuffix())
	if err != nil {
		return err
	}
	defer c.Disconnect(100)
	msgs := make([]benchMessage, len(topics))
	for i, t := range topics {
		msgs[i] = benchMessage{topic: t, payload: []byte{}}
	}
	return publishPipelined(c, msgs, func(m benchMessage) (string, bool) { return m.topic, true })
}
