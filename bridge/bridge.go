// Package bridge is the heart of cloud2mqtt: it keeps a registry of every
// cloud device, publishes their state, availability and Home Assistant
// discovery over MQTT, and turns MQTT commands into validated cloud changes.
package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// Broker is the MQTT connection the bridge publishes and subscribes with.
// *mqtt.Client implements it.
type Broker interface {
	Publish(ctx context.Context, topic string, payload []byte, retained bool) error
	Subscribe(ctx context.Context, filter string, h func(mqtt.Message)) error
	Unsubscribe(ctx context.Context, filter string) error
}

// Bridge connects cloud providers to an MQTT broker.
type Bridge struct {
	opts   Options
	topics Topics
	log    *slog.Logger
	broker Broker

	events    chan accountEvent
	republish chan struct{}
	done      chan struct{} // closed when Run returns

	mu       sync.RWMutex
	accounts map[string]*account
	order    []string // account names in configuration order

	cmdMu   sync.Mutex
	pending map[string]*pendingCommand
	reads   chan struct{} // bounds concurrent /get re-reads

	// Retained discovery configs found at start, cleared when stale.
	staleMu      sync.Mutex
	staleConfigs map[string][]byte
	collecting   bool
}

// account is one provider and its devices.
type account struct {
	provider cloud.Provider
	status   string // connecting, connected, auth_required, error
	push     cloud.PushState
	problem  string
	listed   bool
	devices  map[string]*entry // by cloud id
	slugs    map[string]string // slug → cloud id
}

// entry is one device as the bridge publishes it.
type entry struct {
	account     string
	device      cloud.Device
	keys        []stateKey
	slug        string
	topic       string
	discoveryID string

	opts DeviceOptions

	lastState     []byte
	lastAvail     string
	lastDiscovery map[string][]byte // topic → payload
	lastAttrs     map[string][]byte // key → payload
}

// accountEvent is an event from one account's provider.
type accountEvent struct {
	account string
	ev      cloud.Event
	reply   chan struct{} // closed once handled, when not nil

	// An optimistic change of device id, to show before the cloud confirms.
	optimistic cloud.Change
	id         string
}

// maxConcurrentReads bounds the /get re-reads in flight at once.
const maxConcurrentReads = 8

// Account statuses published in bridge/info.
const (
	StatusConnecting   = "connecting"
	StatusConnected    = "connected"
	StatusAuthRequired = "auth_required"
	StatusError        = "error"
)

// New returns a bridge for the providers, publishing through broker.
// Account names must be unique.
func New(broker Broker, providers []cloud.Provider, opts Options) (*Bridge, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	b := &Bridge{
		opts:      opts,
		topics:    opts.Topics,
		log:       opts.Logger,
		broker:    broker,
		events:    make(chan accountEvent, 256),
		republish: make(chan struct{}, 1),
		done:      make(chan struct{}),
		accounts:  map[string]*account{},
		pending:   map[string]*pendingCommand{},
		reads:     make(chan struct{}, maxConcurrentReads),
	}
	for _, p := range providers {
		if _, dup := b.accounts[p.Account()]; dup {
			return nil, fmt.Errorf("bridge: account %q is configured twice: account names must be unique", p.Account())
		}
		if p.Account() == "bridge" || Slug(p.Account()) == "" {
			return nil, fmt.Errorf("bridge: account name %q cannot be a topic level of its own: choose another name", p.Account())
		}
		b.accounts[p.Account()] = &account{provider: p, status: StatusConnecting,
			push: cloud.PushPolling, devices: map[string]*entry{}, slugs: map[string]string{}}
		b.order = append(b.order, p.Account())
	}
	return b, nil
}

// Run subscribes to the command topics, watches every provider and
// publishes until ctx ends. On the way out it marks every device offline.
func (b *Bridge) Run(ctx context.Context) error {
	err := b.run(ctx)
	if ctx.Err() != nil {
		return nil // stopped while starting: not a failure
	}
	return err
}

func (b *Bridge) run(ctx context.Context) error {
	cleanupDue := false
	if b.opts.Discovery != DiscoveryOff {
		if err := b.collectDiscovery(ctx); err != nil {
			return err
		}
		cleanupDue = true
	}

	subs := []struct {
		filter string
		h      func(mqtt.Message)
	}{
		{b.topics.Base + "/+/+/set", b.onCommand},
		{b.topics.Base + "/+/+/set/+", b.onCommand},
		{b.topics.Base + "/+/+/get", b.onCommand},
		{b.topics.HAStatus(), b.onHAStatus},
		{b.topics.BridgeRequest(), b.onRequest},
	}
	for _, s := range subs {
		if err := b.broker.Subscribe(ctx, s.filter, s.h); err != nil {
			return fmt.Errorf("bridge: subscribe %s: %w", s.filter, err)
		}
	}
	defer close(b.done)
	b.publishInfo(ctx)

	var wg sync.WaitGroup
	for _, name := range b.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.watch(ctx, name)
		}()
	}
	defer wg.Wait()

	for {
		select {
		case <-ctx.Done():
			b.markAllOffline()
			return nil
		case ae := <-b.events:
			b.handle(ctx, ae)
			if ae.reply != nil {
				close(ae.reply)
			}
		case <-b.republish:
			b.publishAll(ctx, true)
		}
		if cleanupDue && b.accountsSettled() {
			cleanupDue = false
			b.clearStaleDiscovery(ctx)
		}
	}
}

// accountsSettled tells whether every account has listed its devices or
// failed, so that stale discovery can be told from that of accounts still
// starting.
func (b *Bridge) accountsSettled() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, a := range b.accounts {
		if !a.listed && a.status == StatusConnecting {
			return false
		}
	}
	return true
}

// qosSubscriber is a Broker that can subscribe at a chosen QoS.
type qosSubscriber interface {
	SubscribeQoS(ctx context.Context, filter string, qos byte, h func(mqtt.Message)) error
}

// subscribeBulk subscribes to a filter that may match many retained
// messages at once. QoS 0 keeps a broker's cap on queued QoS 1 messages per
// client (mosquitto's max_queued_messages) from dropping some of them.
func (b *Bridge) subscribeBulk(ctx context.Context, filter string, h func(mqtt.Message)) error {
	if q, ok := b.broker.(qosSubscriber); ok {
		return q.SubscribeQoS(ctx, filter, 0, h)
	}
	return b.broker.Subscribe(ctx, filter, h)
}

// watch runs one provider's Watch, restarting it with backoff when it
// fails, until ctx ends.
func (b *Bridge) watch(ctx context.Context, name string) {
	p := b.accounts[name].provider
	backoff := time.Second
	for ctx.Err() == nil {
		err := p.Watch(ctx, func(ev cloud.Event) { b.send(ctx, accountEvent{account: name, ev: ev}) })
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("the cloud connection ended")
		}
		b.log.Error("account stopped watching; retrying", "account", name, "error", err, "retry_in", backoff)
		b.send(ctx, accountEvent{account: name, ev: cloud.Event{Kind: cloud.EventAuth, Err: err}})
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff + rand.N(backoff/2+1)):
		}
		backoff = min(backoff*2, 5*time.Minute)
	}
}

func (b *Bridge) send(ctx context.Context, ae accountEvent) {
	select {
	case b.events <- ae:
	case <-ctx.Done():
	}
}

// handle applies one event to the registry and publishes what changed.
func (b *Bridge) handle(ctx context.Context, ae accountEvent) {
	switch ae.ev.Kind {
	case cloud.EventListing:
		b.applyListing(ctx, ae.account, ae.ev.Devices)
	case cloud.EventDevice:
		if ae.optimistic != nil {
			b.applyOptimistic(ctx, ae.account, ae.id, ae.optimistic)
			return
		}
		added := b.applyDevice(ctx, ae.account, ae.ev.Device)
		if added {
			b.publishDevices(ctx)
		}
	case cloud.EventPush:
		b.setAccount(ctx, ae.account, func(a *account) { a.push = ae.ev.Push })
	case cloud.EventAuth:
		b.applyAuth(ctx, ae.account, ae.ev.Err)
	}
}

func (b *Bridge) applyAuth(ctx context.Context, name string, err error) {
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
	changed := b.setAccount(ctx, name, func(a *account) { a.status, a.problem = status, problem })
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
	b.publishAvailabilityAll(ctx, name)
}

// setAccount changes an account under the lock and re-publishes bridge/info
// when anything changed.
func (b *Bridge) setAccount(ctx context.Context, name string, f func(*account)) bool {
	b.mu.Lock()
	a := b.accounts[name]
	before := accountInfo(name, a)
	f(a)
	after := accountInfo(name, a)
	b.mu.Unlock()
	changed := before != after
	if changed {
		b.publishInfo(ctx)
	}
	return changed
}

// applyListing replaces an account's device list: new devices are added,
// known ones updated and missing ones removed.
func (b *Bridge) applyListing(ctx context.Context, name string, devices []cloud.Device) {
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
		b.removeEntry(ctx, e)
	}
	for _, d := range devices {
		b.applyDevice(ctx, name, d)
	}
	if firstListing {
		b.log.Info("account listed", "account", name, "devices", len(devices))
	}
	b.publishInfo(ctx)
	b.publishDevices(ctx)
}

// applyDevice updates or adds one device and publishes its discovery, state
// and availability where they changed. It reports whether the device is new.
func (b *Bridge) applyDevice(ctx context.Context, name string, d cloud.Device) bool {
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
	e.device = d.Clone()
	e.keys = deviceKeys(&e.device)
	if nameChanged {
		own := d.Name
		if dopts.Topic != "" {
			own = dopts.Topic
		}
		slug := uniqueSlug(own, d.ID, func(s string) bool { id, ok := a.slugs[s]; return ok && id != d.ID })
		if slug != e.slug {
			var oldAttrs map[string][]byte
			if e.slug != "" {
				delete(a.slugs, e.slug)
				oldTopic, renamed = e.topic, true
				oldAttrs = e.lastAttrs
			}
			e.slug = slug
			e.topic = b.topics.Device(name, slug)
			a.slugs[slug] = d.ID
			e.lastState, e.lastAvail, e.lastAttrs = nil, "", nil
			defer b.clearAttributes(ctx, oldTopic, oldAttrs)
		}
	}
	pub := b.snapshot(e, a)
	b.mu.Unlock()

	if renamed {
		b.clearTopics(ctx, oldTopic)
		b.publishEvent(ctx, "device_renamed", map[string]any{"account": name, "id": d.ID,
			"name": d.Name, "from": oldTopic, "topic": pub.topic})
		b.publishDevices(ctx)
	}
	if !known {
		b.publishEvent(ctx, "device_added", map[string]any{"account": name, "id": d.ID, "name": d.Name, "topic": pub.topic})
	}
	b.publishSnapshot(ctx, e, pub, false)
	return !known
}

// applyOptimistic publishes a device's state with a change the cloud
// accepted but has not confirmed yet.
func (b *Bridge) applyOptimistic(ctx context.Context, name, id string, change cloud.Change) {
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
	p := b.snapshot(e, a)
	b.mu.Unlock()
	b.publishState(ctx, e, p, false)
}

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

// entries lists an account's devices (all accounts when name is "").
func (b *Bridge) entries(name string) []*entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*entry
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
func (b *Bridge) removeEntry(ctx context.Context, e *entry) {
	b.mu.RLock()
	disc, attrs := e.lastDiscovery, e.lastAttrs
	b.mu.RUnlock()
	for topic := range disc {
		_ = b.publish(ctx, topic, nil, true)
	}
	b.clearTopics(ctx, e.topic)
	b.clearAttributes(ctx, e.topic, attrs)
	b.publishEvent(ctx, "device_removed", map[string]any{"account": e.account, "id": e.device.ID,
		"name": e.device.Name, "topic": e.topic})
	b.log.Info("device removed", "account", e.account, "device", e.device.ID, "topic", e.topic)
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

// accountInfo describes an account. Call with b.mu held.
func accountInfo(name string, a *account) AccountInfo {
	return AccountInfo{Name: name, Cloud: a.provider.Cloud(), Status: a.status,
		Push: shownPush(a), Error: a.problem, Devices: len(a.devices)}
}

// publishInfo publishes the retained bridge/info.
func (b *Bridge) publishInfo(ctx context.Context) {
	accounts := b.Accounts()
	if b.opts.TokenExpiry != nil {
		for i := range accounts {
			accounts[i].TokenExpiry = b.opts.TokenExpiry(accounts[i].Name)
		}
	}
	info := map[string]any{"version": b.opts.Version, "accounts": accounts,
		"base_topic": b.topics.Base, "discovery_prefix": b.topics.DiscoveryPrefix}
	if b.opts.Config != nil {
		info["config"] = b.opts.Config
	}
	b.publishJSON(ctx, b.topics.BridgeInfo(), info, true)
}

// DeviceInfo is one entry of the retained bridge/devices list.
type DeviceInfo struct {
	Account      string      `json:"account"`
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	Type         string      `json:"type"`
	CloudType    string      `json:"cloud_type"`
	Topic        string      `json:"topic"`
	Manufacturer string      `json:"manufacturer,omitempty"`
	Model        string      `json:"model,omitempty"`
	Available    bool        `json:"available"`
	Fields       []FieldInfo `json:"fields"`
	Discovery    string      `json:"discovery_id"`
	Hub          string      `json:"hub_id,omitempty"`
	Area         string      `json:"area,omitempty"`
	UpdatedAt    *time.Time  `json:"updated_at,omitempty"`
}

// FieldInfo describes one key of a device's state object.
type FieldInfo struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Writable bool     `json:"writable"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	Choices  []string `json:"choices,omitempty"`
}

// Devices returns the bridge/devices list.
func (b *Bridge) Devices() []DeviceInfo {
	var out []DeviceInfo
	for _, e := range b.entries("") {
		b.mu.RLock()
		out = append(out, deviceInfo(e))
		b.mu.RUnlock()
	}
	return out
}

func deviceInfo(e *entry) DeviceInfo {
	d := &e.device
	cmps := components(e)
	info := DeviceInfo{Account: e.account, ID: d.ID, Name: d.Name, Type: mainType(e, cmps),
		CloudType: d.Type, Topic: e.topic, Manufacturer: d.Manufacturer, Model: d.Model,
		Available: d.Available, Discovery: e.discoveryID, Hub: d.HubID, Area: d.Area}
	if !d.UpdatedAt.IsZero() {
		t := d.UpdatedAt
		info.UpdatedAt = &t
	}
	for _, k := range e.keys {
		info.Fields = append(info.Fields, k.info())
	}
	return info
}

// publishDevices publishes the retained bridge/devices list.
func (b *Bridge) publishDevices(ctx context.Context) {
	devices := b.Devices()
	if devices == nil {
		devices = []DeviceInfo{}
	}
	b.publishJSON(ctx, b.topics.BridgeDevices(), devices, true)
}

// AccountInfo is one account's status as bridge/info shows it.
type AccountInfo struct {
	Name    string `json:"name"`
	Cloud   string `json:"cloud"`
	Status  string `json:"status"`          // connecting, connected, auth_required, error
	Push    string `json:"push"`            // live, polling, off (auth_required)
	Error   string `json:"error,omitempty"` // why the account is not connected, in words
	Devices int    `json:"devices"`
	// TokenExpiry is when the account's token or session ends, when known
	// (filled in bridge/info from Options.TokenExpiry).
	TokenExpiry time.Time `json:"token_expiry,omitzero"`
}

// Accounts returns every account's status, in configuration order. It is
// safe for concurrent use.
func (b *Bridge) Accounts() []AccountInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]AccountInfo, 0, len(b.order))
	for _, n := range b.order {
		out = append(out, accountInfo(n, b.accounts[n]))
	}
	return out
}

// DeviceState is a device with its current MQTT state object.
type DeviceState struct {
	DeviceInfo
	State map[string]any
}

// DeviceStates returns every device with its state, ordered by topic. It is
// safe for concurrent use.
func (b *Bridge) DeviceStates() []DeviceState {
	var out []DeviceState
	for _, e := range b.entries("") {
		b.mu.RLock()
		out = append(out, DeviceState{DeviceInfo: deviceInfo(e), State: stateObject(&e.device, e.keys)})
		b.mu.RUnlock()
	}
	return out
}
