// Package mqtt is cloud2mqtt's connection to the MQTT broker. It wraps the
// paho client with the behaviour a bridge needs: a retained last will and a
// birth message on the bridge state topic, automatic reconnection within a
// second of the broker's return with every subscription renewed, a
// persistent session for a fixed client id, QoS 1 publish and subscribe bounded by a context, and
// message handlers that run outside paho's router so they may block briefly
// or publish.
package mqtt

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// Default values used when the matching Options field is zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	DefaultKeepAlive      = 30 * time.Second
	// DefaultMaxReconnectInterval keeps a restarted broker found again
	// within a second, subscriptions renewed included.
	DefaultMaxReconnectInterval = 800 * time.Millisecond
	// DefaultQueueSize is the number of received messages buffered per
	// subscription before delivery blocks the connection (backpressure).
	DefaultQueueSize = 4096
)

// Options configure a Client. Only URL is required.
type Options struct {
	// URL of the broker: tcp://, mqtt://, ssl://, mqtts://, tls://, ws:// or
	// wss:// followed by host[:port]. A missing port defaults to 1883 (plain)
	// or 8883 (TLS). User info in the URL is used when Username is empty.
	URL string
	// Username for the broker, if it requires one.
	Username string
	// Password for the broker. It is never logged.
	Password string
	// ClientID names the client to the broker. A set ClientID gets a
	// persistent session: the broker keeps the subscriptions and queues the
	// QoS 1 messages sent while the client is away (a broker with
	// persistence, across its own restarts too), and hands them over on the
	// next connect. Empty means "cloud2mqtt-<random>" with a clean session,
	// since a random id can never resume its session. See ClientIDFor.
	ClientID string
	// TLS configures TLS for ssl/mqtts/tls/wss URLs; nil uses system roots.
	TLS *tls.Config

	// WillTopic receives the retained QoS 1 last will and the birth message,
	// e.g. "cloud2mqtt/bridge/state". Empty disables both.
	WillTopic string
	// WillPayload is the last will, e.g. {"state":"offline"}. Close publishes
	// it too, so a clean shutdown also reads as offline.
	WillPayload []byte
	// BirthPayload is published retained with QoS 1 on WillTopic after every
	// (re)connect, e.g. {"state":"online"}.
	BirthPayload []byte

	// OnConnect is called after every connect, once the subscriptions are
	// renewed and the birth message is published. It runs in its own
	// goroutine and never concurrently with itself; its ctx ends when the
	// connection is lost or the client is closed.
	OnConnect func(ctx context.Context)

	// Logger receives connection events; nil discards them.
	Logger *slog.Logger

	// OnMessage, when set, is told of every message: received (in is
	// true, once it reaches a subscription) or published (in is false,
	// with the publish's error). It must be quick and safe for concurrent
	// use; metrics count with it.
	OnMessage func(in bool, err error)

	// ConnectTimeout bounds one connection attempt (default 10s).
	ConnectTimeout time.Duration
	// WriteTimeout bounds every publish, subscribe and unsubscribe
	// (default 10s).
	WriteTimeout time.Duration
	// KeepAlive is the MQTT keep-alive interval (default 30s). The ping
	// timeout is the same value, capped at 10s.
	KeepAlive time.Duration
	// MaxReconnectInterval caps the wait between reconnect attempts
	// (default 800ms). The back-off starts over after a connection that
	// held, and is jittered so that many clients do not retry in lockstep.
	MaxReconnectInterval time.Duration
	// QueueSize is the number of received messages buffered per
	// subscription at most (default 4096); a queue takes memory for what
	// it holds, not for its size.
	QueueSize int
}

// brokerURL is a validated broker address.
type brokerURL struct {
	u        *url.URL // without user info
	username string
	password string
}

// parseBrokerURL validates raw as a broker URL, adds the default port and
// separates the user info.
func parseBrokerURL(raw string) (brokerURL, error) {
	const fix = "use e.g. tcp://127.0.0.1:1883 or mqtts://broker.example:8883"
	if strings.TrimSpace(raw) == "" {
		return brokerURL{}, fmt.Errorf("mqtt.url is empty: %s", fix)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return brokerURL{}, fmt.Errorf("mqtt.url is not a URL (%s): %s", redactURLError(raw), fix)
	}
	var defPort string
	switch strings.ToLower(u.Scheme) {
	case "tcp", "mqtt":
		defPort = "1883"
	case "ssl", "mqtts", "tls":
		defPort = "8883"
	case "ws":
		defPort = "80"
	case "wss":
		defPort = "443"
	case "":
		return brokerURL{}, fmt.Errorf("mqtt.url %q has no scheme: %s", u.Redacted(), fix)
	default:
		return brokerURL{}, fmt.Errorf("mqtt.url %q has unsupported scheme %q: use tcp, mqtt, ssl, mqtts, tls, ws or wss", u.Redacted(), u.Scheme)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Hostname() == "" {
		return brokerURL{}, fmt.Errorf("mqtt.url %q has no host: %s", u.Redacted(), fix)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), defPort)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" && u.Path != "" && u.Path != "/" {
		return brokerURL{}, fmt.Errorf("mqtt.url %q has a path, which only ws:// and wss:// URLs may have: remove %q", u.Redacted(), u.Path)
	}
	b := brokerURL{u: u}
	if u.User != nil {
		b.username = u.User.Username()
		b.password, _ = u.User.Password()
		cp := *u
		cp.User = nil
		b.u = &cp
	}
	return b, nil
}

// redactURLError returns raw with anything between "://" and "@" hidden, for
// strings that url.Parse rejected and so cannot be redacted structurally.
func redactURLError(raw string) string {
	i := strings.Index(raw, "://")
	at := strings.LastIndex(raw, "@")
	if i >= 0 && at > i {
		return raw[:i+3] + "***@" + raw[at+1:]
	}
	return raw
}

// isTLSScheme reports whether the scheme implies TLS.
func isTLSScheme(s string) bool {
	switch s {
	case "ssl", "mqtts", "tls", "wss":
		return true
	}
	return false
}

// ClientIDFor returns a fixed client id for one installation:
// "cloud2mqtt-" and 12 hex digits of a hash of parts (e.g. the base topic
// and the state directory), 23 characters in all, the length every MQTT
// 3.1.1 broker accepts. The same parts give the same id after a restart, so
// the broker's session is resumed; two installations on one broker differ
// in their parts and so do not take each other's session.
func ClientIDFor(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "cloud2mqtt-" + hex.EncodeToString(h.Sum(nil)[:6])
}

// randomClientID returns "cloud2mqtt-" and 8 random hex digits.
func randomClientID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "cloud2mqtt-" + hex.EncodeToString(b[:])
}

// withDefaults returns o with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = randomClientID()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.MaxReconnectInterval <= 0 {
		o.MaxReconnectInterval = DefaultMaxReconnectInterval
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	return o
}
