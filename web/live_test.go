package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/web"
)

// liveSource is a Source whose devices change, telling subscribers.
type liveSource struct {
	mu       sync.Mutex
	accounts []web.AccountView
	devices  []web.DeviceView
	subs     map[chan struct{}]bool
}

func (s *liveSource) Accounts() []web.AccountView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]web.AccountView(nil), s.accounts...)
}

func (s *liveSource) Devices() []web.DeviceView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]web.DeviceView(nil), s.devices...)
}

func (s *liveSource) SubscribeChanges() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[chan struct{}]bool{}
	}
	s.subs[ch] = true
	s.mu.Unlock()
	return ch, func() { s.mu.Lock(); delete(s.subs, ch); s.mu.Unlock() }
}

func (s *liveSource) subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// set changes one device's state and tells the subscribers.
func (s *liveSource) set(i int, state map[string]any) {
	s.mu.Lock()
	s.devices[i].State = state
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
}

// serve runs a page on loopback and returns its base URL.
func serve(t *testing.T, o web.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Listen = ln.Addr().String()
	page, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- page.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(testTimeout):
			t.Error("Serve did not return after its context ended (an event stream held it?)")
		}
	})
	return "http://" + ln.Addr().String()
}

func TestPageUpdatesItselfWhenADeviceChanges(t *testing.T) {
	src := &liveSource{devices: []web.DeviceView{{Account: "wink", Name: "Desk lamp", Type: "light",
		Topic: "cloud2mqtt/wink/desk_lamp", Available: true, State: map[string]any{"state": "OFF"}}}}
	base := serve(t, web.Options{Source: src})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := bufio.NewScanner(resp.Body)
	events.Buffer(nil, 1<<20)
	next := func() map[string]string {
		t.Helper()
		name := ""
		for events.Scan() {
			line := events.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok && name == "update" {
				var u map[string]string
				if err := json.Unmarshal([]byte(v), &u); err != nil {
					t.Fatalf("update is not JSON: %v", err)
				}
				return u
			}
		}
		t.Fatalf("the event stream ended: %v", events.Err())
		return nil
	}
	first := next()
	if !strings.Contains(first["devices"], `data-field="State">OFF`) {
		t.Fatalf("first update lacks the lamp's state:\n%s", first["devices"])
	}
	src.set(0, map[string]any{"state": "ON", "brightness": 255})
	second := next()
	if !strings.Contains(second["devices"], `data-field="State">ON`) || !strings.Contains(second["devices"], "255 (100 %)") {
		t.Fatalf("the update after the change lacks the new state:\n%s", second["devices"])
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(testTimeout)
	for src.subscribers() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	if n := src.subscribers(); n != 0 {
		t.Errorf("%d subscriptions left after the browser went away", n)
	}
}

func TestPageScriptIsServed(t *testing.T) {
	base := serve(t, web.Options{Source: testSource})
	resp, err := http.Get(base + "/app.js")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(b.String(), `new EventSource("events")`) {
		t.Fatalf("app.js: %d\n%s", resp.StatusCode, b.String())
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q does not allow the page's own script", csp)
	}
}

func TestHealthz(t *testing.T) {
	for _, c := range []struct {
		name      string
		connected bool
		accounts  []web.AccountView
		want      int
		says      string
	}{
		{"healthy", true, []web.AccountView{{Name: "wink", Status: "connected"}, {Name: "home", Status: "auth_required"}}, 200, `"status":"ok"`},
		{"broker down", false, []web.AccountView{{Name: "wink", Status: "connected"}}, 503, "the MQTT broker is not connected"},
		{"account in error", true, []web.AccountView{{Name: "wink", Status: "error", Error: "wink: list devices: 500"}}, 503, "account wink is in error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := &liveSource{accounts: c.accounts}
			s, err := web.New(web.Options{Listen: "0.0.0.0:8099", Password: pagePassword, Source: src,
				BrokerConnected: func() bool { return c.connected }})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://cloud2mqtt:8099/healthz", nil))
			if rec.Code != c.want || !strings.Contains(rec.Body.String(), c.says) {
				t.Fatalf("status %d, body %s; want %d saying %q", rec.Code, rec.Body, c.want, c.says)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var h struct {
				Status   string            `json:"status"`
				Broker   string            `json:"broker"`
				Accounts map[string]string `json:"accounts"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if h.Accounts[c.accounts[0].Name] != c.accounts[0].Status {
				t.Errorf("accounts %v", h.Accounts)
			}
			if strings.Contains(rec.Body.String(), "500") {
				t.Errorf("/healthz shows an account's error text: %s", rec.Body)
			}
		})
	}
}

func TestMetricsNeedThePassword(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("cloud2mqtt_up 1\n")) })
	s, err := web.New(web.Options{Listen: "0.0.0.0:8099", Password: pagePassword, Source: testSource, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", pagePassword} {
		req := httptest.NewRequest("GET", "http://127.0.0.1:8099/metrics", nil)
		want := http.StatusUnauthorized
		if pw != "" {
			req.SetBasicAuth("prometheus", pw)
			want = http.StatusOK
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("/metrics with password %v: status %d, want %d", pw != "", rec.Code, want)
		}
	}
}

func TestOtherHostNamesAreRefused(t *testing.T) {
	s, err := web.New(web.Options{Listen: "127.0.0.1:8099", Source: testSource, PublicURL: "https://home.example.net/c2m"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]int{
		"127.0.0.1:8099": 200, "localhost:8099": 200, "[::1]:8099": 200, "home.example.net": 200, "HOME.example.net:443": 200,
		"rebound.attacker.example:8099": http.StatusMisdirectedRequest, "192.168.1.9:8099": http.StatusMisdirectedRequest,
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: status %d, want %d", host, rec.Code, want)
		}
		if want != 200 && strings.Contains(rec.Body.String(), "Kitchen lamp") {
			t.Errorf("Host %s: refused but shows the devices", host)
		}
	}
}

// Listening on every address, the page answers any IP literal (a
// container's published port) but still only its own names.
func TestWildcardListenAnswersAddressesButNotOtherNames(t *testing.T) {
	s, err := web.New(web.Options{Listen: "0.0.0.0:8099", Password: pagePassword, Source: testSource})
	if err != nil {
		t.Fatal(err)
	}
	for host, refused := range map[string]bool{"192.168.1.9:8099": false, "[fd00::9]:8099": false, "rebound.attacker.example:8099": true} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if got := rec.Code == http.StatusMisdirectedRequest; got != refused {
			t.Errorf("Host %s: status %d, refused %v, want refused %v", host, rec.Code, got, refused)
		}
	}
}

func TestFormsFromOtherSitesAreRefused(t *testing.T) {
	e := newEnv(t, "")
	_, page := e.get(t, "/")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no form token")
	}
	for _, c := range []struct {
		origin, fetchSite string
		want              int
	}{
		{"https://attacker.example", "", http.StatusForbidden},
		{"null", "", http.StatusForbidden},
		{"", "cross-site", http.StatusForbidden},
		{e.url, "same-origin", http.StatusSeeOther},
	} {
		req, _ := http.NewRequest("POST", e.url+"/connect", strings.NewReader(url.Values{"csrf": {m[1]}, "account": {"wink"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", c.fetchSite)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Origin %q Sec-Fetch-Site %q: status %d, want %d", c.origin, c.fetchSite, resp.StatusCode, c.want)
		}
	}
	if n := e.srv.CountRequests("", "/oauth2/authorize"); n != 0 {
		t.Errorf("%d logins reached the cloud; the test does not follow redirects", n)
	}
}

// logBuffer collects log lines safely.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestRepeatedWrongPasswordsMakeTheAddressWait(t *testing.T) {
	var logs logBuffer
	s, err := web.New(web.Options{Listen: "0.0.0.0:8099", Password: pagePassword, Source: testSource,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	try := func(remote, pw string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://127.0.0.1:8099/", nil)
		req.RemoteAddr = remote
		req.SetBasicAuth("admin", pw)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	for i := range 5 {
		if rec := try("203.0.113.7:4000", "guess"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d", i+1, rec.Code)
		}
	}
	rec := try("203.0.113.7:4001", pagePassword)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("after 5 wrong passwords: status %d Retry-After %q, want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if strings.Contains(rec.Body.String(), "Kitchen lamp") {
		t.Error("a waiting address was shown the page")
	}
	if rec := try("198.51.100.2:4000", pagePassword); rec.Code != http.StatusOK {
		t.Errorf("another address: status %d, want 200", rec.Code)
	}
	out := logs.String()
	if !strings.Contains(out, "repeated wrong passwords") || !strings.Contains(out, "203.0.113.7") {
		t.Errorf("no warning naming the address in the log:\n%s", out)
	}
	if strings.Contains(out, "guess") || strings.Contains(out, pagePassword) {
		t.Errorf("a password is in the log:\n%s", out)
	}
}
