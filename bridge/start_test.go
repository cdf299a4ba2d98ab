package bridge_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// agingCloud is an account with one switch whose Watch reports the
// listing once and then nothing: what it listed ages until the bridge
// reads it again with Devices.
type agingCloud struct {
	listed chan struct{} // closed once Watch reported the listing
	mu     sync.Mutex
	on     bool
}

func (a *agingCloud) device() cloud.Device {
	a.mu.Lock()
	defer a.mu.Unlock()
	return cloud.Device{ID: "switch-1", Name: "Porch", Class: cloud.ClassSwitch, Available: true,
		Fields: []cloud.Field{{Name: cloud.FieldOn, Kind: cloud.KindBool, Writable: true}},
		State:  map[string]any{"on": a.on}}
}

func (a *agingCloud) switchOn() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.on = true
}

func (a *agingCloud) Account() string { return "aging" }
func (a *agingCloud) Cloud() string   { return "test" }
func (a *agingCloud) Devices(context.Context) ([]cloud.Device, error) {
	return []cloud.Device{a.device()}, nil
}
func (a *agingCloud) Device(context.Context, string) (cloud.Device, error) { return a.device(), nil }
func (a *agingCloud) Set(context.Context, string, cloud.Change) (cloud.Device, error) {
	return a.device(), nil
}
func (a *agingCloud) Watch(ctx context.Context, report func(cloud.Event)) error {
	report(cloud.Event{Kind: cloud.EventListing, Devices: []cloud.Device{a.device()}})
	close(a.listed)
	<-ctx.Done()
	return ctx.Err()
}

// gatedBroker is a broker connection that is not there until open is
// closed: every call waits for it.
type gatedBroker struct {
	c    *mqtt.Client
	open chan struct{}
}

func (g *gatedBroker) wait(ctx context.Context) error {
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gatedBroker) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	return g.c.Publish(ctx, topic, payload, retained)
}

func (g *gatedBroker) Subscribe(ctx context.Context, filter string, h func(mqtt.Message)) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	return g.c.Subscribe(ctx, filter, h)
}

func (g *gatedBroker) Unsubscribe(ctx context.Context, filter string) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	return g.c.Unsubscribe(ctx, filter)
}

func TestAListingThatWaitedForTheBrokerIsReadAgain(t *testing.T) {
	h := newBaseHarness(t)
	client, err := mqtt.Connect(context.Background(), mqtt.Options{URL: h.url, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	broker := &gatedBroker{c: client, open: make(chan struct{})}
	account := &agingCloud{listed: make(chan struct{})}
	b, err := bridge.New(broker, []cloud.Provider{account},
		bridge.Options{Topics: h.topics, Version: "test", Logger: testLogger(t), StaleStart: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Error("bridge did not stop")
		}
	})

	// The account lists while the broker is away; the switch changes
	// after that, and no push tells.
	select {
	case <-account.listed:
	case <-time.After(wait):
		t.Fatal("the account did not list before the broker was there")
	}
	account.switchOn()
	close(broker.open) // later than StaleStart after the start

	h.state(t, "aging/porch", func(s map[string]any) bool { return s["state"] == "ON" })
}
