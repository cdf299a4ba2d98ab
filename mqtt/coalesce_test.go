package mqtt

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recordingConn is a connection whose writes are recorded, the first one
// held until release is closed, and whose writes fail once fail is set.
type recordingConn struct {
	net.Conn
	release chan struct{}
	mu      sync.Mutex
	writes  [][]byte
	fail    error
	closed  bool
	started chan struct{} // closed when the first write begins
	once    sync.Once
	changed chan struct{} // signalled after every write and close
}

func newRecordingConn() *recordingConn {
	return &recordingConn{release: make(chan struct{}), started: make(chan struct{}), changed: make(chan struct{}, 1)}
}

func (c *recordingConn) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.once.Do(func() { close(c.started); <-c.release })
	defer c.signal()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func (c *recordingConn) SetWriteDeadline(time.Time) error { return nil }

func (c *recordingConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.signal()
	return nil
}

// sent is every byte written, in order.
func (c *recordingConn) sent() []byte {
	got, _ := c.recorded()
	return bytes.Join(got, nil)
}

func (c *recordingConn) recorded() ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.closed
}

// coalesceWait bounds the waits of these tests.
const coalesceWait = 10 * time.Second

// waitFor waits until cond holds after a write or close of conn, which the
// writer's goroutine does on its own.
func waitFor(t *testing.T, conn *recordingConn, cond func() bool) {
	t.Helper()
	timeout := time.After(coalesceWait)
	for !cond() {
		select {
		case <-conn.changed:
		case <-timeout:
			t.Fatal("timed out")
		}
	}
}

func TestPacketsWrittenDuringASendGoOutTogetherInOrder(t *testing.T) {
	conn := newRecordingConn()
	w := newCoalescingWriter(conn, time.Second)
	defer w.close()
	if _, err := w.write([]byte("p0;")); err != nil {
		t.Fatal(err)
	}
	<-conn.started // the first send is under way and held
	var want bytes.Buffer
	for i := 1; i < 1000; i++ {
		p := []byte("p" + strconv.Itoa(i) + ";")
		want.Write(p)
		if n, err := w.write(p); err != nil || n != len(p) {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	close(conn.release)
	waitFor(t, conn, func() bool { got, _ := conn.recorded(); return len(got) == 2 })
	got, _ := conn.recorded()
	if string(got[0]) != "p0;" || !bytes.Equal(got[1], want.Bytes()) {
		t.Fatalf("sent %q then %d bytes, want p0; then the 999 others in order", got[0], len(got[1]))
	}
}

func TestAFailedSendFailsLaterWritesAndClosesTheConnection(t *testing.T) {
	conn := newRecordingConn()
	broken := errors.New("connection reset by peer")
	conn.fail = broken
	close(conn.release)
	w := newCoalescingWriter(conn, time.Second)
	defer w.close()
	if _, err := w.write([]byte("publish")); err != nil {
		t.Fatalf("first write: %v (it returns before the send)", err)
	}
	waitFor(t, conn, func() bool { _, closed := conn.recorded(); return closed })
	if _, err := w.write([]byte("puback")); !errors.Is(err, broken) {
		t.Fatalf("write after the failed send: %v, want %v", err, broken)
	}
}

func TestCloseSendsWhatWasWrittenLast(t *testing.T) {
	conn := newRecordingConn()
	close(conn.release)
	w := newCoalescingWriter(conn, time.Second)
	// Hold the sending goroutine off, as paho's outgoing loop does when it
	// writes DISCONNECT and closes the connection at once.
	w.sending <- struct{}{}
	if _, err := w.write([]byte("disconnect")); err != nil {
		t.Fatal(err)
	}
	<-w.sending
	w.close()
	if all := conn.sent(); string(all) != "disconnect" {
		t.Fatalf("sent %q before closing, want disconnect", all)
	}
}

func TestAWriteWaitsWhileTheGatheredBytesAreFull(t *testing.T) {
	conn := newRecordingConn()
	w := newCoalescingWriter(conn, time.Second)
	defer w.close()
	if _, err := w.write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	<-conn.started
	returned := make(chan struct{})
	go func() {
		_, _ = w.write(make([]byte, maxCoalesced))
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("a write beyond maxCoalesced returned while the previous send was held")
	case <-time.After(50 * time.Millisecond):
	}
	close(conn.release)
	select {
	case <-returned:
	case <-time.After(coalesceWait):
		t.Fatal("the write did not return once the send went through")
	}
	if total := len(conn.sent()); total != 1+maxCoalesced {
		t.Fatalf("sent %d bytes, want %d", total, 1+maxCoalesced)
	}
}

func TestCloseWaitsForTheSendUnderWayAndSendsTheRest(t *testing.T) {
	conn := newRecordingConn()
	w := newCoalescingWriter(conn, time.Second)
	if _, err := w.write([]byte("publish;")); err != nil {
		t.Fatal(err)
	}
	<-conn.started // the publish is being sent, and held
	if _, err := w.write([]byte("disconnect;")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { w.close(); close(closed) }()
	close(conn.release)
	select {
	case <-closed:
	case <-time.After(coalesceWait):
		t.Fatal("close did not return")
	}
	if all := conn.sent(); string(all) != "publish;disconnect;" {
		t.Fatalf("sent %q before close returned, want publish;disconnect;", all)
	}
}
