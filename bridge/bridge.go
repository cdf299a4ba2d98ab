// Package bridge is the heart of cloud2mqtt: it keeps a registry of every
// cloud device, publishes their state, availability and Home Assistant
// discovery over MQTT, and turns MQTT commands into validated cloud changes.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// Broker is the MQTT connection the bridge publishes and subscribes with.
// *mqtt.Client implements it. Its calls may wait for a connection that is
// still being made: Run starts the accounts before its first call.
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

	cmdMu    sync.Mutex
	queues   map[string]*deviceQueue    // account NUL device id → its commands
	confirms map[string]*pendingConfirm // account NUL device id → values to confirm
	reads    chan struct{}              // bounds concurrent /get re-reads

	// Retained discovery configs found at start, cleared when stale.
	staleMu      sync.Mutex
	staleConfigs map[string]string // topic → account that published it
	// staleAvailability holds the <device>/availability topics those
	// configs read → their account.
	staleAvailability map[string]string
	collecting        bool

	seed     maphash.Seed // for payload digests
	keyCache keyCache     // state keys shared by devices of one shape
	announce announcer    // bridge/info and bridge/devices, once per change
	scratch  sync.Pool    // *[]byte buffers payloads are encoded in (encoded)
	fixed    fixedParts   // the parts every discovery config shares
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
	// mainType is the type bridge/devices gives the device, kept from its
	// discovery's components ("" until they are built, or with discovery
	// off): building them again for the list would double the work of a
	// start.
	mainType string

	opts DeviceOptions

	// What was last published, as digests of the payloads.
	lastState     digest
	lastAvail     string
	lastDiscovery map[string]digest // topic → payload
	lastAttrs     map[string]digest // key → payload
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
		queues:    map[string]*deviceQueue{},
		confirms:  map[string]*pendingConfirm{},
		reads:     make(chan struct{}, maxConcurrentReads),
		seed:      maphash.MakeSeed(),
		fixed:     newFixedParts(opts.Topics, opts.Version),
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
	// The accounts start at once: their token and listing requests overlap
	// the broker connection (see Broker), the scan of retained discovery and
	// the subscriptions below, and their events wait in b.events until the
	// loop handles them.
	begin := time.Now()
	watchCtx, stopWatching := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopWatching()
		wg.Wait()
	}()
	for _, name := range b.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.watch(watchCtx, name)
		}()
	}

	// The subscriptions and the scan each wait for the broker's answers:
	// they are all asked for at once.
	subscribed := make(chan error, 1)
	go func() { subscribed <- b.subscribe(ctx) }()
	cleanupDue := false
	if b.opts.Discovery != DiscoveryOff {
		if err := b.collectDiscovery(ctx); err != nil {
			<-subscribed
			return err
		}
		cleanupDue = true
	}
	if err := <-subscribed; err != nil {
		return err
	}
	defer close(b.done)
	if waited := time.Since(begin); waited > b.opts.StaleStart {
		// What the accounts listed while the bridge waited is old news.
		b.log.Info("the start waited for the broker; reading every account again", "waited", waited.Round(time.Millisecond))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.relist(watchCtx, b.order); err != nil && watchCtx.Err() == nil {
				b.log.Warn("reading the accounts again failed", "error", err)
			}
		}()
	}
	b.announce.start(b.opts.ListDelay)
	defer b.announce.stop()
	reportedTick := time.NewTicker(reportedInterval)
	defer reportedTick.Stop()
	reported := b.reported()

	for {
		select {
		case <-ctx.Done():
			b.markAllOffline()
			return nil
		case ae := <-b.events:
			b.handleBurst(ctx, ae)
		case <-b.republish:
			b.publishAll(ctx, true)
		case <-b.announce.due():
			b.publishAnnounced(ctx)
		case <-reportedTick.C:
			b.checkReported(&reported)
		}
		settled := b.accountsSettled()
		if settled {
			b.announce.settled()
		}
		if cleanupDue && settled {
			cleanupDue = false
			b.clearStaleDiscovery(ctx)
		}
	}
}

// maxBurst bounds the events handled back to back before the loop looks at
// its other work (stopping, re-publishing, announcing).
const maxBurst = 64

// handleBurst handles ae and the events already waiting behind it through
// one outbox, flushed once: at start, when every account's listing is
// queued, the messages of one account do not wait for the last
// acknowledgement of the previous one. An event with a reply is answered
// once its messages are acknowledged.
func (b *Bridge) handleBurst(ctx context.Context, ae accountEvent) {
	o := b.newOutbox(ctx)
	for n := 1; ; n++ {
		b.handle(o, ae)
		if ae.reply != nil {
			o.flush()
			close(ae.reply)
		}
		if n == maxBurst {
			break
		}
		select {
		case ae = <-b.events:
			continue
		default:
		}
		break
	}
	o.flush()
}

// subscribe subscribes to the command, Home Assistant status and request
// topics, all at once, and returns the first failure.
func (b *Bridge) subscribe(ctx context.Context) error {
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
	errs := make([]error, len(subs))
	var wg sync.WaitGroup
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.broker.Subscribe(ctx, s.filter, s.h); err != nil {
				errs[i] = fmt.Errorf("bridge: subscribe %s: %w", s.filter, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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

// handle applies one event to the registry and publishes what changed
// through o.
func (b *Bridge) handle(o *outbox, ae accountEvent) {
	switch ae.ev.Kind {
	case cloud.EventListing:
		b.applyListing(o, ae.account, ae.ev.Devices)
	case cloud.EventDevice:
		if ae.optimistic != nil {
			b.applyOptimistic(o, ae.account, ae.id, ae.optimistic)
			return
		}
		b.applyDeviceTo(o, ae.account, ae.ev.Device, false)
	case cloud.EventPush:
		b.setAccount(ae.account, func(a *account) { a.push = ae.ev.Push })
	case cloud.EventAuth:
		b.applyAuth(o, ae.account, ae.ev.Err)
	}
}
