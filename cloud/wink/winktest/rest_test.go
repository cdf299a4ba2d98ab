package winktest

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var deviceChannel = regexp.MustCompile(`^[0-9a-f]{40}\|([a-z_]+-[0-9]+)\|user-[0-9]+$`)

func TestFurnishedHomeListing(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	access, _ := s.IssueTokens()
	a := call(t, "GET", s.URL+"/users/me/wink_devices", access, nil)
	if a.status != http.StatusOK {
		t.Fatalf("list: %d %s", a.status, a.raw)
	}
	list, _ := a.body["data"].([]any)
	if len(list) < 14 {
		t.Fatalf("furnished home has %d devices, want at least 14", len(list))
	}
	if got := asMap(a.body["pagination"])["count"]; got != float64(len(list)) {
		t.Errorf("pagination.count = %v, want %d", got, len(list))
	}
	if errs := a.errs(); errs == nil || len(errs) != 0 {
		t.Errorf("errors = %v, want []", a.body["errors"])
	}
	types := map[string]int{}
	for _, x := range list {
		d := asMap(x)
		typ, id := str(d["object_type"]), str(d["object_id"])
		types[typ]++
		if d[typ+"_id"] != id {
			t.Errorf("%s-%s: %s_id = %v", typ, id, typ, d[typ+"_id"])
		}
		sub := asMap(asMap(d["subscription"])["pubnub"])
		if sub["subscribe_key"] != s.SubscribeKey {
			t.Errorf("%s-%s: subscribe_key = %v", typ, id, sub["subscribe_key"])
		}
		m := deviceChannel.FindStringSubmatch(str(sub["channel"]))
		if m == nil || m[1] != typ+"-"+id {
			t.Errorf("%s-%s: channel %q does not look like <40 hex>|%s-%s|user-<id>", typ, id, sub["channel"], typ, id)
		}
		if reading(d)["connection"] != true {
			t.Errorf("%s-%s is not connected", typ, id)
		}
		if typ != "hub" && d["hub_id"] != HubID {
			t.Errorf("%s-%s: hub_id = %v, want %s", typ, id, d["hub_id"], HubID)
		}
	}
	for _, typ := range []string{"hub", "light_bulb", "binary_switch", "lock", "fan", "thermostat", "shade", "garage_door", "sensor_pod", "smoke_detector", "siren", "powerstrip", "remote"} {
		if types[typ] == 0 {
			t.Errorf("furnished home lacks a %s", typ)
		}
	}
	if str(asMap(asMap(a.body["subscription"])["pubnub"])["channel"]) != s.UserChannel() {
		t.Errorf("device list subscription is not the user channel")
	}
	me := call(t, "GET", s.URL+"/users/me", access, nil)
	if str(asMap(asMap(me.data()["subscription"])["pubnub"])["channel"]) != s.UserChannel() {
		t.Errorf("/users/me subscription channel = %v, want the user channel", me.data()["subscription"])
	}
}

func TestGetByPlural(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	access, _ := s.IssueTokens()
	a := call(t, "GET", s.URL+"/binary_switches/451110", access, nil)
	if a.status != http.StatusOK || a.data()["object_type"] != "binary_switch" || a.data()["name"] != "Porch light" {
		t.Fatalf("GET /binary_switches/451110: %d %s", a.status, a.raw)
	}
	if len(asMap(a.body["pagination"])) != 0 {
		t.Errorf("single object pagination = %v, want {}", a.body["pagination"])
	}
	if a := call(t, "GET", s.URL+"/light_bulbs/2194253", access, nil); a.status != http.StatusOK {
		t.Fatalf("GET /light_bulbs/2194253: %d", a.status)
	}
	for _, path := range []string{"/binary_switchs/451110", "/light_bulbs/999", "/widgets/1"} {
		a := call(t, "GET", s.URL+path, access, nil)
		if a.status != http.StatusNotFound || a.body["data"] != nil || a.firstError() == "" {
			t.Errorf("GET %s: %d %s, want 404 envelope", path, a.status, a.raw)
		}
	}
}

func TestPutRespondsWithDesiredStateThenApplies(t *testing.T) {
	s := newTestServer(t, Options{ApplyDelay: 10 * time.Millisecond})
	s.Furnish()
	access, _ := s.IssueTokens()
	a := call(t, "PUT", s.URL+"/locks/109898", access, map[string]any{"desired_state": map[string]any{"locked": false}})
	if a.status != http.StatusOK {
		t.Fatalf("PUT lock: %d %s", a.status, a.raw)
	}
	if desired(a.data())["locked"] != false || reading(a.data())["locked"] != true {
		t.Fatalf("PUT answer: desired locked %v, last_reading locked %v; want false / still true", desired(a.data())["locked"], reading(a.data())["locked"])
	}
	if _, ok := reading(a.data())["desired_locked_updated_at"].(float64); !ok {
		t.Errorf("no desired_locked_updated_at after PUT")
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		d, _ := s.Device("lock", "109898")
		if reading(d)["locked"] == false {
			if _, still := desired(d)["locked"]; still {
				t.Errorf("locked still in desired_state after it was applied")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("desired locked=false never applied to last_reading")
		}
		<-time.After(5 * time.Millisecond)
	}
}

func TestPutValidation(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	access, _ := s.IssueTokens()
	cases := []struct {
		name, path string
		body       any
		want       string
	}{
		{"no desired_state on /desired_state", "/light_bulbs/2194253/desired_state", map[string]any{"powered": true}, "missing desired_state hash"},
		{"nothing to change", "/light_bulbs/2194253", map[string]any{"nonce": 5}, "missing desired_state hash"},
		{"desired_state not a hash", "/light_bulbs/2194253", map[string]any{"desired_state": true}, "missing desired_state hash"},
		{"read-only battery", "/locks/109898", map[string]any{"desired_state": map[string]any{"battery": 0.5}}, "battery is read-only"},
		{"read-only sensor", "/sensor_pods/198184/desired_state", map[string]any{"desired_state": map[string]any{"opened": true}}, "opened is read-only"},
		{"connection", "/shades/31045", map[string]any{"desired_state": map[string]any{"connection": false}}, "connection is read-only"},
		{"bad choice", "/fans/27001", map[string]any{"desired_state": map[string]any{"mode": "turbo"}}, "mode must be one of"},
		{"out of range", "/light_bulbs/2194260", map[string]any{"desired_state": map[string]any{"color_temperature": 9000}}, "between 2000 and 6500"},
		{"wrong type", "/binary_switches/451110", map[string]any{"desired_state": map[string]any{"powered": "on"}}, "powered must be true or false"},
		{"too many outlets", "/powerstrips/24313", map[string]any{"outlets": []any{map[string]any{}, map[string]any{}, map[string]any{}}}, "outlets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := call(t, "PUT", s.URL+c.path, access, c.body)
			if a.status != http.StatusBadRequest || a.body["data"] != nil {
				t.Fatalf("status %d %s, want 400 envelope", a.status, a.raw)
			}
			if !strings.Contains(a.firstError(), c.want) {
				t.Errorf("error %q does not contain %q", a.firstError(), c.want)
			}
		})
	}
	if d, _ := s.Device("lock", "109898"); len(desired(d)) != 0 {
		t.Errorf("a rejected PUT changed desired_state: %v", desired(d))
	}
}

func TestThrottleAnswers429WithRetryAfter(t *testing.T) {
	s := newTestServer(t, Options{})
	access, _ := s.IssueTokens()
	s.ThrottleNext(1, 1500*time.Millisecond)
	a := call(t, "GET", s.URL+"/users/me", access, nil)
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", a.status)
	}
	if got := a.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (seconds, rounded up)", got)
	}
	if a.header.Get("X-RateLimit-Limit") != "50" || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("rate limit headers: %v", a.header)
	}
	if _, err := time.Parse(time.RFC3339, a.header.Get("X-RateLimit-Reset")); err != nil {
		t.Errorf("X-RateLimit-Reset %q is not an ISO time: %v", a.header.Get("X-RateLimit-Reset"), err)
	}
	if a.firstError() != "You have been throttled. Please try again later." || a.body["data"] != nil {
		t.Errorf("429 body = %s", a.raw)
	}
	if a := call(t, "GET", s.URL+"/users/me", access, nil); a.status != http.StatusOK {
		t.Errorf("call after the throttled one: %d, want 200", a.status)
	}
}

func TestFailNext(t *testing.T) {
	s := newTestServer(t, Options{})
	access, _ := s.IssueTokens()
	s.FailNext(2, http.StatusServiceUnavailable)
	for i := 0; i < 2; i++ {
		a := call(t, "GET", s.URL+"/users/me/wink_devices", access, nil)
		if a.status != http.StatusServiceUnavailable || a.body["data"] != nil || a.firstError() == "" {
			t.Fatalf("call %d: %d %s, want 503 envelope", i, a.status, a.raw)
		}
	}
	if a := call(t, "GET", s.URL+"/users/me/wink_devices", access, nil); a.status != http.StatusOK {
		t.Errorf("third call: %d, want 200", a.status)
	}
}

func TestRequestsAreRecorded(t *testing.T) {
	s := newTestServer(t, Options{})
	access, _ := s.IssueTokens()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	done := make(chan Request, 1)
	go func() {
		r, err := s.WaitRequest(ctx, func(r Request) bool { return r.Method == "POST" && r.Path == "/users/me/session" })
		if err == nil {
			done <- r
		}
		close(done)
	}()
	call(t, "GET", s.URL+"/users/me", access, nil)
	if a := call(t, "POST", s.URL+"/users/me/session", access, map[string]any{"nonce": "123456789"}); a.status != http.StatusOK {
		t.Fatalf("session: %d", a.status)
	}
	r, ok := <-done
	if !ok {
		t.Fatalf("WaitRequest did not see the session call")
	}
	if r.Header.Get("User-Agent") != testUA || !strings.Contains(string(r.Body), "123456789") {
		t.Errorf("recorded request: UA %q body %s", r.Header.Get("User-Agent"), r.Body)
	}
	if n := s.CountRequests("GET", "/users/me"); n != 1 {
		t.Errorf("CountRequests(GET /users/me) = %d, want 1", n)
	}
	if n := len(s.Requests()); n != 2 {
		t.Errorf("Requests() has %d entries, want 2", n)
	}
	cancelled, stop := context.WithCancel(context.Background())
	stop()
	if _, err := s.WaitRequest(cancelled, func(Request) bool { return false }); err == nil {
		t.Errorf("WaitRequest with a cancelled context returned no error")
	}
}

func TestPutNameRenames(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	access, _ := s.IssueTokens()
	a := call(t, "PUT", s.URL+"/shades/31045", access, map[string]any{"name": "Study shade"})
	if a.status != http.StatusOK || a.data()["name"] != "Study shade" {
		t.Fatalf("rename: %d %s", a.status, a.raw)
	}
	me := call(t, "GET", s.URL+"/users/me", access, nil)
	if uuid := str(me.data()["uuid"]); strings.Contains(uuid, " ") {
		t.Errorf("user uuid %q contains spaces", uuid)
	}
}
