package backoff

import (
	"context"
	"errors"
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
