package homeytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const waitTimeout = 3 * time.Second

func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status int
	header http.Header
	raw    []byte
}

// obj decodes the answer as a JSON object.
func (a answer) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.raw, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, a.raw)
	}
	return m
}

// str decodes the answer as a JSON string.
func (a answer) str(t *testing.T) string {
	t.Helper()
	var v string
	if err := json.Unmarshal(a.raw, &v); err != nil {
		t.Fatalf("answer is not a JSON string: %v: %s", err, a.raw)
	}
	return v
}

// request makes one HTTP request. A url.Values body is form-encoded, a
// string is sent as-is, anything else JSON-encoded.
func request(t *testing.T, method, u string, header http.Header, body any) answer {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ctype = "application/x-www-form-urlencoded"
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, raw: raw}
}

func auth(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func get(t *testing.T, u, token string) answer {
	t.Helper()
	return request(t, http.MethodGet, u, auth(token), nil)
}

func put(t *testing.T, u, token string, body any) answer {
	t.Helper()
	return request(t, http.MethodPut, u, auth(token), body)
}

func wantStatus(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.raw)
	}
}

// wantError checks a non-2xx JSON answer with the error code.
func wantError(t *testing.T, a answer, status int, code string) map[string]any {
	t.Helper()
	wantStatus(t, a, status)
	body := a.obj(t)
	if body["error"] != code {
		t.Fatalf("error %v, want %q; body %s", body["error"], code, a.raw)
	}
	return body
}

// login runs the cloud chain: tokens → delegation JWT → Homey session.
func login(t *testing.T, s *Server) string {
	t.Helper()
	access, _ := s.IssueTokens()
	jwt := request(t, http.MethodPost, s.CloudURL+"/delegation/token?audience=homey", auth(access), map[string]any{})
	wantStatus(t, jwt, http.StatusOK)
	sess := request(t, http.MethodPost, s.HomeyURL+"/api/manager/users/login", nil, map[string]any{"token": jwt.str(t)})
	wantStatus(t, sess, http.StatusOK)
	return sess.str(t)
}

func capURL(s *Server, id, capability string) string {
	return s.HomeyURL + "/api/manager/devices/device/" + id + "/capability/" + capability
}

// eio is a raw Engine.IO 3 / Socket.IO v2 test client.
type eio struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan string
}

func dialSocket(t *testing.T, s *Server) (*eio, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(s.HomeyURL, "http") + "/socket.io/?EIO=3&transport=websocket"
	ws, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(4 << 20)
	c := &eio{t: t, ws: ws, frames: make(chan string, 256)}
	t.Cleanup(func() { _ = ws.CloseNow() })
	go func() {
		defer close(c.frames)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			c.frames <- string(data)
		}
	}()
	return c, resp, nil
}

func mustDial(t *testing.T, s *Server) *eio {
	t.Helper()
	c, _, err := dialSocket(t, s)
	if err != nil {
		t.Fatalf("dial socket: %v", err)
	}
	return c
}

func (c *eio) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("send %q: %v", frame, err)
	}
}

// next returns the next frame from the server.
func (c *eio) next() string {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatalf("socket closed while waiting for a frame")
		}
		return f
	case <-time.After(waitTimeout):
		c.t.Fatalf("no frame within %v", waitTimeout)
	}
	return ""
}

func (c *eio) expect(want string) {
	c.t.Helper()
	if got := c.next(); got != want {
		c.t.Fatalf("frame %q, want %q", got, want)
	}
}

// expectPrefix returns the next frame, which must start with prefix.
func (c *eio) expectPrefix(prefix string) string {
	c.t.Helper()
	got := c.next()
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("frame %q, want prefix %q", got, prefix)
	}
	return got
}

// nothingPending proves no frame is queued before now: a ping sent now
// must be answered by the very next frame.
func (c *eio) nothingPending() {
	c.t.Helper()
	c.send("2")
	c.expect("3")
}

// waitClosed waits for the server to close the connection.
func (c *eio) waitClosed() {
	c.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return
			}
		case <-deadline:
			c.t.Fatalf("socket still open after %v", waitTimeout)
		}
	}
}

// open reads the open packet and the root connect.
func (c *eio) open() map[string]any {
	c.t.Helper()
	f := c.expectPrefix("0{")
	var o map[string]any
	if err := json.Unmarshal([]byte(f[1:]), &o); err != nil {
		c.t.Fatalf("open packet %q: %v", f, err)
	}
	c.expect("40")
	return o
}

// connect opens, handshakes with token and joins /api.
func (c *eio) connect(token, homeyID string) {
	c.t.Helper()
	c.open()
	c.send(handshakeFrame(c.t, token, homeyID))
	c.expectPrefix(`430[null,{`)
	c.send("40/api,")
	c.expect("40/api,")
}

func handshakeFrame(t *testing.T, token, homeyID string) string {
	b, err := json.Marshal([]any{"handshakeClient", map[string]any{"token": token, "homeyId": homeyID}})
	if err != nil {
		t.Fatalf("encode handshake: %v", err)
	}
	return "420" + string(b)
}

// event decodes a 42/api, event frame into uri, event name and data.
func (c *eio) event() (string, string, map[string]any) {
	c.t.Helper()
	f := c.expectPrefix("42/api,[")
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimPrefix(f, "42/api,")), &args); err != nil || len(args) != 3 {
		c.t.Fatalf("event frame %q: want [uri, event, data]", f)
	}
	var uri, name string
	var data map[string]any
	_ = json.Unmarshal(args[0], &uri)
	_ = json.Unmarshal(args[1], &name)
	if err := json.Unmarshal(args[2], &data); err != nil {
		c.t.Fatalf("event data in %q: %v", f, err)
	}
	return uri, name, data
}
