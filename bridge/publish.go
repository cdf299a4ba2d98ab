package bridge

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// published is what one device has on MQTT, computed under the lock.
type published struct {
	topic     string
	discovery map[string][]byte // topic → payload
	state     []byte
	attrs     map[string][]byte // key → payload
	avail     string
}

// snapshot computes a device's payloads. Call with b.mu held.
func (b *Bridge) snapshot(e *entry, a *account) published {
	state := stateObject(&e.device, e.keys)
	p := published{topic: e.topic, discovery: b.discoveryMessages(e), avail: "offline"}
	if b.opts.jsonOutput() {
		p.state, _ = json.Marshal(state)
	}
	if b.opts.attributeOutput() {
		p.attrs = make(map[string][]byte, len(state))
		for k, v := range state {
			p.attrs[k] = attributePayload(v)
		}
	}
	if e.device.Available && a.status != StatusAuthRequired && a.status != StatusError {
		p.avail = "online"
	}
	return p
}

// attributePayload is a state value as published on <device>/<key>: text
// as it is, numbers and booleans in JSON notation, objects as JSON.
func attributePayload(v any) []byte {
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	out, _ := json.Marshal(v)
	return out
}

// publishDiscovery publishes the device's discovery configs that differ
// from what was last published (all when force is set) and clears those it
// no longer has.
func (b *Bridge) publishDiscovery(ctx context.Context, e *entry, p published, force bool) {
	b.mu.RLock()
	last := e.lastDiscovery
	b.mu.RUnlock()
	sent := make(map[string][]byte, len(p.discovery))
	for _, topic := range sortedKeys(p.discovery) {
		payload := p.discovery[topic]
		if !force && string(last[topic]) == string(payload) {
			sent[topic] = payload
			continue
		}
		if b.publish(ctx, topic, payload, true) == nil {
			sent[topic] = payload
		}
	}
	for topic := range last {
		if _, ok := p.discovery[topic]; !ok {
			_ = b.publish(ctx, topic, nil, true)
		}
	}
	b.mu.Lock()
	e.lastDiscovery = sent
	b.mu.Unlock()
}

// publishState publishes the device's state (JSON and/or attributes) and
// availability where they differ from what was last published, or all of
// them when force is set.
func (b *Bridge) publishState(ctx context.Context, e *entry, p published, force bool) {
	b.mu.RLock()
	lastState, lastAttrs, lastAvail := e.lastState, e.lastAttrs, e.lastAvail
	b.mu.RUnlock()
	if p.state != nil && (force || string(p.state) != string(lastState)) {
		if b.publish(ctx, p.topic, p.state, true) != nil {
			p.state = lastState
		}
	}
	attrs := make(map[string][]byte, len(p.attrs))
	for _, k := range sortedKeys(p.attrs) {
		v := p.attrs[k]
		if force || string(lastAttrs[k]) != string(v) {
			if b.publish(ctx, p.topic+"/"+k, v, true) != nil {
				continue
			}
		}
		attrs[k] = v
	}
	for k := range lastAttrs {
		if _, ok := p.attrs[k]; !ok {
			_ = b.publish(ctx, p.topic+"/"+k, nil, true)
		}
	}
	if force || p.avail != lastAvail {
		if b.publish(ctx, p.topic+"/availability", availabilityPayload(p.avail), true) != nil {
			p.avail = lastAvail
		}
	}
	b.mu.Lock()
	if e.topic == p.topic {
		e.lastState, e.lastAttrs, e.lastAvail = p.state, attrs, p.avail
	}
	b.mu.Unlock()
}

// publishSnapshot publishes discovery, then state and availability.
func (b *Bridge) publishSnapshot(ctx context.Context, e *entry, p published, force bool) {
	b.publishDiscovery(ctx, e, p, force)
	b.publishState(ctx, e, p, force)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func availabilityPayload(state string) []byte {
	return []byte(`{"state":"` + state + `"}`)
}

// publishAvailabilityAll re-publishes state and availability for every
// device of an account (after an account status change).
func (b *Bridge) publishAvailabilityAll(ctx context.Context, name string) {
	for _, e := range b.entries(name) {
		b.mu.RLock()
		p := b.snapshot(e, b.accounts[name])
		b.mu.RUnlock()
		b.publishState(ctx, e, p, false)
	}
}

// clearTopics deletes a device topic's retained state and availability.
func (b *Bridge) clearTopics(ctx context.Context, topic string) {
	_ = b.publish(ctx, topic, nil, true)
	_ = b.publish(ctx, topic+"/availability", nil, true)
}

// clearAttributes deletes the retained attribute topics below topic.
func (b *Bridge) clearAttributes(ctx context.Context, topic string, attrs map[string][]byte) {
	for k := range attrs {
		_ = b.publish(ctx, topic+"/"+k, nil, true)
	}
}

// publishAll re-publishes bridge info, the device list, every device's
// discovery and then every device's state and availability.
func (b *Bridge) publishAll(ctx context.Context, force bool) {
	b.publishInfo(ctx)
	b.publishDevices(ctx)
	entries := b.entries("")
	snaps := make([]published, len(entries))
	b.mu.RLock()
	for i, e := range entries {
		snaps[i] = b.snapshot(e, b.accounts[e.account])
	}
	b.mu.RUnlock()
	for i, e := range entries {
		b.publishDiscovery(ctx, e, snaps[i], force)
	}
	for i, e := range entries {
		b.publishState(ctx, e, snaps[i], force)
	}
}

// Republish sends everything again, for a broker that lost its retained
// messages. The MQTT connection's OnConnect hook calls it.
func (b *Bridge) Republish() {
	select {
	case b.republish <- struct{}{}:
	default:
	}
}

// markAllOffline publishes offline availability for every device, on
// shutdown.
func (b *Bridge) markAllOffline() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, e := range b.entries("") {
		_ = b.publish(ctx, e.topic+"/availability", availabilityPayload("offline"), true)
	}
}

// publish sends one message, logging a failure.
func (b *Bridge) publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if err := b.broker.Publish(ctx, topic, payload, retained); err != nil {
		if ctx.Err() == nil {
			b.log.Warn("publish failed", "topic", topic, "error", err)
		}
		return err
	}
	return nil
}

// publishJSON marshals v and publishes it.
func (b *Bridge) publishJSON(ctx context.Context, topic string, v any, retained bool) {
	payload, err := json.Marshal(v)
	if err != nil {
		b.log.Error("cannot encode message", "topic", topic, "error", err)
		return
	}
	_ = b.publish(ctx, topic, payload, retained)
}

// publishEvent publishes {"type":…,"data":…} on bridge/event.
func (b *Bridge) publishEvent(ctx context.Context, kind string, data map[string]any) {
	b.publishJSON(ctx, b.topics.BridgeEvent(), map[string]any{"type": kind, "data": data}, false)
}
