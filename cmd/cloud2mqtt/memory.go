package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target unless GOGC is set:
// the heap may grow to 1.5× what is live instead of Go's 2×. The bridge
// holds every device's state for its life, so at rest it is what is live
// plus this margin; 10,000 devices stay under 100 MiB resident at the
// cost of a few more, short, collections. (A floor of 4 MiB of growth, Go's
// own at its default GOGC, took an eighth off the CPU per command of a
// small home in `cloud2mqtt bench` and added 6 MiB to its resident size in
// use: the memory was judged to matter more.)
const defaultGCPercent = 50

// tuneMemory applies defaultGCPercent when GOGC is not set.
func tuneMemory() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// settleMemory runs once the bridge has started: the start's garbage
// (every account's listing, every payload published) goes back to the
// operating system now rather than over the next minutes, so the resident
// size at rest is what the bridge holds.
func settleMemory() { debug.FreeOSMemory() }
