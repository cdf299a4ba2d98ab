package homey

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	authn "github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
)

// roundTrip adapts a function to http.RoundTripper.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closedAddr returns an http URL on loopback where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// checkCloudClient is a cloud-mode client with a fresh refresh token in
// cfg, with tweaks.
func checkCloudClient(t *testing.T, srv *homeytest.Server, st *tokenstore.Store, tweak func(*Config)) *Client {
	t.Helper()
	_, refresh := srv.IssueTokens()
	cfg := Config{Account: "home", ClientID: testClientID, ClientSecret: testClientSecret, RefreshToken: refresh, CloudURL: srv.CloudURL, Tokens: st}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// secretsSeen gathers every credential that crossed the wire to srv
// (bearers, Basic credentials, refresh tokens, codes, delegation tokens)
// and every token in the store.
func secretsSeen(t *testing.T, srv *homeytest.Server, st *tokenstore.Store) []string {
	t.Helper()
	out := []string{testClientSecret}
	for _, r := range srv.Requests() {
		h := r.Header.Get("Authorization")
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			out = append(out, tok)
		}
		if enc, ok := strings.CutPrefix(h, "Basic "); ok {
			if raw, err := base64.StdEncoding.DecodeString(enc); err == nil {
				if _, pass, ok := strings.Cut(string(raw), ":"); ok {
					out = append(out, pass)
				}
			}
		}
		if form, err := url.ParseQuery(string(r.Body)); err == nil {
			for _, k := range []string{"refresh_token", "client_secret", "code", "password"} {
				out = append(out, form.Get(k))
			}
		}
		var body struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(r.Body, &body) == nil {
			out = append(out, body.Token)
		}
	}
	if st != nil {
		for _, k := range []string{"home", "home/session", "pro"} {
			if tok, ok, _ := st.Load(k); ok {
				out = append(out, tok.AccessToken, tok.RefreshToken)
			}
		}
	}
	return out
}

// noLeak fails when the printed report holds any of the secrets.
func noLeak(t *testing.T, r authn.Report, secrets ...string) {
	t.Helper()
	var b bytes.Buffer
	authn.WriteReports(&b, []authn.Report{r})
	for _, s := range secrets {
		if len(s) >= 6 && strings.Contains(b.String(), s) {
			t.Errorf("report output holds a secret (%d chars):\n%s", len(s), b.String())
		}
	}
}

func wantFailed(t *testing.T, r authn.Report, cause, fix string) {
	t.Helper()
	if r.OK {
		t.Fatalf("report OK, want a failure %q: %+v", cause, r)
	}
	if !strings.Contains(r.Cause, cause) || !strings.Contains(r.Fix, fix) {
		t.Errorf("cause %q\nfix   %q\nwant  %q / %q", r.Cause, r.Fix, cause, fix)
	}
}

func hasDetail(r authn.Report, want string) bool {
	for _, d := range r.Details {
		if strings.Contains(d, want) {
			return true
		}
	}
	return false
}

func TestCheckCloudReportsWhoAndExpiry(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	r := checkCloudClient(t, srv, st, nil).Check(testCtx(t))
	if !r.OK || r.Cause != "" {
		t.Fatalf("report = %+v", r)
	}
	if r.Account != "home" || r.Cloud != "homey" || r.Username != "Demo User" || r.Email != "d***@example.com" || r.Subject != srv.UserID {
		t.Errorf("who = %q %q %q %q", r.Username, r.Email, r.Subject, r.Cloud)
	}
	if until := time.Until(r.Expiry); until < 50*time.Minute || until > 2*time.Hour {
		t.Errorf("athom token expiry %v, want about an hour ahead", r.Expiry)
	}
	for _, d := range []string{`Homey: "Demo Homey" (id ` + srv.HomeyID + ")", "Homey session: valid until", "Homey user: Demo User", "token: accounts[].refresh_token", "scope " + ScopeDeviceControl + ": granted"} {
		if !hasDetail(r, d) {
			t.Errorf("details lack %q: %q", d, r.Details)
		}
	}
	noLeak(t, r, secretsSeen(t, srv, st)...)

	// The rotated token was saved: a second check runs from the store.
	r2 := checkCloudClient(t, srv, st, func(c *Config) { c.RefreshToken = "" }).Check(testCtx(t))
	if !r2.OK || !hasDetail(r2, "token: found in the token store") {
		t.Errorf("second check = %+v", r2)
	}
	noLeak(t, r2, secretsSeen(t, srv, st)...)
}

func TestCheckCloudWithoutToken(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	r := checkCloudClient(t, srv, st, func(c *Config) { c.RefreshToken = "" }).Check(testCtx(t))
	wantFailed(t, r, "no token", "run cloud2mqtt auth login home")
	if !strings.Contains(r.Cause, st.Path()) {
		t.Errorf("cause %q does not name the token store", r.Cause)
	}
	if n := srv.CountRequests("", "", "/"); n != 0 {
		t.Errorf("%d requests without any token, want none", n)
	}
}

func TestCheckCloudRevokedRefreshToken(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	c := checkCloudClient(t, srv, st, nil)
	srv.RevokeRefreshTokens()
	r := c.Check(testCtx(t))
	wantFailed(t, r, "refresh token revoked or expired (invalid_grant)", "run cloud2mqtt auth login home")
	noLeak(t, r, secretsSeen(t, srv, st)...)
}

func TestCheckCloudExpiredAccessTokenIsRenewed(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	if r := checkCloudClient(t, srv, st, nil).Check(testCtx(t)); !r.OK {
		t.Fatalf("first check = %+v", r)
	}
	srv.ExpireAccessTokens()
	r := checkCloudClient(t, srv, st, func(c *Config) { c.RefreshToken = "" }).Check(testCtx(t))
	if !r.OK {
		t.Fatalf("check after the access token expired = %+v", r)
	}
	noLeak(t, r, secretsSeen(t, srv, st)...)
}

func TestCheckCloudWrongClientSecret(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	const wrong = "not-the-secret-123"
	r := checkCloudClient(t, srv, st, func(c *Config) { c.ClientSecret = wrong }).Check(testCtx(t))
	wantFailed(t, r, "wrong client secret (invalid_client)", "accounts[].client_secret")
	noLeak(t, r, append(secretsSeen(t, srv, st), wrong)...)
}

func TestCheckCloudHomeyNotFound(t *testing.T) {
	srv := newServer(t)
	r := checkCloudClient(t, srv, nil, func(c *Config) { c.HomeyID = "0123456789abcdef01234567" }).Check(testCtx(t))
	wantFailed(t, r, "Homey not found: accounts[].homey_id 0123456789abcdef01234567", "set accounts[].homey_id to one of: "+srv.HomeyID)
	if !strings.Contains(r.Cause, `"Demo Homey" (id `+srv.HomeyID+")") {
		t.Errorf("cause %q does not list the user's Homey", r.Cause)
	}
}

func TestCheckCloudSeveralHomeys(t *testing.T) {
	srv := newServer(t)
	const otherID = "aaaaaaaaaaaaaaaaaaaaaaaa"
	// The athom user gets a second Homey, "Cabin".
	hc := &http.Client{Timeout: 10 * time.Second, Transport: roundTrip(func(req *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil || req.URL.Path != "/user/me" || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		defer resp.Body.Close()
		var me map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
			return nil, err
		}
		hs := me["homeys"].([]any)
		second := map[string]any{}
		for k, v := range hs[0].(map[string]any) {
			second[k] = v
		}
		second["id"], second["_id"], second["name"] = otherID, otherID, "Cabin"
		me["homeys"] = append(hs, second)
		b, _ := json.Marshal(me)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Del("Content-Length")
		return resp, nil
	})}
	c := checkCloudClient(t, srv, nil, func(c *Config) { c.HTTPClient = hc })
	r := c.Check(testCtx(t))
	wantFailed(t, r, "several Homeys and no accounts[].homey_id: the athom user has 2 Homeys", "set accounts[].homey_id to the id of the one to bridge: "+srv.HomeyID+", "+otherID)
	for _, name := range []string{`"Demo Homey" (id ` + srv.HomeyID + ")", `"Cabin" (id ` + otherID + ")"} {
		if !strings.Contains(r.Cause, name) {
			t.Errorf("cause %q lacks %s", r.Cause, name)
		}
	}

	// Naming one of them makes the check pass.
	if r := checkCloudClient(t, srv, nil, func(c *Config) { c.HTTPClient, c.HomeyID = hc, srv.HomeyID }).Check(testCtx(t)); !r.OK {
		t.Errorf("with homey_id: %+v", r)
	}
}

func TestCheckCloudUnreachable(t *testing.T) {
	srv := newServer(t)
	dead := closedAddr(t)
	r := checkCloudClient(t, srv, nil, func(c *Config) { c.CloudURL = dead }).Check(testCtx(t))
	wantFailed(t, r, "athom cloud unreachable at "+dead+" (connection refused)", "accounts[].cloud_url")
}

func TestCheckCloudHomeyUnreachable(t *testing.T) {
	srv := newServer(t)
	dead, _ := url.Parse(closedAddr(t))
	homey, _ := url.Parse(srv.HomeyURL)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: roundTrip(func(req *http.Request) (*http.Response, error) {
		if req.URL.Host == homey.Host {
			req = req.Clone(req.Context())
			req.URL.Host = dead.Host
		}
		return http.DefaultTransport.RoundTrip(req)
	})}
	r := checkCloudClient(t, srv, nil, func(c *Config) { c.HTTPClient = hc }).Check(testCtx(t))
	wantFailed(t, r, `Homey "Demo Homey" unreachable: it answers on none of its addresses`, "switched on")
	if !strings.Contains(r.Cause, "connection refused") {
		t.Errorf("cause %q does not say the connection was refused", r.Cause)
	}
}

func TestCheckCloudHomeyAnswers401(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	// The Homey does not know the session the check presents.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: roundTrip(func(req *http.Request) (*http.Response, error) {
		if req.URL.Path == sessionMePath {
			req = req.Clone(req.Context())
			req.Header.Set("Authorization", "Bearer forgotten-session")
		}
		return http.DefaultTransport.RoundTrip(req)
	})}
	r := checkCloudClient(t, srv, st, func(c *Config) { c.HTTPClient = hc }).Check(testCtx(t))
	wantFailed(t, r, `the Homey "Demo Homey" answered 401 to its own fresh session`, "run cloud2mqtt auth login home")
	noLeak(t, r, secretsSeen(t, srv, st)...)
}

func TestCheckCloudHomeyRefusesLogin(t *testing.T) {
	srv := newServer(t)
	// The delegation token is spent before the Homey sees it.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: roundTrip(func(req *http.Request) (*http.Response, error) {
		if req.URL.Path == "/api/manager/users/login" {
			body, _ := io.ReadAll(req.Body)
			first := req.Clone(req.Context())
			first.Body = io.NopCloser(bytes.NewReader(body))
			if resp, err := http.DefaultTransport.RoundTrip(first); err == nil {
				resp.Body.Close()
			}
			req = req.Clone(req.Context())
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		return http.DefaultTransport.RoundTrip(req)
	})}
	r := checkCloudClient(t, srv, nil, func(c *Config) { c.HTTPClient = hc }).Check(testCtx(t))
	wantFailed(t, r, `the Homey "Demo Homey" refused the login`, "Homey app → Settings → Users")
}

func TestCheckLocalAllScopes(t *testing.T) {
	srv := newServer(t)
	key := srv.NewAPIKey(ScopeDeviceRead, ScopeDeviceControl, ScopeZoneRead)
	r := localClient(t, srv, key).Check(testCtx(t))
	if !r.OK || r.Cloud != "homey" || r.Username != "Demo User" || r.Subject != srv.UserID || !r.Expiry.IsZero() {
		t.Fatalf("report = %+v", r)
	}
	for _, d := range []string{"Homey: id " + srv.HomeyID, "scope " + ScopeDeviceRead + ": granted", "scope " + ScopeDeviceControl + ": granted", "scope " + ScopeZoneRead + ": granted", "do not expire"} {
		if !hasDetail(r, d) {
			t.Errorf("details lack %q: %q", d, r.Details)
		}
	}
	if _, err := srv.WaitRequest(testCtx(t), func(q homeytest.Request) bool {
		return q.Path == sessionMePath && q.Header.Get("X-Homey-ID") == srv.HomeyID
	}); err != nil {
		t.Errorf("session/me was not asked with X-Homey-ID from the ping: %v", err)
	}
	noLeak(t, r, key)
}

func TestCheckLocalMissingZoneScopeIsOnlyADetail(t *testing.T) {
	srv := newServer(t)
	key := srv.NewAPIKey("homey.device")
	r := localClient(t, srv, key).Check(testCtx(t))
	if !r.OK {
		t.Fatalf("report = %+v", r)
	}
	if !hasDetail(r, "scope "+ScopeZoneRead+": missing; devices get no area") || !hasDetail(r, "scope "+ScopeDeviceControl+": granted") {
		t.Errorf("details = %q", r.Details)
	}
	noLeak(t, r, key)
}

func TestCheckLocalMissingDeviceScope(t *testing.T) {
	srv := newServer(t)
	key := srv.NewAPIKey(ScopeDeviceRead, ScopeZoneRead)
	r := localClient(t, srv, key).Check(testCtx(t))
	wantFailed(t, r, "the API key lacks "+ScopeDeviceControl+": the bridge cannot change devices", "create a key with "+ScopeDeviceRead+", "+ScopeDeviceControl+" and "+ScopeZoneRead+" in the Homey web app → Settings → API Keys")
	if !hasDetail(r, "scope "+ScopeDeviceControl+": missing") {
		t.Errorf("details = %q", r.Details)
	}
	noLeak(t, r, key)

	r = localClient(t, srv, srv.NewAPIKey(ScopeZoneRead)).Check(testCtx(t))
	wantFailed(t, r, "lacks "+ScopeDeviceRead+" and "+ScopeDeviceControl, "Settings → API Keys")
}

func TestCheckLocalDeletedKey(t *testing.T) {
	srv := newServer(t)
	other := homeytest.NewServer(homeytest.Options{})
	defer other.Close()
	key := other.NewAPIKey("homey") // unknown to srv, as a deleted key is
	r := localClient(t, srv, key).Check(testCtx(t))
	wantFailed(t, r, "API key rejected: the Homey answered 401", "Settings → API Keys and set it as accounts[].api_key")
	noLeak(t, r, key)
}

func TestCheckLocalUnreachable(t *testing.T) {
	dead := closedAddr(t)
	c, err := New(Config{Account: "pro", Address: dead, APIKey: "some-api-key-value"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Check(testCtx(t))
	wantFailed(t, r, "Homey unreachable at accounts[].address "+dead+" (connection refused)", "accounts[].address")
	noLeak(t, r, "some-api-key-value")
}

func TestCheckLocalTimeout(t *testing.T) {
	srv := newServer(t)
	srv.SetLatency(time.Minute)
	key := srv.NewAPIKey("homey")
	c, err := New(Config{Account: "pro", Address: srv.HomeyURL, APIKey: key, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Check(testCtx(t))
	wantFailed(t, r, "Homey unreachable at accounts[].address "+srv.HomeyURL+" (no answer in time)", "switched on")
	noLeak(t, r, key)
}

func TestErrorsExplainThemselves(t *testing.T) {
	cases := []struct {
		err        error
		cause, fix string
	}{
		{fmt.Errorf("homey: list devices: %w", &cloud.AuthError{Cloud: CloudName, Account: "h", Code: "invalid_grant", OAuth: true, Reason: "the refresh token is invalid or revoked"}),
			"revoked or expired refresh token", "cloud2mqtt auth login h"},
		{&cloud.AuthError{Cloud: CloudName, Account: "h", Code: "invalid_client", OAuth: true, Reason: "wrong client secret"}, "wrong client secret", "accounts[].client_secret"},
		{&cloud.AuthError{Cloud: CloudName, Account: "h", Code: codeLoginRefused, Reason: "POST /api/manager/users/login: HTTP 401: invalid_token"}, "credentials rejected", "cloud2mqtt auth login h"},
		{fmt.Errorf("x: %w", &ScopeError{Account: "h", Scope: ScopeDeviceRead, Op: "reading devices"}), "credentials rejected", "cloud2mqtt auth login h"},
	}
	for _, tc := range cases {
		cause, fix := authn.Explain(tc.err)
		if !strings.Contains(cause, tc.cause) || !strings.Contains(fix, tc.fix) {
			t.Errorf("Explain(%v) = %q / %q; want %q / %q", tc.err, cause, fix, tc.cause, tc.fix)
		}
	}
	ae := &cloud.AuthError{Cloud: CloudName, Account: "h", Code: codeSessionRejected, Reason: "r"}
	if ae.OAuthCode() != "" || ae.OAuthDescription() != "r" || ae.AccountName() != "h" {
		t.Errorf("a client-made code is reported as OAuth code %q", ae.OAuthCode())
	}
	if (&ScopeError{Account: "h"}).AccountName() != "h" {
		t.Error("ScopeError.AccountName")
	}
}

// While a stored access token is still valid, the check still tests the
// client secret and the refresh token with the refresh grant.
func TestCheckCloudTestsTheSecretWhileTheAccessTokenIsValid(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	if r := checkCloudClient(t, srv, st, nil).Check(testCtx(t)); !r.OK {
		t.Fatalf("first check = %+v", r)
	}
	const wrong = "not-the-secret-456"
	r := checkCloudClient(t, srv, st, func(c *Config) { c.ClientSecret, c.RefreshToken = wrong, "" }).Check(testCtx(t))
	wantFailed(t, r, "wrong client secret (invalid_client)", "accounts[].client_secret")
	noLeak(t, r, append(secretsSeen(t, srv, st), wrong)...)

	srv.RevokeRefreshTokens()
	r = checkCloudClient(t, srv, st, func(c *Config) { c.RefreshToken = "" }).Check(testCtx(t))
	wantFailed(t, r, "refresh token revoked or expired (invalid_grant)", "run cloud2mqtt auth login home")
}
