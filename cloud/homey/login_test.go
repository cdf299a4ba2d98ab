package homey

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/cloudtest"
	"golang.org/x/oauth2"
)

// The browser login sends a PKCE S256 challenge and proves it with the
// verifier; a code issued for a challenge is refused without its verifier.
func TestLoginUsesPKCE(t *testing.T) {
	const redirect = "http://127.0.0.1:9/callback"
	srv := newServer(t)
	c := checkCloudClient(t, srv, openStore(t), func(c *Config) { c.RefreshToken = "" })
	verifier := oauth2.GenerateVerifier()
	authURL := c.AuthCodeURL("st", redirect, verifier)
	u, _ := url.Parse(authURL)
	if q := u.Query(); q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(verifier) || q.Get("code_challenge_method") != "S256" {
		t.Fatalf("authorization URL %s lacks the S256 challenge", authURL)
	}
	if err := c.Exchange(testCtx(t), cloudtest.Authorize(t, authURL), redirect, oauth2.GenerateVerifier()); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("exchange with another verifier: %v, want invalid_grant", err)
	}
	if err := c.Exchange(testCtx(t), cloudtest.Authorize(t, c.AuthCodeURL("st", redirect, verifier)), redirect, verifier); err != nil {
		t.Fatalf("exchange with the verifier: %v", err)
	}
}
