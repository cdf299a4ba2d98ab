package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

func TestRunsDaemon(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"run"}, true},
		{[]string{"--config", "c.yaml", "run"}, true},
		{[]string{"run", "--log-level", "debug"}, true},
		{[]string{"demo"}, false},
		{[]string{"bench", "--devices", "100"}, false},
		{[]string{"emulate"}, false},
		{nil, false},
		{[]string{"nosuchcommand"}, false},
	} {
		if got := runsDaemon(tc.args); got != tc.want {
			t.Errorf("runsDaemon(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// TestTuneScheduler runs tuneScheduler in a child process (GOMAXPROCS is
// the process's) and reads the Ps it left, before and after the start:
// Go's default and then one for run, Go's default for the other commands,
// and the user's GOMAXPROCS always.
func TestTuneScheduler(t *testing.T) {
	if args, child := os.LookupEnv("CLOUD2MQTT_TEST_TUNE_ARGS"); child {
		before := runtime.GOMAXPROCS(0)
		afterStart := tuneScheduler(strings.Fields(args))
		starting := runtime.GOMAXPROCS(0)
		if afterStart != nil {
			afterStart()
		}
		fmt.Printf("procs %d %d %d\n", before, starting, runtime.GOMAXPROCS(0))
		return
	}
	same := func(before int) int { return before }
	for _, tc := range []struct {
		args, env         string
		starting, started func(before int) int
	}{
		{"run", "", same, func(int) int { return 1 }},
		{"--config c.yaml run", "", same, func(int) int { return 1 }},
		{"run", "GOMAXPROCS=3", func(int) int { return 3 }, func(int) int { return 3 }},
		{"demo", "", same, same},
		{"bench", "", same, same},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTuneScheduler$")
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "GOMAXPROCS=") }),
			"CLOUD2MQTT_TEST_TUNE_ARGS="+tc.args)
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.args, err, out)
		}
		var before, starting, started int
		i := strings.Index(string(out), "procs ")
		if i < 0 {
			t.Fatalf("%q: no procs line in %s", tc.args, out)
		}
		if _, err := fmt.Sscanf(string(out[i:]), "procs %d %d %d", &before, &starting, &started); err != nil {
			t.Fatalf("%q: %v in %s", tc.args, err, out)
		}
		if want := tc.starting(before); starting != want {
			t.Errorf("%q with %q: GOMAXPROCS %d while starting, want %d", tc.args, tc.env, starting, want)
		}
		if want := tc.started(before); started != want {
			t.Errorf("%q with %q: GOMAXPROCS %d once started, want %d", tc.args, tc.env, started, want)
		}
	}
}

// TestRunDropsToDaemonProcsOnceStarted runs the bridge as its own process
// (GOMAXPROCS is the process's) and reads the Ps it reports on /metrics
// once its devices are published: daemonProcs, after a start on Go's
// default.
func TestRunDropsToDaemonProcsOnceStarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a bridge process")
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one core: Go's default is one P already")
	}
	dir := t.TempDir()
	url := mqtttest.BrokerURL(t)
	wink, err := winktest.Start(winktest.Options{ClientID: demoClientID, ClientSecret: demoClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wink.Close)
	wink.Furnish()
	_, refresh := wink.IssueTokens()
	base := mqtttest.BaseTopic(t)
	mqtttest.NewClearingRecorder(t, url, base+"-ha/#")
	rec := mqtttest.NewRecorder(t, url, base+"/#")
	cfg, err := benchConfig(dir, url, base, []map[string]any{{"name": "wink", "cloud": "wink",
		"client_id": demoClientID, "client_secret": demoClientSecret, "refresh_token": refresh,
		"api_url": wink.URL, "pubnub_origin": wink.PubNubOrigin}},
		map[string]any{"web": map[string]any{"listen": "127.0.0.1:0"}, "log_level": "info"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "run", "--config", cfg)
	// The configuration file's settings only (childEnv), on Go's default Ps.
	cmd.Env = append(slices.DeleteFunc(childEnv(), func(e string) bool { return strings.HasPrefix(e, "GOMAXPROCS=") }),
		"CLOUD2MQTT_TEST_RUN_MAIN=1")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	addr := pageAddress(t, logs)
	rec.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == base+"/wink/bedroom_lamp" })

	// The start is published a moment after the last device's messages
	// reach a subscriber: read until the Ps are down or the wait is over.
	deadline := time.Now().Add(wait)
	for {
		procs, err := reportedProcs("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		if procs == daemonProcs {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bridge reports %v Ps %s after its devices were published, want %d; its log:\n%s",
				procs, wait, daemonProcs, logs)
		}
		if err := waitTick(context.Background(), 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

// reportedProcs reads go_sched_gomaxprocs_threads off a /metrics page.
func reportedProcs(url string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	f, ok := families["go_sched_gomaxprocs_threads"]
	if !ok || len(f.GetMetric()) == 0 {
		return 0, fmt.Errorf("%s has no go_sched_gomaxprocs_threads", url)
	}
	return f.GetMetric()[0].GetGauge().GetValue(), nil
}
