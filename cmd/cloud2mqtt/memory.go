package main

import (
	"os"
	"runtime/debug"
)

// steadyGCPercent is the garbage collector's target once the bridge has
// started, unless GOGC is set: the heap may grow to 1.5× what is live
// instead of Go's 2×. The bridge holds every device's state for its life,
// so at rest it is what is live plus this margin; 10,000 devices stay
// under 100 MiB resident at the cost of a few more, short, collections.
//
// The start itself (every listing decoded, every device's messages built)
// runs at Go's default of 100: its garbage is returned to the operating
// system when it ends, and at 50 the collector took a sixth of the start's
// CPU (`cloud2mqtt bench`: 10,000 devices in 3.03 s instead of 3.44 s).
const steadyGCPercent = 50

// settleMemory applies steadyGCPercent when GOGC is not set; the bridge
// calls it when its start is over.
func settleMemory() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(steadyGCPercent)
	}
}
