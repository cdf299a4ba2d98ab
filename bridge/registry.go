package bridge

import (
	"errors"
	"maps"
	"slices"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func (b *Bridge) applyAuth(o *outbox, name string, err error) {
	ctx := o.ctx
	status, problem := StatusConnected, ""
	switch {
	case err == nil:
		b.mu.RLock()
		if !b.accounts[name].listed {
			status = StatusConnecting
		}
		b.mu.RUnlock()
	case errors.Is(err, cloud.ErrAuth):
		status, problem = StatusAuthRequired, err.Error()
	default:
		status, problem = StatusError, err.Error()
	}
	changed := b.setAccount(name, func(a *account) { a.status, a.problem = status, problem })
	if !changed {
		return
	}
	data := map[string]any{"account": name, "status": status}
	if problem != "" {
		data["error"] = problem
		b.log.Warn("account status changed", "account", name, "status", status, "error", problem)
	} else {
		b.log.Info("account status changed", "account", name, "status", status)
	}
	b.publishEvent(ctx, "account_status", data)
	b.publishAvailabilityAll(o, name)
}

// setAccount changes an account under the lock and re-publishes bridge/info
// when anything changed.
func (b *Bridge) setAccount(name string, f func(*account)) bool {
	b.mu.Lock()
	a := b.accounts[name]
	before := accountInfo(name, a)
	f(a)
	after := accountInfo(name, a)
	b.mu.Unlock()
	changed := before != after
	if changed {
		b.infoChanged()
	}
	return changed
}

// applyListing replaces an account's device list: new devices are added,
// known ones updated and missing ones removed, publishing through o.
func (b *Bridge) applyListing(o *outbox, name string, devices []cloud.Device) {
	slices.SortFunc(devices, func(x, y cloud.Device) int {
		if x.ID < y.ID {
			return -1
		}
		if x.ID > y.ID {
			return 1
		}
		return 0
	})
	seen := make(map[string]bool, len(devices))
	for _, d := range devices {
		seen[d.ID] = true
	}
	b.mu.Lock()
	a := b.accounts[name]
	if len(a.devices) == 0 && len(devices) > 0 {
		// A first listing: the maps made at the size they end at.
		a.devices = make(map[string]*entry, len(devices))
		a.slugs = make(map[string]string, len(devices))
	}
	var gone []*entry
	for id, e := range a.devices {
		if !seen[id] {
			gone = append(gone, e)
			delete(a.devices, id)
			delete(a.slugs, e.slug)
		}
	}
	firstListing := !a.listed
	a.listed = true
	if a.status == StatusConnecting || a.status == StatusError {
		a.status, a.problem = StatusConnected, ""
	}
	b.mu.Unlock()

	for _, e := range gone {
		b.removeEntry(o, e)
	}
	for _, d := range devices {
		b.applyDeviceTo(o, name, d, firstListing)
	}
	if firstListing {
		b.log.Info("account listed", "account", name, "devices", len(devices))
	}
	b.infoChanged()
	b.devicesChanged()
}

// applyDeviceTo updates or adds one device and publishes its discovery,
// state and availability where they changed, through o. It reports whether
// the device is new. A device found by an account's first listing is not
// announced as added on bridge/event: it was there before the bridge
// started.
func (b *Bridge) applyDeviceTo(o *outbox, name string, d cloud.Device, firstListing bool) bool {
	ctx := o.ctx
	dopts := b.opts.device(name, d.ID)
	if dopts.Exclude {
		return false
	}
	b.mu.Lock()
	a := b.accounts[name]
	e, known := a.devices[d.ID]
	if known && !d.UpdatedAt.IsZero() && d.UpdatedAt.Before(e.device.UpdatedAt) {
		b.mu.Unlock()
		b.log.Debug("older device state ignored", "account", name, "device", d.ID)
		return false
	}
	var oldTopic string
	renamed := false
	if !known {
		e = &entry{account: name, discoveryID: discoveryID("cloud2mqtt", name, d.ID), opts: dopts}
		a.devices[d.ID] = e
	}
	nameChanged := !known || e.device.Name != d.Name
	reshaped := !known || !sameShape(&e.device, &d)
	// The entry's own state, and fields shared with the devices of its
	// shape (never modified): thousands of devices keep one copy of each
	// shape's fields.
	old := e.device
	fields := e.device.Fields
	e.device = d
	e.device.State = maps.Clone(d.State)
	if e.device.State == nil {
		e.device.State = map[string]any{}
	}
	if reshaped {
		e.keys, fields = b.keyCache.keys(&d)
	}
	e.device.Fields = fields
	var events [][]byte
	if known { // a device's state when first seen reports no new event
		events = newEvents(e, &old)
	}
	if nameChanged {
		own := d.Name
		if dopts.Topic != "" {
			own = dopts.Topic
		}
		slug := uniqueSlug(own, d.ID, func(s string) bool { id, ok := a.slugs[s]; return ok && id != d.ID })
		if slug != e.slug {
			var oldAttrs map[string]digest
			if e.slug != "" {
				delete(a.slugs, e.slug)
				oldTopic, renamed = e.topic, true
				oldAttrs = e.lastAttrs
			}
			e.slug = slug
			e.topic = b.topics.Device(name, slug)
			a.slugs[slug] = d.ID
			e.lastState, e.lastAvail, e.lastAttrs = 0, "", nil
			reshaped = true
			defer b.clearAttributes(o, oldTopic, oldAttrs)
		}
	}
	var pub published
	if reshaped || len(e.lastDiscovery) == 0 {
		pub = b.snapshot(e, a)
		e.mainType = pub.mainType
	} else {
		pub = b.stateSnapshot(e, a) // discovery depends on the shape only
	}
	b.mu.Unlock()

	if renamed {
		b.clearTopics(o, oldTopic)
		b.publishEvent(ctx, "device_renamed", map[string]any{"account": name, "id": d.ID,
			"name": d.Name, "from": oldTopic, "topic": pub.topic})
		b.devicesChanged()
	}
	if !known {
		if !firstListing {
			b.publishEvent(ctx, "device_added", map[string]any{"account": name, "id": d.ID, "name": d.Name, "topic": pub.topic})
		}
		b.devicesChanged()
	}
	b.publishSnapshot(o, e, pub, false)
	for _, ev := range events {
		o.publish(eventTopic(pub.topic), ev, false, nil)
	}
	return !known
}

// sameShape tells whether two states of a device have the same name,
// metadata and fields, so the same state keys and discovery.
func sameShape(x, y *cloud.Device) bool {
	return x.ID == y.ID && x.Name == y.Name && x.Class == y.Class && x.Type == y.Type &&
		x.Manufacturer == y.Manufacturer && x.Model == y.Model && x.Firmware == y.Firmware &&
		x.HubID == y.HubID && x.Area == y.Area && x.CoverKind == y.CoverKind &&
		slices.EqualFunc(x.Fields, y.Fields, sameField)
}

func sameField(x, y cloud.Field) bool {
	return x.Name == y.Name && x.Kind == y.Kind && x.Writable == y.Writable &&
		samePtr(x.Min, y.Min) && samePtr(x.Max, y.Max) && x.Step == y.Step && x.Unit == y.Unit &&
		slices.Equal(x.Choices, y.Choices) && x.Category == y.Category
}

func samePtr(x, y *float64) bool {
	return (x == nil) == (y == nil) && (x == nil || *x == *y)
}

// applyOptimistic publishes a device's state with a change the cloud
// accepted but has not confirmed yet.
func (b *Bridge) applyOptimistic(o *outbox, name, id string, change cloud.Change) {
	b.mu.Lock()
	a := b.accounts[name]
	e, ok := a.devices[id]
	if !ok {
		b.mu.Unlock()
		return
	}
	d := e.device.Clone()
	for k, v := range change {
		d.State[k] = v
	}
	e.device = d
	p := b.stateSnapshot(e, a)
	b.mu.Unlock()
	b.publishState(o, e, p, false)
}

// entries lists an account's devices (all accounts when name is "").
func (b *Bridge) entries(name string) []*entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	size := 0
	for _, n := range b.order {
		if name == "" || n == name {
			size += len(b.accounts[n].devices)
		}
	}
	if size == 0 {
		return nil
	}
	out := make([]*entry, 0, size)
	for _, n := range b.order {
		if name != "" && n != name {
			continue
		}
		for _, e := range b.accounts[n].devices {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(x, y *entry) int {
		if x.topic < y.topic {
			return -1
		}
		if x.topic > y.topic {
			return 1
		}
		return 0
	})
	return out
}

// removeEntry clears a device that is gone from the cloud.
func (b *Bridge) removeEntry(o *outbox, e *entry) {
	b.mu.RLock()
	disc := slices.Collect(maps.Keys(e.lastDiscovery))
	attrs := maps.Clone(e.lastAttrs)
	b.mu.RUnlock()
	for _, topic := range disc {
		o.publish(topic, nil, true, nil)
	}
	b.clearTopics(o, e.topic)
	b.clearAttributes(o, e.topic, attrs)
	b.devicesChanged()
	b.publishEvent(o.ctx, "device_removed", map[string]any{"account": e.account, "id": e.device.ID,
		"name": e.device.Name, "topic": e.topic})
	b.log.Info("device removed", "account", e.account, "device", e.device.ID, "topic", e.topic)
}
