package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/web"
)

const testTimeout = 5 * time.Second

const (
	clientSecret = "page-test-client-secret"
	pagePassword = "page-test-password"
)

type source struct {
	accounts []web.AccountView
	devices  []web.DeviceView
}

func (s source) Accounts() []web.AccountView { return s.accounts }
func (s source) Devices() []web.DeviceView   { return s.devices }

var testSource = source{
	accounts: []web.AccountView{
		{Name: "wink", Cloud: "wink", Status: "auth_required", Push: "polling", Error: "log in again", CanLogin: true},
		{Name: "homey-home", Cloud: "homey", Status: "connected", Push: "live", TokenExpiry: time.Now().Add(3*time.Hour + 30*time.Second),
			Path: "cloud", PathReason: "local_secure did not answer"},
	},
	devices: []web.DeviceView{
		{Account: "homey-home", Name: "Kitchen lamp", Type: "light", Topic: "cloud2mqtt/homey-home/kitchen_lamp", Available: true,
			State:     map[string]any{"state": "ON", "brightness": 128, "color": map[string]any{"h": 223.2, "s": 75.0}},
			UpdatedAt: time.Now().Add(-5*time.Minute - 10*time.Second)},
		{Account: "homey-home", Name: "Hall sensor", Type: "sensor", Topic: "cloud2mqtt/homey-home/hall_sensor", Available: true,
			State: map[string]any{"temperature": 20.8, "battery": 64}, Units: map[string]string{"temperature": "°C", "battery": "%"}},
		{Account: "wink", Name: "Front door", Type: "lock", Topic: "cloud2mqtt/wink/front_door", State: map[string]any{"locked": true}},
	},
}

// env is a page served on loopback with a Wink account that can log in.
type env struct {
	srv    *winktest.Server
	store  *tokenstore.Store
	page   *web.Server
	url    string
	client *http.Client // the browser

	mu     sync.Mutex
	bodies []string // every page body the browser saw
}

func newEnv(t *testing.T, password string) *env {
	t.Helper()
	e := &env{}
	e.srv = winktest.NewServer(winktest.Options{ClientSecret: clientSecret, JWTAccessTokens: true})
	t.Cleanup(e.srv.Close)
	var err error
	if e.store, err = tokenstore.Open(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	wc, err := wink.New(wink.Config{Account: "wink", ClientID: "winktest-client", ClientSecret: clientSecret, APIURL: e.srv.URL, Tokens: e.store})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.url = "http://" + ln.Addr().String()
	e.page, err = web.New(web.Options{Listen: ln.Addr().String(), Password: password, Source: testSource,
		Logins: map[string]auth.Loginer{"wink": wc}, PublicURL: e.url})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.page.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(testTimeout):
			t.Error("Serve did not return after its context ended")
		}
	})
	e.client = &http.Client{Timeout: testTimeout, Transport: &recorder{e: e, password: password}}
	return e
}

// recorder is the browser's transport: it sends the page password (a
// browser remembers basic auth per origin) and keeps every body it saw.
type recorder struct {
	e        *env
	password string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.password != "" && strings.HasPrefix(req.URL.String(), r.e.url) {
		req = req.Clone(req.Context())
		req.SetBasicAuth("admin", r.password)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.e.mu.Lock()
	r.e.bodies = append(r.e.bodies, string(b))
	r.e.mu.Unlock()
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp, nil
}

func (e *env) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := e.client.Get(e.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// connect presses Connect for account and follows the browser through the
// authorization page and the callback back to the page.
func (e *env) connect(t *testing.T, account string) (int, string) {
	t.Helper()
	_, page := e.get(t, "/")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no Connect form on the page:\n%s", page)
	}
	resp, err := e.client.PostForm(e.url+"/connect", url.Values{"csrf": {m[1]}, "account": {account}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPageListsAccountsAndDevices(t *testing.T) {
	e := newEnv(t, "")
	status, page := e.get(t, "/")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		`data-account="wink"`, "auth_required", "polling", "log in again", `data-account="homey-home"`, "connected", "live", "in 3 h<", "unknown", "<dt>Path</dt><dd>cloud (local_secure did not answer)</dd>",
		"Kitchen lamp", "cloud2mqtt/homey-home/kitchen_lamp", "<dt>Brightness</dt><dd data-field=\"Brightness\">128 (50 %)", "<dt>State</dt><dd data-field=\"State\">ON",
		`<span class="swatch" style="background:hsl(223.2,75.0%,50%)"></span>h 223.2°, s 75 %`, "updated 5 min ago",
		"20.8 °C", "64 %", "Front door", "<dt>Locked</dt><dd data-field=\"Locked\">yes", "offline", "online",
		e.url + "/callback", `name="viewport" content="width=device-width, initial-scale=1"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, "<button"); n != 1 {
		t.Errorf("%d Connect buttons, want 1 (only wink can log in)", n)
	}
	if status, _ := e.get(t, "/nothing"); status != http.StatusNotFound {
		t.Errorf("unknown path: status %d, want 404", status)
	}
}

func TestConnectLogsIn(t *testing.T) {
	e := newEnv(t, "")
	status, page := e.connect(t, "wink")
	if status != http.StatusOK || !strings.Contains(page, "Account wink is connected") {
		t.Fatalf("after Connect: status %d\n%s", status, page)
	}
	tok, ok, err := e.store.Load("wink")
	if err != nil || !ok || tok.AccessToken == "" {
		t.Fatalf("no token stored: %v %v", ok, err)
	}
	if _, again := e.get(t, "/"); strings.Contains(again, "is connected") {
		t.Error("the result was shown twice")
	}
}

func TestForgedCallbackIsRejected(t *testing.T) {
	e := newEnv(t, "")
	q := url.Values{"code": {e.srv.NewAuthorizationCode()}, "state": {"forged"}}
	status, page := e.get(t, "/callback?"+q.Encode())
	if status != http.StatusOK || !strings.Contains(page, "failed: state mismatch") {
		t.Fatalf("forged callback: status %d\n%s", status, page)
	}
	if _, ok, _ := e.store.Load("wink"); ok {
		t.Error("a forged callback stored a token")
	}
}

func TestDeniedLoginIsExplained(t *testing.T) {
	e := newEnv(t, "")
	e.srv.DenyNextAuthorization()
	_, page := e.connect(t, "wink")
	if !strings.Contains(page, "The login of account wink failed: the user denied access") {
		t.Fatalf("page:\n%s", page)
	}
}

func TestConnectNeedsTheFormToken(t *testing.T) {
	e := newEnv(t, "")
	resp, err := e.client.PostForm(e.url+"/connect", url.Values{"account": {"wink"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("Connect without the token: status %d, want 403", resp.StatusCode)
	}
	if n := e.srv.CountRequests("", "/oauth2/authorize"); n != 0 {
		t.Errorf("a login was started: %d authorize requests", n)
	}
}

func TestPublicAddressNeedsAPassword(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:8099", ":8099", "192.168.1.2:8099", "[::]:8099"} {
		_, err := web.New(web.Options{Listen: listen, Source: testSource})
		if err == nil || !strings.Contains(err.Error(), "web.password") {
			t.Errorf("Listen %s without a password: %v, want an error naming web.password", listen, err)
		}
		if _, err := web.New(web.Options{Listen: listen, Password: "x", Source: testSource}); err != nil {
			t.Errorf("Listen %s with a password: %v", listen, err)
		}
	}
	for _, listen := range []string{"127.0.0.1:8099", "localhost:8099", "[::1]:8099", ""} {
		if _, err := web.New(web.Options{Listen: listen, Source: testSource}); err != nil {
			t.Errorf("Listen %q: %v", listen, err)
		}
	}
}

func TestPasswordIsRequired(t *testing.T) {
	s, err := web.New(web.Options{Listen: "0.0.0.0:8099", Password: pagePassword, Source: testSource})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user, pw string
		set      bool
		want     int
	}{{set: false, want: 401}, {"admin", "wrong", true, 401}, {"admin", pagePassword, true, 200}} {
		req := httptest.NewRequest("GET", "http://127.0.0.1:8099/", nil)
		if c.set {
			req.SetBasicAuth(c.user, c.pw)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("auth %q/%q: status %d, want %d", c.user, c.pw, rec.Code, c.want)
		}
		if c.want == 401 && (rec.Header().Get("WWW-Authenticate") == "" || strings.Contains(rec.Body.String(), "Kitchen lamp")) {
			t.Errorf("401 without a challenge or with content")
		}
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8099/callback?code=x&state=y", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("callback without the password: status %d, want 401", rec.Code)
	}
}

func TestNoSecretOnAnyPage(t *testing.T) {
	e := newEnv(t, pagePassword)
	e.srv.DenyNextAuthorization()
	e.connect(t, "wink")
	if status, page := e.connect(t, "wink"); status != http.StatusOK || !strings.Contains(page, "is connected") {
		t.Fatalf("login behind a password: status %d\n%s", status, page)
	}
	e.get(t, "/callback?code=forged&state=forged")
	e.get(t, "/")
	tok, ok, _ := e.store.Load("wink")
	if !ok {
		t.Fatal("no token stored")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.bodies) < 8 {
		t.Fatalf("only %d pages seen", len(e.bodies))
	}
	for _, body := range e.bodies {
		for _, secret := range []string{clientSecret, pagePassword, tok.AccessToken, tok.RefreshToken} {
			if strings.Contains(body, secret) {
				t.Errorf("a page holds a secret:\n%s", body)
			}
		}
	}
}
