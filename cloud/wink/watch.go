package wink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/outage"
	"github.com/cloud2mqtt/cloud2mqtt/internal/backoff"
)

// Watch reports the device listing, then live changes through PubNub until
// ctx ends. Without PubNub it polls the device list every PollInterval. It
// re-reads everything every ResyncInterval and after every push gap, keeps
// pushes flowing with keep-alive calls, and reports credential failures as
// EventAuth while retrying. It returns ctx.Err().
func (c *Client) Watch(ctx context.Context, report func(cloud.Event)) error {
	w := &watcher{
		c:      c,
		report: report,
		health: &outage.Tracker{Cloud: "Wink", Log: c.log, Report: report},
		lastTT: map[string]int64{},
		events: make(chan pnEvent, 64),
	}
	return w.run(ctx)
}

// watcher is one Watch call's state; only its run goroutine touches it,
// except the fields noted.
type watcher struct {
	c      *Client
	report func(cloud.Event)
	health *outage.Tracker // reports failures, outages and the push state

	lastTT map[string]int64

	feeds    []feed // the long polls; none without a PubNub subscription
	subHTTP  *http.Client
	pnGen    int // the latest subscriber's generation; events of stopped ones are stale
	subKey   string
	origin   string
	userCh   string
	channels []string
	events   chan pnEvent // from the subscribers

	live         bool      // every long poll connected
	gap          bool      // resync once PubNub connects again
	resubAt      time.Time // when to resubscribe; zero when not scheduled
	resubTries   int
	listFailures int
	listedAt     time.Time // when the last listing was asked for
}

func (w *watcher) run(ctx context.Context) error {
	defer w.stopPubNub()
	// Initial listing, retried with backoff until it works.
	for {
		l, err := w.resync(ctx)
		if err == nil {
			w.setupPubNub(ctx, l)
			break
		}
		w.listFailures++
		if err := backoff.Sleep(ctx, w.retryDelay()); err != nil {
			return ctx.Err()
		}
	}
	if len(w.feeds) == 0 {
		w.health.SetPush(cloud.PushPolling)
	}

	resync := time.NewTicker(w.c.cfg.ResyncInterval)
	defer resync.Stop()
	keepAlive := time.NewTicker(w.c.cfg.KeepAliveInterval)
	defer keepAlive.Stop()
	poll := time.NewTicker(w.c.cfg.PollInterval)
	defer poll.Stop()
	tick := time.NewTicker(w.watchdogPeriod())
	defer tick.Stop()
	var retry <-chan time.Time // retry of a failed resync
	var retryTimer *time.Timer
	defer func() {
		if retryTimer != nil {
			retryTimer.Stop()
		}
	}()

	doResync := func() {
		l, err := w.resync(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.listFailures++
			if retryTimer != nil {
				retryTimer.Stop()
			}
			retryTimer = time.NewTimer(w.retryDelay())
			retry = retryTimer.C
			return
		}
		w.listFailures = 0
		retry = nil
		w.updateSubscription(ctx, l)
	}

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-w.events:
			switch {
			case ev.msg != nil:
				w.onMessage(ctx, *ev.msg)
			case !ev.full.IsZero():
				if ev.full.After(w.listedAt) { // not read since
					w.c.log.Info("a full Wink push answer may have lost older pushes; reading every device")
					doResync()
				}
			case w.onPubNub(ev):
				doResync()
			}
		case <-resync.C:
			doResync()
		case <-retry:
			retry = nil
			doResync()
		case <-poll.C:
			if !w.live {
				doResync()
			}
		case <-keepAlive.C:
			w.keepAlive(ctx)
		case now := <-tick.C:
			if w.watchdog(ctx, now) {
				doResync()
			}
		}
	}
}

// retryDelay is the jittered backoff after consecutive listing failures,
// capped at PollInterval.
func (w *watcher) retryDelay() time.Duration {
	d := time.Second << min(w.listFailures, 8)
	if d > w.c.cfg.PollInterval {
		d = w.c.cfg.PollInterval
	}
	return d/2 + rand.N(d/2+1)
}

// resync lists every device, reports the listing and auth state.
func (w *watcher) resync(ctx context.Context) (*listing, error) {
	w.listedAt = time.Now()
	l, err := w.c.listFull(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		w.health.Failed(fmt.Errorf("wink: list devices: %w", err))
		return nil, err
	}
	w.health.OK()
	devs := make([]cloud.Device, len(l.devices))
	copy(devs, l.devices)
	w.report(cloud.Event{Kind: cloud.EventListing, Devices: devs})
	return l, nil
}

// keepAlive makes the calls the Wink app makes, without which pushes stop
// after some hours: GET /users/me with a unix-time user agent, the device
// list, and a session nonce.
func (w *watcher) keepAlive(ctx context.Context) {
	ua := fmt.Sprint(time.Now().Unix())
	if _, err := w.c.callUA(ctx, http.MethodGet, "/users/me", nil, ua); err != nil {
		w.health.Failed(fmt.Errorf("wink: keep-alive: %w", err))
		return
	}
	if l, err := w.resync(ctx); err == nil {
		w.updateSubscription(ctx, l)
	}
	nonce := fmt.Sprintf("%09d", rand.N(1000000000))
	if _, err := w.c.call(ctx, http.MethodPost, "/users/me/session", map[string]string{"nonce": nonce}); err != nil {
		w.c.log.Debug("keep-alive session call failed", "err", err)
	}
}

func (w *watcher) resyncFromPush(ctx context.Context) {
	if l, err := w.resync(ctx); err == nil {
		w.updateSubscription(ctx, l)
	}
}
