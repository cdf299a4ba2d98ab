package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/config"
)

// benchPath is one cloud's two paths through the bridge, on the demo home.
type benchPath struct {
	cloud string
	// setTopic and setPayload make command i; sawPUT waits until the
	// cloud received it and returns when.
	setTopic   string
	setPayload func(i int) string
	sawPUT     func(ctx context.Context, i int, after time.Time) (time.Time, error)
	// push changes a sensor in the cloud (change i); pushed is the topic
	// and a part of the bridge's state showing it.
	push   func(i int) error
	pushed func(i int) (topic, part string)
}

// benchPathRate is the per-device rate limit of the latency runs, far
// above their one command at a time.
const benchPathRate = 10000

// benchPaths measures /set → PUT and push → retained state for Wink and
// Homey, and the bridge's CPU per command beside a bare client receiving
// the same commands.
func benchPaths(ctx context.Context, r *benchReport, _ *cloud.Registry, o benchOptions, dir string, rt latencies, relay relayed) error {
	wink, err := winktest.Start(winktest.Options{ClientID: demoClientID, ClientSecret: demoClientSecret})
	if err != nil {
		return err
	}
	defer wink.Close()
	wink.Furnish()
	homey, err := homeytest.Start(homeytest.Options{ClientID: demoClientID, ClientSecret: demoClientSecret})
	if err != nil {
		return err
	}
	defer homey.Close()
	homey.Furnish()
	// One command after the other to one device: the per-device rate
	// limit would space them 1/max_rate apart, so these runs lift it; the
	// slider run measures it at its default.
	b, err := startDemoBridge(ctx, o, dir, wink, homey, map[string]any{"commands": map[string]any{"max_rate": benchPathRate}})
	if err != nil {
		return err
	}
	defer b.stop()
	base, pub, col, child := b.base, b.pub, b.col, b.child
	paths := []benchPath{
		{
			cloud: "wink", setTopic: base + "/wink/bedroom_lamp/set",
			setPayload: func(i int) string { return fmt.Sprintf(`{"brightness":%d}`, i%254+1) },
			sawPUT: func(ctx context.Context, i int, after time.Time) (time.Time, error) {
				want := fmt.Sprintf(`"brightness":%v`, float64(i%254+1)/255)
				req, err := wink.WaitRequest(ctx, func(q winktest.Request) bool {
					return q.Method == "PUT" && q.At.After(after) && strings.Contains(string(q.Body), want)
				})
				return req.At, err
			},
			push: func(i int) error {
				return wink.Update("sensor_pod", "198190", map[string]any{"temperature": float64(1000+i%1000) / 100})
			},
			pushed: func(i int) (string, string) {
				return base + "/wink/hallway_motion", fmt.Sprintf(`"temperature":%v`, float64(1000+i%1000)/100)
			},
		},
		{
			cloud: "homey", setTopic: base + "/homey/ceiling_light/set",
			setPayload: func(i int) string { return fmt.Sprintf(`{"brightness":%d}`, i%254+1) },
			sawPUT: func(ctx context.Context, i int, after time.Time) (time.Time, error) {
				req, err := homey.WaitRequest(ctx, func(q homeytest.Request) bool {
					return (q.Host == homeytest.HostHomey || q.Host == homeytest.HostSocket) && q.Method == "PUT" && q.At.After(after) &&
						strings.HasSuffix(q.Path, "/"+homeytest.DeviceLight+"/capability/dim")
				})
				return req.At, err
			},
			push: func(i int) error {
				return homey.SetCapability(homeytest.DeviceMotion, "measure_temperature", float64(1000+i%1000)/100)
			},
			pushed: func(i int) (string, string) {
				return base + "/homey/hallway_motion", fmt.Sprintf(`"temperature":%v`, float64(1000+i%1000)/100)
			},
		},
	}
	for _, p := range paths {
		if err := benchPathOf(ctx, r, o, dir, p, pub, col, child, rt, relay); err != nil {
			return fmt.Errorf("%w (bridge output: %s)", err, child.logs)
		}
	}
	// After the commands the heap holds what is live plus what may
	// accumulate between collections: the resident size of a small home
	// in use, beside its idle figure of the cold starts.
	rss, _, err := child.rssMiB()
	if err != nil {
		return err
	}
	r.row("RSS after the commands, demo home", rss, 0, "MiB", "")
	b.stop()
	return benchSliders(ctx, r, o, dir, wink, homey)
}

// demoBridge is a bridge process over the demo home of both emulators,
// with a subscriber to all it publishes and a publisher for commands.
type demoBridge struct {
	base    string
	child   *benchChild
	sub     paho.Client
	pub     paho.Client
	col     *collector
	url     string
	stopped bool
}

// startDemoBridge starts a bridge (with fresh tokens and extra settings)
// and returns once both clouds' demo lights are published.
func startDemoBridge(ctx context.Context, o benchOptions, dir string, wink *winktest.Server, homey *homeytest.Server,
	extra map[string]any) (*demoBridge, error) {
	_, winkRefresh := wink.IssueTokens()
	_, homeyRefresh := homey.IssueTokens()
	accounts := []map[string]any{
		{"name": "wink", "cloud": "wink", "client_id": demoClientID, "client_secret": demoClientSecret,
			"refresh_token": winkRefresh, "api_url": wink.URL, "pubnub_origin": wink.PubNubOrigin},
		{"name": "homey", "cloud": "homey", "client_id": demoClientID, "client_secret": demoClientSecret,
			"refresh_token": homeyRefresh, "cloud_url": homey.CloudURL},
	}
	base, cfg, sub, col, err := benchWatch(o, dir, accounts, extra)
	if err != nil {
		return nil, err
	}
	b := &demoBridge{base: base, sub: sub, col: col, url: o.url}
	if b.child, err = startChild(o.bridgeBin, filepath.Join(dir, base+".log"), "run", "--config", cfg); err != nil {
		sub.Disconnect(100)
		return nil, err
	}
	ready := map[string]bool{}
	if err := col.wait(ctx, time.Minute, func(m benchMessage) bool {
		switch m.topic {
		case base + "/wink/bedroom_lamp", base + "/homey/ceiling_light":
			ready[m.topic] = true
		}
		return len(ready) == 2
	}); err != nil {
		b.stop()
		if e := b.child.exited(); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("bench: the bridge did not publish the demo home: %w", err)
	}
	if b.pub, err = pahoConnect(o.url, "c2m-bench-pub-"+randomSuffix()); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

// stop ends the bridge and its clients, and clears the retained messages
// it left (the broker stays as it was).
func (b *demoBridge) stop() {
	if b.stopped {
		return
	}
	b.stopped = true
	b.child.stop()
	if b.pub != nil {
		b.pub.Disconnect(100)
	}
	b.sub.Disconnect(100)
	_ = clearRetained(b.url, retainedTopics(b.col))
}

// Slider: a dimmer dragged at benchSliderRate /set a second for
// benchSliderTime, at the default per-device rate limit.
const (
	benchSliderRate = 50
	benchSliderTime = 4 * time.Second
)

// benchSliders drags a slider on one light of each cloud and reports the
// PUTs a second the device got, and whether the last value was applied
// last (the goal: at most commands.max_rate a second, latest value wins).
func benchSliders(ctx context.Context, r *benchReport, o benchOptions, dir string, wink *winktest.Server, homey *homeytest.Server) error {
	b, err := startDemoBridge(ctx, o, dir, wink, homey, nil)
	if err != nil {
		return err
	}
	defer b.stop()
	type slider struct {
		cloud, topic string
		requests     func() []winktest.Request // the cloud's request log
		wait         func(context.Context, func(winktest.Request) bool) (winktest.Request, error)
		write        func(winktest.Request) bool
		value        func(level int) string // how a write of level shows in its body
	}
	sliders := []slider{
		{cloud: "wink", topic: b.base + "/wink/bedroom_lamp/set", requests: wink.Requests, wait: wink.WaitRequest,
			write: func(q winktest.Request) bool {
				return q.Method == "PUT" && strings.Contains(q.Path, "/2194253") && strings.Contains(string(q.Body), `"brightness"`)
			},
			value: func(level int) string { return fmt.Sprintf(`"brightness":%v`, float64(level)/255) }},
		{cloud: "homey", topic: b.base + "/homey/ceiling_light/set", requests: homey.Requests, wait: homey.WaitRequest,
			write: func(q homeytest.Request) bool {
				return (q.Host == homeytest.HostHomey || q.Host == homeytest.HostSocket) && q.Method == "PUT" &&
					strings.HasSuffix(q.Path, "/"+homeytest.DeviceLight+"/capability/dim")
			},
			value: func(level int) string { return fmt.Sprintf("%v", float64(level)/255) }},
	}
	// writes are the slider light's writes so far, in order.
	writes := func(s slider) []winktest.Request {
		var out []winktest.Request
		for _, q := range s.requests() {
			if s.write(q) {
				out = append(out, q)
			}
		}
		return out
	}
	n := int(benchSliderTime.Seconds() * benchSliderRate)
	for _, s := range sliders {
		before := len(writes(s))
		start := time.Now()
		tick := time.NewTicker(time.Second / benchSliderRate)
		for i := range n {
			b.pub.Publish(s.topic, 1, false, fmt.Sprintf(`{"brightness":%d}`, i%254+1))
			if i < n-1 {
				<-tick.C
			}
		}
		tick.Stop()
		lastLevel := (n-1)%254 + 1
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := s.wait(wctx, func(q winktest.Request) bool {
			return q.At.After(start) && s.write(q) && strings.Contains(string(q.Body), s.value(lastLevel))
		})
		cancel()
		if err != nil {
			return fmt.Errorf("bench: %s slider: the last value (%d) never reached the cloud: %w", s.cloud, lastLevel, err)
		}
		if w := writes(s); !strings.Contains(string(w[len(w)-1].Body), s.value(lastLevel)) {
			return fmt.Errorf("bench: %s slider: the last value (%d) was not the last write the cloud got", s.cloud, lastLevel)
		}
		// The rate between the first write and the last: writes spaced
		// 1/max_rate apart give max_rate exactly.
		puts := writes(s)[before:]
		window := puts[len(puts)-1].At.Sub(puts[0].At)
		perSec := 0.0
		if len(puts) > 1 {
			perSec = float64(len(puts)-1) / window.Seconds()
		}
		r.row(fmt.Sprintf("%s slider %d /set/s → writes/s", s.cloud, benchSliderRate), perSec, 0, "/s",
			fmt.Sprintf("≤ %v/s, last value last", config.DefaultCommandMaxRate))
		r.note("%s slider: %d commands in %v, %d writes to the light, the first %.0f ms after the first command, the last %.2f s later, with the last value",
			s.cloud, n, benchSliderTime, len(puts), ms(puts[0].At.Sub(start)), window.Seconds())
	}
	return nil
}

// sendCommands sends n commands of path p one after the other, each once
// the cloud got the previous one, and returns how long each took.
func sendCommands(ctx context.Context, p benchPath, pub paho.Client, n int) (latencies, error) {
	out := make(latencies, 0, n)
	for i := range n {
		start := time.Now()
		pub.Publish(p.setTopic, 1, false, p.setPayload(i))
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		at, err := p.sawPUT(wctx, i, start)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("bench: %s /set %d did not reach the cloud: %w", p.cloud, i, err)
		}
		out = append(out, at.Sub(start))
	}
	return out, nil
}

// waitTick waits d (one step of a bounded poll), or fails when ctx ends.
func waitTick(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func benchPathOf(ctx context.Context, r *benchReport, o benchOptions, dir string, p benchPath, pub paho.Client,
	col *collector, child *benchChild, rt latencies, relay relayed) error {
	// The latencies first, with nothing else receiving the commands: on a
	// machine of few cores the sink's process would compete with the
	// bridge's for them.
	set, err := sendCommands(ctx, p, pub, o.samples)
	if err != nil {
		return err
	}
	s, err := startSink(o.url, p.setTopic, o.samples, dir)
	if err != nil {
		return err
	}
	defer s.stop()
	sinkStart, err := s.cpu()
	if err != nil {
		return err
	}
	bridgeStart, err := child.cpu()
	if err != nil {
		return err
	}
	if _, err := sendCommands(ctx, p, pub, o.samples); err != nil {
		return err
	}
	bridgeCPU, err := child.cpu()
	if err != nil {
		return err
	}
	if !s.expect("done") {
		return fmt.Errorf("bench: the sink did not receive the %d commands", o.samples)
	}
	sinkCPU, err := s.cpu()
	if err != nil {
		return err
	}
	s.stop()
	push := make(latencies, 0, o.samples)
	for i := range o.samples {
		// Only what arrives after the push can show it.
		topic, part := p.pushed(i)
		from := col.mark()
		start := time.Now()
		if err := p.push(i); err != nil {
			return fmt.Errorf("bench: %s push %d: %w", p.cloud, i, err)
		}
		m, err := col.waitFrom(ctx, from, 10*time.Second, func(m benchMessage) bool {
			return m.topic == topic && bytes.Contains(m.payload, []byte(part))
		})
		if err != nil {
			return fmt.Errorf("bench: %s push %d did not reach MQTT: %w", p.cloud, i, err)
		}
		push = append(push, m.at.Sub(start))
	}
	r.row(p.cloud+" /set → cloud PUT p50", ms(set.pct(0.5)), ms(rt.pct(0.5)), "ms", "")
	r.row(p.cloud+" /set → cloud PUT p99", ms(set.pct(0.99)), ms(rt.pct(0.99)), "ms", "≤ 3×")
	r.row(p.cloud+" push → retained state p50", ms(push.pct(0.5)), ms(rt.pct(0.5)), "ms", "")
	r.row(p.cloud+" push → retained state p99", ms(push.pct(0.99)), ms(rt.pct(0.99)), "ms", "≤ 3×")
	ratio := func(x, y time.Duration) float64 { return float64(x) / float64(max(y, 1)) }
	r.note("%s beside the relay: /set → PUT %.1f× (p50) and %.1f× (p99), push %.1f× and %.1f×, CPU per command %.1f× its CPU per message",
		p.cloud, ratio(set.pct(0.5), relay.pct(0.5)), ratio(set.pct(0.99), relay.pct(0.99)),
		ratio(push.pct(0.5), relay.pct(0.5)), ratio(push.pct(0.99), relay.pct(0.99)),
		ratio((bridgeCPU-bridgeStart)/time.Duration(o.samples), relay.cpu))
	perCmd := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(o.samples) }
	r.row(p.cloud+" CPU per command", perCmd(bridgeCPU-bridgeStart), perCmd(sinkCPU-sinkStart), "µs", "≤ 2×")
	return nil
}
