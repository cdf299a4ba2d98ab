package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// TestMain lets the test binary stand in for cloud2mqtt itself in the
// processes `bench` starts (the bridge under test and the sink).
func TestMain(m *testing.M) {
	if os.Getenv("CLOUD2MQTT_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestBenchPrintsEveryFigureBesideItsBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts bridge processes")
	}
	t.Setenv("CLOUD2MQTT_TEST_RUN_MAIN", "1")
	url := mqtttest.BrokerURL(t)
	var out, errs bytes.Buffer
	code := execute(context.Background(), []string{"bench", "--mqtt-url", url, "--devices", "8",
		"--accounts", "2", "--samples", "5", "--bridge-bin", os.Args[0]}, &out, &errs)
	if code != 0 {
		t.Fatalf("bench exited %d: %s\n%s", code, errs.String(), out.String())
	}
	for _, want := range []string{
		"broker publish → delivery p99", "wink /set → cloud PUT p99", "homey push → retained state p99",
		"wink CPU per command", "cold start, 8 devices", "RSS idle, 8 devices",
	} {
		line := ""
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, want) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no %q in the output:\n%s", want, out.String())
		} else if want != "broker publish → delivery p99" && !strings.HasPrefix(want, "RSS") && !strings.Contains(line, "×") {
			t.Errorf("%q has no ratio to its baseline: %s", want, line)
		}
	}
}
