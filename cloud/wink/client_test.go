package wink

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/internal/backoff"
	"golang.org/x/oauth2"
)

const waitTimeout = 10 * time.Second

const lampID = "light_bulb-2194253"

type env struct {
	srv    *winktest.Server
	client *Client
	store  *tokenstore.Store
	seed   string // the configured refresh token
}

func newEnv(t *testing.T, tweak func(*Config)) *env {
	t.Helper()
	srv := winktest.NewServer(winktest.Options{HoldPoll: 300 * time.Millisecond, ApplyDelay: 10 * time.Millisecond})
	t.Cleanup(srv.Close)
	srv.Furnish()
	_, refresh := srv.IssueTokens()
	store, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Account:          "wink",
		ClientID:         "winktest-client",
		ClientSecret:     "winktest-secret",
		RefreshToken:     refresh,
		APIURL:           srv.URL,
		PubNubOrigin:     srv.PubNubOrigin,
		Tokens:           store,
		SubscribeTimeout: 3 * time.Second,
		ResyncInterval:   time.Hour,
		PollInterval:     time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, client: c, store: store, seed: refresh}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestNewValidates(t *testing.T) {
	base := Config{Account: "wink", ClientID: "id", ClientSecret: "secret"}
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.ClientID = "" }, "accounts[].client_id"},
		{func(c *Config) { c.ClientSecret = "" }, "accounts[].client_secret"},
		{func(c *Config) { c.Account = "" }, "accounts[].name"},
		{func(c *Config) { c.Email = "a@b" }, "accounts[].email and accounts[].password"},
		{func(c *Config) { c.APIURL = "ftp://x" }, "accounts[].api_url"},
		{func(c *Config) { c.PubNubOrigin = "https://x" }, "accounts[].pubnub_origin"},
	} {
		cfg := base
		tc.mut(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to name %s", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret\"") {
			t.Errorf("error shows the secret: %v", err)
		}
	}
	c, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.Account() != "wink" || c.Cloud() != "wink" {
		t.Errorf("Account/Cloud = %s/%s", c.Account(), c.Cloud())
	}
}

func TestListFurnishedHome(t *testing.T) {
	e := newEnv(t, nil)
	devs, err := e.client.Devices(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]cloud.Device{}
	for _, d := range devs {
		byID[d.ID] = d
	}
	for id, class := range map[string]cloud.Class{
		lampID:                  cloud.ClassLight,
		"light_bulb-2194260":    cloud.ClassLight,
		"binary_switch-451110":  cloud.ClassSwitch,
		"lock-109898":           cloud.ClassLock,
		"fan-27001":             cloud.ClassFan,
		"thermostat-180437":     cloud.ClassClimate,
		"shade-31045":           cloud.ClassCover,
		"garage_door-72021":     cloud.ClassCover,
		"sensor_pod-198184":     cloud.ClassSensor,
		"smoke_detector-33012":  cloud.ClassSensor,
		"siren-41012":           cloud.ClassSiren,
		"powerstrip-24313":      cloud.ClassHub,
		"outlet-48628":          cloud.ClassSwitch,
		"outlet-48629":          cloud.ClassSwitch,
		"remote-80012":          cloud.ClassSensor,
		"hub-" + winktest.HubID: cloud.ClassHub,
	} {
		d, ok := byID[id]
		if !ok {
			t.Errorf("%s missing from the listing", id)
			continue
		}
		if d.Class != class {
			t.Errorf("%s class %s, want %s", id, d.Class, class)
		}
	}
	if d := byID[lampID]; d.Name != "Bedroom lamp" || d.HubID != "hub-"+winktest.HubID {
		t.Errorf("lamp: %q hub %q", d.Name, d.HubID)
	}
	for _, r := range e.srv.Requests() {
		if r.Path == "/users/me/wink_devices" && r.Header.Get("User-Agent") != UserAgent {
			t.Errorf("User-Agent %q", r.Header.Get("User-Agent"))
		}
	}
	// Device re-reads one device, outlets through their strip.
	d, err := e.client.Device(testCtx(t), "outlet-48629")
	if err != nil || d.ID != "outlet-48629" {
		t.Fatalf("Device(outlet) = %v, %v", d.ID, err)
	}
	if _, err := e.client.Device(testCtx(t), "light_bulb-999"); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("unknown device error %v, want ErrNotFound", err)
	}
}

// waitDevice polls the emulator until its last_reading satisfies ok.
func waitDevice(t *testing.T, srv *winktest.Server, typ, id string, ok func(lr map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		obj, found := srv.Device(typ, id)
		if found {
			if lr, _ := obj["last_reading"].(map[string]any); ok(lr) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s-%s never reached the expected state: %v", typ, id, obj["last_reading"])
		}
	}
}

func TestSetLight(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	d, err := e.client.Set(ctx, lampID, cloud.Change{"on": true, "brightness": 0.4})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != lampID {
		t.Errorf("answer is %s", d.ID)
	}
	req, err := e.srv.WaitRequest(ctx, func(r winktest.Request) bool {
		return r.Method == http.MethodPut && r.Path == "/light_bulbs/2194253/desired_state"
	})
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		DesiredState map[string]any `json:"desired_state"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.DesiredState["powered"] != true || body.DesiredState["brightness"] != 0.4 || len(body.DesiredState) != 2 {
		t.Errorf("desired_state sent %v", body.DesiredState)
	}
	waitDevice(t, e.srv, "light_bulb", "2194253", func(lr map[string]any) bool {
		return lr["powered"] == true && lr["brightness"] == 0.4
	})
	got, err := e.client.Device(ctx, lampID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State["on"] != true || got.State["brightness"] != 0.4 {
		t.Errorf("re-read state %v", got.State)
	}

	_, err = e.client.Set(ctx, "sensor_pod-198184", cloud.Change{"battery": 50.0})
	if err == nil || !strings.HasPrefix(err.Error(), "wink: set sensor_pod-198184: ") || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("read-only set error: %v", err)
	}
}

func TestSetThermostatAndOutlet(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	if _, err := e.client.Set(ctx, "thermostat-180437", cloud.Change{"mode": "cool"}); err != nil {
		t.Fatal(err)
	}
	waitDevice(t, e.srv, "thermostat", "180437", func(lr map[string]any) bool {
		return lr["powered"] == true && lr["mode"] == "cool_only"
	})
	if _, err := e.client.Set(ctx, "outlet-48629", cloud.Change{"on": true}); err != nil {
		t.Fatal(err)
	}
	req, err := e.srv.WaitRequest(ctx, func(r winktest.Request) bool {
		return r.Method == http.MethodPut && r.Path == "/powerstrips/24313"
	})
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Outlets []map[string]any `json:"outlets"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil || len(body.Outlets) != 2 || len(body.Outlets[0]) != 0 {
		t.Fatalf("outlets body %s (%v)", req.Body, err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		d, err := e.client.Device(ctx, "outlet-48629")
		if err == nil && d.State["on"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outlet never switched on: %v %v", d.State, err)
		}
		if err := backoff.Sleep(ctx, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRefreshOnceOn401(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	if _, err := e.client.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	first, ok, _ := e.store.Load("wink")
	if !ok || first.RefreshToken == e.seed || first.RefreshToken == "" {
		t.Fatalf("rotated refresh token not saved: %v", ok)
	}
	before := e.srv.CountRequests(http.MethodPost, "/oauth2/token")
	e.srv.ExpireAccessTokens()
	if _, err := e.client.Device(ctx, lampID); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.CountRequests(http.MethodPost, "/oauth2/token") - before; n != 1 {
		t.Errorf("%d token requests after a 401, want 1", n)
	}
	second, _, _ := e.store.Load("wink")
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Error("the rotated token was not saved after the refresh")
	}
	// The token request was JSON.
	req, _ := e.srv.WaitRequest(ctx, func(r winktest.Request) bool { return r.Path == "/oauth2/token" })
	if req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("token request Content-Type %q", req.Header.Get("Content-Type"))
	}

	// A new client on the same store starts from the saved token, without
	// asking for a new one.
	c2, err := New(Config{Account: "wink", ClientID: "winktest-client", ClientSecret: "winktest-secret",
		APIURL: e.srv.URL, Tokens: e.store})
	if err != nil {
		t.Fatal(err)
	}
	before = e.srv.CountRequests(http.MethodPost, "/oauth2/token")
	if _, err := c2.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.CountRequests(http.MethodPost, "/oauth2/token") - before; n != 0 {
		t.Errorf("%d token requests with a stored token", n)
	}
}

func TestConcurrent401ShareOneRefresh(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	if _, err := e.client.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.ExpireAccessTokens()
	before := e.srv.CountRequests(http.MethodPost, "/oauth2/token")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.client.Device(ctx, lampID)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := e.srv.CountRequests(http.MethodPost, "/oauth2/token") - before; n != 1 {
		t.Errorf("%d token requests for 20 concurrent 401s, want 1", n)
	}
}

func TestInvalidGrant(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	if _, err := e.client.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.RevokeRefreshTokens()
	e.srv.ExpireAccessTokens()
	_, err := e.client.Devices(ctx)
	if !errors.Is(err, cloud.ErrAuth) {
		t.Fatalf("error %v, want ErrAuth", err)
	}
	for _, want := range []string{"invalid_grant", "cloud2mqtt auth login wink", "wink: list devices"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// The dead refresh token is not tried again and again.
	before := e.srv.CountRequests(http.MethodPost, "/oauth2/token")
	if _, err := e.client.Devices(ctx); !errors.Is(err, cloud.ErrAuth) {
		t.Errorf("second call: %v", err)
	}
	if n := e.srv.CountRequests(http.MethodPost, "/oauth2/token") - before; n != 0 {
		t.Errorf("%d token requests with a known-dead refresh token", n)
	}
}

func TestPasswordGrant(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.RefreshToken = ""
		c.Email, c.Password = "demo@example.com", "demo-password"
	})
	ctx := testCtx(t)
	if _, err := e.client.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := e.srv.WaitRequest(ctx, func(r winktest.Request) bool { return r.Path == "/oauth2/token" })
	if !strings.Contains(string(req.Body), `"grant_type":"password"`) {
		t.Errorf("token request %s", req.Body)
	}
	if tok, ok, _ := e.store.Load("wink"); !ok || tok.RefreshToken == "" {
		t.Error("password grant token not saved")
	}

	bad := newEnv(t, func(c *Config) {
		c.RefreshToken = ""
		c.Email, c.Password = "demo@example.com", "wrong"
	})
	_, err := bad.client.Devices(ctx)
	if !errors.Is(err, cloud.ErrAuth) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v", err)
	}
}

func TestExplainPasswordGrantRefused(t *testing.T) {
	c := &Client{cfg: Config{Account: "home"}}
	e := c.authError("password", "invalid_grant", "This client is not permitted to use the password grant type")
	msg := e.Error()
	for _, want := range []string{"not permitted to use the password grant type", "authorise in the browser", "cloud2mqtt auth login home"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if cause, fix := e.Explanation(); !strings.Contains(cause, "Wink no longer lets") || !strings.Contains(fix, "remove accounts[].email") {
		t.Errorf("explanation = %q / %q", cause, fix)
	}
	if !errors.Is(e, cloud.ErrAuth) {
		t.Error("AuthError does not wrap ErrAuth")
	}
}

func TestThrottleHonoured(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	if _, err := e.client.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	before := e.srv.CountRequests(http.MethodGet, "/users/me/wink_devices")
	e.srv.ThrottleNext(1, time.Second)
	start := time.Now()
	if _, err := e.client.Devices(ctx); err != nil {
		t.Fatalf("a single 429 should be retried: %v", err)
	}
	if n := e.srv.CountRequests(http.MethodGet, "/users/me/wink_devices") - before; n != 2 {
		t.Errorf("%d list requests, want 2", n)
	}
	if time.Since(start) < time.Second {
		t.Error("Retry-After not honoured")
	}

	e.srv.ThrottleNext(10, time.Second)
	_, err := e.client.Devices(ctx)
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "throttled") {
		t.Errorf("persistent throttling: %v", err)
	}
	e.srv.ThrottleNext(0, 0)

	// A Retry-After beyond the context's end is not waited for.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	e.srv.ThrottleNext(1, 30*time.Second)
	if _, err := e.client.Devices(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("throttled past the deadline: %v", err)
	}
	e.srv.ThrottleNext(0, 0)
}

func TestServerErrors(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testCtx(t)
	if _, err := e.client.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.FailNext(1, http.StatusServiceUnavailable)
	if _, err := e.client.Devices(ctx); err != nil {
		t.Errorf("a GET should survive one 503: %v", err)
	}
	before := e.srv.CountRequests(http.MethodPut, "/light_bulbs/")
	e.srv.FailNext(1, http.StatusInternalServerError)
	_, err := e.client.Set(ctx, lampID, cloud.Change{"on": true})
	if err == nil || !strings.Contains(err.Error(), "wink: set "+lampID) || !strings.Contains(err.Error(), "500") {
		t.Errorf("PUT on 500: %v", err)
	}
	// A 500 does not prove the change was not applied: no second attempt.
	if n := e.srv.CountRequests(http.MethodPut, "/light_bulbs/") - before; n != 1 {
		t.Errorf("%d PUT attempts on a 500, want 1", n)
	}
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ClientSecret = "s3cr3t-value" })
	_, err := e.client.Devices(testCtx(t))
	if err == nil {
		t.Fatal("a wrong client secret was accepted")
	}
	if strings.Contains(err.Error(), "s3cr3t-value") || strings.Contains(err.Error(), e.seed) {
		t.Errorf("error shows a secret: %v", err)
	}
}

func TestRequestsCarryBearerAndUA(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.client.Devices(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	bearer := regexp.MustCompile(`^Bearer [0-9a-f]+$`)
	for _, r := range e.srv.Requests() {
		if r.Path == "/oauth2/token" {
			if r.Header.Get("Authorization") != "" {
				t.Error("token request carries a bearer token")
			}
			continue
		}
		if !bearer.MatchString(r.Header.Get("Authorization")) {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
}

func tokenFor(access, refresh string) *oauth2.Token {
	return &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer"}
}
