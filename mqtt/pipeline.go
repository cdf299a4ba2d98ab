package mqtt

import (
	"context"
	"errors"
	"fmt"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// DefaultWindow is the number of unacknowledged publishes a Pipeline keeps
// in flight unless told otherwise. It stays below the 1,024 QoS 1 messages
// in flight that brokers commonly accept from one client (the embedded
// broker's receive maximum) and well below the 65,535 packet identifiers
// of one connection.
const DefaultWindow = 256

// Pipeline publishes many QoS 1 messages without waiting for each one's
// acknowledgement before sending the next: up to its window are in flight
// at once. Messages leave in the order Publish is called, on one
// connection, so the broker keeps them in that order per topic. A Pipeline
// belongs to one goroutine; create it with Client.Pipeline and end it with
// Flush.
type Pipeline struct {
	// AfterFlush, when set, is called at the end of every Flush (to tell
	// others that a batch went out).
	AfterFlush func()

	c      *Client
	ctx    context.Context
	window int
	ring   []inflight // publishes in flight, oldest at head
	head   int
	count  int
	errs   []error
	sent   int
}

// inflight is one publish waiting for its acknowledgement.
type inflight struct {
	topic string
	tok   paho.Token  // nil when the publish failed before it was sent
	cn    *connection // the connection it was sent on
	err   error       // why, then
	done  func(error)
}

// Pipeline returns a pipeline that keeps up to window publishes in flight
// (DefaultWindow when window < 1). ctx bounds every wait for an
// acknowledgement.
func (c *Client) Pipeline(ctx context.Context, window int) *Pipeline {
	if window < 1 {
		window = DefaultWindow
	}
	return &Pipeline{c: c, ctx: ctx, window: window, ring: make([]inflight, min(window, 8))}
}

// Publish sends payload to topic with QoS 1. When the window is full it
// first waits for the oldest publish in flight. done, when not nil, is
// called with that publish's result (nil once the broker acknowledged it)
// from a later Publish or from Flush, in the order the messages were
// published.
func (p *Pipeline) Publish(topic string, payload []byte, retained bool, done func(error)) {
	if p.count == p.window {
		p.settleOldest()
	}
	if p.count == len(p.ring) {
		p.grow()
	}
	f := inflight{topic: topic, done: done}
	switch err := validTopic(topic); {
	case err != nil:
		f.err = err
	default:
		cn := p.c.current()
		if !cn.open() {
			f.err = ErrNotConnected
			break
		}
		if payload == nil {
			payload = []byte{}
		}
		f.tok, f.cn = cn.pc.Publish(topic, 1, retained, payload), cn
		p.sent++
	}
	p.ring[(p.head+p.count)%len(p.ring)] = f
	p.count++
}

// grow doubles the ring, up to the window: a pipeline of a few messages
// costs little.
func (p *Pipeline) grow() {
	ring := make([]inflight, min(2*len(p.ring), p.window))
	for i := range p.count {
		ring[i] = p.ring[(p.head+i)%len(p.ring)]
	}
	p.ring, p.head = ring, 0
}

// Flush waits until every publish is acknowledged or has failed, and
// returns the failures joined (nil when there were none). The pipeline can
// be used again afterwards.
func (p *Pipeline) Flush() error {
	for p.count > 0 {
		p.settleOldest()
	}
	err := errors.Join(p.errs...)
	p.errs = nil
	if p.AfterFlush != nil {
		p.AfterFlush()
	}
	return err
}

// Sent is the number of messages handed to the broker connection so far.
func (p *Pipeline) Sent() int { return p.sent }

// settleOldest waits for the oldest publish in flight and reports it.
func (p *Pipeline) settleOldest() {
	f := p.ring[p.head]
	p.ring[p.head] = inflight{}
	p.head = (p.head + 1) % len(p.ring)
	p.count--
	err := f.err
	switch {
	case f.tok == nil:
	case isDone(f.tok):
		err = f.tok.Error()
	default:
		err = p.c.wait(p.ctx, f.cn, f.tok)
	}
	p.finish(f.topic, f.done, err)
}

func (p *Pipeline) finish(topic string, done func(error), err error) {
	if p.c.opts.OnMessage != nil {
		p.c.opts.OnMessage(false, err)
	}
	if err != nil {
		err = fmt.Errorf("mqtt: publish to %q: %w", topic, err)
		p.errs = append(p.errs, err)
	}
	if done != nil {
		done(err)
	}
}

func isDone(tok paho.Token) bool {
	select {
	case <-tok.Done():
		return true
	default:
		return false
	}
}
