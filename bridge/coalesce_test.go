package bridge

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// slowCloud is a provider whose first Set waits until released, and which
// records every change it is sent.
type slowCloud struct {
	mu      sync.Mutex
	changes []cloud.Change
	started chan struct{}
	release chan struct{}
	sent    chan struct{}
}

func (s *slowCloud) Account() string                                      { return "slow" }
func (s *slowCloud) Cloud() string                                        { return "test" }
func (s *slowCloud) Devices(context.Context) ([]cloud.Device, error)      { return nil, nil }
func (s *slowCloud) Device(context.Context, string) (cloud.Device, error) { return cloud.Device{}, nil }
func (s *slowCloud) Watch(ctx context.Context, _ func(cloud.Event)) error {
	<-ctx.Done()
	return ctx.Err()
}
func (s *slowCloud) Set(_ context.Context, id string, c cloud.Change) (cloud.Device, error) {
	s.mu.Lock()
	s.changes = append(s.changes, c)
	first := len(s.changes) == 1
	s.mu.Unlock()
	if first {
		close(s.started)
		<-s.release
	}
	s.sent <- struct{}{}
	return cloud.Device{ID: id}, nil
}

type nopBroker struct{}

func (nopBroker) Publish(context.Context, string, []byte, bool) error         { return nil }
func (nopBroker) Subscribe(context.Context, string, func(mqtt.Message)) error { return nil }
func (nopBroker) Unsubscribe(context.Context, string) error                   { return nil }

func TestRapidCommandsToOneDeviceAreMergedLatestWins(t *testing.T) {
	p := &slowCloud{started: make(chan struct{}), release: make(chan struct{}), sent: make(chan struct{}, 10)}
	b, err := New(nopBroker{}, []cloud.Provider{p}, Options{MaxRate: -1, ConfirmAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	close(b.done) // no run loop: confirmed devices are dropped
	b.enqueue("slow", "dimmer", cloud.Change{"brightness": 0.1})
	select {
	case <-p.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the first change was not sent")
	}
	// While the first is in flight, a slider moves on.
	b.enqueue("slow", "dimmer", cloud.Change{"brightness": 0.2})
	b.enqueue("slow", "dimmer", cloud.Change{"brightness": 0.3, "on": true})
	b.enqueue("slow", "dimmer", cloud.Change{"brightness": 0.4})
	close(p.release)
	for range 2 {
		select {
		case <-p.sent:
		case <-time.After(5 * time.Second):
			t.Fatal("a change was lost")
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	want := []cloud.Change{{"brightness": 0.1}, {"brightness": 0.4, "on": true}}
	if !reflect.DeepEqual(p.changes, want) {
		t.Errorf("changes sent = %v, want %v", p.changes, want)
	}
}

func TestMergedColourKeepsOnlyTheLatestColourKind(t *testing.T) {
	p := &slowCloud{started: make(chan struct{}), release: make(chan struct{}), sent: make(chan struct{}, 10)}
	b, err := New(nopBroker{}, []cloud.Provider{p}, Options{MaxRate: -1, ConfirmAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	close(b.done)
	b.enqueue("slow", "bulb", cloud.Change{"on": true})
	<-p.started
	b.enqueue("slow", "bulb", cloud.Change{"hue": 0.5, "saturation": 1.0})
	b.enqueue("slow", "bulb", cloud.Change{"color_temp": 2700.0})
	close(p.release)
	for range 2 {
		select {
		case <-p.sent:
		case <-time.After(5 * time.Second):
			t.Fatal("a change was lost")
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if want := (cloud.Change{"color_temp": 2700.0}); !reflect.DeepEqual(p.changes[1], want) {
		t.Errorf("merged change = %v, want %v", p.changes[1], want)
	}
}

func TestAccountNamedBridgeIsRefused(t *testing.T) {
	p := &namedCloud{slowCloud: slowCloud{}, name: "bridge"}
	if _, err := New(nopBroker{}, []cloud.Provider{p}, Options{MaxRate: -1, ConfirmAfter: -1}); err == nil {
		t.Error("an account named bridge was accepted")
	}
}

type namedCloud struct {
	slowCloud
	name string
}

func (n *namedCloud) Account() string { return n.name }
