package outage

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func TestOutageIsReportedOnceAndItsEnd(t *testing.T) {
	var events []cloud.Event
	report := func(ev cloud.Event) { events = append(events, ev) }
	tr := Tracker{Cloud: "Wink", Report: report}
	boom := errors.New("connection refused")
	tr.Failed(boom)
	tr.Failed(boom)
	if len(events) != 0 {
		t.Fatalf("reported after 2 failures: %v", events)
	}
	tr.Failed(boom)
	tr.Failed(boom)
	if len(events) != 1 || !errors.Is(events[0].Err, boom) || !strings.Contains(events[0].Err.Error(), "Wink does not answer") {
		t.Fatalf("events after 4 failures = %v", events)
	}
	tr.OK()
	tr.OK()
	if len(events) != 2 || events[1].Err != nil {
		t.Fatalf("events after recovery = %v", events)
	}
}

func TestRejectedCredentialsAreReportedAtOnceAndOnChange(t *testing.T) {
	var events []cloud.Event
	report := func(ev cloud.Event) { events = append(events, ev) }
	tr := Tracker{Cloud: "Homey", Report: report}
	revoked := fmt.Errorf("refresh token revoked: %w", cloud.ErrAuth)
	tr.Failed(revoked)
	tr.Failed(revoked)
	if len(events) != 1 || !errors.Is(events[0].Err, cloud.ErrAuth) {
		t.Fatalf("events = %v, want one auth failure", events)
	}
	tr.Failed(fmt.Errorf("API key deleted: %w", cloud.ErrAuth))
	if len(events) != 2 {
		t.Fatalf("a new reason was not reported: %v", events)
	}
	tr.OK()
	if len(events) != 3 || events[2].Err != nil {
		t.Fatalf("events after recovery = %v", events)
	}
}

func TestPushStateIsReportedOnChange(t *testing.T) {
	var events []cloud.Event
	tr := Tracker{Cloud: "Wink", Report: func(ev cloud.Event) { events = append(events, ev) }}
	tr.SetPush(cloud.PushLive)
	tr.SetPush(cloud.PushLive)
	tr.SetPush(cloud.PushPolling)
	if len(events) != 2 || events[0].Push != cloud.PushLive || events[1].Push != cloud.PushPolling || tr.Push() != cloud.PushPolling {
		t.Fatalf("events = %v, push = %s", events, tr.Push())
	}
}
