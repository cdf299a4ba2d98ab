package wink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonobj"
	pubnub "github.com/pubnub/go/v7"
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

// setupPubNub starts the PubNub client for the listing's channels.
func (w *watcher) setupPubNub(l *listing) {
	key, origin, user, chans := w.subscription(l)
	if key == "" || len(chans) == 0 {
		w.c.log.Info("no PubNub subscription in the device list; polling", "every", w.c.cfg.PollInterval)
		return
	}
	w.subKey, w.origin, w.userCh, w.channels = key, origin, user, chans
	w.startPubNub()
}

// startPubNub creates one PubNub client for all channels of the account and
// subscribes. Every (re)connection uses a fresh client: resubscribing on a
// client whose loop stopped can leave an SDK goroutine that panics in
// Destroy.
func (w *watcher) startPubNub() {
	cfg := pubnub.NewConfigWithUserId(pubnub.UserId(pubnub.GenerateUUID()))
	cfg.SubscribeKey = w.subKey
	// The configured origin wins; else the one Wink names in the objects'
	// subscription blocks.
	o := w.c.cfg.PubNubOrigin
	if o == "" {
		o = w.origin
	}
	switch {
	case strings.HasPrefix(o, "http://"):
		cfg.Origin, cfg.Secure = strings.TrimPrefix(o, "http://"), false
	case o != "":
		cfg.Origin, cfg.Secure = strings.TrimPrefix(o, "https://"), true
	}
	secs := int((w.c.cfg.SubscribeTimeout + time.Second - 1) / time.Second)
	cfg.SubscribeRequestTimeout = max(secs, 1)
	// No SDK reconnection policy: the watcher itself resubscribes with a
	// fresh client (watchdog and statuses). The SDK's reconnection manager
	// would poll /time/0 in a goroutine that can send on a channel Destroy
	// has closed (stopHeartbeatTimer during a reconnect), a panic no caller
	// can recover; without a policy that goroutine never runs.
	cfg.PNReconnectionPolicy = pubnub.PNNonePolicy
	w.sdkLog = &sdkLog{}
	cfg.Log = log.New(w.sdkLog, "", 0)

	pn := pubnub.NewPubNub(cfg)
	pn.GetClient() // Destroy dereferences the non-subscribe client
	w.activity = &activity{}
	sc := pubnub.NewHTTP1Client(cfg.ConnectTimeout, cfg.SubscribeRequestTimeout, cfg.MaxIdleConnsPerHost)
	sc.Transport = &trackingTransport{next: sc.Transport, a: w.activity}
	pn.SetSubscribeClient(sc)
	ls := pubnub.NewListener()
	pn.AddListener(ls)
	w.pnGen++
	w.drainEnd = make(chan struct{})
	go drain(ls, w.pnGen, w.events, w.drainEnd)

	w.pn = pn
	w.activity.touch()
	pn.Subscribe().Channels(w.channels).Execute()
	w.c.log.Info("subscribing to Wink pushes", "channels", len(w.channels), "origin", cfg.Origin)
}

// updateSubscription follows channel changes after a resync.
func (w *watcher) updateSubscription(l *listing) {
	if w.subKey == "" {
		w.setupPubNub(l)
		if w.pn == nil {
			w.health.SetPush(cloud.PushPolling)
		}
		return
	}
	key, origin, user, chans := w.subscription(l)
	if key == "" {
		return // keep what we have; the listing may be partial
	}
	if key == w.subKey && slices.Equal(chans, w.channels) {
		w.userCh = user
		return
	}
	w.c.log.Info("Wink subscription changed; resubscribing", "channels", len(chans))
	w.subKey, w.origin, w.userCh, w.channels = key, origin, user, chans
	w.stopPubNub()
	w.startPubNub()
}

// stopPubNub destroys the PubNub client. It first lets the SDK's subscribe
// worker get past the point where Destroy would make it panic (bounded).
func (w *watcher) stopPubNub() {
	if w.pn == nil {
		return
	}
	w.sdkLog.waitSettled(2 * time.Second)
	w.pn.Destroy()
	close(w.drainEnd)
	w.pn = nil
	w.live = false
}

// pnEvent is a status or message of PubNub client generation gen.
type pnEvent struct {
	gen    int
	status *pubnub.PNStatus
	msg    *pubnub.PNMessage
}

// drain empties every listener channel (the SDK leaks a goroutine per
// undelivered event) and forwards statuses and messages.
func drain(l *pubnub.Listener, gen int, out chan<- pnEvent, done <-chan struct{}) {
	for {
		var ev pnEvent
		select {
		case <-done:
			return
		case s := <-l.Status:
			ev = pnEvent{gen: gen, status: s}
		case m := <-l.Message:
			ev = pnEvent{gen: gen, msg: m}
		case <-l.Presence:
		case <-l.Signal:
		case <-l.UUIDEvent:
		case <-l.ChannelEvent:
		case <-l.MembershipEvent:
		case <-l.MessageActionsEvent:
		case <-l.File:
		}
		if ev.status == nil && ev.msg == nil {
			continue
		}
		select {
		case out <- ev:
		case <-done:
			return
		}
	}
}

// sdkLog receives the PubNub SDK's log lines. It counts started subscribe
// loops and workers that passed their hand-over, so that Destroy is called
// only when no worker is about to send on a channel Destroy closes.
type sdkLog struct {
	mu             sync.Mutex
	starts, passed int
	changed        chan struct{} // closed (and dropped) on the next count change
}

func (l *sdkLog) Write(p []byte) (int, error) {
	// The SDK logs every answer and message in full; only two short
	// lines count, compared without copying the others.
	line := bytes.TrimSpace(p)
	l.mu.Lock()
	switch string(line) {
	case "startSubscribeLoop":
		l.starts++
	case "make channel exitSubscriptionManager":
		l.passed++
	default:
		l.mu.Unlock()
		return len(p), nil
	}
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
	l.mu.Unlock()
	return len(p), nil
}

// waitSettled waits until every started subscribe loop passed its
// hand-over, or at most timeout.
func (l *sdkLog) waitSettled(timeout time.Duration) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		if l.starts > 0 && l.passed >= l.starts {
			l.mu.Unlock()
			return
		}
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return
		}
	}
}

// onStatus handles a PubNub status; it reports whether to resync now.
func (w *watcher) onStatus(s pubnub.PNStatus) bool {
	if w.pn == nil {
		return false
	}
	w.activity.touch()
	switch s.Category {
	case pubnub.PNConnectedCategory, pubnub.PNReconnectedCategory:
		w.live = true
		w.resubAt = time.Time{}
		w.resubTries = 0
		w.health.SetPush(cloud.PushLive)
		if w.gap {
			w.gap = false
			return true
		}
	case pubnub.PNDisconnectedUnexpectedlyCategory, pubnub.PNUnknownCategory,
		pubnub.PNAccessDeniedCategory, pubnub.PNBadRequestCategory,
		pubnub.PNReconnectionAttemptsExhausted:
		w.c.log.Warn("Wink push channel lost; polling until it is back", "status", s.Category.String())
		w.lost()
	}
	return false
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

func (w *watcher) watchdogPeriod() time.Duration {
	return min(max(w.c.cfg.SubscribeTimeout/4, 250*time.Millisecond), 5*time.Second)
}

// watchdog resubscribes when scheduled, and notices a subscribe loop that
// stopped without a status (no request in flight for a while, or one stuck
// beyond the subscribe timeout).
func (w *watcher) watchdog(now time.Time) {
	if w.pn == nil {
		return
	}
	if !w.resubAt.IsZero() {
		if now.Before(w.resubAt) {
			return
		}
		w.resubAt = time.Time{}
		w.resubTries++
		w.c.log.Info("resubscribing to Wink pushes", "attempt", w.resubTries)
		w.stopPubNub()
		w.startPubNub()
		return
	}
	inflight, since := w.activity.state()
	idle := max(2*w.watchdogPeriod(), 2*time.Second)
	if (inflight == 0 && now.Sub(since) > idle) || (inflight > 0 && now.Sub(since) > w.c.cfg.SubscribeTimeout+10*time.Second) {
		w.c.log.Warn("Wink push channel stalled; resubscribing")
		w.lost()
	}
}

// onMessage applies one push: a device object (as an object, a JSON string or
// inside {"data":…}), a pull_url to fetch, or a list change.
func (w *watcher) onMessage(ctx context.Context, m pubnub.PNMessage) {
	if w.activity != nil {
		w.activity.touch()
	}
	payload := m.Message
	if s, ok := payload.(string); ok {
		var v any
		var err error
		if strings.HasPrefix(s, "{") {
			v, err = jsonobj.Decode([]byte(s))
		} else {
			err = json.Unmarshal([]byte(s), &v)
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

// activity tracks the SDK's subscribe requests for the watchdog.
type activity struct {
	mu       sync.Mutex
	inflight int
	since    time.Time // last start or end of a request, or other sign of life
}

func (a *activity) touch() {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.since = time.Now()
	a.mu.Unlock()
}

func (a *activity) state() (int, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inflight, a.since
}

// trackingTransport counts subscribe requests in flight.
type trackingTransport struct {
	next http.RoundTripper
	a    *activity
}

func (t *trackingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.a.mu.Lock()
	t.a.inflight++
	t.a.since = time.Now()
	t.a.mu.Unlock()
	resp, err := t.next.RoundTrip(r)
	t.a.mu.Lock()
	t.a.inflight--
	t.a.since = time.Now()
	t.a.mu.Unlock()
	return resp, err
}
