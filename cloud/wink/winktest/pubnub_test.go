package winktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	pubnub "github.com/pubnub/go/v7"
)

func TestPutIsPushedToTheSDK(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	bulb, _ := s.Device("light_bulb", "2194260")
	ch := channelOf(t, bulb)
	sub := newSubscriber(t, s, ch)
	access, _ := s.IssueTokens()

	a := call(t, "PUT", s.URL+"/light_bulbs/2194260/desired_state", access, map[string]any{
		"desired_state": map[string]any{"powered": true, "brightness": 0.3, "color_model": "color_temperature", "color_temperature": 4000},
	})
	if a.status != http.StatusOK || reading(a.data())["brightness"] != 0.8 || desired(a.data())["brightness"] != 0.3 {
		t.Fatalf("PUT answer: %d desired %v last_reading brightness %v", a.status, desired(a.data()), reading(a.data())["brightness"])
	}
	m := sub.waitMessage(t, ch, func(*pubnub.PNMessage) bool { return true })
	obj := pushedObject(t, m)
	lr := reading(obj)
	if lr["brightness"] != 0.3 || lr["color_temperature"] != 4000.0 || lr["color_model"] != "color_temperature" {
		t.Errorf("pushed last_reading = %v", lr)
	}
	if len(desired(obj)) != 0 {
		t.Errorf("pushed desired_state = %v, want applied fields cleared", desired(obj))
	}
	if obj["object_id"] != "2194260" || obj["name"] != "Living room color" {
		t.Errorf("push is not the full object: %v", obj)
	}
	if m.Timetoken <= 0 {
		t.Errorf("message timetoken = %d", m.Timetoken)
	}
}

func TestUpdateIsPushedAsStringAndObject(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	pod, _ := s.Device("sensor_pod", "198190")
	ch := channelOf(t, pod)
	sub := newSubscriber(t, s, ch)

	if err := s.Update("sensor_pod", "198190", map[string]any{"motion": true}); err != nil {
		t.Fatal(err)
	}
	obj := pushedObject(t, sub.waitMessage(t, ch, func(*pubnub.PNMessage) bool { return true }))
	if reading(obj)["motion"] != true {
		t.Errorf("pushed motion = %v, want true", reading(obj)["motion"])
	}
	if reading(obj)["motion_changed_at"] != reading(obj)["motion_updated_at"] {
		t.Errorf("motion_changed_at should move with a change")
	}

	s.SetPushForm(PushObject)
	if err := s.Update("sensor_pod", "198190", map[string]any{"temperature": 23.5}); err != nil {
		t.Fatal(err)
	}
	m := sub.waitMessage(t, ch, func(*pubnub.PNMessage) bool { return true })
	objMsg, ok := m.Message.(map[string]any)
	if !ok {
		t.Fatalf("PushObject payload is %T, want an object", m.Message)
	}
	if reading(objMsg)["temperature"] != 23.5 {
		t.Errorf("pushed temperature = %v", reading(objMsg)["temperature"])
	}

	s.SetPushForm(PushPullURL)
	if err := s.Rename("sensor_pod", "198190", "Upstairs motion"); err != nil {
		t.Fatal(err)
	}
	m = sub.waitMessage(t, ch, func(*pubnub.PNMessage) bool { return true })
	if got := asMap(m.Message)["pull_url"]; got != s.URL+"/sensor_pods/198190" {
		t.Errorf("pull_url = %v", got)
	}
	if d, _ := s.Device("sensor_pod", "198190"); d["name"] != "Upstairs motion" {
		t.Errorf("rename not stored: %v", d["name"])
	}
}

func TestDeviceListChangesArePushed(t *testing.T) {
	s := newTestServer(t, Options{})
	sub := newSubscriber(t, s, s.UserChannel())
	key := s.AddDevice(map[string]any{"object_type": "binary_switch", "name": "Lamp", "last_reading": map[string]any{"powered": false}})
	if key == "" {
		t.Fatal("AddDevice returned no key")
	}
	obj := pushedObject(t, sub.waitMessage(t, s.UserChannel(), func(*pubnub.PNMessage) bool { return true }))
	list, _ := obj["data"].([]any)
	if len(list) != 1 || asMap(list[0])["name"] != "Lamp" {
		t.Fatalf("list push = %v", obj)
	}
	added := asMap(list[0])
	if key != "binary_switch-"+str(added["object_id"]) || added["uuid"] == nil || added["created_at"] == nil {
		t.Errorf("AddDevice did not fill ids: key %q object %v", key, added)
	}
	if _, ok := reading(added)["powered_updated_at"].(float64); !ok {
		t.Errorf("no powered_updated_at filled in")
	}
	if !s.RemoveDevice("binary_switch", str(added["object_id"])) {
		t.Fatal("RemoveDevice reported the device missing")
	}
	obj = pushedObject(t, sub.waitMessage(t, s.UserChannel(), func(*pubnub.PNMessage) bool { return true }))
	if list, _ := obj["data"].([]any); len(list) != 0 {
		t.Errorf("list after removal = %v", list)
	}
}

func TestPowerstripOutletsArePositional(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	strip, _ := s.Device("powerstrip", "24313")
	ch := channelOf(t, strip)
	sub := newSubscriber(t, s, ch)
	access, _ := s.IssueTokens()
	a := call(t, "PUT", s.URL+"/powerstrips/24313", access, map[string]any{
		"outlets": []any{map[string]any{"desired_state": map[string]any{"powered": true}}, map[string]any{}},
	})
	if a.status != http.StatusOK {
		t.Fatalf("PUT outlets: %d %s", a.status, a.raw)
	}
	obj := pushedObject(t, sub.waitMessage(t, ch, func(*pubnub.PNMessage) bool { return true }))
	outlets, _ := obj["outlets"].([]any)
	if len(outlets) != 2 {
		t.Fatalf("outlets = %v", obj["outlets"])
	}
	if reading(asMap(outlets[0]))["powered"] != true || reading(asMap(outlets[1]))["powered"] != true {
		t.Errorf("outlet readings = %v / %v, want first switched on, second unchanged (on)", reading(asMap(outlets[0])), reading(asMap(outlets[1])))
	}
}

func TestDisconnectedDeviceGivesUp(t *testing.T) {
	s := newTestServer(t, Options{GiveUpAfter: 30 * time.Millisecond})
	s.Furnish()
	sw, _ := s.Device("binary_switch", "451110")
	ch := channelOf(t, sw)
	if err := s.Update("binary_switch", "451110", map[string]any{"connection": false}); err != nil {
		t.Fatal(err)
	}
	sub := newSubscriber(t, s, ch)
	access, _ := s.IssueTokens()
	a := call(t, "PUT", s.URL+"/binary_switches/451110", access, map[string]any{"desired_state": map[string]any{"powered": true}})
	if a.status != http.StatusOK || desired(a.data())["powered"] != true {
		t.Fatalf("PUT: %d %s", a.status, a.raw)
	}
	obj := pushedObject(t, sub.waitMessage(t, ch, func(*pubnub.PNMessage) bool { return true }))
	if reading(obj)["powered"] != false {
		t.Errorf("an offline switch applied powered: %v", reading(obj)["powered"])
	}
	if _, still := desired(obj)["powered"]; still {
		t.Errorf("desired_state not cleared after giving up: %v", desired(obj))
	}
}

func TestFailNextPollsDisconnectsTheSDK(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	sw, _ := s.Device("binary_switch", "451110")
	ch := channelOf(t, sw)
	sub := newSubscriber(t, s, ch)
	s.FailNextPolls(1, http.StatusInternalServerError)
	// End the held poll with a push; the poll after it fails.
	if err := s.Update("binary_switch", "451110", map[string]any{"powered": true}); err != nil {
		t.Fatal(err)
	}
	sub.waitStatus(t, pubnub.PNDisconnectedUnexpectedlyCategory)

	// Resubscribing resumes from the last timetoken and gets what was
	// pushed while the SDK was disconnected.
	if err := s.Update("binary_switch", "451110", map[string]any{"powered": false}); err != nil {
		t.Fatal(err)
	}
	sub.pn.Subscribe().Channels([]string{ch}).Execute()
	obj := pushedObject(t, sub.waitMessage(t, ch, func(m *pubnub.PNMessage) bool {
		return reading(pushedObject(t, m))["powered"] == false
	}))
	if reading(obj)["powered"] != false {
		t.Errorf("missed push not delivered after resubscribe")
	}
}

func TestDropPushes(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	sw, _ := s.Device("binary_switch", "451110")
	ch := channelOf(t, sw)
	sub := newSubscriber(t, s, ch)
	s.DropPushes(1)
	if err := s.Update("binary_switch", "451110", map[string]any{"powered": true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename("binary_switch", "451110", "Front porch"); err != nil {
		t.Fatal(err)
	}
	obj := pushedObject(t, sub.waitMessage(t, ch, func(*pubnub.PNMessage) bool { return true }))
	if obj["name"] != "Front porch" {
		t.Errorf("first delivered push is %v; the dropped one arrived", obj["name"])
	}
}

var timetoken17 = regexp.MustCompile(`^[0-9]{17}$`)

func TestSubscribeWireFormat(t *testing.T) {
	s := newTestServer(t, Options{HoldPoll: 50 * time.Millisecond})
	get := func(path string) answer {
		return call(t, "GET", s.PubNubOrigin+path, "", nil)
	}
	hs := get("/v2/subscribe/" + s.SubscribeKey + "/a%7Cb,c/0?tr=0&uuid=x")
	tt := asMap(hs.body["t"])
	tts, _ := tt["t"].(string)
	if hs.status != http.StatusOK || !timetoken17.MatchString(tts) || tt["r"] != float64(region) {
		t.Fatalf("handshake: %d %s", hs.status, hs.raw)
	}
	// An idle poll is held, then answered empty with the same timetoken.
	idle := get("/v2/subscribe/" + s.SubscribeKey + "/a%7Cb,c/0?tt=" + tts + "&tr=12")
	if asMap(idle.body["t"])["t"] != tts || len(idle.body["m"].([]any)) != 0 {
		t.Fatalf("idle poll: %s", idle.raw)
	}
	s.hub.publish("c", map[string]any{"x": 1}, publisherUUID, false)
	got := get("/v2/subscribe/" + s.SubscribeKey + "/a%7Cb,c/0?tt=" + tts + "&tr=12")
	var env struct {
		T struct {
			T string `json:"t"`
			R int8   `json:"r"`
		} `json:"t"`
		M []struct {
			A, B, C, I, K string
			F             int
			P             struct {
				T string `json:"t"`
				R int    `json:"r"`
			} `json:"p"`
			D map[string]any `json:"d"`
		} `json:"m"`
	}
	if err := json.Unmarshal(got.raw, &env); err != nil {
		t.Fatalf("poll answer does not decode with the SDK's field types: %v: %s", err, got.raw)
	}
	if len(env.M) != 1 || env.M[0].C != "c" || env.M[0].K != s.SubscribeKey || env.M[0].P.T != env.T.T {
		t.Fatalf("poll answer: %s", got.raw)
	}
	a, _ := strconv.ParseInt(tts, 10, 64)
	b, _ := strconv.ParseInt(env.T.T, 10, 64)
	if b <= a {
		t.Errorf("timetoken did not increase: %d then %d", a, b)
	}

	if bad := get("/v2/subscribe/sub-c-wrong/a/0?tr=0"); bad.status != http.StatusBadRequest {
		t.Errorf("wrong subscribe key: %d, want 400", bad.status)
	}
	tm := call(t, "GET", s.PubNubOrigin+"/time/0", "", nil)
	if tm.status != http.StatusOK || !timetoken17.Match(tm.raw[1:len(tm.raw)-1]) {
		t.Errorf("/time/0 = %s", tm.raw)
	}
}

func TestAnimateChangesSensors(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	pod, _ := s.Device("sensor_pod", "198190")
	ch := channelOf(t, pod)
	sub := newSubscriber(t, s, ch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Animate(ctx, 5*time.Millisecond); close(done) }()
	obj := pushedObject(t, sub.waitMessage(t, ch, func(*pubnub.PNMessage) bool { return true }))
	if reading(obj)["motion"] != true {
		t.Errorf("first animation step: motion = %v, want true", reading(obj)["motion"])
	}
	cancel()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Animate did not return after its context ended")
	}
}

func TestSDKPublishIsDelivered(t *testing.T) {
	s := newTestServer(t, Options{})
	sub := newSubscriber(t, s, "test-channel")
	_, status, err := sub.pn.Publish().Channel("test-channel").Message(map[string]any{"hello": "wink"}).Execute()
	if err != nil || status.StatusCode != http.StatusOK {
		t.Fatalf("publish: %v (status %d)", err, status.StatusCode)
	}
	m := sub.waitMessage(t, "test-channel", func(*pubnub.PNMessage) bool { return true })
	if asMap(m.Message)["hello"] != "wink" {
		t.Errorf("published message = %v", m.Message)
	}
}

func TestSubscribeRefusesTooManyChannels(t *testing.T) {
	s := newTestServer(t, Options{HoldPoll: 50 * time.Millisecond})
	list := func(n, width int) string {
		chans := make([]string, n)
		for i := range chans {
			chans[i] = fmt.Sprintf("%0*d%%7Clight_bulb-%d%%7Cuser-1", width, i, i)
		}
		return strings.Join(chans, ",")
	}
	get := func(chans string) answer {
		return call(t, "GET", s.PubNubOrigin+"/v2/subscribe/"+s.SubscribeKey+"/"+chans+"/0?tr=0&uuid=x", "", nil)
	}
	if ok := get(list(MaxSubscribeChannels, 40)); ok.status != http.StatusOK {
		t.Errorf("%d channels: %d %s, want 200", MaxSubscribeChannels, ok.status, ok.raw)
	}
	if many := get(list(MaxSubscribeChannels+1, 40)); many.status != http.StatusBadRequest || many.body["message"] != "Client Error" {
		t.Errorf("%d channels: %d %s, want 400 Client Error", MaxSubscribeChannels+1, many.status, many.raw)
	}
	if long := get(list(MaxSubscribeChannels, 400)); long.status != http.StatusRequestURITooLong {
		t.Errorf("a %d-byte channel list: %d, want 414", len(list(MaxSubscribeChannels, 400)), long.status)
	}
}

func TestSubscribeDeliversTheNewestHundredOfMore(t *testing.T) {
	s := newTestServer(t, Options{HoldPoll: 50 * time.Millisecond})
	// Two channels, so that each one's history holds all of its messages.
	hs := call(t, "GET", s.PubNubOrigin+"/v2/subscribe/"+s.SubscribeKey+"/c,d/0?tr=0&uuid=x", "", nil)
	tts, _ := asMap(hs.body["t"])["t"].(string)
	for i := range maxMessagesPerPoll + 20 {
		s.hub.publish([]string{"c", "d"}[i%2], map[string]any{"n": i}, publisherUUID, false)
	}
	got := call(t, "GET", s.PubNubOrigin+"/v2/subscribe/"+s.SubscribeKey+"/c,d/0?tt="+tts+"&tr=12", "", nil)
	msgs, _ := got.body["m"].([]any)
	if len(msgs) != maxMessagesPerPoll {
		t.Fatalf("%d messages in the answer, want %d", len(msgs), maxMessagesPerPoll)
	}
	if first := asMap(asMap(msgs[0])["d"])["n"]; first != float64(20) {
		t.Errorf("the answer starts at message %v, want 20: the oldest are lost as PubNub's queue loses them", first)
	}
}
