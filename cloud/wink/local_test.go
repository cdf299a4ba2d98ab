package wink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// localEnv is a client with local control against the emulator's hub.
func localEnv(t *testing.T, mode string) *env {
	e := newEnv(t, func(c *Config) {
		c.LocalControl, c.LocalRetry, c.LocalTimeout = mode, 100*time.Millisecond, time.Second
	})
	e.client.cfg.LocalURL = e.srv.HubLocalURL()
	if _, err := e.client.Devices(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return e
}

// newBenchEnv is localEnv for a benchmark.
func newBenchEnv(b *testing.B, mode string) *env {
	srv := winktest.NewServer(winktest.Options{ApplyDelay: 10 * time.Millisecond})
	b.Cleanup(srv.Close)
	srv.Furnish()
	_, refresh := srv.IssueTokens()
	c, err := New(Config{Account: "wink", ClientID: "winktest-client", ClientSecret: "winktest-secret", RefreshToken: refresh,
		APIURL: srv.URL, PubNubOrigin: srv.PubNubOrigin, LocalControl: mode, LocalURL: srv.HubLocalURL()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Devices(context.Background()); err != nil {
		b.Fatal(err)
	}
	return &env{srv: srv, client: c, seed: refresh}
}

const lampLocalPath = "/light_bulbs/29" // the furnished lamp's local_id on the hub

func TestLocalControlFirstCloudOnFailureLocalAgain(t *testing.T) {
	e := localEnv(t, LocalAuto)
	ctx := testCtx(t)
	cloudPUTs := func() int { return e.srv.CountRequests("PUT", "/light_bulbs/2194253") }

	d, err := e.client.Set(ctx, lampID, cloud.Change{cloud.FieldOn: true, cloud.FieldBrightness: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if d.State[cloud.FieldOn] != true || d.State[cloud.FieldBrightness] != 0.5 {
		t.Errorf("local answer state %v, want on at 0.5", d.State)
	}
	if e.srv.CountRequests("PUT", lampLocalPath) != 1 || cloudPUTs() != 0 {
		t.Fatalf("local PUTs %d, cloud PUTs %d: want the command on the hub only", e.srv.CountRequests("PUT", lampLocalPath), cloudPUTs())
	}
	if st := e.client.LocalHubs(); len(st) != 1 || st[0].State != "ok" || st[0].LatencyMS <= 0 {
		t.Errorf("LocalStatus %+v, want the hub ok with a latency", st)
	}

	// The hub stops answering in the middle of a stream of commands: every
	// command still reaches the cloud.
	levels := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}
	for i, level := range levels {
		if i == 2 {
			e.srv.SetHubLocalDown(true)
		}
		if _, err := e.client.Set(ctx, lampID, cloud.Change{cloud.FieldBrightness: level}); err != nil {
			t.Fatalf("command %d (%v): %v", i, level, err)
		}
	}
	if got := cloudPUTs(); got != len(levels)-2 {
		t.Errorf("%d commands through the cloud after the hub stopped, want %d", got, len(levels)-2)
	}
	if st := e.client.LocalHubs(); len(st) != 1 || st[0].State != "failing" || st[0].Reason == "" {
		t.Errorf("LocalStatus %+v, want the hub failing with a reason", st)
	}
	waitBrightness(t, e.srv, 0.6)

	// It comes back: once its rest is over, commands go local again.
	e.srv.SetHubLocalDown(false)
	before := e.srv.CountRequests("PUT", lampLocalPath)
	for v := 0.7; e.srv.CountRequests("PUT", lampLocalPath) == before; v = 1.7 - v {
		if ctx.Err() != nil {
			t.Fatal("commands never went local again")
		}
		if _, err := e.client.Set(ctx, lampID, cloud.Change{cloud.FieldBrightness: v}); err != nil {
			t.Fatal(err)
		}
		if e.srv.CountRequests("PUT", lampLocalPath) == before {
			// Still resting: the command went through the cloud; wait
			// for the rest to end before the next one.
			waitFor(t, ctx, e.client.cfg.LocalRetry)
		}
	}
	if st := e.client.LocalHubs(); st[0].State != "ok" {
		t.Errorf("LocalStatus %+v after the hub came back", st)
	}
}

func TestLocalControlOnlyFailsWithoutTheHub(t *testing.T) {
	e := localEnv(t, LocalOnly)
	e.srv.SetHubLocalDown(true)
	_, err := e.client.Set(testCtx(t), lampID, cloud.Change{cloud.FieldOn: true})
	if err == nil || !strings.Contains(err.Error(), "local_control") {
		t.Fatalf("Set with the hub down and local_control only: %v", err)
	}
	if n := e.srv.CountRequests("PUT", "/light_bulbs/2194253"); n != 0 {
		t.Errorf("%d cloud PUTs with local_control only", n)
	}
}

func TestLocalControlOffUsesTheCloud(t *testing.T) {
	e := localEnv(t, LocalOff)
	if _, err := e.client.Set(testCtx(t), lampID, cloud.Change{cloud.FieldOn: true}); err != nil {
		t.Fatal(err)
	}
	if e.srv.CountRequests("PUT", lampLocalPath) != 0 || e.srv.CountRequests("PUT", "/light_bulbs/2194253") != 1 {
		t.Error("local_control off did not go through the cloud alone")
	}
}

// waitBrightness waits until the emulator's lamp shows level.
func waitBrightness(t *testing.T, srv *winktest.Server, level float64) {
	t.Helper()
	ctx := testCtx(t)
	for {
		if d, _ := srv.Device("light_bulb", "2194253"); d["last_reading"].(map[string]any)["brightness"] == level {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the lamp never showed brightness %v", level)
		}
		waitFor(t, ctx, 10*time.Millisecond)
	}
}

// waitFor waits d or until ctx ends.
func waitFor(t *testing.T, ctx context.Context, d time.Duration) {
	t.Helper()
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

// BenchmarkSetLocalVsCloud: a command applied through the hub against the
// same command through a cloud 300 ms away.
func BenchmarkSetLocalVsCloud(b *testing.B) {
	for _, mode := range []string{LocalAuto, LocalOff} {
		name := map[string]string{LocalAuto: "local", LocalOff: "cloud"}[mode]
		b.Run(name, func(b *testing.B) {
			e := newBenchEnv(b, mode)
			e.srv.SetLatency(300 * time.Millisecond)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := e.client.Set(ctx, lampID, cloud.Change{cloud.FieldBrightness: float64(i%10) / 10}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestLocalControlSettings(t *testing.T) {
	s := &Settings{ClientID: "id", ClientSecret: "secret", LocalControl: "maybe", LocalURL: "http://hub"}
	err := s.Validate("accounts[0]", "wink")
	for _, want := range []string{"accounts[0].local_control", "off or only", "accounts[0].local_url"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to name %s", err, want)
		}
	}
	if (&Settings{}).localControl() != LocalAuto {
		t.Error("local control is not auto by default in the settings")
	}
	if _, err := New(Config{Account: "wink", ClientID: "id", ClientSecret: "s", LocalControl: "maybe"}); err == nil || !strings.Contains(err.Error(), "local_control") {
		t.Errorf("New with a bad mode: %v", err)
	}
}
