package bridge

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// lookup finds a device by account and topic slug, returning it and its
// keys. The registry replaces a device on every change and never changes
// one in place, so the device returned stays as it is: read it, do not
// change it.
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
	return e, e.device, e.keys, true
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
