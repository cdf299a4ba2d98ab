package mqtt

import (
	"strings"
	"time"
)

// Limits of the queue of early messages.
const (
	// earlyWindow is how long after Connect messages that match no
	// subscription are kept: a persistent session's queued messages come
	// right after the first CONNACK, before the caller subscribes.
	earlyWindow = 30 * time.Second
	// earlyLimit caps the early messages kept; older ones are dropped.
	earlyLimit = 1000
)

// route hands a received message to every subscription whose filter
// matches. It only enqueues: it blocks (and so holds back the connection)
// only while a queue is full. A message no subscription matches is kept
// for a later Subscribe while the early window is open, else dropped.
func (c *Client) route(m Message) {
	if c.opts.OnMessage != nil {
		c.opts.OnMessage(true, nil)
	}
	c.mu.Lock()
	var targets []*subscription
	for _, s := range c.subs {
		if matchTopic(s.filter, m.Topic) {
			targets = append(targets, s)
		}
	}
	if len(targets) == 0 {
		kept, dropped := c.early.keep(m, time.Now(), earlyLimit)
		c.mu.Unlock()
		if dropped {
			c.log.Warn("mqtt: too many messages before their subscription; dropping the oldest", "limit", earlyLimit)
		}
		if !kept {
			c.log.Debug("mqtt: message without a subscription", "topic", m.Topic)
		}
		return
	}
	c.mu.Unlock()
	for _, s := range targets {
		c.enqueue(s, m)
	}
}

// enqueue puts m on the queue of s, waiting while it is full.
func (c *Client) enqueue(s *subscription, m Message) {
	if s.queue.tryPush(m) {
		return
	}
	if c.fullWarned.CompareAndSwap(false, true) {
		c.log.Warn("mqtt: message queue full, holding back the connection until handlers catch up",
			"filter", s.filter, "queue_size", s.queue.limit)
	}
	for {
		select {
		case <-s.queue.space:
			if s.queue.tryPush(m) {
				return
			}
		case <-s.stop:
			return
		case <-c.done:
			return
		}
	}
}

// earlyQueue holds messages that arrived before a subscription matched
// them, in arrival order, until the window closes.
type earlyQueue struct {
	until    time.Time // zero: keep nothing
	messages []Message
	warned   bool
}

// keep stores m if the window is open at now. dropped reports, once, that
// the limit made it drop the oldest message.
func (q *earlyQueue) keep(m Message, now time.Time, limit int) (kept, dropped bool) {
	if now.After(q.until) {
		q.messages = nil
		return false, false
	}
	if len(q.messages) >= limit {
		q.messages = q.messages[1:]
		if !q.warned {
			q.warned, dropped = true, true
		}
	}
	q.messages = append(q.messages, m)
	return true, dropped
}

// take removes and returns the kept messages filter matches.
func (q *earlyQueue) take(filter string, now time.Time) []Message {
	if len(q.messages) == 0 {
		return nil
	}
	if now.After(q.until) {
		q.messages = nil
		return nil
	}
	var out []Message
	rest := q.messages[:0]
	for _, m := range q.messages {
		if matchTopic(filter, m.Topic) {
			out = append(out, m)
		} else {
			rest = append(rest, m)
		}
	}
	q.messages = rest
	return out
}

// matchTopic reports whether the topic name matches the subscription
// filter: '+' matches one level, '#' the rest (the parent level included),
// and a wildcard in the first level does not match a topic starting with
// '$'.
func matchTopic(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		if !fmore || !tmore {
			// "a/#" matches "a" too.
			return fmore == tmore || (!tmore && frest == "#")
		}
		filter, topic = frest, trest
	}
}
