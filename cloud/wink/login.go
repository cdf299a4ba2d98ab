package wink

import (
	"context"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// The capabilities the Wink client has beside cloud.Provider.
var (
	_ cloud.Loginer           = (*Client)(nil)
	_ cloud.CredentialChecker = (*Client)(nil)
	_ cloud.CredentialExpirer = (*Client)(nil)
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

// CredentialExpiry is when the access token ends, zero when unknown
// (cloud.CredentialExpirer).
func (c *Client) CredentialExpiry() time.Time { return c.tokens.Expiry() }
