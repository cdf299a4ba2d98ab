package wink

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"

	authn "github.com/cloud2mqtt/cloud2mqtt/auth"
)

// The sign-ins that need no Wink client credentials: a token service
// (accounts[].token_url, the "email and password" method of Home
// Assistant's Wink integration) and a bare access token
// (accounts[].access_token, its oldest method).

// tokenServiceGrant names the token service in errors and logs.
const tokenServiceGrant = "token service"

// tokenService asks accounts[].token_url for a token with the account's
// email and password. Its answer has an access token and, where the
// service gives one, a refresh token and expires_in.
func (c *Client) tokenService(ctx context.Context) (*oauth2.Token, error) {
	t, err := c.postTokenAt(ctx, c.cfg.TokenURL, tokenServiceGrant, map[string]string{"email": c.cfg.Email, "password": c.cfg.Password})
	if err != nil {
		return nil, fmt.Errorf("accounts[].token_url: %w", err)
	}
	return t, nil
}

// accessTokenFix is what to do when a bare access token has expired.
func accessTokenFix(account string) string {
	return "put a new token in accounts[].access_token, or set accounts[].client_id and client_secret and run cloud2mqtt auth login " + account +
		", or set accounts[].token_url with email and password"
}

// seedAccessToken installs accounts[].access_token when the token store
// holds no usable token; its expiry comes from the token itself when it
// is a JWT, else it is unknown.
func (c *Client) seedAccessToken() {
	if c.cfg.AccessToken == "" || c.tokens.Stored() != nil {
		return
	}
	t := &oauth2.Token{AccessToken: c.cfg.AccessToken, TokenType: "Bearer"}
	if cl, ok := authn.ParseClaims(c.cfg.AccessToken); ok {
		t.Expiry = cl.Expiry
	}
	c.tokens.Install(t)
}

// bareToken tells whether the account runs on a bare access token that
// nothing renews.
func (c *Client) bareToken() bool {
	return c.cfg.AccessToken != "" && c.cfg.RefreshToken == "" && c.cfg.Email == "" && c.cfg.TokenURL == ""
}
