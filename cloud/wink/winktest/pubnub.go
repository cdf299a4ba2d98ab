package winktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// historyPerChannel bounds the messages kept per channel for clients that
// resume from an older timetoken.
const historyPerChannel = 100

// maxMessagesPerPoll bounds the messages in one subscribe answer, like
// PubNub's queue of a subscription: when more were published since the
// timetoken polled from, only the newest this many are delivered and the
// older ones are lost.
const maxMessagesPerPoll = 100

// MaxSubscribeChannels is the most channels one subscribe request may name:
// PubNub's default for a multiplexed subscribe. A request naming more is
// refused with 400 "Client Error", the answer Wink homes with many devices
// got when their client subscribed to every channel in one request.
const MaxSubscribeChannels = 100

// maxRequestURI bounds a request's URI like PubNub's ~32 KiB limit on a GET;
// a longer one gets 414.
const maxRequestURI = 32 << 10

// region is the PubNub region the emulator claims in every timetoken.
const region = 12

// publisherUUID is the publisher ("i") of messages the cloud pushes.
const publisherUUID = "wink-cloud"

type pnMessage struct {
	tt      int64
	channel string
	payload any
	from    string
}

// pubnubHub is the PubNub side of the emulator: timetokens, per-channel
// history and the long-poll.
type pubnubHub struct {
	subKey string
	hold   time.Duration
	done   <-chan struct{}

	mu         sync.Mutex
	last       int64
	history    map[string][]pnMessage
	notify     chan struct{}
	failPolls  int
	failStatus int
	drop       int
	paused     bool // held polls are not answered (see Server.PausePushes)
	handshakes int  // subscribe requests without a timetoken
}

func newPubNubHub(subKey string, hold time.Duration, done <-chan struct{}) *pubnubHub {
	return &pubnubHub{
		subKey:  subKey,
		hold:    hold,
		done:    done,
		history: map[string][]pnMessage{},
		notify:  make(chan struct{}),
	}
}

// nextTimetokenLocked returns a strictly increasing 17-digit timetoken
// (unix time in units of 100ns). h.mu must be held.
func (h *pubnubHub) nextTimetokenLocked() int64 {
	tt := time.Now().UnixNano() / 100
	if tt <= h.last {
		tt = h.last + 1
	}
	h.last = tt
	return tt
}

func (h *pubnubHub) now() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nextTimetokenLocked()
}

func (h *pubnubHub) failNextPolls(n, status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failPolls, h.failStatus = n, status
}

func (h *pubnubHub) dropPushes(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop = n
}

// handshakeCount returns how many subscribe requests came without a
// timetoken.
func (h *pubnubHub) handshakeCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handshakes
}

// pause holds (true) or releases (false) the answers of held polls.
func (h *pubnubHub) pause(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.paused = on
	if !on {
		close(h.notify)
		h.notify = make(chan struct{})
	}
}

// publish stores a message on channel and wakes held polls. It reports
// false when the message was dropped by DropPushes (unless force is set,
// for messages clients publish themselves).
func (h *pubnubHub) publish(channel string, payload any, from string, force bool) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tt := h.nextTimetokenLocked()
	if !force && h.drop > 0 {
		h.drop--
		return tt, false
	}
	hist := append(h.history[channel], pnMessage{tt: tt, channel: channel, payload: payload, from: from})
	if len(hist) > historyPerChannel {
		hist = append([]pnMessage(nil), hist[len(hist)-historyPerChannel:]...)
	}
	h.history[channel] = hist
	close(h.notify)
	h.notify = make(chan struct{})
	return tt, true
}

// newerLocked returns messages after tt on the channels, oldest first.
func (h *pubnubHub) newerLocked(channels []string, tt int64) []pnMessage {
	var out []pnMessage
	for _, ch := range channels {
		for _, m := range h.history[ch] {
			if m.tt > tt {
				out = append(out, m)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].tt < out[j].tt })
	if len(out) > maxMessagesPerPoll {
		out = out[len(out)-maxMessagesPerPoll:]
	}
	return out
}

func (h *pubnubHub) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/subscribe/{sub}/{channels}/0", h.subscribe)
	mux.HandleFunc("GET /time/0", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []int64{h.now()})
	})
	mux.HandleFunc("GET /v2/presence/sub-key/{sub}/channel/{channels}/leave", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": 200, "message": "OK", "action": "leave", "service": "Presence"})
	})
	mux.HandleFunc("GET /v2/presence/sub-key/{sub}/channel/{channels}/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": 200, "message": "OK", "service": "Presence"})
	})
	mux.HandleFunc("GET /publish/{pub}/{sub}/0/{channel}/0/{message}", h.publishHandler)
	mux.HandleFunc("POST /publish/{pub}/{sub}/0/{channel}/0", h.publishHandler)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"status": 404, "error": true, "message": "Not Found", "service": "Balancer"})
	})
	return mux
}

// invalidKey answers like PubNub does for an unknown subscribe key.
func invalidKey(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"status": 400, "error": true, "message": "Invalid Subscribe Key", "service": "Access Manager"})
}

// channelsFromPath splits the escaped channel list of a PubNub path: the
// SDK escapes each name and joins them with a literal comma.
func channelsFromPath(r *http.Request, segment int) []string {
	parts := strings.Split(r.URL.EscapedPath(), "/")
	if segment >= len(parts) {
		return nil
	}
	var out []string
	for _, c := range strings.Split(parts[segment], ",") {
		name, err := url.PathUnescape(c)
		if err != nil || name == "" || strings.HasSuffix(name, "-pnpres") {
			continue
		}
		out = append(out, name)
	}
	return out
}

func (h *pubnubHub) subscribe(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sub") != h.subKey {
		invalidKey(w)
		return
	}
	if len(r.RequestURI) > maxRequestURI {
		writeJSON(w, http.StatusRequestURITooLong, map[string]any{"status": 414, "error": true, "message": "URI Too Long", "service": "Balancer"})
		return
	}
	// Path: /v2/subscribe/{sub}/{channels}/0 → segment 4.
	channels := channelsFromPath(r, 4)
	if len(channels) > MaxSubscribeChannels {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Bad Request", "message": "Client Error", "statusCode": 400})
		return
	}
	var tt int64
	if v := r.URL.Query().Get("tt"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"status": 400, "error": true, "message": "Invalid Timetoken", "service": "Balancer"})
			return
		}
		tt = n
	}

	h.mu.Lock()
	if tt == 0 {
		h.handshakes++
		cur := h.nextTimetokenLocked()
		h.mu.Unlock()
		writeSubscribe(w, cur, nil, h.subKey)
		return
	}
	if h.failPolls > 0 {
		h.failPolls--
		status := h.failStatus
		h.mu.Unlock()
		writeJSON(w, status, map[string]any{"status": status, "error": true, "message": http.StatusText(status), "service": "Balancer"})
		return
	}
	h.mu.Unlock()

	timer := time.NewTimer(h.hold)
	defer timer.Stop()
	for {
		h.mu.Lock()
		msgs := h.newerLocked(channels, tt)
		notify, paused := h.notify, h.paused
		h.mu.Unlock()
		if len(msgs) > 0 && !paused {
			writeSubscribe(w, msgs[len(msgs)-1].tt, msgs, h.subKey)
			return
		}
		select {
		case <-notify:
		case <-timer.C:
			writeSubscribe(w, tt, nil, h.subKey)
			return
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		}
	}
}

// Wire shapes of a subscribe answer, with the field types the PubNub Go SDK
// decodes into: timetokens are strings, the region an int.
type pnTimetoken struct {
	T string `json:"t"`
	R int    `json:"r"`
}

type pnWireMessage struct {
	A string      `json:"a"`
	F int         `json:"f"`
	I string      `json:"i"`
	P pnTimetoken `json:"p"`
	K string      `json:"k"`
	C string      `json:"c"`
	D any         `json:"d"`
	B string      `json:"b"`
}

type pnEnvelope struct {
	T pnTimetoken     `json:"t"`
	M []pnWireMessage `json:"m"`
}

func writeSubscribe(w http.ResponseWriter, tt int64, msgs []pnMessage, subKey string) {
	env := pnEnvelope{T: pnTimetoken{T: strconv.FormatInt(tt, 10), R: region}, M: []pnWireMessage{}}
	for _, m := range msgs {
		env.M = append(env.M, pnWireMessage{
			A: "1", F: 0, I: m.from,
			P: pnTimetoken{T: strconv.FormatInt(m.tt, 10), R: region},
			K: subKey, C: m.channel, D: m.payload, B: m.channel,
		})
	}
	writeJSON(w, http.StatusOK, env)
}

// publishHandler accepts a client publish so tests can inject messages with
// the SDK itself. The message is kept as sent (decoded JSON).
func (h *pubnubHub) publishHandler(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sub") != h.subKey {
		invalidKey(w)
		return
	}
	channels := channelsFromPath(r, 5)
	if len(channels) != 1 {
		writeJSON(w, http.StatusBadRequest, []any{0, "Invalid channel", "0"})
		return
	}
	var raw []byte
	if r.Method == http.MethodPost {
		b, err := readBody(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, []any{0, "Invalid message", "0"})
			return
		}
		raw = b
	} else {
		raw = []byte(r.PathValue("message"))
	}
	var payload any
	if err := json.Unmarshal(raw, &payload); err != nil {
		writeJSON(w, http.StatusBadRequest, []any{0, "Invalid JSON", "0"})
		return
	}
	tt, _ := h.publish(channels[0], payload, r.URL.Query().Get("uuid"), true)
	writeJSON(w, http.StatusOK, []any{1, "Sent", strconv.FormatInt(tt, 10)})
}
