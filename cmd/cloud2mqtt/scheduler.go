package main

import (
	"io"
	"os"
	"runtime"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// daemonProcs is how many threads run the bridge's Go code at once once it
// has started, unless GOMAXPROCS is set. A command or a push is a chain of
// hand-offs between goroutines (the broker connection's reader, the
// command queue, the cloud request, the publish). With a P per core each
// hand-off wakes another thread, which spins and steals the goroutine: on
// two cores `cloud2mqtt bench` measured 1.7× the CPU per command of one P,
// and a slower /set → PUT. The bridge's work at rest is waiting on
// sockets; one thread does it without the wake-ups.
//
// The start is different work: every account's listing is decoded while
// the devices of the first are published, and the collector runs beside
// both. Until the start is published the bridge keeps Go's default (a P
// per core): on two cores the 10,000-device cold start of `cloud2mqtt
// bench` came to 2.16× its baseline where one P came to 2.45× (medians of
// six alternated runs; 1.61 s and 1.79 s), for the same CPU.
const daemonProcs = 1

// tuneScheduler returns, when args name the run command and GOMAXPROCS is
// not set, what puts the bridge on daemonProcs Ps: to be called once its
// start is published. Other commands (the demo, which serves its emulators
// and broker in-process; bench, whose clients are the baseline) keep Go's
// default, and tuneScheduler returns nil.
func tuneScheduler(args []string) (afterStart func()) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set || !runsDaemon(args) {
		return nil
	}
	return func() { runtime.GOMAXPROCS(daemonProcs) }
}

// runsDaemon tells whether args run the bridge (`cloud2mqtt run`).
func runsDaemon(args []string) bool {
	root := newRootCommand(io.Discard, io.Discard, cloud.NewRegistry(), nil)
	cmd, _, err := root.Find(args)
	return err == nil && cmd.Name() == "run"
}
