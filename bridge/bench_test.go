package bridge_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// reportLatency adds p50 and p99 of the samples to the benchmark output.
func reportLatency(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	pct := func(p float64) float64 {
		i := int(float64(len(samples)-1) * p)
		return float64(samples[i].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkSetToCloudPUT measures a /set published on the broker until the
// PUT reaches the Wink emulator: broker delivery, parsing, validation,
// conversion and the HTTP request.
func BenchmarkSetToCloudPUT(b *testing.B) {
	// One command after the other to one light: the per-device rate limit
	// would space them 1/max_rate apart.
	h := newHarness(b, func(h *harness) { h.configure = func(o *bridge.Options) { o.MaxRate = 1e6 } })
	ctx := context.Background()
	pub, err := mqtt.Connect(ctx, mqtt.Options{URL: h.url})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close(ctx)
	topic := h.topics.Base + "/wink/bedroom_lamp/set"
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		level := i%254 + 1
		want := fmt.Sprintf(`"brightness":%v`, float64(level)/255)
		start := time.Now()
		if err := pub.Publish(ctx, topic, []byte(fmt.Sprintf(`{"brightness":%d}`, level)), false); err != nil {
			b.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		req, err := h.srv.WaitRequest(wctx, func(r winktest.Request) bool {
			return r.Method == "PUT" && r.At.After(start) && strings.Contains(string(r.Body), want)
		})
		cancel()
		if err != nil {
			b.Fatalf("PUT %d: %v", i, err)
		}
		samples = append(samples, req.At.Sub(start))
	}
	b.StopTimer()
	reportLatency(b, samples)
}

// BenchmarkCloudChangeToRetainedState measures a change in the Wink cloud
// until its state message reaches an MQTT subscriber: the PubNub push, the
// long-poll answer, decoding, the registry and the publish.
func BenchmarkCloudChangeToRetainedState(b *testing.B) {
	h := newHarness(b, nil)
	topic := h.topics.Base + "/wink/hallway_motion"
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		temp := float64(1000+i%1000) / 100 // one division: prints as it is published
		want := fmt.Sprintf(`"temperature":%v`, temp)
		start := time.Now()
		if err := h.srv.Update("sensor_pod", "198190", map[string]any{"temperature": temp}); err != nil {
			b.Fatal(err)
		}
		h.rec.Wait(b, wait, func(m mqtt.Message) bool {
			return m.Topic == topic && strings.Contains(string(m.Payload), want)
		})
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, samples)
}
