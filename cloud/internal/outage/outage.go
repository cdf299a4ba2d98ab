// Package outage tells the bridge when a cloud stops answering: after a few
// failures in a row it reports the account as not working, once, and as
// working again at the next success.
package outage

import (
	"fmt"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// DefaultAfter is how many failures in a row make an outage.
const DefaultAfter = 3

// Tracker counts consecutive failures of one account's calls. The zero
// value reports after DefaultAfter failures. It is not safe for concurrent
// use: a watcher's loop owns it.
type Tracker struct {
	Cloud string // "Wink", "Homey": named in the reported error
	After int    // failures in a row that make an outage; 0 means DefaultAfter

	fails    int
	reported bool
}

// Failed records a failure and reports the outage when it starts.
func (t *Tracker) Failed(err error, report func(cloud.Event)) {
	t.fails++
	after := t.After
	if after <= 0 {
		after = DefaultAfter
	}
	if t.fails >= after && !t.reported {
		t.reported = true
		report(cloud.Event{Kind: cloud.EventAuth,
			Err: fmt.Errorf("%s does not answer (%d failures in a row): %w", t.Cloud, t.fails, err)})
	}
}

// OK records a success and reports the end of an outage.
func (t *Tracker) OK(report func(cloud.Event)) {
	t.fails = 0
	if t.reported {
		t.reported = false
		report(cloud.Event{Kind: cloud.EventAuth})
	}
}
