package broker

import (
	"log/slog"
	"net"
	"sync"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// tcpListener is a mochi listener that, unlike listeners.Net, finishes every
// connection it accepted before Close returns. mochi counts clients in a
// WaitGroup from the connection's own goroutine; with listeners.Net a
// connection accepted just before Close races that count against the
// server's final Wait.
type tcpListener struct {
	id string
	ln net.Listener

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

var _ listeners.Listener = (*tcpListener)(nil)

func newTCPListener(id string, ln net.Listener) *tcpListener {
	return &tcpListener{id: id, ln: ln, conns: map[net.Conn]struct{}{}}
}

// Init does nothing: the socket is already listening.
func (l *tcpListener) Init(*slog.Logger) error { return nil }

// ID returns the listener's id.
func (l *tcpListener) ID() string { return l.id }

// Address returns the bound address.
func (l *tcpListener) Address() string { return l.ln.Addr().String() }

// Protocol returns "tcp".
func (l *tcpListener) Protocol() string { return "tcp" }

// Serve accepts connections until Close and hands each to establish.
func (l *tcpListener) Serve(establish listeners.EstablishFn) {
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = conn.Close()
			return
		}
		l.conns[conn] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go func() {
			defer l.wg.Done()
			_ = establish(l.id, conn)
			l.mu.Lock()
			delete(l.conns, conn)
			l.mu.Unlock()
		}()
	}
}

// Close stops accepting, disconnects the clients, closes connections that
// never completed the MQTT handshake and waits for all of them to end.
func (l *tcpListener) Close(closeClients listeners.CloseFn) {
	l.mu.Lock()
	already := l.closed
	l.closed = true
	l.mu.Unlock()
	if already {
		return
	}
	_ = l.ln.Close()
	closeClients(l.id)
	l.mu.Lock()
	for c := range l.conns {
		_ = c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}
