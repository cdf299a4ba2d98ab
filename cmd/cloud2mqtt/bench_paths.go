package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// benchPath is one cloud's two paths through the bridge, on the demo home.
type benchPath struct {
	cloud string
	// setTopic and setPayload make command i; sawPUT waits until the
	// cloud received it and returns when.
	setTopic   string
	setPayload func(i int) string
	sawPUT     func(ctx context.Context, i int, after time.Time) (time.Time, error)
	// push changes a sensor in the cloud (change i); pushed tells
	// whether a message is the bridge's state showing it.
	push   func(i int) error
	pushed func(i int, m benchMessage) bool
}

// benchPathRate is the per-device rate limit of the latency runs, far
// above their one command at a time.
const benchPathRate = 10000

// benchPaths measures /set → PUT and push → retained state for Wink and
// Homey, and the bridge's CPU per command beside a bare client receiving
// the same commands.
func benchPaths(ctx context.Context, r *benchReport, _ *cloud.Registry, o benchOptions, dir string, rt latencies) error {
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
	_, winkRefresh := wink.IssueTokens()
	_, homeyRefresh := homey.IssueTokens()
	accounts := []map[string]any{
		{"name": "wink", "cloud": "wink", "client_id": demoClientID, "client_secret": demoClientSecret,
			"refresh_token": winkRefresh, "api_url": wink.URL, "pubnub_origin": wink.PubNubOrigin},
		{"name": "homey", "cloud": "homey", "client_id": demoClientID, "client_secret": demoClientSecret,
			"refresh_token": homeyRefresh, "cloud_url": homey.CloudURL},
	}
	// One command after the other to one device: the per-device rate
	// limit would space them 1/max_rate apart, so these runs lift it; the
	// slider run measures it at its default.
	base, cfg, sub, col, err := benchWatch(o, dir, accounts, map[string]any{"commands": map[string]any{"max_rate": benchPathRate}})
	if err != nil {
		return err
	}
	defer sub.Disconnect(100)
	child, err := startChild(o.bridgeBin, filepath.Join(dir, base+".log"), "run", "--config", cfg)
	if err != nil {
		return err
	}
	defer func() {
		child.stop()
		// Leave the broker as it was: no retained messages of the bench.
		_ = clearRetained(o.url, retainedTopics(col))
	}()
	ready := map[string]bool{}
	if err := col.wait(ctx, time.Minute, func(m benchMessage) bool {
		switch m.topic {
		case base + "/wink/bedroom_lamp", base + "/homey/ceiling_light":
			ready[m.topic] = true
		}
		return len(ready) == 2
	}); err != nil {
		if e := child.exited(); e != nil {
			return e
		}
		return fmt.Errorf("bench: the bridge did not publish the demo home: %w", err)
	}
	pub, err := pahoConnect(o.url, "c2m-bench-pub-"+randomSuffix())
	if err != nil {
		return err
	}
	defer pub.Disconnect(100)

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
			pushed: func(i int, m benchMessage) bool {
				return m.topic == base+"/wink/hallway_motion" &&
					strings.Contains(string(m.payload), fmt.Sprintf(`"temperature":%v`, float64(1000+i%1000)/100))
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
			pushed: func(i int, m benchMessage) bool {
				return m.topic == base+"/homey/hallway_motion" &&
					strings.Contains(string(m.payload), fmt.Sprintf(`"temperature":%v`, float64(1000+i%1000)/100))
			},
		},
	}
	for _, p := range paths {
		if err := benchPathOf(ctx, r, o, dir, p, pub, col, child, rt); err != nil {
			return fmt.Errorf("%w (bridge output: %s)", err, child.logs)
		}
	}
	return nil
}

func benchPathOf(ctx context.Context, r *benchReport, o benchOptions, dir string, p benchPath, pub paho.Client,
	col *collector, child *benchChild, rt latencies) error {
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
	set := make(latencies, 0, o.samples)
	for i := range o.samples {
		start := time.Now()
		pub.Publish(p.setTopic, 1, false, p.setPayload(i))
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		at, err := p.sawPUT(wctx, i, start)
		cancel()
		if err != nil {
			return fmt.Errorf("bench: %s /set %d did not reach the cloud: %w", p.cloud, i, err)
		}
		set = append(set, at.Sub(start))
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
	push := make(latencies, 0, o.samples)
	for i := range o.samples {
		start := time.Now()
		if err := p.push(i); err != nil {
			return fmt.Errorf("bench: %s push %d: %w", p.cloud, i, err)
		}
		if err := col.wait(ctx, 10*time.Second, func(m benchMessage) bool { return p.pushed(i, m) }); err != nil {
			return fmt.Errorf("bench: %s push %d did not reach MQTT: %w", p.cloud, i, err)
		}
		push = append(push, time.Since(start))
	}
	r.row(p.cloud+" /set → cloud PUT p50", ms(set.pct(0.5)), ms(rt.pct(0.5)), "ms", "")
	r.row(p.cloud+" /set → cloud PUT p99", ms(set.pct(0.99)), ms(rt.pct(0.99)), "ms", "≤ 3×")
	r.row(p.cloud+" push → retained state p50", ms(push.pct(0.5)), ms(rt.pct(0.5)), "ms", "")
	r.row(p.cloud+" push → retained state p99", ms(push.pct(0.99)), ms(rt.pct(0.99)), "ms", "≤ 3×")
	perCmd := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(o.samples) }
	r.row(p.cloud+" CPU per command", perCmd(bridgeCPU-bridgeStart), perCmd(sinkCPU-sinkStart), "µs", "≤ 2×")
	return nil
}
