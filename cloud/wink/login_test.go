package wink

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/cloudtest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// The browser login sends a PKCE S256 challenge and proves it with the
// verifier; a code issued for a challenge is refused without its verifier.
func TestLoginUsesPKCE(t *testing.T) {
	const redirect = "http://127.0.0.1:9/callback"
	srv := newCheckServer(t, winktest.Options{RedirectURIs: []string{redirect}})
	c := checkClient(t, srv, nil, nil)
	verifier := oauth2.GenerateVerifier()
	authURL := c.AuthCodeURL("st", redirect, verifier)
	u, _ := url.Parse(authURL)
	if q := u.Query(); q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(verifier) || q.Get("code_challenge_method") != "S256" {
		t.Fatalf("authorization URL %s lacks the S256 challenge", authURL)
	}
	if err := c.Exchange(testCtx(t), cloudtest.Authorize(t, authURL), redirect, oauth2.GenerateVerifier()); err == nil ||
		!strings.Contains(err.Error(), "PKCE") {
		t.Errorf("exchange with another verifier: %v, want a PKCE refusal", err)
	}
	if err := c.Exchange(testCtx(t), cloudtest.Authorize(t, c.AuthCodeURL("st", redirect, verifier)), redirect, verifier); err != nil {
		t.Fatalf("exchange with the verifier: %v", err)
	}
	if _, _, err := c.tokens.Token(testCtx(t)); err != nil {
		t.Errorf("no token after the login: %v", err)
	}
}
