package auth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

const testTimeout = 5 * time.Second

type env struct {
	srv    *winktest.Server
	store  *tokenstore.Store
	client *wink.Client
	cfg    wink.Config
}

func newEnv(t *testing.T, o winktest.Options, secret string) *env {
	t.Helper()
	srv := winktest.NewServer(o)
	t.Cleanup(srv.Close)
	srv.Furnish()
	store, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" {
		secret = "winktest-secret"
	}
	cfg := wink.Config{Account: "wink", ClientID: "winktest-client", ClientSecret: secret, APIURL: srv.URL, Tokens: store}
	c, err := wink.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, store: store, client: c, cfg: cfg}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// browser is an HTTP client acting as the user's browser: it records the
// last page it was shown.
type browser struct {
	t    *testing.T
	mu   sync.Mutex
	page string
	code int
	done chan struct{}
}

func newBrowser(t *testing.T) *browser { return &browser{t: t, done: make(chan struct{})} }

// get follows redirects like a browser and keeps the final page.
func (b *browser) get(u string) error {
	defer close(b.done)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	b.mu.Lock()
	b.page, b.code = string(body), resp.StatusCode
	b.mu.Unlock()
	return err
}

// shown waits for the browser to finish and returns the page.
func (b *browser) shown() string {
	b.t.Helper()
	select {
	case <-b.done:
	case <-time.After(testTimeout):
		b.t.Fatal("the browser never finished")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.page
}

// redirectOf GETs the authorize URL without following and returns where
// it redirects.
func redirectOf(t *testing.T, authURL string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Error(err)
		return nil
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || u.Host == "" {
		t.Errorf("authorize did not redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		return nil
	}
	return u
}

func login(t *testing.T, e *env, o auth.LoginOptions) (error, string) {
	t.Helper()
	var out bytes.Buffer
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	o.Out = &out
	err := auth.Login(testCtx(t), e.client, o)
	return err, out.String()
}

func TestLoginEndToEnd(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	b := newBrowser(t)
	err, out := login(t, e, auth.LoginOptions{OpenBrowser: b.get})
	if err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	if !strings.Contains(out, e.srv.URL+"/oauth2/authorize?") || !strings.Contains(out, "state=") {
		t.Errorf("the authorization URL was not printed:\n%s", out)
	}
	if !strings.Contains(out, "Logged in: account wink is connected") {
		t.Errorf("no closing line:\n%s", out)
	}
	if page := b.shown(); !strings.Contains(page, "Account wink is connected") {
		t.Errorf("the browser was not told the result: %s", page)
	}

	fi, err := os.Stat(e.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %04o, want 0600", fi.Mode().Perm())
	}
	tok, ok, err := e.store.Load("wink")
	if err != nil || !ok || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("no token stored: %v %v", ok, err)
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, "winktest-secret"} {
		if strings.Contains(out, secret) || strings.Contains(b.shown(), secret) {
			t.Errorf("a secret was shown to the user")
		}
	}

	tokenCalls := e.srv.CountRequests(http.MethodPost, "/oauth2/token")
	fresh, err := wink.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if devs, err := fresh.Devices(testCtx(t)); err != nil || len(devs) == 0 {
		t.Fatalf("a fresh client with the stored token: %d devices, %v", len(devs), err)
	}
	if n := e.srv.CountRequests(http.MethodPost, "/oauth2/token"); n != tokenCalls {
		t.Errorf("the fresh client made %d token requests, want none", n-tokenCalls)
	}
}

// wantLoginFailure checks the error, the closing line and the page.
func wantLoginFailure(t *testing.T, e *env, err error, out, page, cause string) {
	t.Helper()
	if err == nil {
		t.Fatalf("login succeeded, want %q:\n%s", cause, out)
	}
	got, fix := auth.Explain(err)
	if !strings.Contains(got, cause) || fix == "" {
		t.Errorf("Explain = %q / %q, want cause %q and a fix", got, fix, cause)
	}
	if !strings.Contains(out, "Login of account wink failed: "+got) || !strings.Contains(out, "Fix: ") {
		t.Errorf("closing line missing:\n%s", out)
	}
	if page != "" && !strings.Contains(page, "Login failed") {
		t.Errorf("the browser was not told: %s", page)
	}
	if _, ok, _ := e.store.Load("wink"); ok {
		t.Errorf("a token was stored despite the failure")
	}
}

func TestLoginStateMismatch(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	b := newBrowser(t)
	forged := func(authURL string) error {
		u := redirectOf(t, authURL)
		q := u.Query()
		q.Set("state", "forged-state")
		u.RawQuery = q.Encode()
		return b.get(u.String())
	}
	err, out := login(t, e, auth.LoginOptions{OpenBrowser: forged})
	var se *auth.StateError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a state error", err)
	}
	wantLoginFailure(t, e, err, out, b.shown(), "state mismatch")
}

func TestLoginUserDenied(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	e.srv.DenyNextAuthorization()
	b := newBrowser(t)
	err, out := login(t, e, auth.LoginOptions{OpenBrowser: b.get})
	wantLoginFailure(t, e, err, out, b.shown(), "the user denied access")
}

func TestLoginCodeReused(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	b := newBrowser(t)
	reuse := func(authURL string) error {
		u := redirectOf(t, authURL)
		// The code is spent already (a reloaded callback page, or another
		// request that, without the login's PKCE verifier, is refused but
		// uses the code up all the same).
		cfg := e.cfg
		cfg.Tokens = nil
		other, err := wink.New(cfg)
		if err != nil {
			return err
		}
		if err := other.Exchange(context.Background(), u.Query().Get("code"), "", ""); err == nil {
			return errors.New("a code issued with a PKCE challenge was redeemed without its verifier")
		}
		return b.get(u.String())
	}
	err, out := login(t, e, auth.LoginOptions{OpenBrowser: reuse})
	wantLoginFailure(t, e, err, out, b.shown(), "a code can be exchanged once, within seconds, with the redirect URI registered for this client")
}

func TestLoginRedirectURIMismatch(t *testing.T) {
	e := newEnv(t, winktest.Options{RedirectURIs: []string{"http://127.0.0.1:1/registered"}}, "")
	b := newBrowser(t)
	err, out := login(t, e, auth.LoginOptions{OpenBrowser: b.get, Timeout: 300 * time.Millisecond})
	if page := b.shown(); !strings.Contains(page, "redirect_uri mismatch") {
		t.Errorf("authorize page: %s", page)
	}
	wantLoginFailure(t, e, err, out, "", "redirect URI mismatch")
	cause, fix := auth.Explain(err)
	if !strings.Contains(fix, "/callback") || !strings.Contains(cause, "not registered") {
		t.Errorf("cause %q / fix %q should name the URI to register", cause, fix)
	}
}

func TestLoginBrowserCameBackElsewhere(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	b := newBrowser(t)
	elsewhere := func(authURL string) error {
		u := redirectOf(t, authURL)
		u.Path = "/auth/wink/callback"
		return b.get(u.String())
	}
	err, out := login(t, e, auth.LoginOptions{OpenBrowser: elsewhere})
	wantLoginFailure(t, e, err, out, b.shown(), "redirect URI mismatch: the browser came back to http://")
}

func TestLoginWrongClientSecret(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "not-the-secret")
	b := newBrowser(t)
	err, out := login(t, e, auth.LoginOptions{OpenBrowser: b.get})
	wantLoginFailure(t, e, err, out, b.shown(), "wrong client secret")
	if strings.Contains(out, "not-the-secret") || strings.Contains(b.shown(), "not-the-secret") || strings.Contains(err.Error(), "not-the-secret") {
		t.Error("the client secret was shown")
	}
}

func TestLoginRefusesABusyAddress(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	busy := strings.TrimPrefix(e.srv.URL, "http://")
	err, _ := login(t, e, auth.LoginOptions{Listen: busy})
	if err == nil || !strings.Contains(err.Error(), "listen on "+busy) {
		t.Fatalf("err = %v, want a listen error naming the address", err)
	}
}

func TestLoginCancelled(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	ctx, cancel := context.WithCancel(context.Background())
	err := auth.Login(ctx, e.client, auth.LoginOptions{Listen: "127.0.0.1:0", OpenBrowser: func(string) error { cancel(); return nil }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
