package bridge

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// pendingCommand coalesces commands to one device: while a change is in
// flight, later ones merge into the next (latest value wins per field).
type pendingCommand struct {
	next     cloud.Change
	inflight bool
}

// lookup finds a device by account and topic slug, returning a copy of it
// and its keys.
func (b *Bridge) lookup(account, slug string) (*entry, cloud.Device, []stateKey, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	a, ok := b.accounts[account]
	if !ok {
		return nil, cloud.Device{}, nil, false
	}
	e, ok := a.devices[a.slugs[slug]]
	if !ok {
		return nil, cloud.Device{}, nil, false
	}
	return e, e.device.Clone(), e.keys, true
}

// onCommand handles <base>/<account>/<device>/set[/<field>] and /get.
func (b *Bridge) onCommand(m mqtt.Message) {
	ctx := context.Background()
	ct, ok := b.topics.parseCommandTopic(m.Topic)
	if !ok {
		return
	}
	if m.Retained {
		b.log.Info("retained command ignored; clear it with an empty retained message", "topic", m.Topic)
		return
	}
	e, d, keys, found := b.lookup(ct.account, ct.slug)
	if !found {
		b.rejectCommand(ctx, m, ct, "", errors.New("unknown device: no device is published at "+
			b.topics.Device(ct.account, ct.slug)+"; see "+b.topics.BridgeDevices()+" for the list"))
		return
	}
	if ct.verb == "get" {
		select {
		case b.reads <- struct{}{}:
			go func() {
				defer func() { <-b.reads }()
				b.refreshDevice(ctx, e.account, d.ID)
			}()
		default:
			b.rejectCommand(ctx, m, ct, "", errors.New("too many re-reads in progress: try again in a moment"))
		}
		return
	}
	change, err := parseCommand(&d, keys, ct.field, m.Payload)
	if err != nil {
		field := ct.field
		var ce *commandError
		if errors.As(err, &ce) && ce.Field != "" {
			field = ce.Field
		}
		b.rejectCommand(ctx, m, ct, field, err)
		return
	}
	b.log.Debug("command accepted", "account", ct.account, "device", d.ID, "change", change)
	b.enqueue(e.account, d.ID, change)
}

// rejectCommand reports a bad command on bridge/event and in the log.
func (b *Bridge) rejectCommand(ctx context.Context, m mqtt.Message, ct commandTopic, field string, err error) {
	payload := string(m.Payload)
	if len(payload) > 200 {
		payload = payload[:200] + "…"
	}
	b.log.Warn("command rejected", "topic", m.Topic, "field", field, "error", err)
	b.observeCommand(ct.account, CommandRejected)
	data := map[string]any{"account": ct.account, "device": ct.slug, "topic": m.Topic,
		"error": err.Error(), "payload": payload}
	if field != "" {
		data["field"] = field
	}
	b.publishEvent(ctx, "command_rejected", data)
}

// enqueue sends a change, merged with any not yet sent for the device.
func (b *Bridge) enqueue(account, id string, change cloud.Change) {
	key := account + "\x00" + id
	b.cmdMu.Lock()
	p, ok := b.pending[key]
	if !ok {
		p = &pendingCommand{}
		b.pending[key] = p
	}
	if p.next == nil {
		p.next = cloud.Change{}
	}
	// A colour temperature and a hue cannot both be the latest colour.
	if _, ok := change[cloud.FieldColorTemp]; ok {
		delete(p.next, cloud.FieldHue)
		delete(p.next, cloud.FieldSaturation)
	}
	if _, ok := change[cloud.FieldHue]; ok {
		delete(p.next, cloud.FieldColorTemp)
	}
	for k, v := range change {
		p.next[k] = v
	}
	start := !p.inflight
	p.inflight = true
	b.cmdMu.Unlock()
	if start {
		go b.drain(account, id, key, p)
	}
}

// drain sends a device's pending changes one at a time until none is left.
func (b *Bridge) drain(account, id, key string, p *pendingCommand) {
	for {
		b.cmdMu.Lock()
		change := p.next
		p.next = nil
		if len(change) == 0 {
			p.inflight = false
			delete(b.pending, key)
			b.cmdMu.Unlock()
			return
		}
		b.cmdMu.Unlock()
		b.sendChange(account, id, change)
	}
}

// sendChange calls the cloud and feeds the confirmed device back, or
// reports the failure.
func (b *Bridge) sendChange(account, id string, change cloud.Change) {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	defer cancel()
	b.mu.RLock()
	p := b.accounts[account].provider
	b.mu.RUnlock()
	d, err := p.Set(ctx, id, change)
	if err != nil {
		b.observeCommand(account, CommandFailed)
	} else {
		b.observeCommand(account, CommandOK)
	}
	report, cancelReport := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelReport()
	if err == nil && b.opts.device(account, id).Optimistic {
		// Publish what was asked for; the cloud's confirmation follows.
		b.sendEvent(accountEvent{account: account, ev: cloud.Event{Kind: cloud.EventDevice}, optimistic: change, id: id})
		return
	}
	if err != nil {
		b.log.Warn("command failed", "account", account, "device", id, "error", err)
		b.publishEvent(report, "command_failed", map[string]any{"account": account, "id": id,
			"change": change, "error": err.Error()})
		if errors.Is(err, cloud.ErrAuth) {
			b.sendEvent(accountEvent{account: account, ev: cloud.Event{Kind: cloud.EventAuth, Err: err}})
		}
		return
	}
	b.sendEvent(accountEvent{account: account, ev: cloud.Event{Kind: cloud.EventDevice, Device: d}})
}

// sendEvent hands an event to the run loop; once the loop has stopped the
// event is dropped.
func (b *Bridge) sendEvent(ae accountEvent) {
	select {
	case b.events <- ae:
	case <-b.done:
	}
}

// refreshDevice re-reads one device from the cloud (the /get topic).
func (b *Bridge) refreshDevice(ctx context.Context, account, id string) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.CommandTimeout)
	defer cancel()
	b.mu.RLock()
	p := b.accounts[account].provider
	b.mu.RUnlock()
	d, err := p.Device(ctx, id)
	if err != nil {
		b.log.Warn("device refresh failed", "account", account, "device", id, "error", err)
		report, cancelReport := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancelReport()
		b.publishEvent(report, "refresh_failed", map[string]any{"account": account, "id": id, "error": err.Error()})
		return
	}
	b.sendEvent(accountEvent{account: account, ev: cloud.Event{Kind: cloud.EventDevice, Device: d}})
}

// onHAStatus re-publishes everything when Home Assistant comes online.
func (b *Bridge) onHAStatus(m mqtt.Message) {
	if !strings.EqualFold(strings.TrimSpace(string(m.Payload)), "online") || m.Retained {
		return
	}
	b.log.Info("Home Assistant is online; re-publishing discovery and state", "delay", b.opts.HABirthDelay)
	time.AfterFunc(b.opts.HABirthDelay, b.Republish)
}
