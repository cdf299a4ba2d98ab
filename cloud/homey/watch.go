package homey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/outage"
	"github.com/cloud2mqtt/cloud2mqtt/internal/backoff"
)

// Watch reports the device listing, then live changes from the Homey's
// realtime socket until ctx ends. Without the socket it polls the device
// list every PollInterval and retries the socket with backoff; when the
// socket is back it re-reads everything. It re-reads everything every
// ResyncInterval, reports credential failures as EventAuth while retrying,
// and returns ctx.Err().
func (c *Client) Watch(ctx context.Context, report func(cloud.Event)) error {
	w := &watcher{c: c, report: report, health: &outage.Tracker{Cloud: "Homey", Log: c.log, Report: report}}
	return w.run(ctx)
}

// watcher is one Watch call's state; only its run goroutine touches it.
type watcher struct {
	c      *Client
	report func(cloud.Event)
	health *outage.Tracker // reports failures, outages and the push state

	sock       *socket
	subscribed map[string]bool
	sockTries  int
	listed     bool // the first listing was reported
}

func (w *watcher) run(ctx context.Context) error {
	defer w.closeSocket()
	fails := 0
	for !w.listed {
		w.connect(ctx)
		if w.resync(ctx) == nil {
			break
		}
		w.closeSocket()
		fails++
		if err := backoff.Sleep(ctx, w.delay(fails)); err != nil {
			return ctx.Err()
		}
	}
	if w.sock != nil {
		w.health.SetPush(cloud.PushLive)
	} else {
		w.health.SetPush(cloud.PushPolling)
	}

	resync := time.NewTicker(w.c.cfg.ResyncInterval)
	defer resync.Stop()
	poll := time.NewTicker(w.c.cfg.PollInterval)
	defer poll.Stop()
	reconnect := time.NewTimer(w.delay(1))
	defer reconnect.Stop()
	probe := time.NewTicker(w.c.cfg.LANProbeInterval)
	defer probe.Stop()
	if w.sock != nil {
		reconnect.Stop()
	}
	for {
		var events <-chan sockEvent
		var done <-chan struct{}
		if w.sock != nil {
			events, done = w.sock.events, w.sock.done
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-events:
			w.onEvent(ctx, ev)
		case <-done:
			w.c.log.Warn("the realtime socket was lost; polling until it is back", "err", w.sock.Err())
			w.closeSocket()
			w.health.SetPush(cloud.PushPolling)
			w.sockTries = 0
			reconnect.Reset(w.delay(1))
		case <-reconnect.C:
			w.connect(ctx)
			if w.sock == nil {
				w.sockTries++
				reconnect.Reset(w.delay(w.sockTries))
				continue
			}
			w.sockTries = 0
			if w.resync(ctx) != nil {
				w.closeSocket()
				reconnect.Reset(w.delay(1))
				continue
			}
			w.health.SetPush(cloud.PushLive)
		case <-poll.C:
			if w.sock == nil {
				w.poll(ctx)
			}
		case <-resync.C:
			_ = w.resync(ctx)
		case <-probe.C:
			// target tries the LAN again while on a remote path; a socket
			// on the old URL is moved to the new one.
			t, err := w.c.target(ctx)
			if err == nil && w.sock != nil && w.sock.base != t.base {
				w.c.log.Info("moving the realtime socket to the Homey's new URL", "url", t.base)
				w.closeSocket()
				w.health.SetPush(cloud.PushPolling)
				w.sockTries = 0
				reconnect.Reset(0)
			}
		}
	}
}

// delay is the jittered backoff before attempt n, capped at twice the poll
// interval (and a minute).
func (w *watcher) delay(n int) time.Duration {
	d := 250 * time.Millisecond << min(n, 10)
	d = min(d, 2*w.c.cfg.PollInterval, time.Minute)
	return d/2 + rand.N(d/2+1)
}

// connect opens the realtime socket, renewing the session once when the
// handshake is refused. On failure w.sock stays nil.
func (w *watcher) connect(ctx context.Context) {
	for attempt := 0; attempt < 2; attempt++ {
		t, err := w.c.target(ctx)
		if err != nil {
			w.health.Failed(err)
			return
		}
		s, err := w.c.dialSocket(ctx, t)
		if errors.Is(err, errSocketAuth) {
			if w.c.local {
				w.health.Failed(fmt.Errorf("homey: account %s: %w: the Homey rejected the API key; create a new one in the Homey web app → Settings → API Keys: %w", w.c.cfg.Account, err, cloud.ErrAuth))
				return
			}
			w.c.log.Info("the realtime handshake was refused; renewing the session")
			if err := w.c.renew(ctx, t.gen); err != nil {
				w.health.Failed(err)
				return
			}
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				w.c.log.Info("no realtime socket", "err", err)
				if errors.Is(err, errUnreachable) {
					w.c.forgetURL(t.base) // the next call finds the Homey again
				}
			}
			return
		}
		w.sock, w.subscribed = s, map[string]bool{}
		w.c.setRPC(s)
		if err := s.subscribe(ctx, "homey:manager:devices"); err != nil {
			w.c.log.Warn("realtime subscription failed", "err", err)
		}
		w.c.log.Info("realtime socket connected")
		return
	}
}

func (w *watcher) closeSocket() {
	if w.sock != nil {
		w.c.clearRPC(w.sock)
		w.sock.close()
		w.sock = nil
	}
}

// subscribeAll subscribes to every listed device not yet subscribed.
func (w *watcher) subscribeAll(ctx context.Context, ds []decoded) {
	if w.sock == nil {
		return
	}
	for _, d := range ds {
		if w.subscribed[d.dev.ID] {
			continue
		}
		if err := w.sock.subscribe(ctx, "homey:device:"+d.dev.ID); err != nil {
			w.c.log.Warn("realtime subscription failed", "device", d.dev.ID, "err", err)
			return
		}
		w.subscribed[d.dev.ID] = true
	}
}

// resync lists every device and reports the listing.
func (w *watcher) resync(ctx context.Context) error {
	ds, err := w.c.list(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.health.Failed(fmt.Errorf("homey: account %s: list devices: %w", w.c.cfg.Account, err))
		}
		return err
	}
	w.health.OK()
	devs := make([]cloud.Device, len(ds))
	for i, d := range ds {
		devs[i] = d.dev.Clone()
	}
	w.report(cloud.Event{Kind: cloud.EventListing, Devices: devs})
	w.listed = true
	w.subscribeAll(ctx, ds)
	return nil
}

// poll re-reads the device list and reports what changed.
func (w *watcher) poll(ctx context.Context) {
	w.c.mu.Lock()
	before := maps.Clone(w.c.known)
	w.c.mu.Unlock()
	ds, err := w.c.list(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.health.Failed(fmt.Errorf("homey: account %s: poll devices: %w", w.c.cfg.Account, err))
		}
		return
	}
	w.health.OK()
	same := len(ds) == len(before)
	for _, d := range ds {
		if _, ok := before[d.dev.ID]; !ok {
			same = false
		}
	}
	if !same {
		devs := make([]cloud.Device, len(ds))
		for i, d := range ds {
			devs[i] = d.dev.Clone()
		}
		w.report(cloud.Event{Kind: cloud.EventListing, Devices: devs})
		return
	}
	for _, d := range ds {
		if !sameDevice(before[d.dev.ID].dev, d.dev) {
			w.report(cloud.Event{Kind: cloud.EventDevice, Device: d.dev.Clone()})
		}
	}
}

// sameDevice reports whether nothing a user sees differs.
func sameDevice(a, b cloud.Device) bool {
	return a.Name == b.Name && a.Area == b.Area && a.Available == b.Available &&
		a.Class == b.Class && reflect.DeepEqual(a.State, b.State) && reflect.DeepEqual(a.Fields, b.Fields)
}

// capabilityEvent is the data of a "capability" event.
type capabilityEvent struct {
	CapabilityID    string `json:"capabilityId"`
	Value           any    `json:"value"`
	TransactionID   string `json:"transactionId"`
	TransactionTime any    `json:"transactionTime"`
}

const devicePrefix = "homey:device:"

func (w *watcher) onEvent(ctx context.Context, ev sockEvent) {
	switch {
	case ev.uri == "homey:manager:devices":
		switch ev.event {
		case "device.create", "device.delete":
			_ = w.resync(ctx)
		case "device.update":
			w.onDeviceObject(ctx, ev.data)
		}
	case len(ev.uri) > len(devicePrefix) && ev.uri[:len(devicePrefix)] == devicePrefix:
		id := ev.uri[len(devicePrefix):]
		switch ev.event {
		case "capability":
			w.onCapability(ctx, id, ev.data)
		case "update":
			w.onDeviceObject(ctx, ev.data)
		case "delete":
			_ = w.resync(ctx)
		}
	}
}

// onDeviceObject applies a pushed device object (rename, availability,
// capabilities).
func (w *watcher) onDeviceObject(ctx context.Context, data json.RawMessage) {
	d, err := decodeJSON(data, w.c.zoneNames())
	if err != nil || len(d.raw.CapabilitiesObj) == 0 {
		var ref struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(data, &ref) != nil || ref.ID == "" {
			return
		}
		if d, err = w.c.fetch(ctx, ref.ID); err != nil {
			w.health.Failed(fmt.Errorf("homey: account %s: re-read device %s: %w", w.c.cfg.Account, ref.ID, err))
			return
		}
	}
	if _, known := w.c.lookup(d.dev.ID); !known {
		_ = w.resync(ctx)
		return
	}
	w.c.remember(d)
	w.report(cloud.Event{Kind: cloud.EventDevice, Device: d.dev.Clone()})
}

// onCapability applies one capability value to the cached device. The echo
// of our own change is applied too (it is the confirmed value) but not
// reported while its Set is running (Set returns the confirmed device), and
// afterwards only when it changes the device.
// sameScalar tells whether a and b are the same number, string, boolean
// or null; anything else counts as different.
func sameScalar(a, b any) bool {
	switch a.(type) {
	case nil, float64, string, bool:
		return a == b
	}
	return false
}

func (w *watcher) onCapability(ctx context.Context, id string, data json.RawMessage) {
	var ce capabilityEvent
	if err := json.Unmarshal(data, &ce); err != nil || ce.CapabilityID == "" {
		return
	}
	old, ok := w.c.lookup(id)
	rc, hasCap := old.raw.CapabilitiesObj[ce.CapabilityID]
	if !ok || !hasCap {
		d, err := w.c.fetch(ctx, id)
		if err != nil {
			w.health.Failed(fmt.Errorf("homey: account %s: re-read device %s: %w", w.c.cfg.Account, id, err))
			return
		}
		w.report(cloud.Event{Kind: cloud.EventDevice, Device: d.dev.Clone()})
		return
	}
	// One look at our transactions for both decisions below: the Set may
	// return in between.
	ours, done := w.c.txs.lookup(ce.TransactionID)
	if ours && done && sameScalar(rc.Value, ce.Value) {
		// The echo of a write of ours that Set already recorded: nothing
		// to decode or report.
		return
	}
	raw := old.raw
	raw.CapabilitiesObj = maps.Clone(old.raw.CapabilitiesObj)
	rc.Value = ce.Value
	if t := parseTime(ce.TransactionTime); !t.IsZero() {
		rc.LastUpdated = float64(t.UnixMilli())
	} else {
		rc.LastUpdated = float64(time.Now().UnixMilli())
	}
	raw.CapabilitiesObj[ce.CapabilityID] = rc
	nd := decodeRaw(raw, w.c.zoneNames())
	w.c.remember(nd)
	if ours && (!done || (reflect.DeepEqual(nd.dev.State, old.dev.State) && nd.dev.ColorMode == old.dev.ColorMode)) {
		return
	}
	w.report(cloud.Event{Kind: cloud.EventDevice, Device: nd.dev.Clone()})
}
