package bridge

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// throttledCloud answers every Set with a 429 that asks for a long wait.
type throttledCloud struct {
	slowCloud
	mu    sync.Mutex
	calls []time.Time
}

type throttleError struct{ wait time.Duration }

func (e throttleError) Error() string             { return "HTTP 429: slow down" }
func (e throttleError) HTTPStatus() int           { return 429 }
func (e throttleError) RetryAfter() time.Duration { return e.wait }

func (s *throttledCloud) Set(context.Context, string, cloud.Change) (cloud.Device, error) {
	s.mu.Lock()
	s.calls = append(s.calls, time.Now())
	s.mu.Unlock()
	return cloud.Device{}, throttleError{wait: time.Minute}
}

// eventBroker keeps the bridge's events.
type eventBroker struct {
	nopBroker
	events chan string
}

func (b eventBroker) Publish(_ context.Context, topic string, payload []byte, _ bool) error {
	if strings.HasSuffix(topic, "/bridge/event") {
		b.events <- string(payload)
	}
	return nil
}

// A Retry-After beyond the command's lifetime is honoured: no call before
// it, and the command is reported failed when its lifetime ends, saying
// why.
func TestRetryAfterBeyondTheLifetimeFailsAtItsEnd(t *testing.T) {
	p := &throttledCloud{}
	br := eventBroker{events: make(chan string, 10)}
	b, err := New(br, []cloud.Provider{p}, Options{CommandLifetime: time.Second, ConfirmAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b.enqueue("slow", "dimmer", cloud.Change{"brightness": 0.5})
	select {
	case ev := <-br.events:
		if !strings.Contains(ev, `"command_failed"`) || !strings.Contains(ev, "asked to retry after 1m0s") ||
			!strings.Contains(ev, "commands.lifetime") {
			t.Errorf("event = %s", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no command_failed")
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("failed after %s, before the lifetime of 1s ended", took)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.calls) != 1 {
		t.Errorf("%d calls, want 1: the Retry-After of a minute forbids a second within the lifetime", len(p.calls))
	}
}
