package winktest_test

import (
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

func TestFurnishGeneratedAddsEveryDevice(t *testing.T) {
	srv := winktest.NewServer(winktest.Options{})
	defer srv.Close()
	srv.FurnishGenerated(2000, "big")
	keys := srv.DeviceKeys()
	if len(keys) != 2000 {
		t.Fatalf("%d devices, want 2000", len(keys))
	}
	d, ok := srv.Device("sensor_pod", "100002")
	if !ok || d["name"] != "big device 2" {
		t.Errorf("device 2 = %v, want the sensor pod named \"big device 2\"", d["name"])
	}
}

// BenchmarkFurnishGenerated reports the cost of furnishing per device,
// which grows little with the home (the device list is pushed once).
func BenchmarkFurnishGenerated(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(map[int]string{1000: "1k", 10000: "10k"}[n], func(b *testing.B) {
			for range b.N {
				srv := winktest.NewServer(winktest.Options{})
				srv.FurnishGenerated(n, "big")
				srv.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/device")
		})
	}
}
