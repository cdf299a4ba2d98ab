package outage

import (
	"errors"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func TestOutageIsReportedOnceAndItsEnd(t *testing.T) {
	var events []cloud.Event
	report := func(ev cloud.Event) { events = append(events, ev) }
	tr := Tracker{Cloud: "Wink"}
	boom := errors.New("connection refused")
	tr.Failed(boom, report)
	tr.Failed(boom, report)
	if len(events) != 0 {
		t.Fatalf("reported after 2 failures: %v", events)
	}
	tr.Failed(boom, report)
	tr.Failed(boom, report)
	if len(events) != 1 || !errors.Is(events[0].Err, boom) || !strings.Contains(events[0].Err.Error(), "Wink does not answer") {
		t.Fatalf("events after 4 failures = %v", events)
	}
	tr.OK(report)
	tr.OK(report)
	if len(events) != 2 || events[1].Err != nil {
		t.Fatalf("events after recovery = %v", events)
	}
}
