package mqtt

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"os"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/net/proxy"
)

// readBuffer is the size of a plain TCP connection's read buffer: many
// acknowledgements of a pipeline of publishes at once.
const readBuffer = 16 << 10

// bufferedConn is a connection whose reads go through a buffer and whose
// writes are gathered (see coalescingWriter). paho reads every packet's
// fixed header a byte at a time and then its body, straight from the
// connection: three read calls, each a system call on plain TCP, for every
// acknowledgement of a publish and every message received; and it writes
// each packet with a call of its own.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
	w *coalescingWriter
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufferedConn) Write(p []byte) (int, error) { return c.w.write(p) }

// SetWriteDeadline is left to the writer, which bounds each of its sends
// by the write timeout: paho's deadline is set around a write that now
// returns before the packet is sent.
func (c *bufferedConn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets the read deadline only (see SetWriteDeadline).
func (c *bufferedConn) SetDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// Close sends what paho wrote last (a DISCONNECT) before closing.
func (c *bufferedConn) Close() error {
	c.w.close()
	return c.Conn.Close()
}

// openConnection opens the network connection to the broker as paho would,
// and buffers the reads and gathers the writes of a plain TCP one (TLS and
// WebSocket connections already read whole records or frames).
func openConnection(uri *url.URL, o paho.ClientOptions) (net.Conn, error) {
	dialer := o.Dialer
	if dialer == nil {
		dialer = &net.Dialer{Timeout: 30 * time.Second}
	}
	switch uri.Scheme {
	case "mqtt", "tcp":
		conn, err := proxy.FromEnvironmentUsing(dialer).Dial("tcp", uri.Host)
		if err != nil {
			return nil, err
		}
		return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, readBuffer), w: newCoalescingWriter(conn, o.WriteTimeout)}, nil
	case "ws", "wss":
		dialURI := *uri // the WebSocket dialer refuses URLs with user info
		dialURI.User = nil
		var tlsc *tls.Config
		if uri.Scheme == "wss" {
			tlsc = o.TLSConfig
		}
		return paho.NewWebsocket(dialURI.String(), tlsc, o.ConnectTimeout, o.HTTPHeaders, o.WebsocketOptions)
	case "ssl", "tls", "mqtts":
		if os.Getenv("all_proxy") == "" {
			return tls.DialWithDialer(dialer, "tcp", uri.Host, o.TLSConfig)
		}
		conn, err := proxy.FromEnvironment().Dial("tcp", uri.Host)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(conn, o.TLSConfig)
		if err := tc.Handshake(); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
	return nil, errors.New("unknown protocol " + uri.Scheme)
}
