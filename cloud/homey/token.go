package homey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/tokensource"
)

// Codes of the Homey's own refusals (the others are Athom's OAuth2 codes
// or cloud.CodeNoCredentials and cloud.CodeNoRefreshToken).
const (
	codeLoginRefused    = "homey_login_refused"
	codeSessionRejected = "session_rejected"
)

// authError is a refusal the client found itself, not an OAuth2 code.
func (c *Client) authError(code, reason string) *cloud.AuthError {
	return &cloud.AuthError{Cloud: CloudName, Account: c.cfg.Account, Code: code, Reason: reason}
}

// newAthomTokens returns the account's athom OAuth2 token source: the
// stored token, then the configured refresh token, refreshed by Athom's
// token endpoint.
func newAthomTokens(c *Client) *tokensource.Source {
	return tokensource.New(tokensource.Options{
		Cloud: CloudName, Account: c.cfg.Account, Store: c.cfg.Tokens, Configured: c.cfg.RefreshToken,
		Refresh: func(ctx context.Context, refresh string) (*oauth2.Token, error) {
			expired := &oauth2.Token{RefreshToken: refresh, Expiry: time.Unix(1, 0)}
			t, err := c.oauth.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, c.http), expired).Token()
			if err != nil {
				return nil, c.tokenError("refresh_token", err)
			}
			c.log.Info("refreshed the athom access token")
			return t, nil
		},
		Logger: c.log,
	})
}

// tokenError turns a token endpoint failure into an AuthError when Athom
// refused the grant, else a plain error. Secrets never appear in it.
func (c *Client) tokenError(grant string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if re.ErrorCode != "" && status < 500 {
			reason := re.ErrorDescription
			if reason == "" {
				switch grant {
				case "refresh_token":
					reason = "the refresh token was rejected (expired, revoked, already used or issued to another client)"
				case "authorization_code":
					reason = "the authorization code was rejected (expired, already used or issued to another client)"
				}
			}
			return &cloud.AuthError{Cloud: CloudName, Account: c.cfg.Account, Code: re.ErrorCode, OAuth: true, Reason: reason}
		}
		return fmt.Errorf("athom token request (%s grant): HTTP %d", grant, status)
	}
	return fmt.Errorf("athom token request (%s grant): %w", grant, redact(err))
}

// AuthCodeURL returns Athom's page where the owner authorises this client;
// Athom then redirects to redirectURI with ?code=…&state=…. No scope is
// asked for, so the client's configured scopes apply. It returns "" for a
// local (API key) account.
func (c *Client) AuthCodeURL(state, redirectURI, verifier string) string {
	if c.oauth == nil {
		return ""
	}
	cfg := *c.oauth
	cfg.RedirectURL = redirectURI
	if verifier == "" {
		return cfg.AuthCodeURL(state)
	}
	return cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Exchange trades an authorization code for tokens and saves them; the
// client uses them from then on.
func (c *Client) Exchange(ctx context.Context, code, redirectURI, verifier string) error {
	if c.oauth == nil {
		return fmt.Errorf("homey: account %s: a local API key account has no login; it uses accounts[].api_key", c.cfg.Account)
	}
	cfg := *c.oauth
	cfg.RedirectURL = redirectURI
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	t, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, c.http), code, opts...)
	if err != nil {
		return fmt.Errorf("homey: account %s: exchange the authorization code: %w", c.cfg.Account, c.tokenError("authorization_code", err))
	}
	c.athom.Install(t)
	c.log.Info("obtained athom tokens by authorization code")
	return nil
}

// cloudCall makes one call to Athom's cloud with the access token,
// refreshing once when the cloud answers 401 invalid_token. out, when non-nil, receives
// the JSON answer; the raw answer is returned.
func (c *Client) cloudCall(ctx context.Context, method, path string, body any) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		tok, gen, err := c.athom.Token(ctx)
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.cfg.CloudURL+path, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("athom %s %s: %w", method, path, redact(err))
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("athom %s %s: read answer: %w", method, path, err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return b, nil
		}
		// Only a 401 that says the access token is invalid is worth the
		// refresh token, as in Athom's own client; any other 401 is
		// reported as it is.
		invalid := resp.StatusCode == http.StatusUnauthorized && oauthErrorCode(b) == "invalid_token"
		if invalid && attempt == 0 {
			if err := c.athom.Refresh(ctx, gen); err != nil {
				return nil, err
			}
			continue
		}
		herr := &HTTPError{Method: method, Path: path, Status: resp.StatusCode, Message: errorMessage(b, resp.StatusCode)}
		if invalid {
			return nil, &cloud.AuthError{Cloud: CloudName, Account: c.cfg.Account, Code: "invalid_token", OAuth: true, Reason: "Athom rejected a fresh access token: " + herr.Message}
		}
		return nil, fmt.Errorf("athom: %w", herr)
	}
}

// oauthErrorCode is the "error" of an OAuth-style error body, "" when none.
func oauthErrorCode(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Error
}
