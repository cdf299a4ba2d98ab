package winktest

import (
	"context"
	"time"
)

// appLike tells a User-Agent the keep-alive quirk counts as the Wink app:
// none at all, or digits only (Home Assistant sent the unix time).
func appLike(ua string) bool {
	for _, r := range ua {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// pushesStoppedLocked reports whether the keep-alive quirk swallows pushes
// now. s.mu must be held.
func (s *Server) pushesStoppedLocked() bool {
	return s.opts.PushesStopAfter > 0 && time.Since(s.lastAppCall) > s.opts.PushesStopAfter
}

// QuirkDrops is the number of pushes the keep-alive quirk
// (Options.PushesStopAfter) swallowed so far.
func (s *Server) QuirkDrops() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quirkDrops
}

// subscriptionFor is the subscription block of an object on channel: the
// subscribe key, the channel and (unless Options.NoOrigin) the PubNub
// origin.
func (s *Server) subscriptionFor(channel string) map[string]any {
	pn := map[string]any{"subscribe_key": s.SubscribeKey, "channel": channel}
	if !s.opts.NoOrigin {
		pn["origin"] = s.PubNubOrigin
	}
	return map[string]any{"pubnub": pn}
}

// WaitPushesStopped waits until the keep-alive quirk swallows pushes (no
// app-like /users/me call for Options.PushesStopAfter), or ctx ends. It
// returns at once when the quirk is off.
func (s *Server) WaitPushesStopped(ctx context.Context) error {
	if s.opts.PushesStopAfter <= 0 {
		return nil
	}
	for {
		s.mu.Lock()
		left := time.Until(s.lastAppCall.Add(s.opts.PushesStopAfter))
		s.mu.Unlock()
		if left < 0 {
			return nil
		}
		t := time.NewTimer(left + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
