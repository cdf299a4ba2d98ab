package mqtt

import (
	"testing"
	"time"
)

func TestMatchTopic(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+", "a", false},
		{"a/+/set", "a/x/set", true},
		{"a/+/+/set/+", "a/w/lamp/set/on", true},
		{"a/+/+/set", "a/w/lamp/set/on", false},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"#", "a/b", true},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/x", true},
		{"a/b", "a/b/", false},
		{"a/+", "a/", true},
		{"+", "", true},
	}
	for _, c := range cases {
		if got := matchTopic(c.filter, c.topic); got != c.want {
			t.Errorf("matchTopic(%q, %q) = %t, want %t", c.filter, c.topic, got, c.want)
		}
	}
}

func TestEarlyQueueKeepsWithinWindowAndLimit(t *testing.T) {
	now := time.Now()
	q := earlyQueue{until: now.Add(time.Minute)}
	for _, topic := range []string{"b/1/set", "b/x", "b/2/set", "b/3/set"} {
		q.keep(Message{Topic: topic}, now, 3)
	}
	got := q.take("b/+/set", now)
	if len(got) != 2 || got[0].Topic != "b/2/set" || got[1].Topic != "b/3/set" {
		t.Fatalf("take = %v, want b/2/set and b/3/set (the oldest dropped at the limit)", got)
	}
	if rest := q.take("#", now); len(rest) != 1 || rest[0].Topic != "b/x" {
		t.Fatalf("rest = %v, want b/x", rest)
	}
	if kept, _ := q.keep(Message{Topic: "b/late"}, now.Add(2*time.Minute), 3); kept {
		t.Fatal("kept a message after the window closed")
	}
}

func TestBackoffStaysUnderCapAndStartsOver(t *testing.T) {
	b := backoff{min: 50 * time.Millisecond, max: 800 * time.Millisecond}
	var last time.Duration
	for i := range 50 {
		d := b.next()
		if d > b.max || d < b.min/2 {
			t.Fatalf("delay %d = %s, want within [%s, %s]", i, d, b.min/2, b.max)
		}
		last = d
	}
	if last < b.max/2 {
		t.Fatalf("delay after 50 attempts = %s, want it grown to the upper half of %s", last, b.max)
	}
	b.reset()
	if d := b.next(); d > b.min {
		t.Fatalf("first delay after reset = %s, want at most %s", d, b.min)
	}
}

func TestClientIDFor(t *testing.T) {
	a := ClientIDFor("cloud2mqtt", "/var/lib/cloud2mqtt")
	if a != ClientIDFor("cloud2mqtt", "/var/lib/cloud2mqtt") {
		t.Fatal("ClientIDFor is not stable")
	}
	if len(a) != 23 {
		t.Fatalf("ClientIDFor = %q (%d characters), want 23", a, len(a))
	}
	for _, other := range [][]string{{"cloud2mqtt", "/srv/state"}, {"home", "/var/lib/cloud2mqtt"}, {"cloud2mqtt/var/lib", "cloud2mqtt"}} {
		if ClientIDFor(other...) == a {
			t.Errorf("ClientIDFor(%q) = ClientIDFor of another installation", other)
		}
	}
}
