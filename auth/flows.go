package auth

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultFlowTTL is how long a started login waits for its callback.
const DefaultFlowTTL = 10 * time.Minute

// maxFlows bounds the logins in flight; the oldest is dropped beyond it.
const maxFlows = 64

type flow struct {
	l           Loginer
	redirectURI string
	verifier    string // the login's PKCE verifier
	expires     time.Time
}

// Flows keeps the logins started from the status page until their
// callbacks arrive: state → account. It is safe for concurrent use; a state
// is single-use and expires after the TTL.
type Flows struct {
	ttl time.Duration
	log *slog.Logger

	mu      sync.Mutex
	pending map[string]flow
}

// NewFlows returns an empty set of logins whose states live for ttl
// (DefaultFlowTTL when ≤ 0). A nil logger discards.
func NewFlows(ttl time.Duration, logger *slog.Logger) *Flows {
	if ttl <= 0 {
		ttl = DefaultFlowTTL
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Flows{ttl: ttl, log: logger, pending: map[string]flow{}}
}

// Start begins a login of l that will come back to redirectURI and returns
// the authorization URL to send the browser to ("" when the account has no
// browser login).
func (f *Flows) Start(l Loginer, redirectURI string) (authURL string) {
	state, verifier := NewState(), oauth2.GenerateVerifier()
	authURL = l.AuthCodeURL(state, redirectURI, verifier)
	if authURL == "" {
		return ""
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneLocked(now)
	if len(f.pending) >= maxFlows {
		var oldest string
		var at time.Time
		for s, fl := range f.pending {
			if oldest == "" || fl.expires.Before(at) {
				oldest, at = s, fl.expires
			}
		}
		delete(f.pending, oldest)
	}
	f.pending[state] = flow{l: l, redirectURI: redirectURI, verifier: verifier, expires: now.Add(f.ttl)}
	f.log.Info("login started", "account", l.Account())
	return authURL
}

func (f *Flows) pruneLocked(now time.Time) {
	for s, fl := range f.pending {
		if now.After(fl.expires) {
			delete(f.pending, s)
		}
	}
}

// Callback completes the login the request's state belongs to: it checks
// the state (single use), reports the authorization server's error if it
// sent one, and exchanges the code at once. It returns the account, also
// on failure when the state was known. Explain words the error.
func (f *Flows) Callback(ctx context.Context, r *http.Request) (account string, err error) {
	q := r.URL.Query()
	state := q.Get("state")
	f.mu.Lock()
	f.pruneLocked(time.Now())
	fl, ok := f.pending[state]
	delete(f.pending, state)
	f.mu.Unlock()
	if state == "" || !ok {
		f.log.Warn("login callback with an unknown or expired state refused")
		return "", &StateError{}
	}
	account = fl.l.Account()
	if err := exchange(ctx, fl.l, q, fl.redirectURI, fl.verifier); err != nil {
		f.log.Warn("login failed", "account", account, "err", err)
		return account, err
	}
	f.log.Info("login finished", "account", account)
	return account, nil
}

// Pending reports how many logins wait for their callback.
func (f *Flows) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneLocked(time.Now())
	return len(f.pending)
}
