package wink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"golang.org/x/oauth2"
)

// AuthError says that Wink rejected the account's credentials and a new
// login is needed. It wraps cloud.ErrAuth.
type AuthError struct {
	Account string
	Code    string // OAuth2 error code, e.g. invalid_grant
	Reason  string // Wink's error_description, explained
}

// Error says why the credentials were rejected and how to log in again.
func (e *AuthError) Error() string {
	reason := e.Code
	if e.Reason != "" {
		reason += ": " + e.Reason
	}
	return fmt.Sprintf("%s (%s); log in again with: cloud2mqtt auth login %s", cloud.ErrAuth, reason, e.Account)
}

// Unwrap returns cloud.ErrAuth.
func (e *AuthError) Unwrap() error { return cloud.ErrAuth }

// passwordGrantRefused is Wink's description when a developer client may not
// use the password grant.
const passwordGrantRefused = "not permitted to use the password grant type"

// auth holds the account's token. Concurrent callers that see a 401 share one
// refresh: refresh only acts when the token generation the caller used is
// still the current one.
type auth struct {
	c *Client

	mu            sync.Mutex
	tok           *oauth2.Token
	gen           int
	failed        error  // sticky *AuthError until new credentials appear
	failedRefresh string // the refresh token that was rejected
}

func newAuth(c *Client) *auth { return &auth{c: c} }

// token returns a usable access token and its generation.
func (a *auth) token(ctx context.Context) (string, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.ensureLocked(ctx); err != nil {
		return "", 0, err
	}
	return a.tok.AccessToken, a.gen, nil
}

// refresh gets a new access token unless another caller already did since
// generation gen was handed out.
func (a *auth) refresh(ctx context.Context, gen int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen != a.gen && a.tok != nil && a.failed == nil {
		return nil
	}
	if a.failed != nil {
		return a.ensureLocked(ctx)
	}
	expired := &oauth2.Token{RefreshToken: a.tok.RefreshToken, Expiry: time.Unix(1, 0)}
	return a.obtainLocked(ctx, expired)
}

// ensureLocked makes a.tok a valid token: the current one, the stored one,
// the configured refresh token or the password grant, in that order.
func (a *auth) ensureLocked(ctx context.Context) error {
	if a.failed != nil {
		st := a.stored()
		if st == nil || st.RefreshToken == a.failedRefresh {
			return a.failed
		}
		a.c.log.Info("new credentials found in the token store")
		a.failed, a.tok = nil, st
		a.gen++
	}
	if a.tok == nil {
		switch st := a.stored(); {
		case st != nil:
			a.tok = st
		case a.c.cfg.RefreshToken != "":
			a.tok = &oauth2.Token{RefreshToken: a.c.cfg.RefreshToken}
		default:
			a.tok = &oauth2.Token{}
		}
	}
	if a.tok.Valid() {
		return nil
	}
	return a.obtainLocked(ctx, a.tok)
}

// obtainLocked runs the token source from cur (refreshing because cur is not
// valid) and installs and saves the result.
func (a *auth) obtainLocked(ctx context.Context, cur *oauth2.Token) error {
	src := oauth2.ReuseTokenSource(cur, &jsonSource{ctx: ctx, c: a.c, refresh: cur.RefreshToken})
	t, err := src.Token()
	if err != nil {
		var ae *AuthError
		if errors.As(err, &ae) {
			a.failed, a.failedRefresh = err, cur.RefreshToken
		}
		return err
	}
	a.install(t)
	return nil
}

func (a *auth) install(t *oauth2.Token) {
	if t.RefreshToken == "" && a.tok != nil {
		t.RefreshToken = a.tok.RefreshToken
	}
	a.tok = t
	a.gen++
	a.failed = nil
	if s := a.c.cfg.Tokens; s != nil {
		if err := s.Save(a.c.cfg.Account, t); err != nil {
			a.c.log.Error("saving the new Wink token failed; a restart will need a new login", "err", err)
		}
	}
}

func (a *auth) stored() *oauth2.Token {
	return a.c.cfg.Tokens.Usable(a.c.cfg.Account, a.c.log)
}

// jsonSource is an oauth2.TokenSource that posts JSON to Wink's token
// endpoint: the refresh grant when it has a refresh token, else the legacy
// password grant.
type jsonSource struct {
	ctx     context.Context
	c       *Client
	refresh string
}

// Token implements oauth2.TokenSource.
func (s *jsonSource) Token() (*oauth2.Token, error) {
	cfg := s.c.cfg
	body := map[string]string{"client_id": cfg.ClientID, "client_secret": cfg.ClientSecret}
	switch {
	case s.refresh != "":
		body["grant_type"] = "refresh_token"
		body["refresh_token"] = s.refresh
	case cfg.Email != "":
		body["grant_type"] = "password"
		body["username"] = cfg.Email
		body["email"] = cfg.Email
		body["password"] = cfg.Password
	default:
		return nil, &AuthError{Account: cfg.Account, Code: "no_credentials", Reason: "no stored token, no accounts[].refresh_token and no accounts[].email/password"}
	}
	return s.c.postToken(s.ctx, body)
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
	grant := body["grant_type"]
	// A refresh token is single-use: once sent, the answer must be read even
	// if the caller gives up, or the new token would be lost. The HTTP
	// client's timeout still bounds the call.
	ctx = context.WithoutCancel(ctx)
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api.String()+"/oauth2/token", bytes.NewReader(b))
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
			return nil, &AuthError{Account: c.cfg.Account, Code: tr.Error, Reason: explain(grant, tr.ErrorDescription)}
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
// Wink then redirects to redirectURI with ?code=…&state=….
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", c.cfg.ClientID)
	q.Set("redirect_uri", redirectURI)
	if state != "" {
		q.Set("state", state)
	}
	return c.api.String() + "/oauth2/authorize?" + q.Encode()
}

// ExchangeCode trades an authorization code for tokens and saves them; the
// client uses them from then on.
func (c *Client) ExchangeCode(ctx context.Context, code string) error {
	t, err := c.postToken(ctx, map[string]string{
		"client_id":     c.cfg.ClientID,
		"client_secret": c.cfg.ClientSecret,
		"grant_type":    "authorization_code",
		"code":          code,
	})
	if err != nil {
		return fmt.Errorf("wink: account %s: exchange authorization code: %w", c.cfg.Account, err)
	}
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	c.auth.install(t)
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
