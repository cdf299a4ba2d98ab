package mqtt

import (
	"net"
	"sync"
	"time"
)

// maxCoalesced is how many bytes a coalescingWriter holds before a write
// waits for them to be sent.
const maxCoalesced = 64 << 10

// coalescingWriter gathers the packets paho writes one at a time and sends
// them together: a start publishes tens of thousands of messages, and each
// packet in a system call of its own (and a TCP segment, which wakes the
// broker) cost more CPU than building it. Writes return at once; a
// goroutine sends what was gathered as soon as it gets to run, which on the
// bridge's one P is when the writer (paho's outgoing loop) waits for its
// next packet. A failed send is returned by every later write, and closes
// the connection so that paho's reader notices.
type coalescingWriter struct {
	conn    net.Conn
	timeout time.Duration // of each send (paho's write timeout)

	sending chan struct{} // held (full) while sending, so that batches go out in order

	mu    sync.Mutex
	buf   []byte // gathered, not yet sent
	spare []byte // the previous batch's buffer, for the next one
	err   error  // the first failed send
	kick  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newCoalescingWriter(conn net.Conn, timeout time.Duration) *coalescingWriter {
	w := &coalescingWriter{conn: conn, timeout: timeout, sending: make(chan struct{}, 1),
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run()
	return w
}

// write gathers p; it waits only while maxCoalesced bytes are gathered.
func (w *coalescingWriter) write(p []byte) (int, error) {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return 0, err
	}
	w.buf = append(w.buf, p...)
	full := len(w.buf) >= maxCoalesced
	w.mu.Unlock()
	if full {
		if err := w.send(w.timeout); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *coalescingWriter) run() {
	for {
		select {
		case <-w.kick:
			_ = w.send(w.timeout)
		case <-w.done:
			return
		}
	}
}

// send writes what is gathered to the connection, within timeout (none
// when 0).
func (w *coalescingWriter) send(timeout time.Duration) error {
	w.sending <- struct{}{}
	defer func() { <-w.sending }()
	return w.sendHeld(timeout)
}

// sendHeld is send with w.sending held.
func (w *coalescingWriter) sendHeld(timeout time.Duration) error {
	w.mu.Lock()
	if w.err != nil || len(w.buf) == 0 {
		err := w.err
		w.mu.Unlock()
		return err
	}
	batch := w.buf
	w.buf, w.spare = w.spare[:0], nil
	w.mu.Unlock()

	if timeout > 0 {
		_ = w.conn.SetWriteDeadline(time.Now().Add(timeout))
	}
	_, err := w.conn.Write(batch)

	w.mu.Lock()
	if cap(batch) <= 2*maxCoalesced {
		w.spare = batch[:0]
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	if err != nil {
		_ = w.conn.Close()
	}
	return err
}

// closeTimeout bounds the last send, on a connection that may be lost.
const closeTimeout = time.Second

// close sends what is gathered (paho closes the connection right after
// writing DISCONNECT), after a send under way, and stops the sending
// goroutine; all within closeTimeout, as the connection may be lost.
func (w *coalescingWriter) close() {
	w.once.Do(func() {
		deadline := time.NewTimer(closeTimeout)
		defer deadline.Stop()
		select {
		case w.sending <- struct{}{}:
			_ = w.sendHeld(min(w.timeout, closeTimeout))
			<-w.sending
		case <-deadline.C:
		}
		close(w.done)
	})
}
