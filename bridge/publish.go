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
	mainType  string // read off the discovery's components, when built
}

// snapshot computes a device's payloads. Call with b.mu held.
func (b *Bridge) snapshot(e *entry, a *account) published {
	p := b.stateSnapshot(e, a)
	p.discovery, p.mainType = b.discoveryMessages(e)
	return p
}

// stateSnapshot computes a device's state and availability payloads,
// without discovery. Call with b.mu held.
func (b *Bridge) stateSnapshot(e *entry, a *account) published {
	state := stateObject(&e.device, e.keys)
	p := published{topic: e.topic, avail: "offline"}
	if e.device.Available && a.status != StatusAuthRequired && a.status != StatusError {
		p.avail = "online"
	}
	if b.opts.attributeOutput() {
		p.attrs = make(map[string][]byte, len(state))
		for k, v := range state {
			p.attrs[k] = attributePayload(v)
		}
	}
	if b.opts.jsonOutput() {
		// The availability rides in the state (not among the attributes,
		// where <device>/availability is the availability topic's).
		state[availabilityKey] = p.avail
		p.state = encodeState(state)
	}
	return p
}

// encodeState is a device's JSON state as encoding/json writes it (keys
// sorted), by the bridge's own encoder: a state is encoded at every change
// of every device, and encoding/json's reflection over the map cost more
// than the rest of building it.
func encodeState(state map[string]any) []byte {
	return appendObject(make([]byte, 0, 64+32*len(state)), state, false, "", "")
}

// attributePayload is a state value as published on <device>/<key>: text
// as it is, numbers and booleans in JSON notation, objects as JSON.
func attributePayload(v any) []byte {
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	return appendValue(nil, v)
}

// publishDiscovery publishes the device's discovery configs that differ
// from what was last published (all when force is set) and clears those it
// no longer has.
func (b *Bridge) publishDiscovery(o *outbox, e *entry, p published, force bool) {
	sums := make(map[string]digest, len(p.discovery))
	for topic, payload := range p.discovery {
		sums[topic] = b.digestOf(payload)
	}
	b.mu.Lock()
	last := e.lastDiscovery
	sent := make(map[string]digest, len(p.discovery))
	for topic, sum := range sums {
		if !force && last[topic] == sum {
			sent[topic] = sum
		}
	}
	e.lastDiscovery = sent
	b.mu.Unlock()
	for _, topic := range sortedKeys(p.discovery) {
		sum := sums[topic]
		if !force && last[topic] == sum {
			continue
		}
		o.publish(topic, p.discovery[topic], true, func(err error) {
			if err == nil {
				b.mu.Lock()
				sent[topic] = sum
				b.mu.Unlock()
			}
		})
	}
	for topic := range last {
		if _, ok := p.discovery[topic]; !ok {
			o.publish(topic, nil, true, nil)
		}
	}
}

// publishState publishes the device's state (JSON and/or attributes) and
// availability where they differ from what was last published, or all of
// them when force is set.
func (b *Bridge) publishState(o *outbox, e *entry, p published, force bool) {
	// still tells whether the entry is still published at p.topic. Call
	// with b.mu held.
	still := func() bool { return e.topic == p.topic }
	b.mu.Lock()
	if !still() {
		b.mu.Unlock()
		return
	}
	lastState, lastAttrs, lastAvail := e.lastState, e.lastAttrs, e.lastAvail
	attrs := make(map[string]digest, len(p.attrs))
	attrSums := make(map[string]digest, len(p.attrs))
	for k, v := range p.attrs {
		sum := b.digestOf(v)
		attrSums[k] = sum
		if !force && lastAttrs[k] == sum {
			attrs[k] = sum
		}
	}
	if p.attrs != nil || lastAttrs != nil {
		e.lastAttrs = attrs
	}
	b.mu.Unlock()

	if p.state != nil {
		sum := b.digestOf(p.state)
		if force || sum != lastState {
			o.publish(p.topic, p.state, true, func(err error) {
				if err == nil {
					b.mu.Lock()
					if still() {
						e.lastState = sum
					}
					b.mu.Unlock()
				}
			})
		}
	}
	for _, k := range sortedKeys(p.attrs) {
		sum := attrSums[k]
		if !force && lastAttrs[k] == sum {
			continue
		}
		o.publish(p.topic+"/"+k, p.attrs[k], true, func(err error) {
			if err == nil {
				b.mu.Lock()
				attrs[k] = sum
				b.mu.Unlock()
			}
		})
	}
	for k := range lastAttrs {
		if _, ok := p.attrs[k]; !ok {
			o.publish(p.topic+"/"+k, nil, true, nil)
		}
	}
	if b.opts.availabilityTopic() && (force || p.avail != lastAvail) {
		avail := p.avail
		o.publish(p.topic+"/availability", availabilityPayload(avail), true, func(err error) {
			if err == nil {
				b.mu.Lock()
				if still() {
					e.lastAvail = avail
				}
				b.mu.Unlock()
			}
		})
	}
}

// publishSnapshot publishes discovery (unless p has none: the device's
// shape did not change), then state and availability.
func (b *Bridge) publishSnapshot(o *outbox, e *entry, p published, force bool) {
	if p.discovery != nil {
		b.publishDiscovery(o, e, p, force)
	}
	b.publishState(o, e, p, force)
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
// device of an account (after an account status change), through o.
func (b *Bridge) publishAvailabilityAll(o *outbox, name string) {
	for _, e := range b.entries(name) {
		b.mu.RLock()
		p := b.stateSnapshot(e, b.accounts[name])
		b.mu.RUnlock()
		b.publishState(o, e, p, false)
	}
}

// clearTopics deletes a device topic's retained state and availability.
func (b *Bridge) clearTopics(o *outbox, topic string) {
	o.publish(topic, nil, true, nil)
	o.publish(topic+"/availability", nil, true, nil)
}

// clearAttributes deletes the retained attribute topics below topic.
func (b *Bridge) clearAttributes(o *outbox, topic string, attrs map[string]digest) {
	for k := range attrs {
		o.publish(topic+"/"+k, nil, true, nil)
	}
}

// publishAll re-publishes bridge info, the device list, every device's
// discovery and then every device's state and availability, many messages
// in flight at once.
func (b *Bridge) publishAll(ctx context.Context, force bool) {
	b.announce.take()
	b.publishInfo(ctx)
	b.publishDevices(ctx)
	entries := b.entries("")
	o := b.newOutbox(ctx)
	defer o.flush()
	for _, e := range entries {
		b.mu.RLock()
		var p published
		p.discovery, _ = b.discoveryMessages(e)
		b.mu.RUnlock()
		b.publishDiscovery(o, e, p, force)
	}
	for _, e := range entries {
		b.mu.RLock()
		p := b.stateSnapshot(e, b.accounts[e.account])
		b.mu.RUnlock()
		b.publishState(o, e, p, force)
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

// markAllOffline publishes offline availability for every device on
// <device>/availability, on shutdown. Availability in the state is the
// cloud's view of the device and stays; that the bridge is gone is said by
// bridge/state, which Home Assistant's availability also reads.
func (b *Bridge) markAllOffline() {
	if !b.opts.availabilityTopic() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o := b.newOutbox(ctx)
	defer o.flush()
	for _, e := range b.entries("") {
		o.publish(e.topic+"/availability", availabilityPayload("offline"), true, nil)
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
