package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// chaosDevice is a dimmable light the command stream addresses.
type chaosDevice struct {
	rel string // <account>/<slug>
	// put reports whether an emulator request set this device's
	// brightness, and to what (0..1).
	put func(winktest.Request) (float64, bool)
}

// chaosCommand is one /set/brightness command of the stream.
type chaosCommand struct {
	device int
	value  int // 1..254, distinct per device
	acked  bool
}

const (
	chaosRestarts = 20
	// chaosPerUp is how many commands the broker acknowledges between
	// the bridge's return and the next restart.
	chaosPerUp = 12
	// resubscribeBound is how soon after the broker's return the bridge
	// must be subscribed again.
	resubscribeBound = time.Second
)

func TestCommandsSurviveBrokerRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a broker 20 times")
	}
	b := mqtttest.StartOwnBroker(t)
	base := mqtttest.BaseTopic(t)
	topics := bridge.Topics{Base: base, DiscoveryPrefix: base + "-ha"}
	log := testLogger(t)

	wsrv := winktest.NewServer(winktest.Options{HoldPoll: 2 * time.Second, Logger: log})
	t.Cleanup(wsrv.Close)
	wsrv.Furnish()
	_, wrefresh := wsrv.IssueTokens()
	wp, err := wink.New(wink.Config{Account: "wink", ClientID: "winktest-client", ClientSecret: "winktest-secret",
		RefreshToken: wrefresh, APIURL: wsrv.URL, PubNubOrigin: wsrv.PubNubOrigin, SubscribeTimeout: 5 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hsrv := homeytest.NewServer(homeytest.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second, Logger: log})
	t.Cleanup(hsrv.Close)
	hsrv.Furnish()
	_, hrefresh := hsrv.IssueTokens()
	hp, err := homey.New(homey.Config{Account: "homey", PollInterval: 100 * time.Millisecond, Logger: log,
		ClientID: "homeytest-client", ClientSecret: "homeytest-secret", RefreshToken: hrefresh, CloudURL: hsrv.CloudURL})
	if err != nil {
		t.Fatal(err)
	}

	winkPut := func(objectID string) func(winktest.Request) (float64, bool) {
		return func(r winktest.Request) (float64, bool) {
			if r.Method != "PUT" || !strings.HasPrefix(r.Path, "/light_bulbs/"+objectID) {
				return 0, false
			}
			var body struct {
				DesiredState map[string]any `json:"desired_state"`
			}
			if json.Unmarshal(r.Body, &body) != nil {
				return 0, false
			}
			x, ok := body.DesiredState["brightness"].(float64)
			return x, ok
		}
	}
	homeyPut := func(id string) func(winktest.Request) (float64, bool) {
		return func(r winktest.Request) (float64, bool) {
			if r.Method != "PUT" || r.Path != "/api/manager/devices/device/"+id+"/capability/dim" {
				return 0, false
			}
			var body struct{ Value float64 }
			return body.Value, json.Unmarshal(r.Body, &body) == nil
		}
	}
	devices := []chaosDevice{
		{"wink/bedroom_lamp", winkPut("2194253")},
		{"homey/ceiling_light", homeyPut(homeytest.DeviceLight)},
		{"wink/living_room_color", winkPut("2194260")},
		{"homey/colour_lamp", homeyPut(homeytest.DeviceColourLight)},
	}

	// The observer sees what a user's client would, through the restarts.
	obs := newChaosObserver(t, b.URL(), base)

	// The bridge, with a fixed client id as cloud2mqtt run gives it.
	ctx, cancel := context.WithCancel(context.Background())
	client, err := mqtt.Connect(ctx, mqtt.Options{URL: b.URL(), ClientID: mqtt.ClientIDFor(base, t.TempDir()),
		WillTopic: topics.BridgeState(), WillPayload: []byte(`{"state":"offline"}`), BirthPayload: []byte(`{"state":"online"}`),
		Logger: log})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	br, err := bridge.New(client, []cloud.Provider{wp, hp}, bridge.Options{Topics: topics, Version: "test", Logger: log})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		c, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = client.Close(c)
	})
	for _, d := range devices {
		obs.waitState(t, d.rel, func(map[string]any) bool { return true })
	}

	// The command stream: one publisher, round-robin over the devices.
	pub, err := mqtt.Connect(ctx, mqtt.Options{URL: b.URL(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = pub.Close(c)
	})
	var (
		mu       sync.Mutex
		commands []chaosCommand
		next     = make([]int, len(devices))
		ackedUp  atomic.Int64 // acknowledged since the last restart
	)
	send := func(pctx context.Context, i int) bool {
		if !pub.Connected() {
			return true // nothing sent: the publisher waits for its broker
		}
		mu.Lock()
		d := i % len(devices)
		next[d]++
		c := chaosCommand{device: d, value: next[d]}
		mu.Unlock()
		if c.value > 254 {
			return false
		}
		err := pub.Publish(pctx, base+"/"+devices[d].rel+"/set/brightness", []byte(fmt.Sprint(c.value)), false)
		c.acked = err == nil
		mu.Lock()
		commands = append(commands, c)
		mu.Unlock()
		if c.acked {
			ackedUp.Add(1)
		}
		return true
	}
	streamCtx, stopStream := context.WithCancel(ctx)
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		tick := time.NewTicker(8 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-streamCtx.Done():
				return
			case <-tick.C:
			}
			if !send(streamCtx, i) {
				return
			}
		}
	}()

	// The restarts. After each return the probe measures how long the
	// bridge takes to answer; the next restart waits for a few commands.
	var longest time.Duration
	for r := 1; r <= chaosRestarts; r++ {
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the outage
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		took := probeSubscribed(t, b.URL(), topics, back)
		longest = max(longest, took)
		if took > resubscribeBound {
			t.Errorf("restart %d: bridge subscribed again %s after the broker's return, want within %s", r, took, resubscribeBound)
		}
		ackedUp.Store(0)
		deadline := time.After(wait)
		for ackedUp.Load() < chaosPerUp {
			select {
			case <-obs.changed:
			case <-streamDone:
				t.Fatalf("restart %d: the command stream ended early (more than 254 commands per device)", r)
			case <-deadline:
				t.Fatalf("restart %d: publisher's commands not acknowledged within %s", r, wait)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	stopStream()
	<-streamDone

	// The last command to each device, published with the broker up.
	for i := range devices {
		if !send(ctx, i) || !lastAcked(&mu, commands) {
			t.Fatalf("final command to %s not acknowledged", devices[i].rel)
		}
	}
	mu.Lock()
	final := map[int]int{}
	published, acked := len(commands), 0
	for _, c := range commands {
		if c.acked {
			acked++
			final[c.device] = c.value
		}
	}
	mu.Unlock()

	// The final retained state equals the last command, for every broker.
	for d, v := range final {
		obs.waitState(t, devices[d].rel, func(s map[string]any) bool { return s["brightness"] == float64(v) })
	}

	// Every acknowledged command reached the emulator: its value was set,
	// or a later command to the device replaced it while it was queued
	// (the bridge sends only the newest of a device's waiting commands).
	applied, coalesced, lost := 0, 0, 0
	reqs := append(wsrv.Requests(), hsrv.Requests()...)
	for i, c := range commands {
		if !c.acked {
			continue
		}
		want := float64(c.value) / 255
		found := false
		for _, r := range reqs {
			if x, ok := devices[c.device].put(r); ok && math.Abs(x-want) < 0.4/255 {
				found = true
				break
			}
		}
		switch {
		case found:
			applied++
		case laterAcked(commands[i+1:], c.device):
			coalesced++
		default:
			lost++
		}
	}
	if b.Persistent() && lost > 0 {
		t.Errorf("%d acknowledged commands never reached the emulator", lost)
	}
	t.Logf("broker %s: %d restarts survived; commands published %d, acknowledged %d, applied %d, replaced by a newer one %d, lost %d; longest time to subscribed again after a return %s",
		b.Kind(), chaosRestarts, published, acked, applied, coalesced, lost, longest.Round(time.Millisecond))
}

func lastAcked(mu *sync.Mutex, commands []chaosCommand) bool {
	mu.Lock()
	defer mu.Unlock()
	return len(commands) > 0 && commands[len(commands)-1].acked
}

func laterAcked(rest []chaosCommand, device int) bool {
	for _, c := range rest {
		if c.device == device && c.acked {
			return true
		}
	}
	return false
}

// probeSubscribed returns how long after back the bridge answers a
// health_check request sent with QoS 0 (which a broker does not queue for
// an absent client): only a bridge connected and subscribed answers it.
func probeSubscribed(t *testing.T, url string, topics bridge.Topics, back time.Time) time.Duration {
	t.Helper()
	answered := make(chan struct{}, 1)
	o := paho.NewClientOptions().AddBroker(url).SetClientID("").SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(wait).SetOrderMatters(false)
	var c paho.Client
	deadline := time.Now().Add(wait)
	for {
		c = paho.NewClient(o)
		if tok := c.Connect(); tok.WaitTimeout(wait) && tok.Error() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe: cannot connect to %s", url)
		}
	}
	defer c.Disconnect(0)
	tok := c.Subscribe(topics.BridgeResponse("health_check"), 0, func(_ paho.Client, m paho.Message) {
		if strings.Contains(string(m.Payload()), `"transaction":"probe"`) {
			select {
			case answered <- struct{}{}:
			default:
			}
		}
	})
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("probe: subscribe: %v", tok.Error())
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c.Publish(topics.Base+"/bridge/request/health_check", 0, false, `{"transaction":"probe"}`)
		select {
		case <-answered:
			return time.Since(back)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe: the bridge did not answer within %s of the broker's return", wait)
		}
	}
}

// chaosObserver follows the devices' state through the restarts with a
// client of its own that reconnects by itself.
type chaosObserver struct {
	mu      sync.Mutex
	state   map[string]map[string]any
	changed chan struct{}
}

func newChaosObserver(t *testing.T, url, base string) *chaosObserver {
	t.Helper()
	o := &chaosObserver{state: map[string]map[string]any{}, changed: make(chan struct{}, 1)}
	c, err := mqtt.Connect(context.Background(), mqtt.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	err = c.Subscribe(context.Background(), base+"/+/+", func(m mqtt.Message) {
		var s map[string]any
		if json.Unmarshal(m.Payload, &s) != nil {
			return
		}
		o.mu.Lock()
		o.state[strings.TrimPrefix(m.Topic, base+"/")] = s
		o.mu.Unlock()
		select {
		case o.changed <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// waitState waits until the latest state of rel satisfies match.
func (o *chaosObserver) waitState(t *testing.T, rel string, match func(map[string]any) bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		o.mu.Lock()
		s, ok := o.state[rel]
		o.mu.Unlock()
		if ok && match(s) {
			return
		}
		select {
		case <-o.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("state of %s = %v, not as expected within %s", rel, s, wait)
		}
	}
}
