package wink

import (
	"context"
	"time"

	authn "github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// The capabilities the Wink client has beside cloud.Provider.
var (
	_ cloud.Loginer           = (*Client)(nil)
	_ cloud.CredentialChecker = (*Client)(nil)
	_ cloud.CredentialExpirer = (*Client)(nil)
	_ cloud.CredentialNoter   = (*Client)(nil)
	_ cloud.LocalReporter     = (*Client)(nil)
)

// AuthCodeURL returns Wink's authorization page for state and redirectURI
// with the PKCE challenge of verifier (cloud.Loginer).
func (c *Client) AuthCodeURL(state, redirectURI, verifier string) string {
	return c.AuthorizeURL(redirectURI, state, verifier)
}

// Exchange trades an authorization code for tokens and saves them
// (cloud.Loginer). Wink's code grant carries no redirect_uri, so redirectURI
// is not sent; the code is bound to it by the authorization page.
func (c *Client) Exchange(ctx context.Context, code, redirectURI, verifier string) error {
	return c.ExchangeCode(ctx, code, verifier)
}

// CredentialExpiry is when the access token ends: as the token answer
// said, else as the token (a JWT) says; zero when neither does
// (cloud.CredentialExpirer).
func (c *Client) CredentialExpiry() time.Time {
	if exp := c.tokens.Expiry(); !exp.IsZero() {
		return exp
	}
	if tok := c.tokens.Current(); tok != nil {
		if cl, ok := authn.ParseClaims(tok.AccessToken); ok && !cl.Expiry.IsZero() {
			return cl.Expiry
		}
	}
	return time.Time{}
}

// CredentialNote explains an unknown expiry (cloud.CredentialNoter).
func (c *Client) CredentialNote() string {
	if c.CredentialExpiry().IsZero() {
		return "not announced by Wink; renewed when Wink refuses it"
	}
	return ""
}
