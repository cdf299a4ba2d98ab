package wink

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonobj"
)

// defaultPubNubOrigin is PubNub's own host, used over TLS when neither the
// configuration nor the devices' subscription blocks name one.
const defaultPubNubOrigin = "ps.pndsn.com"

// maxSubscribeAnswer bounds one subscribe answer: PubNub sends at most 100
// messages of at most 32 KiB each.
const maxSubscribeAnswer = 8 << 20

// fullAnswer is the most entries PubNub keeps for a subscription between
// two polls (its SDKs' MessageQueueOverflowCount), messages or signals and
// events alike: an answer of that many may have lost older ones.
const fullAnswer = 100

// push is one message PubNub delivered on a channel.
type push struct {
	Channel   string
	Timetoken int64 // when it was published
	// Message is the payload as encoding/json decodes it into an any: a
	// map for a JSON object, a string for a JSON string (a JSON text
	// itself, decoded by the watcher), and so on.
	Message any
	Err     error // why the payload could not be decoded; Message is nil then
}

// pollAnswer is one subscribe answer as the subscriber uses it.
type pollAnswer struct {
	next    int64  // the timetoken to poll from next
	region  int    // its region
	msgs    []push // the messages, in the order they were published
	entries int    // every entry the answer had, messages or not
}

// pnEvent is what a subscriber of generation gen reports to the watcher:
// that it connected, a message, that an answer was full (after its
// messages), or that it stopped with err.
type pnEvent struct {
	gen       int
	connected bool
	msg       *push
	full      time.Time // when a full answer came
	err       error
}

// subscriber long-polls PubNub's subscribe API (v2) for a set of channels:
// a handshake for the current timetoken and region, then one request after
// the other from the last answer's timetoken. It reports in order on out and
// stops at the first failure, which it reports; the watcher starts a new
// one, resuming from resumeFrom.
type subscriber struct {
	http    *http.Client
	path    string // /v2/subscribe/<key>/<channels>/0, escaped
	base    string // scheme://host
	uuid    string
	gen     int
	out     chan<- pnEvent
	cursor  int64    // timetoken to resume from; written by run only
	target  *url.URL // base and path, parsed on the first request
	buf     []byte   // the last answer, read by run only
	stopped chan struct{}
	cancel  context.CancelFunc
}

// newSubscriber prepares a subscriber for channels of subKey at origin
// ("host[:port]" over TLS, "http://host[:port]" in plain text). resume is
// a timetoken to continue from after the handshake (0: from now).
func newSubscriber(hc *http.Client, origin, subKey string, channels []string, resume int64, gen int, out chan<- pnEvent) *subscriber {
	base := "https://" + origin
	if strings.HasPrefix(origin, "http://") {
		base = origin
	}
	escaped := make([]string, len(channels))
	for i, ch := range channels {
		escaped[i] = pathEscapeChannel(ch)
	}
	return &subscriber{
		http:    hc,
		base:    base,
		path:    "/v2/subscribe/" + pathEscapeChannel(subKey) + "/" + strings.Join(escaped, ",") + "/0",
		uuid:    newUUID(),
		gen:     gen,
		out:     out,
		cursor:  resume,
		stopped: make(chan struct{}),
	}
}

// pathEscapeChannel escapes a channel name the way PubNub's SDKs do: query
// escaping with spaces as %20, so that '|' and ',' never appear bare.
func pathEscapeChannel(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// newUUID returns a random version 4 UUID, PubNub's client identity.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// start runs the subscribe loop until stop or the first failure.
func (s *subscriber) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	go s.run(ctx)
}

// stop ends the loop and waits until it returned; afterwards resumeFrom is
// final.
func (s *subscriber) stop() {
	s.cancel()
	<-s.stopped
}

// resumeFrom is the timetoken a successor continues from. Call it after stop.
func (s *subscriber) resumeFrom() int64 { return s.cursor }

func (s *subscriber) run(ctx context.Context) {
	defer close(s.stopped)
	hs, err := s.poll(ctx, 0, 0)
	if err != nil {
		s.report(ctx, pnEvent{err: fmt.Errorf("handshake: %w", err)})
		return
	}
	if s.cursor == 0 {
		s.cursor = hs.next
	}
	region := hs.region
	if !s.report(ctx, pnEvent{connected: true}) {
		return
	}
	for {
		a, err := s.poll(ctx, s.cursor, region)
		if err != nil {
			s.report(ctx, pnEvent{err: err})
			return
		}
		for i := range a.msgs {
			if !s.report(ctx, pnEvent{msg: &a.msgs[i]}) {
				return
			}
		}
		if a.entries >= fullAnswer && !s.report(ctx, pnEvent{full: time.Now()}) {
			return
		}
		if len(a.msgs) > 0 {
			// The pushes go to MQTT before the next long poll is sent:
			// the bridge runs on one P, where the request's writer would
			// otherwise run first and delay them.
			runtime.Gosched()
		}
		s.cursor, region = a.next, a.region
	}
}

// report hands ev to the watcher; false once the subscriber is stopped.
func (s *subscriber) report(ctx context.Context, ev pnEvent) bool {
	ev.gen = s.gen
	select {
	case s.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// poll makes one subscribe request from timetoken tt (0: the handshake).
func (s *subscriber) poll(ctx context.Context, tt int64, region int) (pollAnswer, error) {
	q := url.Values{"uuid": {s.uuid}, "tr": {strconv.Itoa(region)}}
	if tt != 0 {
		q.Set("tt", strconv.FormatInt(tt, 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base, nil)
	if err != nil {
		return pollAnswer{}, fmt.Errorf("subscribe request: origin %q: %w", s.base, err)
	}
	if s.target == nil {
		if s.target, err = url.Parse(s.base + s.path); err != nil {
			return pollAnswer{}, fmt.Errorf("subscribe request: origin %q: %w", s.base, err)
		}
		// The request line takes the path as it is escaped already: net/http
		// would otherwise check and copy the escaping (kilobytes with many
		// channels) at every poll. Not through a proxy of plain HTTP, whose
		// request line names the whole URL: net/http writes it so only
		// without Opaque.
		if !plainProxied(s.http, s.target) {
			s.target.Opaque = s.path
		}
	}
	u := *s.target // the channels' path is parsed once
	u.RawQuery = q.Encode()
	req.URL = &u
	resp, err := s.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL names the channels, which name the user
		}
		return pollAnswer{}, fmt.Errorf("subscribe request: %w", err)
	}
	defer resp.Body.Close()
	body, err := s.read(resp.Body)
	if err != nil {
		return pollAnswer{}, fmt.Errorf("subscribe answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return pollAnswer{}, pubnubError(resp.StatusCode, body)
	}
	if len(body) > maxSubscribeAnswer {
		return pollAnswer{}, fmt.Errorf("subscribe answer larger than %d bytes", maxSubscribeAnswer)
	}
	return decodeSubscribe(body)
}

// read reads an answer into the subscriber's buffer, which the next answer
// reuses (decoding copies what it keeps); one grown by a large answer is
// let go.
func (s *subscriber) read(r io.Reader) ([]byte, error) {
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
	b := bytes.NewBuffer(s.buf[:0])
	_, err := b.ReadFrom(io.LimitReader(r, maxSubscribeAnswer+1))
	s.buf = b.Bytes()
	return s.buf, err
}

// pubnubError describes a refused subscribe request with PubNub's own
// message ("Invalid Subscribe Key", "Forbidden").
func pubnubError(status int, body []byte) error {
	var e struct {
		Message string `json:"message"`
	}
	msg := http.StatusText(status)
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = e.Message
	}
	return fmt.Errorf("PubNub answered %d: %s", status, msg)
}

// decodeSubscribe reads a subscribe answer,
// {"t":{"t":"<timetoken>","r":<region>},"m":[{"c":…,"p":{"t":…},"d":…}]},
// in one pass: the payloads come out decoded. Only messages are kept: no
// signals, object or file events ("e" other than 0), nor presence channels.
func decodeSubscribe(body []byte) (pollAnswer, error) {
	env, err := jsonobj.Decode(body)
	if err != nil {
		return decodeSubscribeEach(body)
	}
	t, _ := env["t"].(map[string]any)
	tt, _ := t["t"].(string)
	next, err := nextTimetoken(tt)
	if err != nil {
		return pollAnswer{}, err
	}
	region, _ := t["r"].(float64)
	msgs, _ := env["m"].([]any)
	var out []push
	for _, v := range msgs {
		m, _ := v.(map[string]any)
		ch, _ := m["c"].(string)
		if e, _ := m["e"].(float64); m == nil || !isMessage(int(e), ch) {
			continue
		}
		p := push{Channel: ch, Message: m["d"]}
		pt, _ := m["p"].(map[string]any)
		ptt, _ := pt["t"].(string)
		p.Timetoken, _ = strconv.ParseInt(ptt, 10, 64)
		out = append(out, p)
	}
	return pollAnswer{next: next, region: int(region), msgs: out, entries: len(msgs)}, nil
}

// decodeSubscribeEach reads an answer whose payloads do not all decode (a
// number out of range, say): the frame first, each payload kept raw, then
// each payload on its own. One that does not decode is handed on with its
// error, so that a bad message neither stops the channel nor comes back
// with every resubscription.
func decodeSubscribeEach(body []byte) (pollAnswer, error) {
	var env struct {
		T struct {
			T string `json:"t"`
			R int    `json:"r"`
		} `json:"t"`
		M []struct {
			C string `json:"c"`
			E int    `json:"e"`
			P struct {
				T string `json:"t"`
			} `json:"p"`
			D json.RawMessage `json:"d"`
		} `json:"m"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return pollAnswer{}, fmt.Errorf("subscribe answer: %w", err)
	}
	next, err := nextTimetoken(env.T.T)
	if err != nil {
		return pollAnswer{}, err
	}
	var out []push
	for _, m := range env.M {
		if !isMessage(m.E, m.C) {
			continue
		}
		p := push{Channel: m.C}
		p.Timetoken, _ = strconv.ParseInt(m.P.T, 10, 64)
		if len(m.D) > 0 {
			var v any
			if err := json.Unmarshal(m.D, &v); err != nil {
				p.Err = fmt.Errorf("payload: %w", err)
			} else {
				p.Message = v
			}
		}
		out = append(out, p)
	}
	return pollAnswer{next: next, region: env.T.R, msgs: out, entries: len(env.M)}, nil
}

// nextTimetoken reads an answer's timetoken, the cursor of the next poll.
func nextTimetoken(tt string) (int64, error) {
	next, err := strconv.ParseInt(tt, 10, 64)
	if err != nil || next <= 0 {
		return 0, fmt.Errorf("subscribe answer: timetoken %q is not a positive number", tt)
	}
	return next, nil
}

// isMessage tells a message (type 0) on a channel from signals, object,
// action and file events and from presence channels.
func isMessage(typ int, channel string) bool {
	return typ == 0 && !strings.HasSuffix(channel, "-pnpres")
}

// plainProxied tells whether hc sends requests for u to a proxy as plain
// HTTP (or may: a transport it cannot look into counts as one).
func plainProxied(hc *http.Client, u *url.URL) bool {
	if u.Scheme != "http" {
		return false // https goes through a proxy in a tunnel, as it is
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return true
	}
	if t.Proxy == nil {
		return false
	}
	proxy, err := t.Proxy(&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}})
	return err != nil || proxy != nil
}

// subscribeClient is the long polls' HTTP client: connections of their own
// (the REST client's requests are counted and timed; a long poll held for
// minutes is neither), one kept per long poll between its requests (over
// HTTP/2 they share one), and the long poll's time limit.
func subscribeClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no limit: each long poll holds one at a time
	t.MaxIdleConnsPerHost = 1 << 16
	t.IdleConnTimeout = 30 * time.Second
	return &http.Client{Transport: t, Timeout: timeout}
}
