package homey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// errSocketAuth says the Homey refused the socket handshake's token.
var errSocketAuth = errors.New("the Homey refused the realtime handshake (401)")

// errUnreachable says the Homey's URL did not answer at all.
var errUnreachable = errors.New("the Homey's URL does not answer")

// handshakeTimeout bounds the socket's open, handshake and namespace
// connection, as Homey's own client does.
const handshakeTimeout = 10 * time.Second

// sockEvent is one event from the /api namespace: (uri, event, data).
type sockEvent struct {
	uri, event string
	data       json.RawMessage
}

// socket is a connected Engine.IO 3 / Socket.IO 2 realtime socket.
type socket struct {
	base   string // the Homey URL it is connected to
	eio    int    // Engine.IO version: 3 or 4
	conn   *websocket.Conn
	log    interface{ Warn(string, ...any) }
	nsp    string
	events chan sockEvent
	done   chan struct{} // closed when the socket is gone
	cancel context.CancelFunc

	mu      sync.Mutex
	nextAck int
	pending map[int]chan ackResult // RPC calls waiting for their ack
	err     error
}

// ackResult is an error-first ack: err is the first argument (null when
// the call succeeded), result the second.
type ackResult struct {
	err, result json.RawMessage
}

// openPacket is Engine.IO's open packet.
type openPacket struct {
	SID          string `json:"sid"`
	PingInterval int    `json:"pingInterval"`
	PingTimeout  int    `json:"pingTimeout"`
	MaxPayload   int    `json:"maxPayload"` // Engine.IO 4 only
}

// errEIOUnsupported says the Homey refused the Engine.IO version asked for.
var errEIOUnsupported = errors.New("the Homey does not speak this Engine.IO version")

// dialSocket connects to t's realtime socket, performs handshakeClient and
// joins the namespace it names. The first connection probes Engine.IO 4
// (Socket.IO 5); a Homey that refuses it, or answers it as Engine.IO 3,
// is spoken to in Engine.IO 3 from then on, as Athom's own client always
// does.
func (c *Client) dialSocket(ctx context.Context, t target) (*socket, error) {
	c.mu.Lock()
	eio := c.eio
	c.mu.Unlock()
	if eio == 0 {
		s, err := c.dialSocketEIO(ctx, t, 4)
		if errors.Is(err, errEIOUnsupported) {
			c.log.Info("the Homey speaks Engine.IO 3 only")
			c.mu.Lock()
			c.eio = 3
			c.mu.Unlock()
			return c.dialSocketEIO(ctx, t, 3)
		}
		if err == nil {
			c.mu.Lock()
			c.eio = s.eio
			c.mu.Unlock()
		}
		return s, err
	}
	return c.dialSocketEIO(ctx, t, eio)
}

// dialSocketEIO dials with Engine.IO version eio (3 or 4).
func (c *Client) dialSocketEIO(ctx context.Context, t target, eio int) (*socket, error) {
	u := t.base + "/socket.io/?EIO=" + strconv.Itoa(eio) + "&transport=websocket"
	switch {
	case strings.HasPrefix(u, "https://"):
		u = "wss://" + strings.TrimPrefix(u, "https://")
	case strings.HasPrefix(u, "http://"):
		u = "ws://" + strings.TrimPrefix(u, "http://")
	}
	hctx, hcancel := context.WithTimeout(ctx, handshakeTimeout)
	defer hcancel()
	h := http.Header{}
	if t.homeyID != "" {
		h.Set("X-Homey-ID", t.homeyID)
	}
	conn, resp, err := websocket.Dial(hctx, u, &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: h})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, errSocketAuth
		}
		if resp != nil && resp.StatusCode == http.StatusBadRequest && eio == 4 {
			return nil, errEIOUnsupported
		}
		if resp == nil && hctx.Err() == nil {
			return nil, fmt.Errorf("connect the realtime socket: %w: %w", errUnreachable, redact(err))
		}
		return nil, fmt.Errorf("connect the realtime socket: %w", redact(err))
	}
	conn.SetReadLimit(32 << 20)
	ok := false
	defer func() {
		if !ok {
			conn.CloseNow()
		}
	}()
	read := func() (string, error) {
		for {
			_, b, err := conn.Read(hctx)
			if err != nil {
				return "", err
			}
			p := string(b)
			if p == "3" || p == "6" || strings.HasPrefix(p, "40") && !strings.HasPrefix(p, "40/") {
				continue // pong, noop, root namespace connected
			}
			if p == "2" {
				_ = conn.Write(hctx, websocket.MessageText, []byte("3"))
				continue
			}
			return p, nil
		}
	}
	// Open packet.
	_, b, err := conn.Read(hctx)
	if err != nil {
		return nil, fmt.Errorf("realtime socket: read the open packet: %w", err)
	}
	if len(b) == 0 || b[0] != '0' {
		return nil, fmt.Errorf("realtime socket: unexpected first packet %.40q", b)
	}
	var op openPacket
	if err := json.Unmarshal(b[1:], &op); err != nil {
		return nil, fmt.Errorf("realtime socket: open packet: %w", err)
	}
	// An Engine.IO 4 server announces maxPayload; one without it speaks 3
	// whatever was asked for (it connects the root namespace itself and
	// waits for the client's pings).
	if eio == 4 && op.MaxPayload == 0 {
		eio = 3
	}
	if eio == 4 {
		if err := conn.Write(hctx, websocket.MessageText, []byte("40")); err != nil {
			return nil, fmt.Errorf("realtime socket: connect: %w", err)
		}
	}
	if op.PingInterval <= 0 {
		op.PingInterval = 25000
	}
	if op.PingTimeout <= 0 {
		op.PingTimeout = 20000
	}
	hs, _ := json.Marshal([]any{"handshakeClient", map[string]string{"token": t.token, "homeyId": t.homeyID}})
	if err := conn.Write(hctx, websocket.MessageText, append([]byte("420"), hs...)); err != nil {
		return nil, fmt.Errorf("realtime socket: send handshakeClient: %w", err)
	}
	var nsp string
	for nsp == "" {
		p, err := read()
		if err != nil {
			return nil, fmt.Errorf("realtime socket: handshake answer: %w", err)
		}
		if !strings.HasPrefix(p, "430") {
			continue
		}
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(p[3:]), &args); err != nil || len(args) == 0 {
			return nil, fmt.Errorf("realtime socket: handshake answer %.60q", p)
		}
		if e := ackError(args[0]); e != "" {
			// Judged by the status code, as Homey's own client does: the
			// words of the message are not a contract.
			if ackStatus(args[0]) == http.StatusUnauthorized {
				return nil, errSocketAuth
			}
			return nil, fmt.Errorf("realtime socket: handshake refused: %s", e)
		}
		var res struct {
			Namespace string `json:"namespace"`
		}
		if len(args) > 1 {
			_ = json.Unmarshal(args[1], &res)
		}
		nsp = res.Namespace
		if nsp == "" {
			nsp = "/api"
		}
	}
	if err := conn.Write(hctx, websocket.MessageText, []byte("40"+nsp+",")); err != nil {
		return nil, fmt.Errorf("realtime socket: join %s: %w", nsp, err)
	}
	for {
		p, err := read()
		if err != nil {
			return nil, fmt.Errorf("realtime socket: join %s: %w", nsp, err)
		}
		if strings.HasPrefix(p, "40"+nsp) {
			break
		}
		if strings.HasPrefix(p, "44"+nsp) {
			return nil, fmt.Errorf("realtime socket: join %s refused: %s", nsp, p)
		}
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &socket{
		conn:    conn,
		log:     c.log,
		nsp:     nsp,
		events:  make(chan sockEvent, 256),
		done:    make(chan struct{}),
		cancel:  cancel,
		pending: map[int]chan ackResult{},
	}
	interval := time.Duration(op.PingInterval) * time.Millisecond
	timeout := time.Duration(op.PingTimeout) * time.Millisecond
	s.eio = eio
	go s.readLoop(sctx, interval+timeout)
	if eio == 3 {
		go s.pingLoop(sctx, interval) // in Engine.IO 4 the server pings
	}
	ok = true
	return s, nil
}

// ackError returns the error of an error-first ack, "" for null.
func ackError(b json.RawMessage) string {
	s := strings.TrimSpace(string(b))
	if s == "" || s == "null" {
		return ""
	}
	var str string
	if json.Unmarshal(b, &str) == nil {
		return str
	}
	var obj struct {
		Error       any `json:"error"`
		Description any `json:"error_description"`
		StatusCode  int `json:"statusCode"`
		Code        int `json:"code"`
	}
	if json.Unmarshal(b, &obj) == nil {
		code := max(obj.StatusCode, obj.Code)
		msg := fmt.Sprint(obj.Error)
		if d, ok := obj.Description.(string); ok && d != "" {
			msg = d
		}
		if code != 0 {
			return fmt.Sprintf("%d %s", code, msg)
		}
		return msg
	}
	return s
}

// ackStatus is the statusCode (or code) of an error-first ack's error
// object, 0 when it has none.
func ackStatus(b json.RawMessage) int {
	var obj struct {
		StatusCode int `json:"statusCode"`
		Code       any `json:"code"`
	}
	if json.Unmarshal(b, &obj) != nil {
		return 0
	}
	if obj.StatusCode != 0 {
		return obj.StatusCode
	}
	if n, ok := obj.Code.(float64); ok {
		return int(n)
	}
	return 0
}

// readLoop reads packets until the socket fails or is closed. A socket that
// is silent for longer than ping interval + timeout is dead.
func (s *socket) readLoop(ctx context.Context, silence time.Duration) {
	defer close(s.done)
	defer s.cancel()
	prefix := "42" + s.nsp + ","
	ackPrefix := "43" + s.nsp + ","
	for {
		rctx, cancel := context.WithTimeout(ctx, silence)
		_, b, err := s.conn.Read(rctx)
		cancel()
		if err != nil {
			s.fail(err)
			return
		}
		p := string(b)
		switch {
		case p == "2":
			_ = s.write(ctx, "3")
		case p == "1" || strings.HasPrefix(p, "41"+s.nsp) || strings.HasPrefix(p, "44"+s.nsp):
			s.fail(fmt.Errorf("the Homey closed the realtime socket (%.40q)", p))
			return
		case strings.HasPrefix(p, prefix):
			var args []json.RawMessage
			if json.Unmarshal([]byte(p[len(prefix):]), &args) != nil || len(args) < 2 {
				continue
			}
			var ev sockEvent
			_ = json.Unmarshal(args[0], &ev.uri)
			_ = json.Unmarshal(args[1], &ev.event)
			if len(args) > 2 {
				ev.data = args[2]
			}
			select {
			case s.events <- ev:
			case <-ctx.Done():
				return
			}
		case strings.HasPrefix(p, ackPrefix):
			rest := p[len(ackPrefix):]
			i := strings.IndexByte(rest, '[')
			if i < 0 {
				continue
			}
			var args []json.RawMessage
			if json.Unmarshal([]byte(rest[i:]), &args) != nil || len(args) == 0 {
				continue
			}
			n, _ := strconv.Atoi(rest[:i])
			s.mu.Lock()
			waiting, isCall := s.pending[n]
			delete(s.pending, n)
			s.mu.Unlock()
			if isCall {
				r := ackResult{err: args[0]}
				if len(args) > 1 {
					r.result = args[1]
				}
				waiting <- r
				continue
			}
			if e := ackError(args[0]); e != "" {
				s.log.Warn("the Homey refused a realtime subscription", "ack", rest[:i], "err", e)
			}
		}
	}
}

func (s *socket) pingLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.write(ctx, "2"); err != nil {
				s.fail(err)
				s.conn.CloseNow()
				return
			}
		}
	}
}

func (s *socket) write(ctx context.Context, p string) error {
	return s.writeFrame(ctx, []byte(p))
}

// writeFrame sends one text frame.
func (s *socket) writeFrame(ctx context.Context, p []byte) error {
	wctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	return s.conn.Write(wctx, websocket.MessageText, p)
}

func (s *socket) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// Err returns why the socket ended.
func (s *socket) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// emit sends an event with an ack id on the namespace.
func (s *socket) emit(ctx context.Context, args ...any) error {
	b, err := json.Marshal(args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.nextAck++
	n := s.nextAck
	s.mu.Unlock()
	return s.write(ctx, "42"+s.nsp+","+strconv.Itoa(n)+string(b))
}

// errSocketGone says the socket ended before a call's answer came.
var errSocketGone = errors.New("the realtime socket closed before the answer")

// call runs one "api" RPC: operation on the manager uri with args, and
// returns its ack. It waits for the ack, the socket's end or ctx.
func (s *socket) call(ctx context.Context, uri, operation string, args map[string]any) (ackResult, error) {
	answer := make(chan ackResult, 1)
	s.mu.Lock()
	s.nextAck++
	n := s.nextAck
	s.mu.Unlock()
	frame, err := appendCallFrame(make([]byte, 0, 256), s.nsp, n, uri, operation, args)
	if err != nil {
		return ackResult{}, err
	}
	s.mu.Lock()
	s.pending[n] = answer
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		delete(s.pending, n)
		s.mu.Unlock()
	}
	if err := s.writeFrame(ctx, frame); err != nil {
		forget()
		return ackResult{}, fmt.Errorf("realtime socket: send %s: %w", operation, err)
	}
	select {
	case r := <-answer:
		return r, nil
	case <-s.done:
		forget()
		return ackResult{}, errSocketGone
	case <-ctx.Done():
		forget()
		return ackResult{}, ctx.Err()
	}
}

// subscribe asks for the events of uri.
func (s *socket) subscribe(ctx context.Context, uri string) error {
	return s.emit(ctx, "subscribe", uri)
}

// close ends the socket cleanly and waits for its reader.
func (s *socket) close() {
	_ = s.conn.Close(websocket.StatusNormalClosure, "")
	s.cancel()
	<-s.done
}
