package web

import (
	"log/slog"
	"testing"
	"time"
)

func TestWaitEndsAndDoubles(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(slog.New(slog.DiscardHandler))
	th.now = func() time.Time { return now }
	for range maxFailures - 1 {
		th.failed("a")
	}
	if d := th.wait("a"); d != 0 {
		t.Fatalf("wait after %d failures: %v", maxFailures-1, d)
	}
	th.failed("a")
	if d := th.wait("a"); d != time.Second {
		t.Fatalf("wait after %d failures: %v, want 1s", maxFailures, d)
	}
	now = now.Add(time.Second)
	if d := th.wait("a"); d != 0 {
		t.Fatalf("wait once it passed: %v", d)
	}
	th.failed("a")
	if d := th.wait("a"); d != 2*time.Second {
		t.Fatalf("wait after one more failure: %v, want 2s", d)
	}
	for range 30 {
		th.failed("a")
	}
	if d := th.wait("a"); d != maxLockout {
		t.Fatalf("wait is not capped: %v", d)
	}
	th.succeeded("a")
	if d := th.wait("a"); d != 0 {
		t.Fatalf("wait after the right password: %v", d)
	}
}
