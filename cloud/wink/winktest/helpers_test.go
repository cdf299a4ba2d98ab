package winktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	pubnub "github.com/pubnub/go/v7"
)

const waitTimeout = 5 * time.Second

// testUA is an app-like User-Agent as Wink clients send.
const testUA = "Manufacturer/cloud2mqtt-test go/1 Wink/3"

func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.HoldPoll == 0 {
		opts.HoldPoll = time.Second
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call makes one REST request; body is JSON-encoded unless it is a string.
func call(t *testing.T, method, url, token string, body any) answer {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
		ctype = "application/x-www-form-urlencoded"
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("User-Agent", testUA)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, url, err, raw)
		}
	}
	return a
}

func (a answer) data() map[string]any { return asMap(a.body["data"]) }

func (a answer) errs() []any {
	e, _ := a.body["errors"].([]any)
	return e
}

func (a answer) firstError() string {
	if e := a.errs(); len(e) > 0 {
		s, _ := e[0].(string)
		return s
	}
	return ""
}

// subscriber is a real PubNub SDK client pointed at the emulator.
type subscriber struct {
	pn *pubnub.PubNub
	l  *pubnub.Listener
}

func newSubscriber(t *testing.T, s *Server, channels ...string) *subscriber {
	t.Helper()
	cfg := pubnub.NewConfigWithUserId(pubnub.UserId("winktest-" + t.Name()))
	cfg.SubscribeKey = s.SubscribeKey
	cfg.PublishKey = "pub-c-winktest" // the emulator accepts any publish key
	cfg.Origin = strings.TrimPrefix(s.PubNubOrigin, "http://")
	cfg.Secure = false
	cfg.SubscribeRequestTimeout = 5
	cfg.NonSubscribeRequestTimeout = 5
	cfg.ConnectTimeout = 5
	pn := pubnub.NewPubNub(cfg)
	l := pubnub.NewListener()
	pn.AddListener(l)
	// No Destroy at the end: the SDK (v7.4.0) can panic in one of its own
	// goroutines when Destroy races a subscribe loop that is restarting.
	// The server's Close ends the loop instead; what the SDK leaves blocked
	// ends with the test binary.
	sub := &subscriber{pn: pn, l: l}
	pn.Subscribe().Channels(channels).Execute()
	sub.waitStatus(t, pubnub.PNConnectedCategory)
	return sub
}

func (sub *subscriber) waitStatus(t *testing.T, want pubnub.StatusCategory) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case st := <-sub.l.Status:
			if st.Category == want {
				return
			}
		case <-sub.l.Message:
		case <-deadline:
			t.Fatalf("no PubNub status %v within %v", want, waitTimeout)
		}
	}
}

// waitMessage returns the first message on channel for which match is true.
func (sub *subscriber) waitMessage(t *testing.T, channel string, match func(*pubnub.PNMessage) bool) *pubnub.PNMessage {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case m := <-sub.l.Message:
			if m.Channel == channel && match(m) {
				return m
			}
		case <-sub.l.Status:
		case <-deadline:
			t.Fatalf("no matching PubNub message on %s within %v", channel, waitTimeout)
			return nil
		}
	}
}

// pushedObject decodes a push payload sent as a JSON string.
func pushedObject(t *testing.T, m *pubnub.PNMessage) map[string]any {
	t.Helper()
	text, ok := m.Message.(string)
	if !ok {
		t.Fatalf("push payload is %T, want a JSON-encoded string", m.Message)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		t.Fatalf("push payload is not a JSON object string: %v", err)
	}
	return obj
}

func channelOf(t *testing.T, obj map[string]any) string {
	t.Helper()
	ch := str(asMap(asMap(obj["subscription"])["pubnub"])["channel"])
	if ch == "" {
		t.Fatalf("object %v-%v has no subscription channel", obj["object_type"], obj["object_id"])
	}
	return ch
}

func desired(obj map[string]any) map[string]any { return asMap(obj["desired_state"]) }
