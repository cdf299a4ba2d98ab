package wink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/tokensource"
)

// passwordGrantRefused is Wink's description when a developer client may not
// use the password grant.
const passwordGrantRefused = "not permitted to use the password grant type"

// newTokens returns the account's token source: the stored token, the
// configured refresh token, then the token service (accounts[].token_url)
// or the legacy password grant. A bare accounts[].access_token is seeded
// by seedAccessToken.
func newTokens(c *Client) *tokensource.Source {
	o := tokensource.Options{
		Cloud: CloudName, Account: c.cfg.Account, Store: c.cfg.Tokens, Configured: c.cfg.RefreshToken,
		Refresh: func(ctx context.Context, refresh string) (*oauth2.Token, error) {
			return c.postToken(ctx, map[string]string{
				"client_id": c.cfg.ClientID, "client_secret": c.cfg.ClientSecret,
				"grant_type": "refresh_token", "refresh_token": refresh,
			})
		},
		Logger: c.log,
	}
	switch {
	case c.cfg.TokenURL != "":
		o.FirstLogin = c.tokenService
		if c.cfg.ClientID == "" {
			// Without client credentials nothing but the service renews.
			o.Refresh = func(ctx context.Context, _ string) (*oauth2.Token, error) { return c.tokenService(ctx) }
		}
	case c.cfg.AccessToken != "" && c.cfg.RefreshToken == "" && c.cfg.Email == "":
		o.ExpiredFix = accessTokenFix(c.cfg.Account)
	case c.cfg.Email != "":
		o.FirstLogin = func(ctx context.Context) (*oauth2.Token, error) {
			return c.postToken(ctx, map[string]string{
				"client_id": c.cfg.ClientID, "client_secret": c.cfg.ClientSecret,
				"grant_type": "password", "username": c.cfg.Email, "email": c.cfg.Email, "password": c.cfg.Password,
			})
		}
	}
	return tokensource.New(o)
}

// tokenResponse is the token endpoint's answer; Wink repeats the token
// fields at top level and inside data.
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	RefreshToken     string          `json:"refresh_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.Number     `json:"expires_in"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	Errors           []any           `json:"errors"`
	Data             json.RawMessage `json:"data"`
}

// postToken POSTs a JSON token request and parses the answer.
func (c *Client) postToken(ctx context.Context, body map[string]string) (*oauth2.Token, error) {
	return c.postTokenAt(ctx, c.api.String()+"/oauth2/token", body["grant_type"], body)
}

// postTokenAt POSTs a JSON token request to endpoint; grant names the
// sign-in in errors.
func (c *Client) postTokenAt(ctx context.Context, endpoint, grant string, body map[string]string) (*oauth2.Token, error) {
	// A refresh token is single-use: once sent, the answer must be read even
	// if the caller gives up, or the new token would be lost. The HTTP
	// client's timeout still bounds the call.
	ctx = context.WithoutCancel(ctx)
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token request (%s grant): %w", grant, redact(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("token request (%s grant): read answer: %w", grant, err)
	}
	var tr tokenResponse
	jerr := json.Unmarshal(raw, &tr)
	var inner tokenResponse
	if len(tr.Data) > 0 && tr.Data[0] == '{' {
		_ = json.Unmarshal(tr.Data, &inner)
	}
	if tr.Error == "" {
		tr.Error, tr.ErrorDescription = inner.Error, inner.ErrorDescription
	}
	if resp.StatusCode >= 400 || tr.Error != "" {
		if tr.Error != "" && resp.StatusCode < 500 {
			return nil, c.authError(grant, tr.Error, tr.ErrorDescription)
		}
		msg := errorText(tr.Errors)
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return nil, fmt.Errorf("token request (%s grant): HTTP %d: %s", grant, resp.StatusCode, msg)
	}
	if jerr != nil {
		return nil, fmt.Errorf("token request (%s grant): answer is not JSON: %w", grant, jerr)
	}
	if tr.AccessToken == "" {
		tr.AccessToken, tr.RefreshToken, tr.TokenType, tr.ExpiresIn = inner.AccessToken, inner.RefreshToken, inner.TokenType, inner.ExpiresIn
	}
	if tr.AccessToken == "" {
		return nil, fmt.Errorf("token request (%s grant): answer has no access_token", grant)
	}
	t := &oauth2.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: tr.TokenType}
	if n, err := tr.ExpiresIn.Int64(); err == nil && n > 0 {
		t.Expiry = time.Now().Add(time.Duration(n) * time.Second)
	}
	c.log.Info("obtained a Wink access token", "grant", grant)
	return t, nil
}

// authError is Wink's refusal of a grant, explained.
func (c *Client) authError(grant, code, desc string) *cloud.AuthError {
	e := &cloud.AuthError{Cloud: CloudName, Account: c.cfg.Account, Code: code, OAuth: true, Reason: explain(grant, desc)}
	if strings.Contains(desc, passwordGrantRefused) {
		e.Cause = "Wink no longer lets this client log in with email and password (\"client is not permitted to use the password grant type\")"
		e.Fix = "remove accounts[].email and accounts[].password and run cloud2mqtt auth login " + c.cfg.Account + " to log in through the browser"
	}
	return e
}

// explain turns Wink's error_description into advice.
func explain(grant, desc string) string {
	switch {
	case strings.Contains(desc, passwordGrantRefused):
		return desc + ": Wink no longer lets developer clients log in with email and password; remove accounts[].email/password and authorise in the browser instead"
	case desc != "":
		return desc
	case grant == "refresh_token":
		return "the refresh token was rejected (expired, revoked, already used or issued to another client)"
	case grant == "authorization_code":
		return "the authorization code was rejected (expired, already used or issued to another client)"
	case grant == "password":
		return "email or password rejected"
	}
	return ""
}

// AuthorizeURL returns the Wink page where the owner authorises this client;
// Wink then redirects to redirectURI with ?code=…&state=…. A verifier adds
// its PKCE S256 challenge.
func (c *Client) AuthorizeURL(redirectURI, state, verifier string) string {
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", c.cfg.ClientID)
	q.Set("redirect_uri", redirectURI)
	if state != "" {
		q.Set("state", state)
	}
	if verifier != "" {
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
		q.Set("code_challenge_method", "S256")
	}
	return c.api.String() + "/oauth2/authorize?" + q.Encode()
}

// ExchangeCode trades an authorization code (and the PKCE verifier of its
// authorization, when there was one) for tokens and saves them; the client
// uses them from then on.
func (c *Client) ExchangeCode(ctx context.Context, code, verifier string) error {
	body := map[string]string{
		"client_id":     c.cfg.ClientID,
		"client_secret": c.cfg.ClientSecret,
		"grant_type":    "authorization_code",
		"code":          code,
	}
	if verifier != "" {
		body["code_verifier"] = verifier
	}
	t, err := c.postToken(ctx, body)
	if err != nil {
		return fmt.Errorf("wink: account %s: exchange authorization code: %w", c.cfg.Account, err)
	}
	c.tokens.Install(t)
	return nil
}

// CheckAuth makes sure the account has working credentials, obtaining a token
// when needed, and reads the user profile with it.
func (c *Client) CheckAuth(ctx context.Context) error {
	if _, err := c.call(ctx, http.MethodGet, "/users/me", nil); err != nil {
		return fmt.Errorf("wink: account %s: check credentials: %w", c.cfg.Account, err)
	}
	return nil
}
