package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt/broker"
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

// runTestBench runs bench with args against the test broker, this test
// binary standing in for the bridge, and returns its output.
func runTestBench(t *testing.T, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts bridge processes")
	}
	t.Setenv("CLOUD2MQTT_TEST_RUN_MAIN", "1")
	args = append([]string{"bench", "--mqtt-url", mqtttest.BrokerURL(t), "--bridge-bin", os.Args[0]}, args...)
	var out, errs bytes.Buffer
	if code := execute(context.Background(), args, &out, &errs); code != 0 {
		t.Fatalf("bench exited %d: %s\n%s", code, errs.String(), out.String())
	}
	return out.String()
}

func TestBenchPrintsEveryFigureBesideItsBaseline(t *testing.T) {
	output := runTestBench(t, "--devices", "8", "--accounts", "2", "--samples", "5")
	for _, want := range []string{
		"broker publish → delivery p99", "through a bare relay p99", "wink /set → cloud PUT p99", "homey push → retained state p99",
		"wink CPU per command", "cold start, 8 devices", "RSS idle, 8 devices", "RSS after the commands, demo home",
		"wink slider 50 /set/s → writes/s", "homey slider 50 /set/s → writes/s",
	} {
		line := ""
		for _, l := range strings.Split(output, "\n") {
			if strings.HasPrefix(l, want) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no %q in the output:\n%s", want, output)
		} else if want != "broker publish → delivery p99" && !strings.HasPrefix(want, "RSS") &&
			!strings.Contains(want, "slider") && !strings.Contains(line, "×") {
			t.Errorf("%q has no ratio to its baseline: %s", want, line)
		}
	}
}

// With --rounds 2 the cold start is measured twice: the figures are
// medians and a note gives each round's ratio.
func TestBenchColdStartRoundsAreNoted(t *testing.T) {
	output := runTestBench(t, "--devices", "4", "--accounts", "2", "--samples", "3", "--rounds", "2")
	rounds := regexp.MustCompile(`(?m)^# 4 devices, 2 rounds: medians above, the ratio the median of the rounds' [0-9.]+× [0-9.]+×$`)
	if !rounds.MatchString(output) {
		t.Errorf("no note of the two rounds' ratios in the output:\n%s", output)
	}
}

func TestBenchRefusesZeroRounds(t *testing.T) {
	var out, errs bytes.Buffer
	code := execute(context.Background(), []string{"bench", "--rounds", "0"}, &out, &errs)
	if code == 0 || !strings.Contains(errs.String(), "--rounds must be at least 1") {
		t.Fatalf("exit %d, stderr %q", code, errs.String())
	}
}

func TestBenchRefusesAnUnknownBroker(t *testing.T) {
	var out, errs bytes.Buffer
	code := execute(context.Background(), []string{"bench", "--broker", "rabbit"}, &out, &errs)
	if code == 0 || !strings.Contains(errs.String(), `--broker "rabbit": use auto, mosquitto or embedded`) {
		t.Fatalf("exit %d, stderr %q", code, errs.String())
	}
}

// The bench's own mosquitto accepts clients and delivers their messages.
func TestBenchMosquittoDelivers(t *testing.T) {
	bin := broker.MosquittoBinary()
	if bin == "" {
		t.Skip("mosquitto is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := startMosquitto(ctx, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer m.stop()
	if !strings.HasPrefix(m.version, "mosquitto version") {
		t.Errorf("version %q", m.version)
	}
	rt, err := brokerRoundTrip(ctx, m.url, "c2m-test/rt", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(rt) != 5 {
		t.Fatalf("%d round trips, want 5", len(rt))
	}
}

// A wait from a mark sees only what arrived after it, and the figure is
// taken from the message's arrival, not from when the waiter looked.
func TestCollectorWaitsFromItsMarkAndKeepsArrivalTimes(t *testing.T) {
	c := newCollector()
	old := time.Now()
	c.add(benchMessage{topic: "t", payload: []byte("x"), at: old})
	from := c.mark()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	arrived := old.Add(time.Second)
	go c.add(benchMessage{topic: "t", payload: []byte("x"), at: arrived})
	m, err := c.waitFrom(ctx, from, 10*time.Second, func(m benchMessage) bool { return string(m.payload) == "x" })
	if err != nil {
		t.Fatal(err)
	}
	if !m.at.Equal(arrived) {
		t.Errorf("matched the message of %v, want the one after the mark (%v)", m.at, arrived)
	}
	if _, err := c.waitFrom(ctx, c.mark(), 50*time.Millisecond, func(benchMessage) bool { return true }); err == nil {
		t.Error("a wait from the end matched a message that arrived before it")
	}
}
