package homeytest_test

import (
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
)

func TestFurnishGeneratedAddsEveryDevice(t *testing.T) {
	srv := homeytest.NewServer(homeytest.Options{})
	defer srv.Close()
	srv.FurnishGenerated(2000, "big")
	if n := len(srv.DeviceIDs()); n != 2000 {
		t.Fatalf("%d devices, want 2000", n)
	}
}
