package wink

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// nextEvent waits for the subscriber's next event.
func nextEvent(t *testing.T, events <-chan pnEvent) pnEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for the subscriber")
		return pnEvent{}
	}
}

// TestSubscriberDeliversInPublishOrder: messages that arrive in one answer
// reach the watcher in the order they were published, after the connection.
func TestSubscriberDeliversInPublishOrder(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	l, err := e.client.listFull(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{c: e.client}
	key, _, _, chans := w.subscription(l)
	if key == "" || len(chans) == 0 {
		t.Fatal("the listing names no PubNub subscription")
	}
	// A cursor from before two updates: the first poll answers both.
	probe := newSubscriber(subscribeClient(3*time.Second), e.srv.PubNubOrigin, key, chans, 0, 0, nil)
	hs, err := probe.poll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	from := hs.next
	for _, b := range []float64{0.1, 0.2, 0.3} {
		if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": b}); err != nil {
			t.Fatal(err)
		}
	}
	events := make(chan pnEvent, 16)
	s := newSubscriber(subscribeClient(3*time.Second), e.srv.PubNubOrigin, key, chans, from, 1, events)
	s.start(ctx)
	defer s.stop()
	if ev := nextEvent(t, events); !ev.connected || ev.gen != 1 {
		t.Fatalf("first event %+v, want the connection of generation 1", ev)
	}
	var last int64
	for i, want := range []string{`"brightness":0.1`, `"brightness":0.2`, `"brightness":0.3`} {
		ev := nextEvent(t, events)
		if ev.msg == nil {
			t.Fatalf("event %d: %+v, want a message", i, ev)
		}
		if ev.msg.Timetoken <= last {
			t.Errorf("message %d: timetoken %d after %d", i, ev.msg.Timetoken, last)
		}
		last = ev.msg.Timetoken
		if got := payloadText(ev.msg.Message); !strings.Contains(got, want) {
			t.Errorf("message %d: %s, want one with %s", i, got, want)
		}
	}
}

func payloadText(m any) string {
	switch v := m.(type) {
	case string:
		return v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// TestWatchCatchesUpOnPushesMissedWhileDown: after a failed long-poll the
// new subscription resumes from the last timetoken, so a change made while
// the channel was down still arrives as a push.
func TestWatchCatchesUpOnPushesMissedWhileDown(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PollInterval = time.Hour })
	rec := startWatch(t, e.client)
	_, i := rec.wait(t, 0, "push live", isPush(cloud.PushLive))
	e.srv.FailNextPolls(1, http.StatusInternalServerError)
	_, i = rec.wait(t, i, "the fallback to polling", isPush(cloud.PushPolling))
	if err := e.srv.Update("light_bulb", "2194253", map[string]any{"brightness": 0.55}); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, i, "the change made while down, as a push", pushedState(lampID, "brightness", 0.55))
}

func TestDecodeSubscribeKeepsMessagesOnly(t *testing.T) {
	body := `{"t":{"t":"17000000000000020","r":12},"m":[
		{"a":"1","f":0,"i":"wink","p":{"t":"17000000000000010","r":12},"k":"sub","c":"x|light_bulb-1|user-2","d":{"object_id":"1"},"b":"x|light_bulb-1|user-2"},
		{"a":"1","f":0,"e":1,"i":"wink","p":{"t":"17000000000000011","r":12},"k":"sub","c":"x|light_bulb-1|user-2","d":"a signal"},
		{"a":"1","f":0,"i":"wink","p":{"t":"17000000000000012","r":12},"k":"sub","c":"x-pnpres","d":{"action":"join"}},
		{"a":"1","f":0,"i":"wink","p":{"t":"17000000000000013","r":12},"k":"sub","c":"x|lock-3|user-2","d":"{\"object_id\":\"3\"}"}]}`
	a, err := decodeSubscribe([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if a.next != 17000000000000020 || a.region != 12 || a.entries != 4 {
		t.Errorf("next timetoken %d region %d, %d entries; want 17000000000000020, 12 and 4", a.next, a.region, a.entries)
	}
	msgs := a.msgs
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the two plain ones: %+v", len(msgs), msgs)
	}
	if obj, ok := msgs[0].Message.(map[string]any); !ok || obj["object_id"] != "1" || msgs[0].Timetoken != 17000000000000010 {
		t.Errorf("first message %+v, want the object as sent", msgs[0])
	}
	if s, ok := msgs[1].Message.(string); !ok || s != `{"object_id":"3"}` || msgs[1].Channel != "x|lock-3|user-2" {
		t.Errorf("second message %+v, want the string as sent", msgs[1])
	}
	// A payload that does not decode is one message's failure, not the
	// answer's: the others arrive and the cursor moves on.
	a, err = decodeSubscribe([]byte(`{"t":{"t":"17000000000000030","r":12},"m":[
		{"c":"x|lock-3|user-2","p":{"t":"17000000000000021"},"d":{"n":1e999}},
		{"c":"x|lock-3|user-2","p":{"t":"17000000000000022"},"d":{"object_id":"3"}}]}`))
	msgs = a.msgs
	if err != nil || a.next != 17000000000000030 || len(msgs) != 2 || a.entries != 2 {
		t.Fatalf("answer with one bad payload: next %d, %d messages of %d, %v; want 17000000000000030, 2 of 2, no error", a.next, len(msgs), a.entries, err)
	}
	if msgs[0].Err == nil || msgs[0].Message != nil {
		t.Errorf("bad payload %+v, want its error", msgs[0])
	}
	if obj, ok := msgs[1].Message.(map[string]any); !ok || obj["object_id"] != "3" || msgs[1].Err != nil {
		t.Errorf("good payload after a bad one %+v, want it decoded", msgs[1])
	}
	for _, bad := range []string{`{"t":{"t":"","r":1},"m":[]}`, `{"t":{"t":"soon"}}`, `[1,"Sent"]`, `not json`} {
		if _, err := decodeSubscribe([]byte(bad)); err == nil {
			t.Errorf("%s decoded without an error", bad)
		}
	}
}

// TestSubscribeRefusalNamesPubNubsReason: a refused subscription says why,
// in PubNub's words, and never shows the channels (they name the user).
func TestSubscribeRefusalNamesPubNubsReason(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status":400,"error":true,"message":"Invalid Subscribe Key","service":"Access Manager"}`))
	}))
	defer srv.Close()
	s := newSubscriber(subscribeClient(3*time.Second), "http://"+strings.TrimPrefix(srv.URL, "http://"), "sub-c-1",
		[]string{"secret|light_bulb-1|user-42"}, 0, 0, nil)
	_, err := s.poll(testCtx(t), 0, 0)
	if err == nil || !strings.Contains(err.Error(), "400: Invalid Subscribe Key") {
		t.Fatalf("error %v, want PubNub's 400 and its message", err)
	}
	srv.Close()
	_, err = s.poll(testCtx(t), 0, 0)
	if err == nil || strings.Contains(err.Error(), "user-42") || strings.Contains(err.Error(), "sub-c-1") {
		t.Fatalf("error %v, want one without the channels or the key", err)
	}
}

func TestChannelsEscapedAsPubNubExpects(t *testing.T) {
	s := newSubscriber(nil, "127.0.0.1:1", "sub-c-1", []string{"a|light_bulb-1|user-2", "x y"}, 0, 0, nil)
	if want := "/v2/subscribe/sub-c-1/a%7Clight_bulb-1%7Cuser-2,x%20y/0"; s.path != want {
		t.Errorf("path %s, want %s", s.path, want)
	}
	if s.base != "https://127.0.0.1:1" {
		t.Errorf("base %s, want TLS for an origin without a scheme", s.base)
	}
}

// A long poll's request line is its path and query, as escaped when the
// subscriber was made; through a proxy of plain HTTP it names the whole
// URL, as a proxy needs.
func TestLongPollRequestLine(t *testing.T) {
	lines := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lines <- r.RequestURI
		_, _ = w.Write([]byte(`{"t":{"t":"17000000000000000","r":1},"m":[]}`))
	}))
	defer srv.Close()
	channels := []string{"a|b c", "d,e"}
	wantPath := "/v2/subscribe/sub-c-1/a%7Cb%20c,d%2Ce/0?"
	direct := newSubscriber(subscribeClient(3*time.Second), srv.URL, "sub-c-1", channels, 0, 0, nil)
	if _, err := direct.poll(testCtx(t), 0, 0); err != nil {
		t.Fatal(err)
	}
	if got := <-lines; !strings.HasPrefix(got, wantPath) {
		t.Errorf("request line %q, want %q…", got, wantPath)
	}

	// The same server as the proxy of an origin of plain HTTP.
	proxyURL, _ := url.Parse(srv.URL)
	hc := subscribeClient(3 * time.Second)
	hc.Transport.(*http.Transport).Proxy = http.ProxyURL(proxyURL)
	proxied := newSubscriber(hc, "http://pubsub.example", "sub-c-1", channels, 0, 0, nil)
	if _, err := proxied.poll(testCtx(t), 0, 0); err != nil {
		t.Fatal(err)
	}
	if got, want := <-lines, "http://pubsub.example"+wantPath; !strings.HasPrefix(got, want) {
		t.Errorf("request line through a proxy %q, want %q…", got, want)
	}
}
