package backoff

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDelayGrowsWithinBounds(t *testing.T) {
	for n := 1; n <= 12; n++ {
		base := 200 * time.Millisecond << min(n-1, 8)
		for range 50 {
			if d := Delay(n); d < base/2 || d > base/2+base {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", n, d, base/2, base/2+base)
			}
		}
	}
	if d := Delay(0); d <= 0 {
		t.Errorf("Delay(0) = %v, want a positive wait", d)
	}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("Sleep(0) = %v", err)
	}
}

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	for h, want := range map[string]time.Duration{"": time.Second, "3": 3 * time.Second, " 0 ": 0, "soon": time.Second,
		"Mon, 02 Jan 2006 15:04:05 GMT": 0} {
		if got := RetryAfter(h); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", h, got, want)
		}
	}
	if got := RetryAfter(time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)); got <= 58*time.Second || got > time.Minute {
		t.Errorf("RetryAfter(a date a minute ahead) = %v", got)
	}
}

func TestSleepRetryAfterRefusesWaitsAboveTheLimit(t *testing.T) {
	if err := SleepRetryAfter(context.Background(), "120", time.Minute); err == nil || !strings.Contains(err.Error(), "2m0s") {
		t.Errorf("SleepRetryAfter(120 s, limit 1 min) = %v, want an error naming the 2m0s asked for", err)
	}
	if err := SleepRetryAfter(context.Background(), "0", time.Minute); err != nil {
		t.Errorf("SleepRetryAfter(0) = %v", err)
	}
}
