package wink

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// subscription finds the subscribe key, origin and channels in a listing.
func (w *watcher) subscription(l *listing) (key, origin, user string, chans []string) {
	for _, o := range l.objects {
		pn, _ := o["subscription"].(map[string]any)
		pn, _ = pn["pubnub"].(map[string]any)
		k, ch := str(pn["subscribe_key"]), str(pn["channel"])
		if k == "" || ch == "" {
			continue
		}
		if key == "" {
			key, origin = k, str(pn["origin"])
		}
		if k == key && !slices.Contains(chans, ch) {
			chans = append(chans, ch)
		}
	}
	if pn, ok := l.user["pubnub"].(map[string]any); ok {
		if k, ch := str(pn["subscribe_key"]), str(pn["channel"]); ch != "" && (key == "" || k == key) {
			if key == "" {
				key, origin = k, str(pn["origin"])
			}
			user = ch
			if !slices.Contains(chans, ch) {
				chans = append(chans, ch)
			}
		}
	}
	slices.Sort(chans)
	return key, origin, user, chans
}

// channelsPerSubscribe is how many channels one long poll names. PubNub
// refuses a subscribe request that names too many, and Wink's clients in
// the field subscribe 50 at a time (pubnubsub-handler, Home Assistant): an
// account of many devices long-polls once per 50 channels.
const channelsPerSubscribe = 50

// feed is one long poll of the account's subscription, over one batch of
// its channels, and what the watcher knows of it.
type feed struct {
	sub      *subscriber
	channels []string
	up       bool // connected, and not failed since
	failed   bool // stopped at a failure; the watchdog starts it again
}

// channelBatch is the channels of one long poll; from is the index of the
// batch of the previous subscription it continues, -1 for a new one.
type channelBatch struct {
	channels []string
	from     int
}

// rebatch splits chans into batches of at most channelsPerSubscribe. A
// channel already subscribed in old stays in its batch, so that a change of
// the device list restarts only the long polls whose channels changed; new
// channels fill the batches with room, then new batches. When removals left
// more than one batch more than the channels need, all are made anew.
func rebatch(old [][]string, chans []string) []channelBatch {
	want := make(map[string]bool, len(chans))
	for _, ch := range chans {
		want[ch] = true
	}
	placed := make(map[string]bool, len(chans))
	var out []channelBatch
	for i, b := range old {
		var kept []string
		for _, ch := range b {
			if want[ch] && !placed[ch] {
				kept = append(kept, ch)
				placed[ch] = true
			}
		}
		if len(kept) > 0 {
			out = append(out, channelBatch{channels: kept, from: i})
		}
	}
	room := 0
	for _, ch := range chans {
		if placed[ch] {
			continue
		}
		placed[ch] = true
		for room < len(out) && len(out[room].channels) >= channelsPerSubscribe {
			room++
		}
		if room == len(out) {
			out = append(out, channelBatch{from: -1})
		}
		out[room].channels = append(out[room].channels, ch)
	}
	if need := (len(chans) + channelsPerSubscribe - 1) / channelsPerSubscribe; len(out) > need+1 {
		return rebatch(nil, chans) // removals left too many half-empty long polls
	}
	return out
}

// setupPubNub subscribes to the listing's channels.
func (w *watcher) setupPubNub(ctx context.Context, l *listing) {
	key, origin, user, chans := w.subscription(l)
	if key == "" || len(chans) == 0 {
		w.c.log.Info("no PubNub subscription in the device list; polling", "every", w.c.cfg.PollInterval)
		return
	}
	w.subKey, w.origin, w.userCh, w.channels = key, origin, user, chans
	w.subscribe(ctx) // nothing to repair yet: the first listing was just reported
}

// pubnubOrigin is the configured origin, else the one Wink names in the
// objects' subscription blocks, else PubNub's own.
func (w *watcher) pubnubOrigin() string {
	o := w.c.cfg.PubNubOrigin
	if o == "" {
		o = w.origin
	}
	if o == "" {
		o = defaultPubNubOrigin
	}
	return strings.TrimPrefix(o, "https://")
}

// subscribe long-polls w.channels in batches (see rebatch). A batch whose
// channels did not change keeps its long poll, unless that one failed; a
// failed or changed one continues from the timetoken its predecessor
// reached. A new one starts from now; after the first subscription, every
// device is read again once it is up, for the pushes between the listing
// and its start. It reports whether to read every device (see markLive).
func (w *watcher) subscribe(ctx context.Context) (repair bool) {
	if w.subHTTP == nil {
		w.subHTTP = subscribeClient(w.c.cfg.SubscribeTimeout)
	}
	old := make([][]string, len(w.feeds))
	for i, f := range w.feeds {
		old[i] = f.channels
	}
	batches := rebatch(old, w.channels)
	origin := w.pubnubOrigin()
	feeds := make([]feed, 0, len(batches))
	continued := make([]bool, len(w.feeds))
	started := 0
	for _, b := range batches {
		resume := int64(0)
		if b.from < 0 && len(w.feeds) > 0 {
			w.gap = true
		}
		if b.from >= 0 {
			prev := w.feeds[b.from]
			continued[b.from] = true
			if !prev.failed && slices.Equal(b.channels, prev.channels) {
				feeds = append(feeds, prev)
				continue
			}
			prev.sub.stop()
			resume = prev.sub.resumeFrom()
		}
		w.pnGen++
		sub := newSubscriber(w.subHTTP, origin, w.subKey, b.channels, resume, w.pnGen, w.events)
		sub.start(ctx)
		feeds = append(feeds, feed{sub: sub, channels: b.channels})
		started++
	}
	for i, f := range w.feeds {
		if !continued[i] {
			f.sub.stop()
		}
	}
	w.feeds = feeds
	w.c.log.Info("subscribing to Wink pushes", "channels", len(w.channels), "long_polls", len(feeds),
		"started", started, "origin", strings.TrimPrefix(origin, "http://"))
	return w.markLive()
}

// markLive reports the push state live once every long poll is up, and
// whether a gap since the last time is to be repaired by reading every
// device.
func (w *watcher) markLive() (repair bool) {
	w.live = w.allUp()
	if !w.live {
		return false
	}
	w.resubAt = time.Time{}
	w.resubTries = 0
	w.health.SetPush(cloud.PushLive)
	repair, w.gap = w.gap, false
	return repair
}

// allUp tells whether every long poll is connected.
func (w *watcher) allUp() bool {
	for _, f := range w.feeds {
		if !f.up {
			return false
		}
	}
	return len(w.feeds) > 0
}

// feedOf finds the long poll whose subscriber has generation gen; -1 for
// one that was replaced or stopped.
func (w *watcher) feedOf(gen int) int {
	for i, f := range w.feeds {
		if f.sub.gen == gen {
			return i
		}
	}
	return -1
}

// updateSubscription follows channel changes after a resync.
func (w *watcher) updateSubscription(ctx context.Context, l *listing) {
	if w.subKey == "" {
		w.setupPubNub(ctx, l)
		if len(w.feeds) == 0 {
			w.health.SetPush(cloud.PushPolling)
		}
		return
	}
	key, origin, user, chans := w.subscription(l)
	if key == "" {
		return // keep what we have; the listing may be partial
	}
	if key == w.subKey && origin == w.origin && slices.Equal(chans, w.channels) {
		w.userCh = user
		return
	}
	w.c.log.Info("Wink subscription changed; resubscribing", "channels", len(chans))
	if key != w.subKey || origin != w.origin {
		w.stopPubNub() // another key's or host's long polls continue nothing
		w.feeds = nil
		w.gap = true // read everything again once the new ones are up
	}
	w.subKey, w.origin, w.userCh, w.channels = key, origin, user, chans
	w.subscribe(ctx) // what it would repair now was just read
}

// stopPubNub ends every long poll and waits for them.
func (w *watcher) stopPubNub() {
	for _, f := range w.feeds {
		f.sub.stop()
	}
	w.live = false
}

// onPubNub handles a long poll's connection or failure; it reports whether
// to resync now (when the last of them connects again after a gap).
func (w *watcher) onPubNub(ev pnEvent) bool {
	i := w.feedOf(ev.gen)
	if i < 0 {
		return false
	}
	f := &w.feeds[i]
	if ev.err != nil {
		f.up, f.failed = false, true
		w.c.log.Warn("Wink push channel lost; polling until it is back", "err", ev.err,
			"long_poll", i+1, "of", len(w.feeds))
		w.lost()
		return false
	}
	f.up = true
	return w.markLive()
}

// lost marks the push channel down and schedules a resubscribe.
func (w *watcher) lost() {
	w.live = false
	w.gap = true
	w.health.SetPush(cloud.PushPolling)
	if w.resubAt.IsZero() {
		d := time.Second << min(w.resubTries, 6)
		w.resubAt = time.Now().Add(d/2 + rand.N(d/2+1))
	}
}

// watchdogPeriod is how often the watcher looks whether to resubscribe.
func (w *watcher) watchdogPeriod() time.Duration {
	return min(max(w.c.cfg.SubscribeTimeout/4, 250*time.Millisecond), 5*time.Second)
}

// watchdog starts the failed long polls again when scheduled; it reports
// whether to read every device (see markLive).
func (w *watcher) watchdog(ctx context.Context, now time.Time) (repair bool) {
	if len(w.feeds) == 0 || w.resubAt.IsZero() || now.Before(w.resubAt) {
		return false
	}
	w.resubAt = time.Time{}
	w.resubTries++
	w.c.log.Info("resubscribing to Wink pushes", "attempt", w.resubTries)
	return w.subscribe(ctx)
}

// onMessage applies one push: a device object (as an object, a JSON string or
// inside {"data":…}), a pull_url to fetch, or a list change.
func (w *watcher) onMessage(ctx context.Context, m push) {
	if m.Err != nil {
		w.c.log.Warn("undecodable Wink push", "channel_device", channelDevice(m.Channel), "err", m.Err)
		return
	}
	payload := m.Message
	if text, ok := payload.(string); ok {
		raw := []byte(text)
		var v any
		var err error
		if len(raw) > 0 && raw[0] == '{' {
			v, err = w.c.keys.Decode(raw)
		} else {
			err = json.Unmarshal(raw, &v)
		}
		if err != nil {
			w.c.log.Warn("undecodable Wink push", "channel_device", channelDevice(m.Channel), "err", err)
			return
		}
		payload = v
	}
	obj, _ := payload.(map[string]any)
	if obj == nil {
		return
	}
	if data, ok := obj["data"]; ok {
		switch d := data.(type) {
		case []any:
			w.resyncFromPush(ctx)
			return
		case map[string]any:
			obj = d
		case string:
			var v map[string]any
			if json.Unmarshal([]byte(d), &v) == nil && v != nil {
				obj = v
			}
		}
	}
	var ds []decoded
	if pu, ok := obj["pull_url"].(string); ok && obj["object_type"] == nil {
		path := w.pullPath(pu, m.Channel)
		if path == "" || strings.HasPrefix(path, "/users/me") {
			w.resyncFromPush(ctx)
			return
		}
		var err error
		if ds, err = w.c.getObject(ctx, path); err != nil {
			w.health.Failed(fmt.Errorf("wink: fetch pushed %s: %w", path, err))
			return
		}
	} else {
		var err error
		if ds, err = decodeObject(obj); err != nil {
			if m.Channel == w.userCh {
				w.resyncFromPush(ctx)
				return
			}
			w.c.log.Warn("undecodable Wink push", "channel_device", channelDevice(m.Channel), "err", err)
			return
		}
	}
	for _, d := range ds {
		if m.Timetoken < w.lastTT[d.dev.ID] {
			w.c.log.Debug("ignoring an older push", "device", d.dev.ID)
			continue
		}
		w.lastTT[d.dev.ID] = m.Timetoken
		w.c.remember([]decoded{d})
		w.report(cloud.Event{Kind: cloud.EventDevice, Device: d.dev.Clone()})
	}
}

// pullPath turns a pull_url into an API path. A URL on another host is not
// followed (it would receive the bearer token); the device named in the
// channel is read instead.
func (w *watcher) pullPath(pu, channel string) string {
	if u, err := url.Parse(pu); err == nil && u.Host == w.c.api.Host && u.Scheme == w.c.api.Scheme {
		return strings.TrimPrefix(u.Path, w.c.api.Path)
	}
	if id := channelDevice(channel); id != "" {
		if typ, oid, ok := splitID(id); ok && typ != "outlet" {
			return "/" + plural(typ) + "/" + url.PathEscape(oid)
		}
	}
	return ""
}

// channelDevice extracts "<type>-<id>" from a device channel
// "<hex>|<type>-<id>|user-<uid>".
func channelDevice(ch string) string {
	parts := strings.Split(ch, "|")
	if len(parts) == 3 {
		return parts[1]
	}
	return ""
}
