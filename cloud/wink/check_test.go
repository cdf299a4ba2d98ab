package wink

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	authn "github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"golang.org/x/oauth2"
)

// checkClient returns a client whose store holds tok (nil: nothing) against
// srv, with cfg tweaks.
func checkClient(t *testing.T, srv *winktest.Server, tok *oauth2.Token, tweak func(*Config)) *Client {
	t.Helper()
	store, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if tok != nil {
		if err := store.Save("wink", tok); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Account: "wink", ClientID: "winktest-client", ClientSecret: "winktest-secret", APIURL: srv.URL, Tokens: store}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newCheckServer(t *testing.T, o winktest.Options) *winktest.Server {
	t.Helper()
	srv := winktest.NewServer(o)
	t.Cleanup(srv.Close)
	return srv
}

// wantFailure checks that the report failed with a cause and fix holding
// the given words, and that its printed form holds no secret.
func wantFailure(t *testing.T, r authn.Report, cause, fix string, secrets ...string) {
	t.Helper()
	if r.OK {
		t.Fatalf("report OK, want failure %q: %+v", cause, r)
	}
	if !strings.Contains(r.Cause, cause) || !strings.Contains(r.Fix, fix) {
		t.Errorf("cause %q / fix %q; want %q / %q", r.Cause, r.Fix, cause, fix)
	}
	noSecrets(t, r, secrets...)
}

func noSecrets(t *testing.T, r authn.Report, secrets ...string) {
	t.Helper()
	var b bytes.Buffer
	authn.WriteReports(&b, []authn.Report{r})
	for _, s := range append(secrets, "winktest-secret") {
		if s != "" && strings.Contains(b.String(), s) {
			t.Errorf("report output contains a secret %q:\n%s", s, b.String())
		}
	}
}

func TestCheckWithUsersMe(t *testing.T) {
	srv := newCheckServer(t, winktest.Options{})
	a, rt := srv.IssueTokens()
	r := checkClient(t, srv, &oauth2.Token{AccessToken: a, RefreshToken: rt}, nil).check(testCtx(t), "")
	if !r.OK || r.Email != "d***@example.com" || r.Subject != srv.UserID || r.Username != "Demo User" {
		t.Fatalf("report = %+v", r)
	}
	noSecrets(t, r, a, rt)
}

func TestCheckWithVerifyAndJWT(t *testing.T) {
	srv := newCheckServer(t, winktest.Options{JWTAccessTokens: true, AccessTokenTTL: time.Hour})
	a, rt := srv.IssueTokens()
	r := checkClient(t, srv, &oauth2.Token{AccessToken: a, RefreshToken: rt}, nil).check(testCtx(t), srv.URL+winktest.VerifyPath)
	if !r.OK {
		t.Fatalf("report failed: %+v", r)
	}
	if r.Subject != srv.UserID || r.Username != "d***@example.com" || r.Email != "d***@example.com" {
		t.Errorf("who: %+v", r)
	}
	if d := time.Until(r.Expiry); d < 50*time.Minute || d > 61*time.Minute {
		t.Errorf("expiry in %s, want about an hour", d)
	}
	details := strings.Join(r.Details, "\n")
	for _, want := range []string{"winkTag: demo-", "winkToken: present", "azp matches"} {
		if !strings.Contains(details, want) {
			t.Errorf("details lack %q:\n%s", want, details)
		}
	}
	noSecrets(t, r, a, rt)
}

func TestCheckJWTIssuedToAnotherClient(t *testing.T) {
	srv := newCheckServer(t, winktest.Options{JWTAccessTokens: true})
	a, rt := srv.IssueTokensFor("someone-elses-client")
	r := checkClient(t, srv, &oauth2.Token{AccessToken: a, RefreshToken: rt}, nil).check(testCtx(t), "")
	wantFailure(t, r, `azp is "someone-elses-client"`, "cloud2mqtt auth login wink", a, rt)
}

func TestCheckVerifyFailureCauses(t *testing.T) {
	cases := []struct {
		name       string
		opts       winktest.Options
		other      bool // token issued to another client
		expire     bool // access expired and refresh revoked
		tweak      func(*Config)
		cause, fix string
	}{
		{name: "azp", other: true, cause: "token issued to another client", fix: "auth login wink"},
		{name: "not set up", opts: winktest.Options{VerifyDisabled: true}, cause: "client not set up for verification", fix: "developer.wink.com"},
		{name: "wrong secret", tweak: func(c *Config) { c.ClientSecret = "wrong-secret" }, cause: "wrong client secret", fix: "client_secret"},
		{name: "expired", expire: true, cause: "token expired", fix: "auth login wink"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCheckServer(t, tc.opts)
			a, rt := srv.IssueTokens()
			if tc.other {
				a, rt = srv.IssueTokensFor("someone-elses-client")
			}
			if tc.expire {
				srv.ExpireAccessTokens()
				srv.RevokeRefreshTokens()
			}
			r := checkClient(t, srv, &oauth2.Token{AccessToken: a, RefreshToken: rt}, tc.tweak).check(testCtx(t), srv.URL+winktest.VerifyPath)
			wantFailure(t, r, tc.cause, tc.fix, a, rt, "wrong-secret")
			if tc.expire && !strings.Contains(r.Cause, "revoked or expired refresh token") {
				t.Errorf("cause %q does not say why renewal failed", r.Cause)
			}
		})
	}
}

func TestCheckExpiredTokenIsRenewed(t *testing.T) {
	srv := newCheckServer(t, winktest.Options{})
	a, rt := srv.IssueTokens()
	srv.ExpireAccessTokens()
	r := checkClient(t, srv, &oauth2.Token{AccessToken: a, RefreshToken: rt}, nil).check(testCtx(t), srv.URL+winktest.VerifyPath)
	if !r.OK || !strings.Contains(strings.Join(r.Details, "\n"), "renewed") {
		t.Fatalf("report = %+v, want OK after renewal", r)
	}
}

func TestCheckWithoutVerifyFailureCauses(t *testing.T) {
	t.Run("revoked refresh token", func(t *testing.T) {
		srv := newCheckServer(t, winktest.Options{})
		a, rt := srv.IssueTokens()
		srv.ExpireAccessTokens()
		srv.RevokeRefreshTokens()
		r := checkClient(t, srv, &oauth2.Token{AccessToken: a, RefreshToken: rt}, nil).check(testCtx(t), "")
		wantFailure(t, r, "revoked or expired refresh token", "cloud2mqtt auth login wink", a, rt)
	})
	t.Run("wrong client secret", func(t *testing.T) {
		srv := newCheckServer(t, winktest.Options{})
		_, rt := srv.IssueTokens()
		r := checkClient(t, srv, &oauth2.Token{RefreshToken: rt}, func(c *Config) { c.ClientSecret = "wrong-secret" }).check(testCtx(t), "")
		wantFailure(t, r, "wrong client secret", "client_secret", rt, "wrong-secret")
	})
	t.Run("wrong password", func(t *testing.T) {
		srv := newCheckServer(t, winktest.Options{})
		r := checkClient(t, srv, nil, func(c *Config) { c.Email, c.Password = "demo@example.com", "wrong-password" }).check(testCtx(t), "")
		wantFailure(t, r, "email or password rejected", "accounts[].password", "wrong-password")
	})
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		srv := newCheckServer(t, winktest.Options{})
		r := checkClient(t, srv, &oauth2.Token{AccessToken: "a", RefreshToken: "r"}, func(c *Config) { c.APIURL = "http://" + addr }).check(testCtx(t), "")
		wantFailure(t, r, "unreachable", "api_url")
	})
	t.Run("no token", func(t *testing.T) {
		srv := newCheckServer(t, winktest.Options{})
		r := checkClient(t, srv, nil, nil).check(testCtx(t), "")
		wantFailure(t, r, "no token", "cloud2mqtt auth login wink")
	})
}

// While a stored access token is still valid, the check still tests the
// client secret and the refresh token with the refresh grant, and saves
// the rotated token.
func TestCheckTestsTheSecretWhileTheAccessTokenIsValid(t *testing.T) {
	srv := newCheckServer(t, winktest.Options{})
	a, rt := srv.IssueTokens()
	stored := &oauth2.Token{AccessToken: a, RefreshToken: rt, Expiry: time.Now().Add(time.Hour)}
	r := checkClient(t, srv, stored, func(c *Config) { c.ClientSecret = "not-the-secret-789" }).check(testCtx(t), "")
	if r.OK || !strings.Contains(r.Cause, "wrong client secret") || !strings.Contains(r.Fix, "client_secret") {
		t.Errorf("wrong secret with a valid access token: %+v", r)
	}
	noSecrets(t, r, a, rt, "not-the-secret-789")

	c := checkClient(t, srv, stored, nil)
	if r := c.check(testCtx(t), ""); !r.OK {
		t.Fatalf("right secret: %+v", r)
	}
	saved, ok, err := c.cfg.Tokens.Load("wink")
	if err != nil || !ok || saved.RefreshToken == rt {
		t.Errorf("the rotated refresh token was not saved: %+v %v", saved, err)
	}

	srv.RevokeRefreshTokens()
	r = checkClient(t, srv, stored, nil).check(testCtx(t), "")
	if r.OK || !strings.Contains(r.Cause, "invalid_grant") {
		t.Errorf("revoked refresh token with a valid access token: %+v", r)
	}
}
