package wink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	authn "github.com/cloud2mqtt/cloud2mqtt/auth"
)

// Check verifies the account's credentials and, when they fail, names the
// cause and the fix (`cloud2mqtt auth check`). It obtains an access token
// (refreshing it if needed), reads the JWT claims when the token is a JWT
// (exp, azp against accounts[].client_id, sub, preferred_username), then
// asks Wink: with verifyURL set, the Wink Login verify-client call
// (POST {"ClientId","AccessToken","ClientSecret"} → profile and expiry),
// otherwise GET /users/me. The report never holds a token or the secret.
// The verify URL is accounts[].verify_url (cloud.CredentialChecker).
func (c *Client) Check(ctx context.Context) authn.Report { return c.check(ctx, c.cfg.VerifyURL) }

func (c *Client) check(ctx context.Context, verifyURL string) authn.Report {
	r := authn.Report{Account: c.cfg.Account, Cloud: CloudName}
	login := "run cloud2mqtt auth login " + c.cfg.Account

	switch {
	case c.tokens.Stored() != nil:
		r.Details = append(r.Details, "token: found in the token store")
	case c.cfg.RefreshToken != "":
		r.Details = append(r.Details, "token: accounts[].refresh_token from the configuration")
	case c.cfg.TokenURL != "":
		r.Details = append(r.Details, "token: none yet; asking the token service at accounts[].token_url with accounts[].email")
	case c.cfg.Email != "":
		r.Details = append(r.Details, "token: none yet; trying the password grant with accounts[].email")
	default:
		where := "no token store"
		if c.cfg.Tokens != nil {
			where = c.cfg.Tokens.Path()
		}
		r.Cause = "no token: the account has not logged in yet (nothing in " + where + ", no accounts[].refresh_token)"
		r.Fix = login
		return r
	}

	t, gen, err := c.tokens.Token(ctx)
	if err != nil {
		return failed(r, err)
	}
	tok := t.AccessToken
	r = c.claims(r, tok)
	if r.Cause != "" {
		return r
	}
	if verifyURL == "" {
		// Without Wink Login's verify call, the refresh grant is what
		// tests the client secret and the refresh token: a valid stored
		// access token proves neither.
		renewed, ok, err := c.tokens.Renew(ctx)
		switch {
		case err != nil:
			return failed(r, err)
		case ok && c.cfg.TokenURL != "" && c.cfg.ClientID == "":
			tok = renewed.AccessToken
			if !renewed.Expiry.IsZero() {
				r.Expiry = renewed.Expiry
			}
			r.Details = append(r.Details, "token service: accepted accounts[].email and password (the new token is saved)")
		case ok:
			tok = renewed.AccessToken
			if !renewed.Expiry.IsZero() {
				r.Expiry = renewed.Expiry
			}
			r.Details = append(r.Details, "refresh grant: Wink accepted the client secret and the refresh token (the new token is saved)")
		default:
			r.Details = append(r.Details, "client secret: not tested (no refresh token to renew with; set accounts[].verify_url to test it)")
		}
	}

	if verifyURL != "" {
		return c.checkVerify(ctx, r, verifyURL, tok, gen)
	}
	env, err := c.call(ctx, http.MethodGet, "/users/me", nil)
	if err != nil {
		return failed(r, err)
	}
	var me struct {
		UserID    string `json:"user_id"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Email     string `json:"email"`
	}
	_ = json.Unmarshal(env.Data, &me)
	if r.Subject == "" {
		r.Subject = me.UserID
	}
	if r.Username == "" {
		r.Username = strings.TrimSpace(me.FirstName + " " + me.LastName)
	}
	r.Email = authn.MaskEmail(me.Email)
	if r.Expiry.IsZero() {
		r.Expiry = c.tokens.Expiry()
	}
	r.Details = append(r.Details, "GET /users/me answered with the account's profile")
	if c.bareToken() {
		until := "until Wink refuses it (its expiry is unknown)"
		if !r.Expiry.IsZero() {
			until = "until " + r.Expiry.UTC().Format(time.RFC3339)
		}
		r.Details = append(r.Details, "accounts[].access_token: nothing renews it; it works "+until+"; then "+accessTokenFix(c.cfg.Account))
	}
	r.OK = true
	return r
}

// failed fills the report's cause and fix from err.
func failed(r authn.Report, err error) authn.Report {
	r.OK = false
	r.Cause, r.Fix = authn.ExplainFor(r.Account, err)
	return r
}

// claims adds what a JWT access token says and fails the report when the
// token was issued to another client.
func (c *Client) claims(r authn.Report, tok string) authn.Report {
	cl, ok := authn.ParseClaims(tok)
	if !ok {
		r.Details = append(r.Details, "access token: opaque (not a JWT)")
		return r
	}
	r.Subject, r.Username, r.Expiry = cl.Subject, cl.PreferredUsername, cl.Expiry
	if strings.Contains(r.Username, "@") {
		r.Username = authn.MaskEmail(r.Username)
	}
	// Without accounts[].client_id (a token service, a bare token) there
	// is no client to compare with.
	if cl.AuthorizedParty != "" && c.cfg.ClientID != "" && cl.AuthorizedParty != c.cfg.ClientID {
		r.Cause = fmt.Sprintf("token issued to another client: its azp is %q but accounts[].client_id is %q", cl.AuthorizedParty, c.cfg.ClientID)
		r.Fix = fmt.Sprintf("log in again with this client: cloud2mqtt auth login %s (or set accounts[].client_id to the client that issued the token, with its secret)", c.cfg.Account)
		return r
	}
	if cl.AuthorizedParty != "" && c.cfg.ClientID != "" {
		r.Details = append(r.Details, "access token: JWT issued to this client (azp matches client_id)")
	}
	if !cl.Expiry.IsZero() && time.Now().After(cl.Expiry) {
		r.Details = append(r.Details, "access token: exp is in the past")
	}
	return r
}

// verifyAnswer is the verify-client endpoint's answer: the profile on
// success, {"error","message"} on failure.
type verifyAnswer struct {
	FirstName  string          `json:"firstName"`
	LastName   string          `json:"lastName"`
	Email      string          `json:"email"`
	WinkTag    string          `json:"winkTag"`
	WinkToken  string          `json:"winkToken"`
	ExpiryTime json.RawMessage `json:"expiryTime"`
	Error      string          `json:"error"`
	Message    string          `json:"message"`
}

// checkVerify runs the verify-client call; an expired token is renewed
// once and verified again.
func (c *Client) checkVerify(ctx context.Context, r authn.Report, verifyURL, tok string, gen int) authn.Report {
	status, ans, err := c.verify(ctx, verifyURL, tok)
	if err == nil && status == http.StatusUnauthorized && ans.Error != "invalid_client" {
		if rerr := c.tokens.Refresh(ctx, gen); rerr != nil {
			cause, fix := authn.ExplainFor(r.Account, rerr)
			r.Cause = "token expired (Wink Login answered token_expired) and renewing it failed: " + cause
			r.Fix = fix
			return r
		}
		r.Details = append(r.Details, "access token: had expired and was renewed with the refresh token")
		t, _, err := c.tokens.Token(ctx)
		if err != nil {
			return failed(r, err)
		}
		tok = t.AccessToken
		if r = c.claims(r, tok); r.Cause != "" {
			return r
		}
		status, ans, err = c.verify(ctx, verifyURL, tok)
	}
	if err != nil {
		return failed(r, err)
	}
	login := "cloud2mqtt auth login " + c.cfg.Account
	switch code := ans.Error; {
	case status == http.StatusOK:
	case code == "azp_mismatch" || status == http.StatusConflict:
		r.Cause = "token issued to another client: Wink Login says its azp does not match accounts[].client_id " + strconv.Quote(c.cfg.ClientID)
		r.Fix = "log in again with this client: " + login
		return r
	case code == "client_not_enabled" || status == http.StatusPreconditionFailed:
		r.Cause = "client not set up for verification: Wink Login does not verify tokens for client " + strconv.Quote(c.cfg.ClientID)
		r.Fix = "enable token verification for the client on developer.wink.com, or remove accounts[].verify_url to check with a plain API call"
		return r
	case code == "invalid_client" || status == http.StatusForbidden:
		r.Cause = "wrong client secret: Wink Login refused accounts[].client_id with accounts[].client_secret"
		r.Fix = "copy client_secret again from developer.wink.com into accounts[].client_secret"
		return r
	case code == "token_expired" || status == http.StatusUnauthorized:
		r.Cause = "token expired: Wink Login says the access token has expired, even after renewal"
		r.Fix = login
		return r
	case code == "invalid_token" || status == http.StatusUnprocessableEntity:
		r.Cause = "token unknown or revoked: Wink Login does not know the access token"
		r.Fix = login
		return r
	default:
		msg := ans.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		r.Cause = fmt.Sprintf("the verify call answered HTTP %d %s: %s", status, code, msg)
		r.Fix = "check accounts[].verify_url"
		return r
	}
	if ans.Email != "" {
		r.Email = authn.MaskEmail(ans.Email)
	}
	if name := strings.TrimSpace(ans.FirstName + " " + ans.LastName); name != "" {
		r.Details = append(r.Details, "name: "+name)
	}
	if ans.WinkTag != "" {
		r.Details = append(r.Details, "winkTag: "+ans.WinkTag)
	}
	if ans.WinkToken != "" {
		r.Details = append(r.Details, "winkToken: present")
	}
	if t, ok := parseExpiry(ans.ExpiryTime); ok {
		r.Expiry = t
	}
	r.Details = append(r.Details, "Wink Login verified the token for this client")
	r.OK = true
	return r
}

// verify POSTs the verify-client request and decodes the answer. The
// request body holds the secret, so errors never include it.
func (c *Client) verify(ctx context.Context, verifyURL, tok string) (int, verifyAnswer, error) {
	var ans verifyAnswer
	body, err := json.Marshal(map[string]string{"ClientId": c.cfg.ClientID, "AccessToken": tok, "ClientSecret": c.cfg.ClientSecret})
	if err != nil {
		return 0, ans, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, verifyURL, bytes.NewReader(body))
	if err != nil {
		return 0, ans, errors.New("accounts[].verify_url is not a valid URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, ans, fmt.Errorf("verify call: %w", redact(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, ans, fmt.Errorf("verify call: read answer: %w", err)
	}
	if err := json.Unmarshal(raw, &ans); err != nil && resp.StatusCode == http.StatusOK {
		return 0, ans, fmt.Errorf("verify call: answer is not JSON: %w", err)
	}
	return resp.StatusCode, ans, nil
}

// parseExpiry reads expiryTime as RFC 3339 text or Unix seconds (or
// milliseconds).
func parseExpiry(raw json.RawMessage) (time.Time, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, true
		}
		raw = json.RawMessage(s)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(raw)), 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	if n > 1e12 {
		return time.UnixMilli(int64(n)), true
	}
	return time.Unix(int64(n), 0), true
}
