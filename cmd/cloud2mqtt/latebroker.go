package main

import (
	"context"
	"errors"
	"sync"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// lateBroker is the broker connection a bridge is made with before the
// connection exists: the bridge starts its accounts (logins and first
// listings) while the broker is being connected, and each of its calls
// waits until the connection is there. It keeps the optional abilities of
// *mqtt.Client the bridge looks for (QoS choice, pipelining).
type lateBroker struct {
	ready chan struct{} // closed once broker or err is set
	once  sync.Once
	// Set once, before ready is closed.
	broker bridge.Broker
	err    error
}

func newLateBroker() *lateBroker { return &lateBroker{ready: make(chan struct{})} }

// set hands over the connected broker.
func (l *lateBroker) set(b bridge.Broker) {
	l.once.Do(func() { l.broker = b; close(l.ready) })
}

// fail makes every waiting and later call fail with err: there will be no
// connection.
func (l *lateBroker) fail(err error) {
	l.once.Do(func() { l.err = err; close(l.ready) })
}

// get waits for the connection, bounded by ctx.
func (l *lateBroker) get(ctx context.Context) (bridge.Broker, error) {
	select {
	case <-l.ready:
		if l.err != nil {
			return nil, l.err
		}
		return l.broker, nil
	case <-ctx.Done():
		return nil, errors.Join(mqtt.ErrNotConnected, context.Cause(ctx))
	}
}

func (l *lateBroker) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	b, err := l.get(ctx)
	if err != nil {
		return err
	}
	return b.Publish(ctx, topic, payload, retained)
}

func (l *lateBroker) Subscribe(ctx context.Context, filter string, h func(mqtt.Message)) error {
	b, err := l.get(ctx)
	if err != nil {
		return err
	}
	return b.Subscribe(ctx, filter, h)
}

// SubscribeQoS subscribes at qos when the broker lets it choose.
func (l *lateBroker) SubscribeQoS(ctx context.Context, filter string, qos byte, h func(mqtt.Message)) error {
	b, err := l.get(ctx)
	if err != nil {
		return err
	}
	if q, ok := b.(interface {
		SubscribeQoS(context.Context, string, byte, func(mqtt.Message)) error
	}); ok {
		return q.SubscribeQoS(ctx, filter, qos, h)
	}
	return b.Subscribe(ctx, filter, h)
}

func (l *lateBroker) Unsubscribe(ctx context.Context, filter string) error {
	b, err := l.get(ctx)
	if err != nil {
		return err
	}
	return b.Unsubscribe(ctx, filter)
}

// Pipeline is the broker's pipeline, or nil (one publish at a time) when
// the broker has none or ctx ended before it was connected.
func (l *lateBroker) Pipeline(ctx context.Context, window int) *mqtt.Pipeline {
	b, err := l.get(ctx)
	if err != nil {
		return nil
	}
	if p, ok := b.(interface {
		Pipeline(context.Context, int) *mqtt.Pipeline
	}); ok {
		return p.Pipeline(ctx, window)
	}
	return nil
}
