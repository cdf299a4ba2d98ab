package winktest_test

import (
	"io"
	"net/http"
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

// BenchmarkListGenerated reports what GET /users/me/wink_devices costs the
// emulator (and a client reading the answer) for a generated home of
// 1,000 devices, the bench's largest account.
func BenchmarkListGenerated(b *testing.B) {
	srv := winktest.NewServer(winktest.Options{})
	defer srv.Close()
	srv.FurnishGenerated(1000, "big")
	access, _ := srv.IssueTokens()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/users/me/wink_devices", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+access)
	b.ResetTimer()
	for range b.N {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		b.SetBytes(n)
	}
}
