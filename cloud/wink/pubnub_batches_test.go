package wink

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/outage"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// A home of more devices than PubNub takes in one subscribe request gets
// its pushes on every device: the first and the last of the generated ones
// fall in different requests.
func TestWatchPushesOfAHomeLargerThanOneSubscribe(t *testing.T) {
	e, rec, i := bigHome(t)
	for _, id := range []string{firstBulb, lastBulb} {
		pushBrightness(t, e, rec, i, id, 0.25)
	}
}

// bigHome is the emulator's demo home and twice as many generated devices
// as PubNub takes in one subscribe request, watched until push is live.
func bigHome(t *testing.T) (*env, *recorder, int) {
	t.Helper()
	e := newEnv(t, nil)
	e.srv.FurnishGenerated(2*winktest.MaxSubscribeChannels, "big")
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
	return e, rec, i
}

// pushBrightness changes bulb id in the cloud and waits for its push.
func pushBrightness(t *testing.T, e *env, rec *recorder, from int, id string, v float64) {
	t.Helper()
	if err := e.srv.Update("light_bulb", id, map[string]any{"brightness": v}); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, from, "the pushed brightness of bulb "+id, pushedState("light_bulb-"+id, "brightness", v))
}

var (
	firstBulb = "100000"
	lastBulb  = fmt.Sprint(100000 + 2*winktest.MaxSubscribeChannels - 4)
)

func TestWatchBigHomeLosesOneLongPollAndResumes(t *testing.T) {
	e, rec, i := bigHome(t)
	polls := e.srv.SubscribeHandshakes()
	if polls < 3 {
		t.Fatalf("%d long polls for %d devices, want one per %d channels", polls, 2*winktest.MaxSubscribeChannels, channelsPerSubscribe)
	}
	e.srv.FailNextPolls(1, http.StatusInternalServerError)
	_, i = rec.wait(t, i, "the fallback to polling", isPush(cloud.PushPolling))
	_, i = rec.wait(t, i, "push live again", isPush(cloud.PushLive))
	rec.wait(t, i, "a resync after the gap", func(e cloud.Event) bool { return e.Kind == cloud.EventListing })
	pushBrightness(t, e, rec, i, firstBulb, 0.6)
	pushBrightness(t, e, rec, i, lastBulb, 0.6)
	if got := e.srv.SubscribeHandshakes(); got != polls+1 {
		t.Errorf("%d long polls started after one failed, want %d: the failed one alone", got-polls, 1)
	}
}

func TestWatchBigHomeFollowsANewDevice(t *testing.T) {
	e, rec, i := bigHome(t)
	polls := e.srv.SubscribeHandshakes()
	id := e.srv.AddDevice(map[string]any{"object_type": "light_bulb", "object_id": "999999", "name": "New lamp",
		"last_reading": map[string]any{"connection": true, "powered": false, "brightness": 0.5}})
	_, i = rec.wait(t, i, "a listing with the new lamp", func(ev cloud.Event) bool {
		return ev.Kind == cloud.EventListing && slices.ContainsFunc(ev.Devices, func(d cloud.Device) bool { return d.ID == id })
	})
	// The new lamp's push comes even if it is published before its long
	// poll is back: that one continues from where its predecessor was.
	pushBrightness(t, e, rec, i, "999999", 0.75)
	pushBrightness(t, e, rec, i, firstBulb, 0.75)
	pushBrightness(t, e, rec, i, lastBulb, 0.75)
	if got := e.srv.SubscribeHandshakes(); got != polls+1 {
		t.Errorf("%d long polls restarted for one new device, want 1: the one it joined", got-polls)
	}
}

func TestWatchBigHomeFollowsManyNewDevices(t *testing.T) {
	e, rec, i := bigHome(t)
	var objs []map[string]any
	for k := range 2 * channelsPerSubscribe { // more than the room left in the last long poll
		objs = append(objs, map[string]any{"object_type": "light_bulb", "object_id": fmt.Sprint(800000 + k),
			"name": fmt.Sprint("New lamp ", k), "last_reading": map[string]any{"connection": true, "brightness": 0.5}})
	}
	ids := e.srv.AddDevices(objs)
	last := ids[len(ids)-1]
	_, i = rec.wait(t, i, "a listing with the new lamps", func(ev cloud.Event) bool {
		return ev.Kind == cloud.EventListing && slices.ContainsFunc(ev.Devices, func(d cloud.Device) bool { return d.ID == last })
	})
	// Once the new long polls are up, everything is read again: a push
	// published before one of them started is not lost.
	if err := e.srv.Update("light_bulb", "800099", map[string]any{"brightness": 0.2}); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, i, "the new lamp's brightness", deviceState(last, "brightness", 0.2))
	pushBrightness(t, e, rec, i, firstBulb, 0.3)
	pushBrightness(t, e, rec, i, "800000", 0.3)
}

// A long poll fails, and its channels go away with their devices before it
// is started again: the others are all there is, and the push is live.
func TestWatchPushLiveAgainWhenAFailedLongPollsChannelsAreGone(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder()
	w := &watcher{c: e.client, report: rec.report, lastTT: map[string]int64{}, events: make(chan pnEvent, 64),
		health: &outage.Tracker{Cloud: "Wink", Log: e.client.log, Report: rec.report}}
	defer w.stopPubNub()
	ctx := testCtx(t)
	w.subKey = e.srv.SubscribeKey
	for k := range channelsPerSubscribe + 10 {
		w.channels = append(w.channels, fmt.Sprintf("ch%03d", k))
	}
	w.subscribe(ctx)
	if len(w.feeds) != 2 {
		t.Fatalf("%d long polls for %d channels, want 2", len(w.feeds), len(w.channels))
	}
	for !w.allUp() {
		select {
		case ev := <-w.events:
			w.onPubNub(ev)
		case <-ctx.Done():
			t.Fatal("the long polls did not connect")
		}
	}
	w.onPubNub(pnEvent{gen: w.feeds[1].sub.gen, err: errors.New("PubNub answered 403: Forbidden")})
	if p := w.health.Push(); p != cloud.PushPolling {
		t.Fatalf("push state %q after a long poll failed, want polling", p)
	}
	w.channels = slices.Clone(w.feeds[0].channels)
	if repair := w.subscribe(ctx); !repair {
		t.Error("the gap is not repaired: every device should be read again")
	}
	if p := w.health.Push(); p != cloud.PushLive {
		t.Errorf("push state %q once the failed long poll's channels are gone, want live", p)
	}
}

func TestChannelBatchesKeepEachChannelWhereItWas(t *testing.T) {
	chans := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("ch%03d", i))
		}
		return out
	}
	first := rebatch(nil, chans(0, 120))
	if len(first) != 3 || len(first[0].channels) != channelsPerSubscribe || len(first[2].channels) != 20 {
		t.Fatalf("120 channels in batches of %d, %d, %d…; want 50, 50, 20", len(first[0].channels), len(first[1].channels), len(first[2].channels))
	}
	for i, b := range first {
		if b.from != -1 {
			t.Errorf("batch %d of a first subscription comes from %d, want -1 (new)", i, b.from)
		}
	}
	old := [][]string{first[0].channels, first[1].channels, first[2].channels}
	// ch000–ch049 go away, 40 new channels arrive (sorted before the rest).
	next := append(chans(120, 160), chans(50, 120)...)
	got := rebatch(old, next)
	if len(got) != 3 {
		t.Fatalf("got %d batches, want 3: %v", len(got), got)
	}
	if got[0].from != 1 || !slices.Equal(got[0].channels, old[1]) {
		t.Errorf("the untouched batch moved or changed: %+v", got[0])
	}
	if got[1].from != 2 || !slices.Equal(got[1].channels[:20], old[2]) || len(got[1].channels) != channelsPerSubscribe {
		t.Errorf("the partial batch should keep its 20 channels and take 30 new ones: %+v", got[1])
	}
	rest := rebatch(old, next)
	if !slices.EqualFunc(rest, got, func(a, b channelBatch) bool { return a.from == b.from && slices.Equal(a.channels, b.channels) }) {
		t.Error("rebatch is not deterministic")
	}
	if got[2].from != -1 || !slices.Equal(got[2].channels, chans(150, 160)) {
		t.Errorf("the 10 channels left over should make a new batch: %+v", got[2])
	}
}

func TestChannelBatchesAreMadeAnewWhenMostChannelsAreGone(t *testing.T) {
	var old [][]string
	var kept []string
	for b := range 3 {
		var batch []string
		for k := range channelsPerSubscribe {
			ch := fmt.Sprintf("ch%d-%02d", b, k)
			batch = append(batch, ch)
			if k < 5 {
				kept = append(kept, ch)
			}
		}
		old = append(old, batch)
	}
	got := rebatch(old, kept)
	if len(got) != 1 || got[0].from != -1 || !slices.Equal(got[0].channels, kept) {
		t.Errorf("15 channels left of 150 in 3 long polls: %+v, want them in one new batch", got)
	}
	if two := rebatch(old[:2], kept[:10]); len(two) != 2 {
		t.Errorf("10 channels left in 2 long polls were rebuilt (%d batches); one spare long poll is kept", len(two))
	}
}
