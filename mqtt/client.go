package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// ErrTimeout is returned (wrapped) when the broker does not acknowledge an
// operation within Options.WriteTimeout.
var ErrTimeout = errors.New("timed out waiting for the broker")

// ErrNotConnected is returned (wrapped) by Publish while the connection is
// down, or when it is lost before the broker acknowledged; OnConnect is the
// place to publish again after a reconnect.
var ErrNotConnected = errors.New("not connected to the broker")

// ErrClosed is returned (wrapped) by operations on a closed Client.
var ErrClosed = errors.New("client closed")

// Message is one message received on a subscription.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Client is a connection to an MQTT broker that reconnects by itself and
// renews its subscriptions after every reconnect. It is safe for concurrent
// use. Create it with Connect and release it with Close.
type Client struct {
	opts Options
	url  brokerURL
	log  *slog.Logger
	// persistent asks the broker to keep the session (subscriptions and
	// queued QoS 1 messages) while the client is away: set when the
	// ClientID is fixed, since a random id can never resume its session.
	persistent bool

	life    context.Context // ends when the client is closed
	endLife context.CancelFunc

	mu         sync.Mutex
	conn       *connection // the current (or last) connection
	subs       map[string]*subscription
	early      earlyQueue // messages of a resumed session that no subscription matched yet
	closed     bool
	connCancel context.CancelFunc // ends the ctx given to OnConnect

	connEvents chan struct{} // one pending "connected" event, coalesced
	firstReady chan struct{} // closed once the first connect is processed
	readyOnce  sync.Once
	done       chan struct{} // closed by Close
	workerDone chan struct{} // closed when the connect worker exits
	keeperDone chan struct{} // closed when the reconnect loop exits
	closeOnce  sync.Once
	closeErr   error
	fullWarned atomic.Bool
}

// subscription is one entry of the subscription registry with its own
// delivery queue and dispatcher goroutine.
type subscription struct {
	filter  string
	qos     byte
	handler atomic.Pointer[func(Message)]
	queue   *msgQueue
	stop    chan struct{}
	once    sync.Once
}

func (s *subscription) close() { s.once.Do(func() { close(s.stop) }) }

// Connect validates o, connects to the broker and returns once the
// connection is up and the birth message is published. ctx bounds this first
// connection: if the attempt fails or ctx ends first, Connect returns an error
// naming the broker URL (without password) and the cause. After that the
// client reconnects by itself whenever the connection is lost, trying again
// at most o.MaxReconnectInterval apart (see keepConnected).
func Connect(ctx context.Context, o Options) (*Client, error) {
	bu, err := parseBrokerURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	persistent := o.ClientID != ""
	o = o.withDefaults()
	if o.Username == "" {
		o.Username, o.Password = bu.username, bu.password
	}
	life, endLife := context.WithCancel(context.Background())
	c := &Client{
		opts:       o,
		url:        bu,
		log:        o.Logger.With("broker", bu.u.String(), "client_id", o.ClientID),
		persistent: persistent,
		life:       life,
		endLife:    endLife,
		subs:       make(map[string]*subscription),
		connEvents: make(chan struct{}, 1),
		firstReady: make(chan struct{}),
		done:       make(chan struct{}),
		workerDone: make(chan struct{}),
		keeperDone: make(chan struct{}),
	}
	if persistent {
		c.early.until = time.Now().Add(earlyWindow)
	}
	go c.connectWorker()

	first, err := c.dial(ctx)
	if err != nil {
		c.stop()
		close(c.keeperDone)
		return nil, fmt.Errorf("mqtt: connect to %s: %w", bu.u, err)
	}
	c.setConnection(first)
	go c.keepConnected(first)
	select {
	case <-c.firstReady:
		return c, nil
	case <-ctx.Done():
		c.stop()
		first.pc.Disconnect(0)
		return nil, fmt.Errorf("mqtt: connect to %s: %w", bu.u, context.Cause(ctx))
	}
}

// pahoOptions translates the options for paho, for one connection cn.
// paho's own reconnecting is off (keepConnected does it), and every message
// goes through the default handler to the subscription registry, so that a
// session's queued messages delivered right after CONNACK find their
// subscription. paho's package-level loggers are left alone; connection
// events are logged through notify.
func (c *Client) pahoOptions(cn *connection) *paho.ClientOptions {
	o := c.opts
	po := paho.NewClientOptions().
		AddBroker(c.url.u.String()).
		SetClientID(o.ClientID).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(!c.persistent).
		SetStore(newNoResumeStore()).
		SetCustomOpenConnectionFn(openConnection).
		SetOrderMatters(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(o.ConnectTimeout).
		SetWriteTimeout(o.WriteTimeout).
		SetKeepAlive(o.KeepAlive).
		SetPingTimeout(min(o.KeepAlive, 10*time.Second)).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
			c.route(Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained()})
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			cn.markLost(err)
		}).
		SetConnectionNotificationHandler(c.notify)
	if o.TLS != nil {
		po.SetTLSConfig(o.TLS)
	}
	if o.WillTopic != "" {
		po.SetBinaryWill(o.WillTopic, o.WillPayload, 1, true)
	}
	return po
}

// notify logs paho's connection notifications.
func (c *Client) notify(_ paho.Client, n paho.ConnectionNotification) {
	switch n := n.(type) {
	case paho.ConnectionNotificationConnected:
		c.log.Info("mqtt: connected")
	case paho.ConnectionNotificationFailed:
		c.log.Debug("mqtt: connection attempt failed", "err", n.Reason)
	}
}

// endConnection cancels the ctx handed to OnConnect for the current
// connection.
func (c *Client) endConnection() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.connCancel != nil {
		c.connCancel()
		c.connCancel = nil
	}
}

// connectWorker handles connect events one at a time: it renews the
// subscriptions, publishes the birth message and calls OnConnect.
func (c *Client) connectWorker() {
	defer close(c.workerDone)
	for {
		select {
		case <-c.done:
			c.endConnection()
			return
		case <-c.connEvents:
		}
		ctx, cancel := context.WithCancel(context.Background())
		c.mu.Lock()
		if c.connCancel != nil {
			c.connCancel()
		}
		c.connCancel = cancel
		c.mu.Unlock()
		go func() {
			select {
			case <-c.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		if !c.current().open() {
			cancel()
		}
		c.onConnected(ctx)
	}
}

// onConnected runs after each connect.
func (c *Client) onConnected(ctx context.Context) {
	c.resubscribe(ctx)
	if c.opts.WillTopic != "" && c.opts.BirthPayload != nil {
		if err := c.publish(ctx, c.opts.WillTopic, c.opts.BirthPayload, true); err != nil {
			c.log.Warn("mqtt: publish birth message", "topic", c.opts.WillTopic, "err", err)
		}
	}
	c.readyOnce.Do(func() { close(c.firstReady) })
	if c.opts.OnConnect == nil || ctx.Err() != nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("mqtt: OnConnect panicked", "panic", r)
		}
	}()
	c.opts.OnConnect(ctx)
}

// resubscribe sends SUBSCRIBE for every registered filter and waits for the
// acknowledgements.
func (c *Client) resubscribe(ctx context.Context) {
	c.mu.Lock()
	subs := make([]*subscription, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	cn := c.conn
	c.mu.Unlock()
	toks := make([]paho.Token, len(subs))
	for i, s := range subs {
		toks[i] = cn.pc.Subscribe(s.filter, s.qos, nil)
	}
	for i, s := range subs {
		if err := c.wait(ctx, cn, toks[i]); err != nil {
			c.log.Warn("mqtt: renew subscription", "filter", s.filter, "err", err)
			continue
		}
		if err := subackError(toks[i], s.filter); err != nil {
			c.log.Warn("mqtt: renew subscription", "filter", s.filter, "err", err)
		}
	}
	if len(subs) > 0 {
		c.log.Debug("mqtt: subscriptions renewed", "count", len(subs))
	}
}

// dispatch calls the handler of s for each queued message, in arrival order.
func (c *Client) dispatch(s *subscription) {
	for {
		select {
		case <-s.stop:
			return
		case <-c.done:
			return
		default:
		}
		if m, ok := s.queue.pop(); ok {
			c.deliver(s, m)
			continue
		}
		select {
		case <-s.stop:
			return
		case <-c.done:
			return
		case <-s.queue.ready:
		}
	}
}

func (c *Client) deliver(s *subscription, m Message) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("mqtt: message handler panicked", "filter", s.filter, "topic", m.Topic, "panic", r)
		}
	}()
	(*s.handler.Load())(m)
}

// Publish sends payload to topic with QoS 1 and waits for the broker's
// acknowledgement, bounded by ctx and Options.WriteTimeout. While the
// connection is down it fails at once with ErrNotConnected; a publish cut off
// by a connection loss ends with ErrNotConnected too and is not resent, so
// republish what must survive (retained state) from Options.OnConnect.
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if err := validTopic(topic); err != nil {
		return fmt.Errorf("mqtt: publish: %w", err)
	}
	err := c.publish(ctx, topic, payload, retained)
	if c.opts.OnMessage != nil {
		c.opts.OnMessage(false, err)
	}
	if err != nil {
		return fmt.Errorf("mqtt: publish to %q: %w", topic, err)
	}
	return nil
}

func (c *Client) publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if payload == nil {
		payload = []byte{}
	}
	cn := c.current()
	if !cn.open() {
		return ErrNotConnected
	}
	return c.wait(ctx, cn, cn.pc.Publish(topic, 1, retained, payload))
}

// Subscribe subscribes to filter with QoS 1 and calls h for every message.
// Each subscription has its own queue and goroutine, so h receives its
// messages in arrival order, may block briefly or publish, and does not hold
// up other subscriptions. The subscription is kept and renewed after every
// reconnect; while disconnected it is only registered and Subscribe returns
// nil. Subscribing again to the same filter replaces its handler.
func (c *Client) Subscribe(ctx context.Context, filter string, h func(Message)) error {
	return c.SubscribeQoS(ctx, filter, 1, h)
}

// SubscribeQoS is Subscribe with the given QoS (0 or 1). QoS 0 suits a scan
// of many retained messages (e.g. homeassistant/# at start): brokers cap the
// QoS 1 messages they queue per client (mosquitto's max_queued_messages,
// 1000 by default) and drop the rest. Subscribing again to the same filter
// replaces its handler and keeps the first QoS.
func (c *Client) SubscribeQoS(ctx context.Context, filter string, qos byte, h func(Message)) error {
	if qos > 1 {
		return fmt.Errorf("mqtt: subscribe to %q: QoS %d not supported: use 0 or 1", filter, qos)
	}
	if h == nil {
		return fmt.Errorf("mqtt: subscribe to %q: handler is nil", filter)
	}
	if err := validFilter(filter); err != nil {
		return fmt.Errorf("mqtt: subscribe: %w", err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("mqtt: subscribe to %q: %w", filter, ErrClosed)
	}
	if old, ok := c.subs[filter]; ok {
		old.handler.Store(&h)
		c.mu.Unlock()
		return nil
	}
	s := &subscription{filter: filter, qos: qos, queue: newMsgQueue(c.opts.QueueSize), stop: make(chan struct{})}
	s.handler.Store(&h)
	c.subs[filter] = s
	// Messages of a resumed session that arrived before this subscription
	// was registered go first; the queue is new and holds them all.
	for _, m := range c.early.take(filter, time.Now()) {
		s.queue.tryPush(m)
	}
	cn := c.conn
	c.mu.Unlock()
	go c.dispatch(s)

	if !cn.open() {
		return nil
	}
	tok := cn.pc.Subscribe(filter, qos, nil)
	err := c.wait(ctx, cn, tok)
	if err == nil {
		err = subackError(tok, filter)
	}
	if err != nil {
		c.mu.Lock()
		if c.subs[filter] == s {
			delete(c.subs, filter)
		}
		c.mu.Unlock()
		s.close()
		return fmt.Errorf("mqtt: subscribe to %q: %w", filter, err)
	}
	return nil
}

// subackError reports a subscription the broker refused.
func subackError(tok paho.Token, filter string) error {
	st, ok := tok.(*paho.SubscribeToken)
	if !ok {
		return nil
	}
	if qos, ok := st.Result()[filter]; ok && qos == 0x80 {
		return errors.New("refused by the broker (check its ACL for this user)")
	}
	return nil
}

// Unsubscribe removes the subscription to filter. Messages still queued for
// it are dropped.
func (c *Client) Unsubscribe(ctx context.Context, filter string) error {
	c.mu.Lock()
	s, ok := c.subs[filter]
	delete(c.subs, filter)
	c.mu.Unlock()
	if !ok {
		return nil
	}
	s.close()
	cn := c.current()
	if !cn.open() {
		return nil
	}
	err := c.wait(ctx, cn, cn.pc.Unsubscribe(filter))
	// What arrived for the filter while it was being removed is not kept.
	c.mu.Lock()
	c.early.take(filter, time.Now())
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("mqtt: unsubscribe from %q: %w", filter, err)
	}
	return nil
}

// Connected reports whether the connection to the broker is up right now.
func (c *Client) Connected() bool { return c.current().open() }

// Close publishes WillPayload retained on WillTopic, so a clean shutdown
// reads as offline, and disconnects. ctx bounds the whole shutdown. Close is
// idempotent; later calls return the first call's result.
func (c *Client) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.stop()
		select {
		case <-c.workerDone:
		case <-ctx.Done():
			c.log.Warn("mqtt: OnConnect still running at close")
		}
		select {
		case <-c.keeperDone:
		case <-ctx.Done():
		}
		cn := c.current()
		if c.opts.WillTopic != "" && cn.open() {
			if err := c.publish(ctx, c.opts.WillTopic, c.opts.WillPayload, true); err != nil {
				c.closeErr = fmt.Errorf("mqtt: close: publish offline state to %q: %w", c.opts.WillTopic, err)
			}
		}
		cn.pc.Disconnect(250)
		c.log.Info("mqtt: disconnected")
	})
	return c.closeErr
}

// stop marks the client closed and ends its goroutines.
func (c *Client) stop() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	subs := c.subs
	c.subs = map[string]*subscription{}
	c.mu.Unlock()
	close(c.done)
	c.endLife()
	for _, s := range subs {
		s.close()
	}
	c.endConnection()
}

// wait waits for tok of connection cn, bounded by ctx, the write timeout
// and the life of cn. Waiting on Done avoids the WaitTimeout pitfall of
// treating a timeout as success.
func (c *Client) wait(ctx context.Context, cn *connection, tok paho.Token) error {
	t := time.NewTimer(c.opts.WriteTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-cn.lost:
		select {
		case <-tok.Done():
			return tok.Error()
		default:
		}
		return fmt.Errorf("%w: the connection was lost before the broker answered", ErrNotConnected)
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return fmt.Errorf("%w after %s", ErrTimeout, c.opts.WriteTimeout)
	}
}

// validTopic checks a topic name for publishing.
func validTopic(topic string) error {
	switch {
	case topic == "":
		return errors.New("topic is empty")
	case strings.ContainsAny(topic, "+#"):
		return fmt.Errorf("topic %q contains a wildcard (+ or #), which only subscriptions may use", topic)
	case strings.ContainsRune(topic, 0):
		return fmt.Errorf("topic %q contains a NUL character", topic)
	}
	return nil
}

// validFilter checks a subscription filter: '#' only as the last level and
// wildcards only as whole levels.
func validFilter(filter string) error {
	if filter == "" {
		return errors.New("filter is empty")
	}
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		if strings.ContainsAny(l, "+#") && len(l) > 1 {
			return fmt.Errorf("filter %q: a wildcard must fill a whole level", filter)
		}
		if l == "#" && i != len(levels)-1 {
			return fmt.Errorf("filter %q: '#' must be the last level", filter)
		}
	}
	return nil
}
