package bridge

import (
	"context"
	"sync"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// Changes tells its subscribers that something the bridge shows has
// changed: a device's state or availability, an account's status or push
// state. The zero value is ready to use; it is safe for concurrent use.
type Changes struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// SubscribeChanges returns a channel that receives a value after changes
// (a burst of changes may make one value) and a function that ends the
// subscription.
func (c *Changes) SubscribeChanges() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	if c.subs == nil {
		c.subs = map[chan struct{}]struct{}{}
	}
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}

// Notify tells every subscriber; it never blocks.
func (c *Changes) Notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- struct{}{}:
		default: // one is pending already
		}
	}
}

// NotifyingBroker returns broker with every publish also told to c. The
// bridge publishes whatever it shows as soon as it changes (device state
// and availability, bridge/info with each account's status and push
// state), so a publish, even one that fails while the broker is away,
// marks a change.
func NotifyingBroker(broker Broker, c *Changes) Broker {
	return &notifyingBroker{Broker: broker, changes: c}
}

type notifyingBroker struct {
	Broker
	changes *Changes
}

func (n *notifyingBroker) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	err := n.Broker.Publish(ctx, topic, payload, retained)
	n.changes.Notify()
	return err
}

// Pipeline keeps the wrapped broker's pipelined publishing; a batch counts
// as one change, once it is flushed.
func (n *notifyingBroker) Pipeline(ctx context.Context, window int) *mqtt.Pipeline {
	p, ok := n.Broker.(pipeliner)
	if !ok {
		return nil
	}
	pipe := p.Pipeline(ctx, window)
	pipe.AfterFlush = n.changes.Notify
	return pipe
}

// SubscribeQoS keeps the wrapped broker's choice of QoS (see subscribeBulk).
func (n *notifyingBroker) SubscribeQoS(ctx context.Context, filter string, qos byte, h func(mqtt.Message)) error {
	if q, ok := n.Broker.(qosSubscriber); ok {
		return q.SubscribeQoS(ctx, filter, qos, h)
	}
	return n.Broker.Subscribe(ctx, filter, h)
}

// A notifying broker pipelines as the broker it wraps does.
var _ pipeliner = (*notifyingBroker)(nil)
