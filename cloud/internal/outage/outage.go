// Package outage tells the bridge how a watched account is doing:
// credentials the cloud rejects (at once), a cloud that does not answer
// (after a few failures in a row), the end of either at the next success,
// and the push state. Each change is reported once.
package outage

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// DefaultAfter is how many failures in a row make an outage.
const DefaultAfter = 3

// Tracker follows one account's calls and push state and reports their
// changes. It is not safe for concurrent use: a watcher's loop owns it.
type Tracker struct {
	Cloud  string            // "Wink", "Homey": named in logs and reported errors
	After  int               // failures in a row that make an outage; 0 means DefaultAfter
	Log    *slog.Logger      // nil discards
	Report func(cloud.Event) // where the changes go

	fails    int
	reported string          // the reported failure's text; "" when none is reported
	push     cloud.PushState // the last reported push state
}

func (t *Tracker) log() *slog.Logger {
	if t.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Log
}

// Failed records a failed call. Rejected credentials (cloud.ErrAuth) are
// reported at once, and again only when the reason changes; other failures
// once they reach After in a row.
func (t *Tracker) Failed(err error) {
	t.fails++
	if errors.Is(err, cloud.ErrAuth) {
		if err.Error() != t.reported {
			t.log().Error(t.Cloud+" rejected the credentials", "err", err)
			t.reported = err.Error()
			t.Report(cloud.Event{Kind: cloud.EventAuth, Err: err})
		}
		return
	}
	t.log().Warn(t.Cloud+" request failed", "err", err)
	after := t.After
	if after <= 0 {
		after = DefaultAfter
	}
	if t.fails >= after && t.reported == "" {
		down := fmt.Errorf("%s does not answer (%d failures in a row): %w", t.Cloud, t.fails, err)
		t.reported = down.Error()
		t.Report(cloud.Event{Kind: cloud.EventAuth, Err: down})
	}
}

// OK records a successful call and reports the end of a reported failure.
func (t *Tracker) OK() {
	t.fails = 0
	if t.reported != "" {
		t.reported = ""
		t.log().Info(t.Cloud + " works again")
		t.Report(cloud.Event{Kind: cloud.EventAuth})
	}
}

// SetPush records how changes arrive and reports a change of it.
func (t *Tracker) SetPush(s cloud.PushState) {
	if t.push == s {
		return
	}
	t.push = s
	t.log().Info(t.Cloud+" push state", "push", string(s))
	t.Report(cloud.Event{Kind: cloud.EventPush, Push: s})
}

// Push returns the last reported push state.
func (t *Tracker) Push() cloud.PushState { return t.push }
