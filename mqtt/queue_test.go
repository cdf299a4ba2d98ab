package mqtt

import (
	"fmt"
	"testing"
)

func TestMsgQueueKeepsOrderThroughGrowthAndReuse(t *testing.T) {
	q := newMsgQueue(1000)
	next, want := 0, 0
	push := func(k int) {
		for range k {
			if !q.tryPush(Message{Topic: fmt.Sprint(next)}) {
				t.Fatalf("push %d refused below the limit", next)
			}
			next++
		}
	}
	pop := func(k int) {
		for range k {
			m, ok := q.pop()
			if !ok || m.Topic != fmt.Sprint(want) {
				t.Fatalf("pop = %q, %t; want %d", m.Topic, ok, want)
			}
			want++
		}
	}
	// Interleaved so that taken room is reused and the queue grows past
	// what it keeps, then empties.
	for _, step := range []struct{ push, pop int }{{5, 3}, {300, 100}, {7, 200}, {600, 609}, {3, 1}, {1, 3}} {
		push(step.push)
		pop(step.pop)
	}
	if m, ok := q.pop(); ok {
		t.Fatalf("empty queue gave %q", m.Topic)
	}
	if cap(q.items) > keptQueueCap {
		t.Errorf("emptied queue keeps room for %d messages, want at most %d", cap(q.items), keptQueueCap)
	}
}

func TestMsgQueueRefusesWhenFullAndSignalsRoom(t *testing.T) {
	q := newMsgQueue(2)
	for i := range 2 {
		if !q.tryPush(Message{Topic: fmt.Sprint(i)}) {
			t.Fatalf("push %d refused", i)
		}
	}
	if q.tryPush(Message{Topic: "2"}) {
		t.Fatal("a full queue took a third message")
	}
	select {
	case <-q.space:
		t.Fatal("room signalled before any message was taken")
	default:
	}
	if _, ok := q.pop(); !ok {
		t.Fatal("pop from a full queue failed")
	}
	select {
	case <-q.space:
	default:
		t.Fatal("taking from a full queue did not signal room")
	}
	if !q.tryPush(Message{Topic: "2"}) {
		t.Fatal("push refused after room was made")
	}
}
