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

// setupPubNub starts the PubNub subscriber for the listing's channels.
func (w *watcher) setupPubNub(ctx context.Context, l *listing) {
	key, origin, user, chans := w.subscription(l)
	if key == "" || len(chans) == 0 {
		w.c.log.Info("no PubNub subscription in the device list; polling", "every", w.c.cfg.PollInterval)
		return
	}
	w.subKey, w.origin, w.userCh, w.channels = key, origin, user, chans
	w.startPubNub(ctx, 0)
}

// startPubNub subscribes to all channels of the account, resuming from
// timetoken resume (0: from now).
func (w *watcher) startPubNub(ctx context.Context, resume int64) {
	// The configured origin wins; else the one Wink names in the objects'
	// subscription blocks; else PubNub's own.
	o := w.c.cfg.PubNubOrigin
	if o == "" {
		o = w.origin
	}
	if o == "" {
		o = defaultPubNubOrigin
	}
	o = strings.TrimPrefix(o, "https://")
	if w.subHTTP == nil {
		w.subHTTP = subscribeClient(w.c.cfg.SubscribeTimeout)
	}
	w.pnGen++
	w.sub = newSubscriber(w.subHTTP, o, w.subKey, w.channels, resume, w.pnGen, w.events)
	w.sub.start(ctx)
	w.c.log.Info("subscribing to Wink pushes", "channels", len(w.channels), "origin", strings.TrimPrefix(o, "http://"))
}

// restartPubNub replaces the subscriber by one that resumes where it ended.
func (w *watcher) restartPubNub(ctx context.Context) {
	resume := int64(0)
	if w.sub != nil {
		w.stopPubNub()
		resume = w.sub.resumeFrom()
	}
	w.startPubNub(ctx, resume)
}

// updateSubscription follows channel changes after a resync.
func (w *watcher) updateSubscription(ctx context.Context, l *listing) {
	if w.subKey == "" {
		w.setupPubNub(ctx, l)
		if w.sub == nil {
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
	w.restartPubNub(ctx)
}

// stopPubNub ends the subscriber and waits for it.
func (w *watcher) stopPubNub() {
	if w.sub == nil {
		return
	}
	w.sub.stop()
	w.live = false
}

// onPubNub handles a subscriber's connection or failure; it reports whether
// to resync now.
func (w *watcher) onPubNub(ev pnEvent) bool {
	if w.sub == nil || ev.gen != w.pnGen {
		return false
	}
	if ev.err != nil {
		w.c.log.Warn("Wink push channel lost; polling until it is back", "err", ev.err)
		w.lost()
		return false
	}
	w.live = true
	w.resubAt = time.Time{}
	w.resubTries = 0
	w.health.SetPush(cloud.PushLive)
	if w.gap {
		w.gap = false
		return true
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

// watchdogPeriod is how often the watcher looks whether to resubscribe.
func (w *watcher) watchdogPeriod() time.Duration {
	return min(max(w.c.cfg.SubscribeTimeout/4, 250*time.Millisecond), 5*time.Second)
}

// watchdog resubscribes when scheduled.
func (w *watcher) watchdog(ctx context.Context, now time.Time) {
	if w.sub == nil || w.resubAt.IsZero() || now.Before(w.resubAt) {
		return
	}
	w.resubAt = time.Time{}
	w.resubTries++
	w.c.log.Info("resubscribing to Wink pushes", "attempt", w.resubTries)
	w.restartPubNub(ctx)
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
