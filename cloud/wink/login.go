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
	_ cloud.LocalReporter     = (*Client)(nil)
)

// AuthCodeURL returns Wink's authorization page for state and redirectURI
// (cloud.Loginer). It is AuthorizeURL with the arguments in the order both
// clouds share.
func (c *Client) AuthCodeURL(state, redirectURI string) string {
	return c.AuthorizeURL(redirectURI, state)
}

// Exchange trades an authorization code for tokens and saves them
// (cloud.Loginer). Wink's code grant carries no redirect_uri, so redirectURI
// is not sent; the code is bound to it by the authorization page.
func (c *Client) Exchange(ctx context.Context, code, redirectURI string) error {
	return c.ExchangeCode(ctx, code)
}

// CredentialExpiry is when the access token ends, zero when unknown
// (cloud.CredentialExpirer).
func (c *Client) CredentialExpiry() time.Time { return c.tokens.Expiry() }
