package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// TestSettleMemory runs settleMemory in a child process (the collector's
// target is the process's): it lowers Go's default to steadyGCPercent, and
// leaves a GOGC the user set alone.
func TestSettleMemory(t *testing.T) {
	if _, child := os.LookupEnv("CLOUD2MQTT_TEST_SETTLE"); child {
		settleMemory()
		fmt.Printf("gogc %d\n", debug.SetGCPercent(-1))
		return
	}
	for _, tc := range []struct {
		env  string
		want int
	}{
		{"", steadyGCPercent},
		{"GOGC=80", 80},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSettleMemory$")
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "GOGC=") }),
			"CLOUD2MQTT_TEST_SETTLE=1")
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.env, err, out)
		}
		i := strings.Index(string(out), "gogc ")
		var got int
		if i < 0 {
			t.Fatalf("%q: no gogc line in %s", tc.env, out)
		}
		if _, err := fmt.Sscanf(string(out[i:]), "gogc %d", &got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("with %q: GOGC %d after the start, want %d", tc.env, got, tc.want)
		}
	}
}
