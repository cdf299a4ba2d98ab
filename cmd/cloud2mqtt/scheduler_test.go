package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
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
// the process's) and reads the Ps it left: one for run, Go's default for
// the other commands, and the user's GOMAXPROCS always.
func TestTuneScheduler(t *testing.T) {
	if args, child := os.LookupEnv("CLOUD2MQTT_TEST_TUNE_ARGS"); child {
		before := runtime.GOMAXPROCS(0)
		tuneScheduler(strings.Fields(args))
		fmt.Printf("procs %d %d\n", before, runtime.GOMAXPROCS(0))
		return
	}
	for _, tc := range []struct {
		args, env string
		want      func(before int) int
	}{
		{"run", "", func(int) int { return 1 }},
		{"--config c.yaml run", "", func(int) int { return 1 }},
		{"run", "GOMAXPROCS=3", func(int) int { return 3 }},
		{"demo", "", func(before int) int { return before }},
		{"bench", "", func(before int) int { return before }},
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
		var before, after int
		i := strings.Index(string(out), "procs ")
		if i < 0 {
			t.Fatalf("%q: no procs line in %s", tc.args, out)
		}
		if _, err := fmt.Sscanf(string(out[i:]), "procs %d %d", &before, &after); err != nil {
			t.Fatalf("%q: %v in %s", tc.args, err, out)
		}
		if want := tc.want(before); after != want {
			t.Errorf("%q with %q: GOMAXPROCS %d, want %d", tc.args, tc.env, after, want)
		}
	}
}
