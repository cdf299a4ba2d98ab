package bridge

import (
	"context"
	"hash/maphash"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// pipeliner is a Broker that can keep many publishes in flight.
// *mqtt.Client implements it.
type pipeliner interface {
	Pipeline(ctx context.Context, window int) *mqtt.Pipeline
}

// outbox sends a batch of messages: through an mqtt.Pipeline when the
// broker offers one, so that they do not wait for each other's
// acknowledgement, or one at a time otherwise. It belongs to the goroutine
// that created it; results are reported to done callbacks on that
// goroutine, in publish order, so callbacks may take b.mu (publish is never
// called with b.mu held).
type outbox struct {
	b    *Bridge
	ctx  context.Context
	pipe *mqtt.Pipeline // nil: one at a time
}

// newOutbox returns an outbox bounded by ctx. Call flush when done.
func (b *Bridge) newOutbox(ctx context.Context) *outbox {
	o := &outbox{b: b, ctx: ctx}
	if p, ok := b.broker.(pipeliner); ok {
		o.pipe = p.Pipeline(ctx, mqtt.DefaultWindow)
	}
	return o
}

// publish sends one message and reports its result to done (which may be
// nil); a failure is logged.
func (o *outbox) publish(topic string, payload []byte, retained bool, done func(error)) {
	if o.pipe == nil {
		err := o.b.publish(o.ctx, topic, payload, retained)
		if done != nil {
			done(err)
		}
		return
	}
	o.pipe.Publish(topic, payload, retained, func(err error) {
		if err != nil && o.ctx.Err() == nil {
			o.b.log.Warn("publish failed", "topic", topic, "error", err)
		}
		if done != nil {
			done(err)
		}
	})
}

// flush waits until every message is acknowledged or has failed.
func (o *outbox) flush() {
	if o.pipe != nil {
		_ = o.pipe.Flush() // each failure was logged and reported on its own
	}
}

// digest is a payload's fingerprint: what the bridge keeps of a payload it
// published, to tell whether a new one differs, instead of the payload.
type digest uint64

// digestOf fingerprints payload with the bridge's seed.
func (b *Bridge) digestOf(payload []byte) digest {
	return digest(maphash.Bytes(b.seed, payload))
}
