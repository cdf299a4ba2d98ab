package mqtt_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

const (
	wait    = 10 * time.Second
	online  = `{"state":"online"}`
	offline = `{"state":"offline"}`
)

// connect connects a client with birth and will on <base>/bridge/state and
// closes it when the test ends.
func connect(t *testing.T, url, base string, mod func(*mqtt.Options)) *mqtt.Client {
	t.Helper()
	o := mqtt.Options{
		URL:          url,
		WillTopic:    base + "/bridge/state",
		WillPayload:  []byte(offline),
		BirthPayload: []byte(online),
	}
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := mqtt.Connect(ctx, o)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func isState(topic, payload string) func(mqtt.Message) bool {
	return func(m mqtt.Message) bool { return m.Topic == topic && string(m.Payload) == payload }
}

func TestBirthAfterConnectAndOfflineOnClose(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	state := base + "/bridge/state"
	rec := mqtttest.NewRecorder(t, url, base+"/#")

	c := connect(t, url, base, nil)
	rec.Wait(t, wait, isState(state, online))
	if !c.Connected() {
		t.Fatal("Connected() = false after Connect")
	}

	if err := c.Close(ctxT(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rec.Wait(t, wait, isState(state, offline))
	if c.Connected() {
		t.Error("Connected() = true after Close")
	}
	if err := c.Publish(ctxT(t), base+"/x", nil, false); err == nil {
		t.Error("Publish after Close succeeded")
	}

	// The offline state stays retained for clients that subscribe later.
	late := mqtttest.NewRecorder(t, url, state)
	m := late.Wait(t, wait, nil)
	if string(m.Payload) != offline || !m.Retained {
		t.Fatalf("retained state = %q retained=%t, want %s retained", m.Payload, m.Retained, offline)
	}
}

func TestRetainedPublish(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	c := connect(t, url, base, nil)

	if err := c.Publish(ctxT(t), base+"/dev", []byte(`{"on":true}`), true); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := c.Publish(ctxT(t), base+"/event", []byte(`x`), false); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	rec := mqtttest.NewRecorder(t, url, base+"/dev")
	m := rec.Wait(t, wait, nil)
	if string(m.Payload) != `{"on":true}` || !m.Retained {
		t.Fatalf("got %q retained=%t, want the retained state", m.Payload, m.Retained)
	}
	if _, ok := rec.Last(base + "/event"); ok {
		t.Error("recorder on /dev got /event")
	}
}

func TestPublishRejectsWildcardTopic(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	c := connect(t, url, mqtttest.BaseTopic(t), nil)
	err := c.Publish(ctxT(t), "a/+/b", nil, false)
	if err == nil || !strings.Contains(err.Error(), "wildcard") {
		t.Fatalf("Publish to a wildcard topic: err = %v, want a wildcard error", err)
	}
	if err := c.Subscribe(ctxT(t), "a/#/b", func(mqtt.Message) {}); err == nil {
		t.Fatal("Subscribe to a/#/b succeeded")
	}
}

func TestLastWillWhenConnectionDies(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	state := base + "/bridge/state"
	proxy := mqtttest.NewProxy(t, url)
	rec := mqtttest.NewRecorder(t, url, state)

	connected := make(chan context.Context, 4)
	connect(t, proxy.URL(), base, func(o *mqtt.Options) {
		o.OnConnect = func(ctx context.Context) { connected <- ctx }
	})
	first := <-connected
	rec.Wait(t, wait, isState(state, online))

	proxy.Cut()
	rec.Wait(t, wait, isState(state, offline))
	select {
	case <-first.Done():
	case <-time.After(wait):
		t.Fatal("OnConnect's ctx not cancelled when the connection was lost")
	}

	// The client reconnects through the proxy and announces itself again.
	seen := 0
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		if string(m.Payload) == offline {
			seen++
		}
		return seen > 0 && string(m.Payload) == online
	})
	select {
	case <-connected:
	case <-time.After(wait):
		t.Fatal("OnConnect not called after the reconnect")
	}
}

func TestLastWillWhenBrokerDropsClient(t *testing.T) {
	b := mqtttest.StartBroker(t)
	base := mqtttest.BaseTopic(t)
	state := base + "/bridge/state"
	rec := mqtttest.NewRecorder(t, b.URL(), state)
	connect(t, b.URL(), base, func(o *mqtt.Options) { o.ClientID = "lwt-drop" })
	rec.Wait(t, wait, isState(state, online))

	if !b.DropClient("lwt-drop") {
		t.Fatal("DropClient: client not connected")
	}
	rec.Wait(t, wait, isState(state, offline))
}

func TestResubscribeAfterBrokerRestart(t *testing.T) {
	b := mqtttest.StartBroker(t)
	addr := b.Addr()
	base := mqtttest.BaseTopic(t)

	connected := make(chan struct{}, 4)
	got := make(chan mqtt.Message, 4)
	c := connect(t, b.URL(), base, func(o *mqtt.Options) {
		o.OnConnect = func(context.Context) { connected <- struct{}{} }
	})
	<-connected
	if err := c.Subscribe(ctxT(t), base+"/cmd/+", func(m mqtt.Message) { got <- m }); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	mqtttest.Publish(t, b.URL(), base+"/cmd/1", []byte("before"), false)
	expect(t, got, base+"/cmd/1", "before")

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(wait)
	for c.Connected() {
		select {
		case <-poll.C:
		case <-deadline:
			t.Fatal("Connected() still true after the broker stopped")
		}
	}
	// While disconnected: publishing fails at once, subscribing registers.
	if err := c.Publish(ctxT(t), base+"/x", nil, false); !errors.Is(err, mqtt.ErrNotConnected) {
		t.Fatalf("Publish while disconnected = %v, want ErrNotConnected", err)
	}
	if err := c.Subscribe(ctxT(t), base+"/late", func(m mqtt.Message) { got <- m }); err != nil {
		t.Fatalf("Subscribe while disconnected: %v", err)
	}
	b2 := mqtttest.StartBrokerAt(t, addr)
	select {
	case <-connected:
	case <-time.After(wait):
		t.Fatal("client did not reconnect to the restarted broker")
	}
	if !c.Connected() {
		t.Fatal("Connected() = false after reconnect")
	}
	mqtttest.Publish(t, b2.URL(), base+"/cmd/2", []byte("after"), false)
	expect(t, got, base+"/cmd/2", "after")
	mqtttest.Publish(t, b2.URL(), base+"/late", []byte("late"), false)
	expect(t, got, base+"/late", "late")

	// Birth is published again on the new broker (retained).
	rec := mqtttest.NewRecorder(t, b2.URL(), base+"/bridge/state")
	rec.Wait(t, wait, isState(base+"/bridge/state", online))

	if err := c.Close(ctxT(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rec.Wait(t, wait, isState(base+"/bridge/state", offline))
}

func expect(t *testing.T, ch <-chan mqtt.Message, topic, payload string) {
	t.Helper()
	select {
	case m := <-ch:
		if m.Topic != topic || string(m.Payload) != payload {
			t.Fatalf("got %s %q, want %s %q", m.Topic, m.Payload, topic, payload)
		}
	case <-time.After(wait):
		t.Fatalf("no message on %s within %s", topic, wait)
	}
}

func TestConnectToDeadPortFailsWithClearError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	url := "tcp://bridge:s3cret@" + addr
	_, err = mqtt.Connect(ctxT(t), mqtt.Options{URL: url})
	if err == nil {
		t.Fatal("Connect to a closed port succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "tcp://"+addr) {
		t.Errorf("error %q does not name the broker tcp://%s", msg, addr)
	}
	if !strings.Contains(msg, "refused") {
		t.Errorf("error %q does not give the cause (connection refused)", msg)
	}
	if strings.Contains(msg, "s3cret") {
		t.Errorf("error %q shows the password", msg)
	}
}

func TestConnectBoundedByContext(t *testing.T) {
	// A listener that accepts but never answers the MQTT handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = mqtt.Connect(ctx, mqtt.Options{URL: "tcp://" + ln.Addr().String(), ConnectTimeout: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Connect = %v, want the context's deadline error", err)
	}
}

func TestConnectRejectsBadURL(t *testing.T) {
	_, err := mqtt.Connect(ctxT(t), mqtt.Options{URL: "http://u:pw@host:1883"})
	if err == nil || !strings.Contains(err.Error(), "mqtt.url") || !strings.Contains(err.Error(), "tcp") {
		t.Fatalf("err = %v, want an mqtt.url error listing the schemes", err)
	}
	if strings.Contains(err.Error(), "pw") {
		t.Fatalf("error %q shows the password", err)
	}
}

func TestBlockingHandlerDoesNotStallConnection(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	var connects atomic.Int32
	c := connect(t, url, base, func(o *mqtt.Options) {
		o.KeepAlive = time.Second
		o.OnConnect = func(context.Context) { connects.Add(1) }
	})

	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	slow := make(chan string, 16)
	if err := c.Subscribe(ctxT(t), base+"/slow", func(m mqtt.Message) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		slow <- string(m.Payload)
	}); err != nil {
		t.Fatal(err)
	}
	fast := make(chan mqtt.Message, 16)
	if err := c.Subscribe(ctxT(t), base+"/fast", func(m mqtt.Message) { fast <- m }); err != nil {
		t.Fatal(err)
	}
	// Publishing from inside a handler works too.
	if err := c.Subscribe(ctxT(t), base+"/echo", func(m mqtt.Message) {
		if err := c.Publish(context.Background(), base+"/fast", m.Payload, false); err != nil {
			t.Errorf("Publish from handler: %v", err)
		}
	}); err != nil {
		t.Fatal(err)
	}

	// One publishing client, so the broker keeps the order.
	pub := connect(t, url, base+"/pub", nil)
	for i := 1; i <= 3; i++ {
		if err := pub.Publish(ctxT(t), base+"/slow", []byte(fmt.Sprint(i)), false); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("slow handler never ran")
	}

	// While the slow handler blocks, watch the connection for three
	// keep-alive intervals: other subscriptions keep flowing.
	window := time.After(3 * time.Second)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	n := 0
observe:
	for {
		select {
		case <-window:
			break observe
		case <-tick.C:
			n++
			topic := base + "/fast"
			if n%2 == 0 {
				topic = base + "/echo"
			}
			if err := pub.Publish(ctxT(t), topic, []byte(fmt.Sprint(n)), false); err != nil {
				t.Fatal(err)
			}
			expect(t, fast, base+"/fast", fmt.Sprint(n))
		}
	}
	if !c.Connected() || connects.Load() != 1 {
		t.Fatalf("connection interrupted while a handler blocked: connected=%t connects=%d", c.Connected(), connects.Load())
	}

	close(release)
	for i := 1; i <= 3; i++ {
		select {
		case p := <-slow:
			if p != fmt.Sprint(i) {
				t.Fatalf("slow handler got %s, want %d (arrival order)", p, i)
			}
		case <-time.After(wait):
			t.Fatalf("slow message %d not delivered after release", i)
		}
	}
}

func TestUnsubscribe(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	c := connect(t, url, base, nil)
	got := make(chan mqtt.Message, 8)
	h := func(m mqtt.Message) { got <- m }
	if err := c.Subscribe(ctxT(t), base+"/a", h); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(ctxT(t), base+"/b", h); err != nil {
		t.Fatal(err)
	}
	if err := c.Unsubscribe(ctxT(t), base+"/a"); err != nil {
		t.Fatal(err)
	}
	mqtttest.Publish(t, url, base+"/a", []byte("gone"), false)
	mqtttest.Publish(t, url, base+"/b", []byte("here"), false)
	expect(t, got, base+"/b", "here")
}

func TestSubscribeReceivesRetained(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	mqtttest.Publish(t, url, base+"/status", []byte("online"), true)
	c := connect(t, url, base, nil)
	got := make(chan mqtt.Message, 1)
	if err := c.Subscribe(ctxT(t), base+"/status", func(m mqtt.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if !m.Retained || string(m.Payload) != "online" {
			t.Fatalf("got %q retained=%t", m.Payload, m.Retained)
		}
	case <-time.After(wait):
		t.Fatal("retained message not delivered on subscribe")
	}
}

func TestAFullQueueHoldsBackAndLosesNothing(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	c := connect(t, url, base, func(o *mqtt.Options) { o.QueueSize = 3 })
	release := make(chan struct{})
	got := make(chan string, 64)
	if err := c.Subscribe(ctxT(t), base+"/burst", func(m mqtt.Message) {
		<-release
		got <- string(m.Payload)
	}); err != nil {
		t.Fatal(err)
	}
	pub := connect(t, url, base+"/pub", nil)
	const n = 40 // many times the queue, with the handler stuck
	for i := range n {
		if err := pub.Publish(ctxT(t), base+"/burst", []byte(fmt.Sprint(i)), false); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	for i := range n {
		select {
		case p := <-got:
			if p != fmt.Sprint(i) {
				t.Fatalf("message %d is %s: not in arrival order", i, p)
			}
		case <-time.After(wait):
			t.Fatalf("message %d of %d never delivered", i, n)
		}
	}
}
