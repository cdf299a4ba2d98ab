package bridge

import (
	"context"
	"time"
)

// startAnnounceLimit bounds how long bridge/info and bridge/devices wait at
// start for accounts that neither list their devices nor fail.
const startAnnounceLimit = 10 * time.Second

// announcer decides when the retained bridge/info and bridge/devices are
// published: once at start, after every account has listed its devices or
// failed, and then once per burst of changes, a short delay after the
// first. bridge/devices holds every device (megabytes with thousands), so
// it is never sent once per account or per device. It is used by the run
// loop only.
type announcer struct {
	delay         time.Duration
	info, devices bool // changed since last published
	ready         bool // the start is over
	armed         bool // timer running
	timer         *time.Timer
	startDone     bool // the first announcement after the start is out
}

// start arms the announcer for the start of the run: both topics are due
// once the accounts have settled, or after startAnnounceLimit.
func (a *announcer) start(delay time.Duration) {
	a.delay, a.info, a.devices, a.ready = delay, true, true, false
	a.timer, a.armed = time.NewTimer(startAnnounceLimit), true
}

// stop releases the timer.
func (a *announcer) stop() {
	if a.timer != nil {
		a.timer.Stop()
	}
}

// settled tells that every account has listed or failed: the start is over.
func (a *announcer) settled() {
	if a.ready {
		return
	}
	a.ready = true
	a.arm(0)
}

// changed marks bridge/info, bridge/devices or both as changed.
func (a *announcer) changed(info, devices bool) {
	a.info = a.info || info
	a.devices = a.devices || devices
	if a.ready && !a.armed {
		a.arm(a.delay)
	}
}

func (a *announcer) arm(after time.Duration) {
	if a.timer == nil {
		return
	}
	a.timer.Reset(after)
	a.armed = true
}

// due fires when what changed should be published.
func (a *announcer) due() <-chan time.Time {
	if a.timer == nil {
		return nil
	}
	return a.timer.C
}

// take reports what is to be published now and clears it.
func (a *announcer) take() (info, devices bool) {
	info, devices = a.info, a.devices
	a.info, a.devices, a.armed, a.ready = false, false, false, true
	return info, devices
}

// infoChanged schedules bridge/info.
func (b *Bridge) infoChanged() { b.announce.changed(true, false) }

// devicesChanged schedules bridge/devices, and bridge/info with it (it
// counts each account's devices).
func (b *Bridge) devicesChanged() { b.announce.changed(true, true) }

// publishAnnounced publishes what changed since it was last published.
func (b *Bridge) publishAnnounced(ctx context.Context) {
	info, devices := b.announce.take()
	if info {
		b.publishInfo(ctx)
	}
	if devices {
		b.publishDevices(ctx)
	}
	if !b.announce.startDone {
		b.announce.startDone = true
		if b.opts.Started != nil {
			b.opts.Started()
		}
	}
}
