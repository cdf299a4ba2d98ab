package mqtt

import "sync"

// keptQueueCap is the capacity an emptied queue keeps for the next burst;
// a larger one, grown by a burst (the retained discovery scan at start),
// is given back.
const keptQueueCap = 256

// msgQueue is a subscription's delivery queue: first in, first out, with
// room for up to limit messages, after which a push has to wait. Its
// memory follows what is queued rather than the limit: most subscriptions
// hold nothing most of the time.
type msgQueue struct {
	limit int
	ready chan struct{} // a message was queued (coalesced)
	space chan struct{} // a full queue lost a message (coalesced)

	mu    sync.Mutex
	items []Message // queued from head on
	head  int
}

func newMsgQueue(limit int) *msgQueue {
	return &msgQueue{limit: limit, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

// tryPush queues m unless the queue is full.
func (q *msgQueue) tryPush(m Message) bool {
	q.mu.Lock()
	if len(q.items)-q.head >= q.limit {
		q.mu.Unlock()
		return false
	}
	if q.head > 0 && len(q.items) == cap(q.items) {
		// Reuse the room of the messages taken before growing.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, m)
	q.mu.Unlock()
	signal(q.ready)
	return true
}

// pop takes the oldest message, if there is one.
func (q *msgQueue) pop() (Message, bool) {
	q.mu.Lock()
	n := len(q.items) - q.head
	if n == 0 {
		q.mu.Unlock()
		return Message{}, false
	}
	m := q.items[q.head]
	q.items[q.head] = Message{} // the payload is the handler's now
	q.head++
	if q.head == len(q.items) {
		q.head = 0
		if cap(q.items) > keptQueueCap {
			q.items = nil
		} else {
			q.items = q.items[:0]
		}
	}
	q.mu.Unlock()
	if n == q.limit {
		signal(q.space)
	}
	return m, true
}

// signal makes a coalesced wake-up pending on ch.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
