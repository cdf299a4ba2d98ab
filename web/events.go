package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Changes is a Source that also tells when what it shows has changed.
// The page pushes an update to open browsers on every signal (a burst of
// signals makes one update) and otherwise every refreshInterval, so that
// relative times stay true.
type Changes interface {
	// SubscribeChanges returns a channel that receives a value after
	// changes (coalesced; it never blocks the sender), and a function
	// that ends the subscription.
	SubscribeChanges() (<-chan struct{}, func())
}

const (
	refreshInterval = 30 * time.Second
	// settleDelay gathers a burst of changes (a listing of many devices)
	// into one update.
	settleDelay = 150 * time.Millisecond
)

// update is one server-sent event: the page's live parts as HTML.
type update struct {
	Accounts string `json:"accounts"`
	Devices  string `json:"devices"`
	Now      string `json:"now"`
}

// handleEvents streams updates of the page as server-sent events.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the stream outlives the server's write timeout
	var changes <-chan struct{}
	if c, ok := s.o.Source.(Changes); ok {
		ch, stop := c.SubscribeChanges()
		defer stop()
		changes = ch
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// A reconnecting browser waits this long (ms) before trying again.
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	_ = rc.Flush()

	var last []byte
	send := func() bool {
		b, err := s.renderUpdate(time.Now())
		if err != nil {
			s.log.Warn("rendering a page update failed", "err", err)
			return true
		}
		if bytes.Equal(b, last) {
			_, err = fmt.Fprint(w, ": nothing new\n\n")
		} else {
			last = b
			_, err = fmt.Fprintf(w, "event: update\ndata: %s\n\n", b)
		}
		return err == nil && rc.Flush() == nil
	}
	if !send() {
		return
	}
	tick := time.NewTicker(refreshInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		case <-changes:
			settle := time.NewTimer(settleDelay)
			select {
			case <-r.Context().Done():
				settle.Stop()
				return
			case <-settle.C:
			}
		}
		if !send() {
			return
		}
	}
}

// renderUpdate renders the live parts of the page as one JSON line.
func (s *Server) renderUpdate(now time.Time) ([]byte, error) {
	d := s.view(now)
	var acc, dev bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&acc, "accounts", d); err != nil {
		return nil, fmt.Errorf("web: render accounts: %w", err)
	}
	if err := pageTmpl.ExecuteTemplate(&dev, "devices", d); err != nil {
		return nil, fmt.Errorf("web: render devices: %w", err)
	}
	return json.Marshal(update{Accounts: acc.String(), Devices: dev.String(), Now: d.Now})
}
