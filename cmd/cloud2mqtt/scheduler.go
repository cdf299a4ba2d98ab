package main

import (
	"io"
	"os"
	"runtime"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// daemonProcs is how many threads run the bridge's Go code at once, unless
// GOMAXPROCS is set. A command or a push is a chain of hand-offs between
// goroutines (the broker connection's reader, the command queue, the
// cloud request, the publish). With a P per core each hand-off wakes
// another thread, which spins and steals the goroutine: on two cores
// `cloud2mqtt bench` measured 1.7× the CPU per command of one P, and a
// slower /set → PUT. The bridge's work is waiting on sockets; one thread
// does it without the wake-ups.
const daemonProcs = 1

// tuneScheduler runs the bridge on daemonProcs Ps when args name the run
// command and GOMAXPROCS is not set. Other commands (the demo, which
// serves its emulators and broker in-process; bench, whose clients are the
// baseline) keep Go's default.
func tuneScheduler(args []string) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set || !runsDaemon(args) {
		return
	}
	runtime.GOMAXPROCS(daemonProcs)
}

// runsDaemon tells whether args run the bridge (`cloud2mqtt run`).
func runsDaemon(args []string) bool {
	root := newRootCommand(io.Discard, io.Discard, cloud.NewRegistry())
	cmd, _, err := root.Find(args)
	return err == nil && cmd.Name() == "run"
}
