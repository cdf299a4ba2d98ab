// Package backoff holds the jittered waits used between retries: the cloud
// clients' calls and the bridge's commands.
package backoff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Delay is a jittered exponential wait before attempt n ≥ 1: about 200 ms
// doubled per attempt (capped at 256 times), half of it random.
func Delay(n int) time.Duration {
	base := 200 * time.Millisecond << min(max(n-1, 0), 8)
	return base/2 + rand.N(base)
}

// Sleep waits d or until ctx ends, whichever comes first, and returns
// ctx.Err() in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RetryAfter is the wait a Retry-After header asks for: whole seconds or
// an HTTP date; one second when it is missing or unreadable.
func RetryAfter(h string) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return time.Second
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
		return 0
	}
	return time.Second
}

// SleepRetryAfter waits what a 429's Retry-After header asks for, unless
// that is longer than limit (then it says so at once), or until ctx ends.
func SleepRetryAfter(ctx context.Context, header string, limit time.Duration) error {
	d := RetryAfter(header)
	if d > limit {
		return fmt.Errorf("asked to retry after %s, longer than the %s it waits", d, limit)
	}
	return Sleep(ctx, d)
}
