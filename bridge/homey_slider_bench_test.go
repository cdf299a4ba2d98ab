package bridge_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// BenchmarkHomeySlider moves a dimmer as a slider does, 50 /set per second
// for 10 s, through the bridge to the Homey emulator (athom cloud mode, the
// realtime socket connected), and reports what reaches the Homey per
// second: HTTP requests, socket RPC calls and capability writes by either.
// Run with -benchtime=1x: one run takes the full 10 s. "default" keeps the
// bridge's per-device rate limit (MaxRate 5/s); "max-rate-50" lifts it to
// the slider's rate, so the client's own cost per write shows.
func BenchmarkHomeySlider(b *testing.B) {
	for _, maxRate := range []float64{0, 50} {
		name := "default"
		if maxRate > 0 {
			name = fmt.Sprintf("max-rate-%v", maxRate)
		}
		b.Run(name, func(b *testing.B) { benchSlider(b, maxRate) })
	}
}

func benchSlider(b *testing.B, maxRate float64) {
	const (
		rate = 50
		span = 10 * time.Second
	)
	srv := furnishedHomey(b)
	h := newBaseHarness(b)
	h.configure = func(o *bridge.Options) {
		if maxRate > 0 {
			o.MaxRate = maxRate
		}
	}
	h.start(b, newHomeyClient(b, srv, "homey"))
	h.state(b, "homey/ceiling_light", nil)
	ctx := context.Background()
	pub, err := mqtt.Connect(ctx, mqtt.Options{URL: h.url})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close(ctx)
	topic := h.topics.Base + "/homey/ceiling_light/set/brightness"
	b.ResetTimer()
	for range b.N {
		httpBefore := srv.CountRequests(homeytest.HostHomey, "", "/api/")
		rpcBefore := srv.CountRequests(homeytest.HostSocket, "", "/api/")
		putsBefore := srv.CountRequests(homeytest.HostHomey, "PUT", "/api/manager/devices/device/") +
			srv.CountRequests(homeytest.HostSocket, "PUT", "/api/manager/devices/device/")
		start := time.Now()
		tick := time.NewTicker(time.Second / rate)
		last := 0
		for i := 0; time.Since(start) < span; i++ {
			<-tick.C
			last = 1 + i%254
			if err := pub.Publish(ctx, topic, []byte(fmt.Sprint(last)), false); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		want := float64(last) / 255
		deadline := time.Now().Add(wait)
		for {
			d, _ := srv.Device(homeytest.DeviceLight)
			dim, _ := d["capabilitiesObj"].(map[string]any)["dim"].(map[string]any)["value"].(float64)
			if dim > want-0.001 && dim < want+0.001 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("the last brightness %d did not arrive within %s (dim %v)", last, wait, dim)
			}
			time.Sleep(10 * time.Millisecond)
		}
		took := time.Since(start).Seconds()
		puts := srv.CountRequests(homeytest.HostHomey, "PUT", "/api/manager/devices/device/") +
			srv.CountRequests(homeytest.HostSocket, "PUT", "/api/manager/devices/device/") - putsBefore
		b.ReportMetric(float64(srv.CountRequests(homeytest.HostHomey, "", "/api/")-httpBefore)/took, "http-req/s")
		b.ReportMetric(float64(srv.CountRequests(homeytest.HostSocket, "", "/api/")-rpcBefore)/took, "rpc/s")
		b.ReportMetric(float64(puts)/took, "writes/s")
	}
}
