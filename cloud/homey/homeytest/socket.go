package homeytest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// apiNamespace is the Socket.IO namespace a handshake answers with.
const apiNamespace = "/api"

// outQueue bounds the frames waiting for a slow socket; a socket that
// falls this far behind is closed.
const outQueue = 512

// writeTimeout bounds one websocket write.
const writeTimeout = 5 * time.Second

// hub holds the realtime connections (Socket.IO v2 over Engine.IO 3,
// websocket transport only).
type hub struct {
	s  *Server
	wg sync.WaitGroup

	mu     sync.Mutex
	conns  map[*sockConn]struct{}
	refuse bool
	drop   int // events still to lose (Server.DropEvents)
}

// sockConn is one Engine.IO connection. Its state fields are guarded by
// hub.mu.
type sockConn struct {
	ws   *websocket.Conn
	sid  string
	out  chan string
	done chan struct{}
	once sync.Once

	authed bool
	who    principal
	token  string // the handshake's token, checked again on each RPC call
	api    bool   // connected to the /api namespace
	lan    bool   // came over a LAN listener
	v4     bool   // Engine.IO 4 / Socket.IO 5 (else Engine.IO 3 / Socket.IO 2)
	subs   map[string]bool
}

func newHub(s *Server) *hub {
	return &hub{s: s, conns: map[*sockConn]struct{}{}}
}

func (h *hub) setRefuse(refuse bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refuse = refuse
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// dropWhere closes the connections drop selects, as a network drop would.
func (h *hub) dropWhere(drop func(*sockConn) bool) {
	h.mu.Lock()
	var gone []*sockConn
	for c := range h.conns {
		if drop(c) {
			gone = append(gone, c)
			delete(h.conns, c)
		}
	}
	h.mu.Unlock()
	for _, c := range gone {
		c.kill()
	}
}

// dropAll closes every connection at once, as a network drop would.
func (h *hub) dropAll() {
	h.mu.Lock()
	conns := h.conns
	h.conns = map[*sockConn]struct{}{}
	h.mu.Unlock()
	for c := range conns {
		c.kill()
	}
}

func (h *hub) wait() { h.wg.Wait() }

// emit sends an event to every /api subscriber of uri. It never blocks.
func (h *hub) emit(uri, event string, data any) {
	b, err := json.Marshal([]any{uri, event, data})
	if err != nil {
		h.s.log.Warn("homeytest: encode event", "uri", uri, "event", event, "err", err)
		return
	}
	frame := "42" + apiNamespace + "," + string(b)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.drop > 0 {
		h.drop--
		h.s.log.Debug("homeytest: dropped event", "uri", uri, "event", event)
		return
	}
	for c := range h.conns {
		if c.api && c.subs[uri] {
			h.sendLocked(c, frame)
		}
	}
}

// sendLocked queues a frame; a full queue closes the connection.
func (h *hub) sendLocked(c *sockConn, frame string) {
	select {
	case c.out <- frame:
	default:
		h.s.log.Warn("homeytest: socket too slow, closing it", "sid", c.sid)
		delete(h.conns, c)
		c.kill()
	}
}

func (h *hub) send(c *sockConn, frame string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sendLocked(c, frame)
}

func (c *sockConn) kill() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.CloseNow()
	})
}

// serve upgrades /socket.io/?EIO=3&transport=websocket and runs the
// connection until it ends.
func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	refuse := h.refuse
	h.mu.Unlock()
	select {
	case <-h.s.done:
		refuse = true
	default:
	}
	if refuse {
		homeyError(w, http.StatusServiceUnavailable, "Service Unavailable", "realtime connections are refused")
		return
	}
	q := r.URL.Query()
	eio := q.Get("EIO")
	if eio != "3" && (eio != "4" || !h.s.opts.EngineIO4) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 5, "message": "Unsupported protocol version"})
		return
	}
	if q.Get("transport") != "websocket" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 0, "message": "Transport unknown"})
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		h.s.log.Debug("homeytest: socket upgrade failed", "err", err)
		return
	}
	c := &sockConn{
		ws:   ws,
		sid:  randomHex(10),
		out:  make(chan string, outQueue),
		done: make(chan struct{}),
		subs: map[string]bool{},
		lan:  isLAN(r),
		v4:   eio == "4",
	}
	openPacket := map[string]any{
		"sid":          c.sid,
		"upgrades":     []string{},
		"pingInterval": h.s.opts.PingInterval.Milliseconds(),
		"pingTimeout":  h.s.opts.PingTimeout.Milliseconds(),
	}
	if c.v4 {
		openPacket["maxPayload"] = 1000000
	}
	open, _ := json.Marshal(openPacket)
	c.out <- "0" + string(open)
	if !c.v4 {
		c.out <- "40" // Socket.IO 2 connects the root namespace at once
	}

	h.mu.Lock()
	select {
	case <-h.s.done:
		h.mu.Unlock()
		c.kill()
		return
	default:
	}
	h.conns[c] = struct{}{}
	h.wg.Add(2)
	h.mu.Unlock()
	h.s.log.Debug("homeytest: socket open", "sid", c.sid)

	go func() {
		defer h.wg.Done()
		h.writeLoop(c)
	}()
	if c.v4 {
		// Engine.IO 4: the server pings, the client answers.
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.pingLoop(c)
		}()
	}
	defer h.wg.Done()
	h.readLoop(c)
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	c.kill()
	h.s.log.Debug("homeytest: socket closed", "sid", c.sid)
}

// pingLoop pings an Engine.IO 4 client every PingInterval.
func (h *hub) pingLoop(c *sockConn) {
	t := time.NewTicker(h.s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			h.send(c, "2")
		case <-c.done:
			return
		}
	}
}

func (h *hub) writeLoop(c *sockConn) {
	for {
		select {
		case f := <-c.out:
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, []byte(f))
			cancel()
			if err != nil {
				c.kill()
				return
			}
		case <-c.done:
			return
		}
	}
}

// readLoop handles client packets until the connection fails or the
// client sends no ping within pingInterval+pingTimeout.
func (h *hub) readLoop(c *sockConn) {
	grace := h.s.opts.PingInterval + h.s.opts.PingTimeout
	deadline := time.Now().Add(grace)
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		typ, data, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			return
		}
		if typ != websocket.MessageText || len(data) == 0 {
			continue
		}
		msg := string(data)
		switch msg[0] {
		case '2': // ping (Engine.IO 3: the client pings)
			deadline = time.Now().Add(grace)
			h.send(c, "3"+msg[1:])
		case '3': // pong (Engine.IO 4: the client answers the server's ping)
			if c.v4 {
				deadline = time.Now().Add(grace)
			}
		case '1': // close
			return
		case '4': // message: a Socket.IO packet
			h.packet(c, msg[1:])
		}
	}
}

// packet handles one Socket.IO packet: type digit, optional "/nsp,",
// optional ack id, JSON data.
func (h *hub) packet(c *sockConn, p string) {
	if p == "" {
		return
	}
	typ, rest := p[0], p[1:]
	nsp := "/"
	if strings.HasPrefix(rest, "/") {
		if i := strings.IndexByte(rest, ','); i >= 0 {
			nsp, rest = rest[:i], rest[i+1:]
		} else {
			nsp, rest = rest, ""
		}
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	ackID, data := rest[:i], rest[i:]
	prefix := ""
	if nsp != "/" {
		prefix = nsp + ","
	}
	switch typ {
	case '0': // connect
		// Socket.IO 5 (Engine.IO 4) answers a connect with the socket's
		// id; Socket.IO 2 connects the root namespace by itself.
		connected := "40" + prefix
		if c.v4 {
			connected += `{"sid":"` + c.sid + `"}`
		}
		if nsp != apiNamespace {
			if nsp == "/" && c.v4 {
				h.send(c, connected)
			} else if nsp != "/" {
				h.send(c, "44"+prefix+`"Invalid namespace"`)
			}
			return
		}
		h.mu.Lock()
		ok := c.authed
		c.api = ok
		h.mu.Unlock()
		if ok {
			h.send(c, connected)
		} else {
			h.send(c, "44"+prefix+`"Not authorized: send handshakeClient first"`)
		}
	case '1': // disconnect
		if nsp == "/" {
			c.kill()
			return
		}
		h.mu.Lock()
		c.api = false
		c.subs = map[string]bool{}
		h.mu.Unlock()
	case '2': // event
		var args []json.RawMessage
		var name string
		if json.Unmarshal([]byte(data), &args) != nil || len(args) == 0 || json.Unmarshal(args[0], &name) != nil {
			return
		}
		ack := func(v ...any) {
			if ackID == "" {
				return
			}
			b, _ := json.Marshal(v)
			h.send(c, "43"+prefix+ackID+string(b))
		}
		if nsp == "/" {
			if name == "handshakeClient" {
				h.handshake(c, args[1:], ack)
			} else {
				ack(errorBody(http.StatusNotFound, "unknown_event", "unknown event "+name))
			}
			return
		}
		h.mu.Lock()
		connected := c.api && nsp == apiNamespace
		h.mu.Unlock()
		if !connected {
			return
		}
		h.apiEvent(c, name, args[1:], ack)
	}
}

func (h *hub) handshake(c *sockConn, args []json.RawMessage, ack func(...any)) {
	var hs struct {
		Token   string `json:"token"`
		HomeyID string `json:"homeyId"`
	}
	if len(args) == 0 || json.Unmarshal(args[0], &hs) != nil {
		ack(errorBody(http.StatusBadRequest, "invalid_request", `handshakeClient needs {"token","homeyId"}`))
		return
	}
	if hs.HomeyID != "" && hs.HomeyID != h.s.HomeyID {
		ack(errorBody(http.StatusNotFound, "homey_not_found", "this is not Homey "+hs.HomeyID))
		return
	}
	who, status, body := h.s.authenticate(hs.Token)
	if status != 0 {
		ack(body)
		return
	}
	h.mu.Lock()
	c.authed, c.who, c.token = true, who, hs.Token
	h.mu.Unlock()
	ack(nil, map[string]any{"token": randomHex(16), "namespace": apiNamespace, "success": true})
}

// uriScope is the scope needed to subscribe to a URI; empty means none.
func uriScope(uri string) string {
	switch {
	case strings.HasPrefix(uri, "homey:device:"), uri == DevicesURI:
		return "homey.device.readonly"
	case uri == ZonesURI, strings.HasPrefix(uri, "homey:zone:"):
		return "homey.zone.readonly"
	case strings.HasPrefix(uri, "homey:manager:"):
		return "homey." + strings.TrimPrefix(uri, "homey:manager:") + ".readonly"
	}
	return ""
}

func (h *hub) apiEvent(c *sockConn, name string, args []json.RawMessage, ack func(...any)) {
	h.mu.Lock()
	who := c.who
	h.mu.Unlock()
	switch name {
	case "subscribe", "unsubscribe":
		var uri string
		if len(args) == 0 || json.Unmarshal(args[0], &uri) != nil || uri == "" {
			ack(errorBody(http.StatusBadRequest, "invalid_request", name+" needs a URI"))
			return
		}
		if name == "subscribe" {
			if sc := uriScope(uri); sc != "" && !hasScope(who.scopes, sc) {
				ack(missingScope(sc))
				return
			}
		}
		h.mu.Lock()
		if name == "subscribe" {
			c.subs[uri] = true
		} else {
			delete(c.subs, uri)
		}
		h.mu.Unlock()
		ack(nil)
	case "api":
		// An RPC call counts as a request with the handshake's token: it
		// fails once the session has ended or the key was deleted.
		h.mu.Lock()
		tok := c.token
		h.mu.Unlock()
		now, status, body := h.s.authenticate(tok)
		if status != 0 {
			ack(body)
			return
		}
		h.rpc(now, args, ack)
	default:
		ack(errorBody(http.StatusNotFound, "unknown_event", "unknown event "+name))
	}
}

// rpc answers the "api" event: {uri, operation, args} → error-first ack.
func (h *hub) rpc(who principal, args []json.RawMessage, ack func(...any)) {
	var call struct {
		URI       string         `json:"uri"`
		Operation string         `json:"operation"`
		Args      map[string]any `json:"args"`
	}
	if len(args) == 0 || json.Unmarshal(args[0], &call) != nil {
		ack(errorBody(http.StatusBadRequest, "invalid_request", `api needs {"uri","operation","args"}`))
		return
	}
	op, ok := h.s.findOperation(call.URI, call.Operation)
	if !ok {
		ack(errorBody(http.StatusNotFound, "unknown_operation", "unknown operation "+strconv.Quote(call.Operation)+" on "+strconv.Quote(call.URI)))
		return
	}
	if call.Args == nil {
		call.Args = map[string]any{}
	}
	h.s.recordRPC(op, call.Args)
	// The Homey's latency, injected failures and throttling hold for its
	// RPC as for its HTTP API.
	if !h.s.delayRPC() {
		return
	}
	if fail := h.s.injectedFailure(); fail != 0 {
		ack(errorBody(fail, http.StatusText(fail), "injected failure"))
		return
	}
	if h.s.throttledRPC() {
		ack(errorBody(http.StatusTooManyRequests, "Too Many Requests", "rate limited: retry later"))
		return
	}
	out, fail := h.s.runOperation(op, who, call.Args)
	switch {
	case fail != nil:
		ack(fail.body())
	case out == noBody{}:
		ack(nil, nil)
	default:
		ack(nil, out)
	}
}
