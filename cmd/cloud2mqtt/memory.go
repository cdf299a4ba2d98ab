package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target unless GOGC is set:
// the heap may grow to 1.5× what is live instead of Go's 2×. The bridge
// holds every device's state for its life, so at rest it is what is live
// plus this margin; 10,000 devices stay under 100 MiB resident at the
// cost of a few more, short, collections.
const defaultGCPercent = 50

// tuneMemory applies defaultGCPercent when GOGC is not set.
func tuneMemory() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
