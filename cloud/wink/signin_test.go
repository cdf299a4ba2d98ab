package wink

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// signInClient is a client of srv with only the sign-in keys tune sets.
func signInClient(t *testing.T, srv *winktest.Server, tune func(*Config)) *Client {
	t.Helper()
	store, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Account: "wink", APIURL: srv.URL, PubNubOrigin: srv.PubNubOrigin, Tokens: store}
	tune(&cfg)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenServiceSignInNeedsNoClientCredentials(t *testing.T) {
	srv := winktest.NewServer(winktest.Options{})
	t.Cleanup(srv.Close)
	srv.Furnish()
	c := signInClient(t, srv, func(c *Config) {
		c.TokenURL, c.Email, c.Password = srv.URL+winktest.TokenServicePath, winktest.DefaultEmail, winktest.DefaultPassword
	})
	if _, err := c.Devices(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n := srv.CountRequests("POST", winktest.TokenServicePath); n != 1 {
		t.Errorf("%d token service calls, want 1", n)
	}
	if n := srv.CountRequests("POST", "/oauth2/token"); n != 0 {
		t.Errorf("%d OAuth token calls without client credentials", n)
	}
	// A refused token is replaced by asking the service again.
	srv.ExpireAccessTokens()
	if _, err := c.Devices(testCtx(t)); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if n := srv.CountRequests("POST", winktest.TokenServicePath); n != 2 {
		t.Errorf("%d token service calls after expiry, want 2", n)
	}
	if r := c.Check(testCtx(t)); !r.OK {
		t.Errorf("auth check: %s / %s", r.Cause, r.Fix)
	}

	bad := signInClient(t, srv, func(c *Config) {
		c.TokenURL, c.Email, c.Password = srv.URL+winktest.TokenServicePath, winktest.DefaultEmail, "wrong"
	})
	if _, err := bad.Devices(testCtx(t)); !errors.Is(err, cloud.ErrAuth) || !strings.Contains(err.Error(), "email or password rejected") {
		t.Errorf("wrong password: %v, want a rejection naming email or password", err)
	}
}

func TestBareAccessTokenUsedUntilItExpires(t *testing.T) {
	srv := winktest.NewServer(winktest.Options{JWTAccessTokens: true, AccessTokenTTL: time.Hour})
	t.Cleanup(srv.Close)
	srv.Furnish()
	access, _ := srv.IssueTokens()
	c := signInClient(t, srv, func(c *Config) { c.AccessToken = access })
	if _, err := c.Devices(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if exp := c.CredentialExpiry(); exp.IsZero() || time.Until(exp) > time.Hour+time.Minute || time.Until(exp) < 50*time.Minute {
		t.Errorf("CredentialExpiry = %v, want the token's exp about an hour ahead", exp)
	}
	r := c.Check(testCtx(t))
	if !r.OK || !strings.Contains(strings.Join(r.Details, "\n"), "nothing renews it; it works until ") {
		t.Errorf("auth check: ok %v details %q, want when the token ends and what to do then", r.OK, r.Details)
	}
	srv.ExpireAccessTokens()
	_, err := c.Devices(testCtx(t))
	var ae *cloud.AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Fix, "accounts[].access_token") || !strings.Contains(ae.Fix, "auth login") {
		t.Fatalf("after expiry: %v, want an auth error whose fix names a new access_token or a login", err)
	}
	if n := srv.CountRequests("POST", "/oauth2/token"); n != 0 {
		t.Errorf("%d OAuth token calls for a bare token", n)
	}
	if r := c.Check(testCtx(t)); r.OK || !strings.Contains(r.Fix, "access_token") {
		t.Errorf("auth check after expiry: ok %v fix %q", r.OK, r.Fix)
	}
}

func TestWithoutAnySignInTheErrorNamesEveryWay(t *testing.T) {
	_, err := New(Config{Account: "wink"})
	for _, want := range []string{"client_id", "client_secret", "token_url", "access_token"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New without credentials: %v, want it to name %s", err, want)
		}
	}
	s := &Settings{}
	err = s.Validate("accounts[0]", "wink")
	for _, want := range []string{"accounts[0].client_id", "accounts[0].token_url", "accounts[0].access_token"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate without credentials: %v, want it to name %s", err, want)
		}
	}
	s = &Settings{TokenURL: "https://tokens.example/wink"}
	if err := s.Validate("accounts[0]", "wink"); err == nil || !strings.Contains(err.Error(), "email") {
		t.Errorf("token_url without email: %v", err)
	}
	if _, err := New(Config{Account: "wink", TokenURL: "https://tokens.example/wink"}); err == nil {
		t.Error("token_url without email and password accepted")
	}
}
