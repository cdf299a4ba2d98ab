package homeytest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// faults are the injected failures besides FailNext and FailNextCloud,
// guarded by Server.mu.
type faults struct {
	throttleN   int
	throttleFor time.Duration
	lanCut      bool // CutLAN
}

// ThrottleNext makes the next n Homey REST calls (socket upgrades
// excepted) answer 429 Too Many Requests with a Retry-After of retryAfter
// (whole seconds, rounded up).
func (s *Server) ThrottleNext(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.throttleN, s.faults.throttleFor = n, retryAfter
}

// DropEvents makes the realtime socket lose the next n events (capability
// changes, device updates, additions and deletions) for every subscriber,
// as a lost frame would; the change itself is kept.
func (s *Server) DropEvents(n int) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.drop = n
}

// RevokeAPIKeys makes every local API key created so far answer 401, as
// deleting it in the Homey web app would.
func (s *Server) RevokeAPIKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.apiKeys {
		delete(s.apiKeys, k)
	}
}

// throttled answers 429 when a throttle is pending and reports whether it
// did.
func (s *Server) throttled(w http.ResponseWriter) bool {
	s.mu.Lock()
	if s.faults.throttleN <= 0 {
		s.mu.Unlock()
		return false
	}
	s.faults.throttleN--
	wait := s.faults.throttleFor
	s.mu.Unlock()
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	homeyError(w, http.StatusTooManyRequests, "Too Many Requests", "rate limited: retry later")
	return true
}

// throttledRPC consumes a pending throttle for a socket RPC call and
// reports whether there was one.
func (s *Server) throttledRPC() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.throttleN <= 0 {
		return false
	}
	s.faults.throttleN--
	return true
}
