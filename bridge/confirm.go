package bridge

import (
	"context"
	"math"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// pendingConfirm is a device's commanded values that no answer or push has
// shown yet, and when to re-read the device if none does. One timer serves
// every command to the device: a newer command replaces the values of the
// same fields and moves the re-read to ConfirmAfter after it.
type pendingConfirm struct {
	change cloud.Change
	due    time.Time
	timer  *time.Timer
}

// applied feeds the confirmed device back (or the commanded state, for an
// optimistic device) and makes sure the retained state ends up showing
// what the cloud applied.
func (b *Bridge) applied(account, id string, change cloud.Change, d cloud.Device) {
	b.observeCommand(account, CommandOK)
	if b.opts.device(account, id).Optimistic {
		// Publish what was asked for; the cloud's confirmation follows.
		b.sendEvent(accountEvent{account: account, ev: cloud.Event{Kind: cloud.EventDevice}, optimistic: change, id: id})
	} else {
		b.sendEvent(accountEvent{account: account, ev: cloud.Event{Kind: cloud.EventDevice, Device: d}})
	}
	if b.opts.ConfirmAfter > 0 {
		b.expectConfirm(account, id, change, shows(d, change))
	}
}

// expectConfirm records change as commanded to a device. Unless the
// cloud's answer already showed it (shown), the device is re-read
// ConfirmAfter after its latest command if its state does not show the
// latest values by then. Older values of the same fields are superseded:
// only what was commanded last needs confirming.
func (b *Bridge) expectConfirm(account, id string, change cloud.Change, shown bool) {
	key := account + "\x00" + id
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	pc := b.confirms[key]
	if pc == nil {
		if shown {
			return
		}
		pc = &pendingConfirm{change: cloud.Change{}}
		b.confirms[key] = pc
	}
	mergeInto(pc.change, change)
	if shown {
		for k := range change {
			delete(pc.change, k)
		}
	}
	if len(pc.change) == 0 {
		// Nothing left to confirm; a running timer finds nothing and ends.
		return
	}
	pc.due = time.Now().Add(b.opts.ConfirmAfter)
	if pc.timer == nil {
		pc.timer = time.AfterFunc(b.opts.ConfirmAfter, func() { b.confirmDue(account, id, key, pc) })
	}
}

// confirmDue runs when a device's confirmation timer fires: while a newer
// command moved the deadline it waits on, else it checks the values
// commanded last.
func (b *Bridge) confirmDue(account, id, key string, pc *pendingConfirm) {
	b.cmdMu.Lock()
	if wait := time.Until(pc.due); wait > 0 && len(pc.change) > 0 {
		pc.timer.Reset(wait)
		b.cmdMu.Unlock()
		return
	}
	delete(b.confirms, key)
	change := pc.change
	b.cmdMu.Unlock()
	if len(change) > 0 {
		b.confirm(account, id, change)
	}
}

// confirm re-reads a device whose state, a while after a command, still
// does not show it: the push that would have said so was lost or late.
func (b *Bridge) confirm(account, id string, change cloud.Change) {
	b.mu.RLock()
	a, ok := b.accounts[account]
	var d cloud.Device
	if ok {
		e, found := a.devices[id]
		ok = found
		if found {
			d = e.device.Clone()
		}
	}
	b.mu.RUnlock()
	if !ok || shows(d, change) {
		return
	}
	select {
	case <-b.done:
		return
	default:
	}
	b.log.Debug("no confirmation of a command arrived; re-reading the device", "account", account, "device", id)
	b.refreshDevice(context.Background(), account, id)
}

// shows reports whether d's state holds every value of change (numbers to
// within a cloud's rounding).
func shows(d cloud.Device, change cloud.Change) bool {
	for k, want := range change {
		got, ok := d.State[k]
		if !ok {
			return false
		}
		if w, isNum := cloud.Number(want); isNum {
			g, ok := cloud.Number(got)
			tol := 0.005
			if f, has := d.Field(k); has && f.Min != nil && f.Max != nil {
				tol = max(tol*(*f.Max-*f.Min), f.Step/2)
			}
			if !ok || math.Abs(g-w) > tol {
				return false
			}
			continue
		}
		if got != want {
			return false
		}
	}
	return true
}
