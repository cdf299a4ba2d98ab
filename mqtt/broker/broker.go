// Package broker runs an embedded MQTT broker (mochi-mqtt) for demo mode and
// in-process tests. It accepts every client (no authentication) and keeps
// retained messages in memory only.
package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
)

// Broker is a running embedded MQTT broker listening on one TCP address.
type Broker struct {
	srv       *mochi.Server
	ln        net.Listener
	addr      string
	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr (for example "127.0.0.1:0" or ":1883") and serves
// MQTT 3.1.1 and 5 clients until Close. Every client is allowed. The broker's
// own logs go to logger at warn level and above, unless logger is enabled for
// debug, in which case everything is logged. A nil logger discards the logs.
func Start(addr string, logger *slog.Logger) (*Broker, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("broker: listen on %q: %w (choose a free address, e.g. 127.0.0.1:0)", addr, err)
	}
	srv := mochi.New(&mochi.Options{
		Logger:       brokerLogger(logger),
		InlineClient: false,
	})
	if err := srv.AddHook(new(allowHook), nil); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("broker: allow-all auth: %w", err)
	}
	if err := srv.AddHook(&orderHook{srv: srv}, nil); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("broker: session order: %w", err)
	}
	if err := srv.AddListener(newTCPListener("tcp", ln)); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("broker: add listener: %w", err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("broker: serve on %s: %w", ln.Addr(), err)
	}
	return &Broker{srv: srv, ln: ln, addr: ln.Addr().String()}, nil
}

// Addr returns the host:port the broker is actually bound to.
func (b *Broker) Addr() string { return b.addr }

// URL returns the broker address as an MQTT URL, "tcp://host:port".
func (b *Broker) URL() string { return "tcp://" + b.addr }

// DropClient closes the network connection of the client with the given
// client id without a clean MQTT disconnect, as a network failure would, so
// the broker publishes the client's last will. It reports whether such a
// client was connected.
func (b *Broker) DropClient(clientID string) bool {
	cl, ok := b.srv.Clients.Get(clientID)
	if !ok || cl.Closed() {
		return false
	}
	// Closing only the socket makes the broker see a read error, as on a
	// network failure, which is what triggers the will.
	return cl.Net.Conn.Close() == nil
}

// Close stops the broker: it disconnects every client and releases the
// listening address so another broker may bind it. Calling Close again
// returns the first call's result.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		// Stop accepting first, so no client reconnects to a closing broker.
		_ = b.ln.Close()
		if err := b.srv.Close(); err != nil {
			b.closeErr = fmt.Errorf("broker: close: %w", err)
		}
	})
	return b.closeErr
}

// brokerLogger returns the logger handed to mochi: the caller's handler
// filtered to warn and above unless the caller logs debug.
func brokerLogger(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	if logger.Enabled(context.Background(), slog.LevelDebug) {
		return logger.With("component", "broker")
	}
	return slog.New(minLevel{h: logger.Handler(), min: slog.LevelWarn}).With("component", "broker")
}

// minLevel is a slog.Handler that drops records below min.
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}

func (m minLevel) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < m.min {
		return nil
	}
	return m.h.Handle(ctx, r)
}

func (m minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h: m.h.WithAttrs(attrs), min: m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h: m.h.WithGroup(name), min: m.min}
}
