package bridge

import (
	"context"
	"runtime"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// BenchmarkFirstListing applies a first listing of 1,000 generated Wink
// devices (decoded by the Wink client) to a new bridge over a broker that
// takes every message at once: the bridge's own work per device at a cold
// start (state, availability and discovery built, fingerprinted and
// handed to the broker), without the broker's or the cloud's. It reports
// the bytes and allocations per device, which the garbage collector's
// share of a start follows.
func BenchmarkFirstListing(b *testing.B) {
	const n = 1000
	srv := winktest.NewServer(winktest.Options{})
	b.Cleanup(srv.Close)
	srv.FurnishGenerated(n, "big")
	_, refresh := srv.IssueTokens()
	c, err := wink.New(wink.Config{Account: "late", ClientID: "winktest-client", ClientSecret: "winktest-secret",
		RefreshToken: refresh, APIURL: srv.URL, PubNubOrigin: srv.PubNubOrigin})
	if err != nil {
		b.Fatal(err)
	}
	listed, err := c.Devices(context.Background())
	if err != nil || len(listed) < n {
		b.Fatalf("%d devices listed, %v", len(listed), err)
	}
	devices := make([]cloud.Device, len(listed))
	var before, after runtime.MemStats
	var bytes, allocs uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		br, err := New(nopBroker{}, []cloud.Provider{&readCloud{}}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		copy(devices, listed)
		runtime.ReadMemStats(&before)
		b.StartTimer()
		o := br.newOutbox(context.Background())
		br.applyListing(o, "late", devices)
		o.flush()
		b.StopTimer()
		runtime.ReadMemStats(&after)
		bytes += after.TotalAlloc - before.TotalAlloc
		allocs += after.Mallocs - before.Mallocs
		close(br.done)
		b.StartTimer()
	}
	per := float64(b.N) * float64(len(devices))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/device")
	b.ReportMetric(float64(bytes)/per, "B/device")
	b.ReportMetric(float64(allocs)/per, "allocs/device")
}
