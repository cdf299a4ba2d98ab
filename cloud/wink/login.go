package wink

import (
	"context"

	authn "github.com/cloud2mqtt/cloud2mqtt/auth"
)

var _ authn.Loginer = (*Client)(nil)

// AuthCodeURL returns Wink's authorization page for state and redirectURI
// (authn.Loginer). It is AuthorizeURL with the arguments in the order both
// clouds share.
func (c *Client) AuthCodeURL(state, redirectURI string) string {
	return c.AuthorizeURL(redirectURI, state)
}

// Exchange trades an authorization code for tokens and saves them
// (authn.Loginer). Wink's code grant carries no redirect_uri, so redirectURI
// is not sent; the code is bound to it by the authorization page.
func (c *Client) Exchange(ctx context.Context, code, redirectURI string) error {
	return c.ExchangeCode(ctx, code)
}

// OAuthCode returns the OAuth2 error code, e.g. invalid_grant
// (authn.OAuthError).
func (e *AuthError) OAuthCode() string { return e.Code }

// OAuthDescription returns Wink's error description, explained
// (authn.OAuthError).
func (e *AuthError) OAuthDescription() string { return e.Reason }

// AccountName returns the account whose credentials were rejected
// (auth.AccountError).
func (e *AuthError) AccountName() string { return e.Account }
