package homey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	authn "github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// sessionMePath is the Homey call that says who a bearer stands for; it
// needs no scope.
const sessionMePath = "/api/manager/sessions/session/me"

// checkPingTimeout bounds the ping of a local Homey during Check.
const checkPingTimeout = 5 * time.Second

// keyFix is the fix for a local API key that is missing or lacks scopes.
const keyFix = "create a key with " + ScopeDeviceRead + ", " + ScopeDeviceControl + " and " + ScopeZoneRead +
	" in the Homey web app → Settings → API Keys and set it as accounts[].api_key"

// sessionMe is the Homey's answer to GET /api/manager/sessions/session/me.
type sessionMe struct {
	Type              string          `json:"type"`
	UserID            string          `json:"userId"`
	UserName          string          `json:"userName"`
	Scopes            []string        `json:"scopes"`
	IntersectedScopes []string        `json:"intersectedScopes"`
	ClientName        string          `json:"clientName"`
	ExpiresAt         json.RawMessage `json:"expiresAt"`
}

// Check verifies the account's credentials for `cloud2mqtt auth check`
// and, when they fail, names the cause and the fix.
//
// Cloud mode: it looks for a token (token store or accounts[].refresh_token),
// obtains an athom access token (refreshing it when needed), reads the athom
// user (GET /user/me) and picks the Homey, pings it, runs delegation → Homey
// login and asks the Homey who the new session is (GET
// /api/manager/sessions/session/me). Local mode: it pings accounts[].address
// (X-Homey-ID), asks the Homey who the API key is and lists which of the
// scopes the bridge needs the key has: a missing device scope fails the
// check, a missing zone scope is only reported.
//
// The report never holds a token, API key or client secret.
func (c *Client) Check(ctx context.Context) authn.Report {
	r := authn.Report{Account: c.cfg.Account, Cloud: CloudName}
	if c.local {
		return c.checkLocal(ctx, r)
	}
	return c.checkCloud(ctx, r)
}

func (c *Client) checkCloud(ctx context.Context, r authn.Report) authn.Report {
	login := "run cloud2mqtt auth login " + c.cfg.Account
	switch {
	case c.athom.Stored() != nil:
		r.Details = append(r.Details, "token: found in the token store")
	case c.cfg.RefreshToken != "":
		r.Details = append(r.Details, "token: accounts[].refresh_token from the configuration")
	default:
		where := "no token store"
		if c.cfg.Tokens != nil {
			where = c.cfg.Tokens.Path()
		}
		r.Cause = "no token: the account has not logged in yet (nothing in " + where + ", no accounts[].refresh_token)"
		r.Fix = login
		return r
	}

	if _, _, err := c.athom.Token(ctx); err != nil {
		return c.cloudFailed(r, "get an athom access token", err)
	}
	// A valid stored access token proves neither the client secret nor the
	// refresh token: the refresh grant tests both.
	tok, renewed, err := c.athom.Renew(ctx)
	if err != nil {
		return c.cloudFailed(r, "renew the athom access token", err)
	}
	r.Expiry = tok.Expiry
	if renewed {
		r.Details = append(r.Details, "refresh grant: Athom accepted the client secret and the refresh token (the new token is saved)")
	} else {
		r.Details = append(r.Details, "client secret: not tested (no refresh token to renew with); the access token works until it expires")
	}

	b, err := c.cloudCall(ctx, http.MethodGet, "/user/me", nil)
	if err != nil {
		return c.cloudFailed(r, "read the athom user", err)
	}
	var me struct {
		ID        string      `json:"id"`
		UID       string      `json:"_id"`
		FirstName string      `json:"firstname"`
		LastName  string      `json:"lastname"`
		FullName  string      `json:"fullname"`
		Email     string      `json:"email"`
		Homeys    []userHomey `json:"homeys"`
	}
	if err := json.Unmarshal(b, &me); err != nil {
		r.Cause = "the athom cloud's answer to GET /user/me is not JSON"
		r.Fix = "check accounts[].cloud_url (default " + DefaultCloudURL + ")"
		return r
	}
	r.Subject = me.ID
	if r.Subject == "" {
		r.Subject = me.UID
	}
	r.Username = me.FullName
	if r.Username == "" {
		r.Username = strings.TrimSpace(me.FirstName + " " + me.LastName)
	}
	r.Email = authn.MaskEmail(me.Email)

	h, err := c.pickHomey(me.Homeys)
	if err != nil {
		return c.homeyNotFound(r, me.Homeys)
	}
	r.Details = append(r.Details, fmt.Sprintf("Homey: %q (id %s)", h.Name, h.id()))

	rt, err := c.pickURL(ctx, h)
	base := rt.base
	if err != nil {
		r.Cause = fmt.Sprintf("Homey %q unreachable: it answers on none of its addresses (%s)", h.Name, plain(err))
		r.Fix = "check that the Homey is switched on and online (the Homey app shows it) and that this machine can reach it, then try again"
		return r
	}
	r.Details = append(r.Details, "Homey address: "+base+" ("+rt.path+")")

	jwt, err := c.delegation(ctx)
	if err != nil {
		return c.cloudFailed(r, "get a delegation token for the Homey", err)
	}
	sess, err := c.homeyLogin(ctx, base, h.id(), jwt)
	if err != nil {
		var ae *cloud.AuthError
		if errors.As(err, &ae) && ae.Code == codeLoginRefused {
			r.Cause = fmt.Sprintf("the Homey %q refused the login with a fresh delegation token (%s)", h.Name, ae.Reason)
			r.Fix = login + "; if it persists, check that this athom user still has access to the Homey (Homey app → Settings → Users)"
			return r
		}
		return c.homeyFailed(r, base, "log in to the Homey", err)
	}

	status, sm, msg, err := c.sessionMe(ctx, base, h.id(), sess)
	switch {
	case err != nil:
		return c.homeyFailed(r, base, "ask the Homey who the session is", err)
	case status == http.StatusUnauthorized:
		r.Cause = fmt.Sprintf("the Homey %q answered 401 to its own fresh session (GET %s: %s)", h.Name, sessionMePath, msg)
		r.Fix = login + "; if it persists, check that this athom user still has access to the Homey (Homey app → Settings → Users)"
		return r
	case status < 200 || status > 299:
		r.Cause = fmt.Sprintf("GET %s answered HTTP %d: %s", sessionMePath, status, msg)
		r.Fix = "try again later; if it persists, restart the Homey"
		return r
	}
	if sm.UserName != "" {
		r.Details = append(r.Details, "Homey user: "+sm.UserName)
	}
	if t, ok := parseExpiresAt(sm.ExpiresAt); ok {
		r.Details = append(r.Details, "Homey session: valid until "+t.Local().Format(time.RFC3339))
	}
	scopes := sm.IntersectedScopes
	if len(scopes) == 0 {
		scopes = sm.Scopes
	}
	if scopes != nil {
		r = scopeReport(r, scopes, false)
		if r.Cause != "" {
			return r
		}
	}
	r.Details = append(r.Details, "the chain athom token → delegation → Homey login → session works")
	r.OK = true
	return r
}

func (c *Client) checkLocal(ctx context.Context, r authn.Report) authn.Report {
	addr := c.cfg.Address
	r.Details = append(r.Details, "mode: local API key at accounts[].address "+addr)
	id, err := c.ping(ctx, addr, "", checkPingTimeout)
	if err != nil {
		if how, ok := unreachable(err); ok {
			r.Cause = fmt.Sprintf("Homey unreachable at accounts[].address %s (%s): %s", addr, how, plain(err))
			r.Fix = "check that the Homey is switched on and that accounts[].address is its address on this network (e.g. http://192.168.1.50), then try again"
			return r
		}
		r.Cause = fmt.Sprintf("accounts[].address %s does not answer as a Homey: %s", addr, plain(err))
		r.Fix = "set accounts[].address to the Homey Pro's own address, e.g. http://192.168.1.50"
		return r
	}
	if id != "" {
		r.Details = append(r.Details, "Homey: id "+id)
	}

	status, sm, msg, err := c.sessionMe(ctx, addr, id, c.cfg.APIKey)
	switch {
	case err != nil:
		return c.homeyFailed(r, addr, "ask the Homey who the API key is", err)
	case status == http.StatusUnauthorized:
		r.Cause = fmt.Sprintf("API key rejected: the Homey answered 401 (%s); the key was deleted or belongs to another Homey", msg)
		r.Fix = keyFix
		return r
	case status < 200 || status > 299:
		r.Cause = fmt.Sprintf("GET %s answered HTTP %d: %s", sessionMePath, status, msg)
		r.Fix = "check accounts[].address; API keys need a Homey Pro (Early 2023) or later"
		return r
	}
	r.Subject = sm.UserID
	r.Username = sm.UserName
	r.Details = append(r.Details, "API key: accepted; API keys do not expire")
	scopes := sm.Scopes
	if scopes == nil {
		scopes = c.probeScopes(ctx, addr, id)
	}
	r = scopeReport(r, scopes, true)
	if r.Cause != "" {
		return r
	}
	r.OK = true
	return r
}

// sessionMe asks the Homey at base who bearer is. A non-2xx answer comes
// back as its status and message; err is a failed connection.
func (c *Client) sessionMe(ctx context.Context, base, homeyID, bearer string) (int, sessionMe, string, error) {
	var sm sessionMe
	status, b, err := c.send(ctx, http.MethodGet, base+sessionMePath, nil, target{homeyID: homeyID, token: bearer}, true)
	if err != nil {
		return 0, sm, "", err
	}
	if status < 200 || status > 299 {
		return status, sm, errorMessage(b, status), nil
	}
	if err := json.Unmarshal(b, &sm); err != nil {
		return http.StatusBadGateway, sm, "the answer is not JSON", nil
	}
	return status, sm, "", nil
}

// probeScopes finds out which scopes a key has when the Homey does not list
// them: the read calls answer 403 without their scope. The control scope
// cannot be probed without changing a device, so it is assumed.
func (c *Client) probeScopes(ctx context.Context, base, homeyID string) []string {
	var got []string
	for _, p := range []struct{ scope, path string }{
		{ScopeDeviceRead, "/api/manager/devices/device"},
		{ScopeZoneRead, "/api/manager/zones/zone"},
	} {
		status, _, err := c.send(ctx, http.MethodGet, base+p.path, nil, target{homeyID: homeyID, token: c.cfg.APIKey}, true)
		if err == nil && status != http.StatusForbidden {
			got = append(got, p.scope)
		}
	}
	return append(got, ScopeDeviceControl)
}

// scopeReport lists which of the needed scopes are granted. A missing
// device scope fails the report; a missing zone scope is a detail.
func scopeReport(r authn.Report, granted []string, local bool) authn.Report {
	var missing []string
	for _, s := range []string{ScopeDeviceRead, ScopeDeviceControl, ScopeZoneRead} {
		switch {
		case hasScope(granted, s):
			r.Details = append(r.Details, "scope "+s+": granted")
		case s == ScopeZoneRead:
			r.Details = append(r.Details, "scope "+s+": missing; devices get no area (optional)")
		default:
			r.Details = append(r.Details, "scope "+s+": missing")
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return r
	}
	who := "the athom session"
	if local {
		who = "the API key"
	}
	r.Cause = fmt.Sprintf("%s lacks %s: the bridge cannot %s", who, strings.Join(missing, " and "), scopeNeeds(missing))
	if local {
		r.Fix = keyFix
	} else {
		r.Fix = (&ScopeError{Scope: missing[0]}).fix()
	}
	return r
}

// scopeNeeds says what the missing device scopes prevent.
func scopeNeeds(missing []string) string {
	var what []string
	for _, s := range missing {
		switch s {
		case ScopeDeviceRead:
			what = append(what, "read devices")
		case ScopeDeviceControl:
			what = append(what, "change devices")
		}
	}
	return strings.Join(what, " or ")
}

// hasScope reports whether a granted scope covers required: grants are
// prefixes on dot boundaries, so "homey.device" covers
// "homey.device.readonly" and "homey" covers everything.
func hasScope(granted []string, required string) bool {
	for _, g := range granted {
		if g == required || strings.HasPrefix(required, g+".") {
			return true
		}
	}
	return false
}

// homeyNotFound explains why no Homey could be picked from the user's.
func (c *Client) homeyNotFound(r authn.Report, hs []userHomey) authn.Report {
	var list, ids []string
	for _, h := range hs {
		list = append(list, fmt.Sprintf("%q (id %s)", h.Name, h.id()))
		ids = append(ids, h.id())
		r.Details = append(r.Details, fmt.Sprintf("Homey of this user: %q (id %s)", h.Name, h.id()))
	}
	switch {
	case len(hs) == 0:
		r.Cause = "no Homey: the athom user has no Homey"
		r.Fix = "add the Homey to this athom account in the Homey app, or run cloud2mqtt auth login " + c.cfg.Account + " with the account that owns it"
	case c.cfg.HomeyID != "":
		r.Cause = fmt.Sprintf("Homey not found: accounts[].homey_id %s is not among the user's Homeys: %s", c.cfg.HomeyID, strings.Join(list, ", "))
		r.Fix = "set accounts[].homey_id to one of: " + strings.Join(ids, ", ")
	default:
		r.Cause = fmt.Sprintf("several Homeys and no accounts[].homey_id: the athom user has %d Homeys: %s", len(hs), strings.Join(list, ", "))
		r.Fix = "set accounts[].homey_id to the id of the one to bridge: " + strings.Join(ids, ", ")
	}
	return r
}

// cloudFailed explains a failed athom call (token, user, delegation).
func (c *Client) cloudFailed(r authn.Report, step string, err error) authn.Report {
	login := "run cloud2mqtt auth login " + c.cfg.Account
	var ae *cloud.AuthError
	if errors.As(err, &ae) {
		switch ae.Code {
		case "invalid_grant":
			r.Cause = "refresh token revoked or expired (invalid_grant): Athom no longer accepts the saved login"
			if ae.Reason != "" {
				r.Cause += " (" + ae.Reason + ")"
			}
			r.Fix = login
			return r
		case "invalid_client", "unauthorized_client":
			r.Cause = "wrong client secret (" + ae.Code + "): Athom did not accept accounts[].client_id " + c.cfg.ClientID + " with accounts[].client_secret"
			r.Fix = "copy the client id and secret again from the athom API client (Homey developer tools → Web API Clients) into accounts[].client_id and accounts[].client_secret"
			return r
		case cloud.CodeNoCredentials:
			r.Cause = "no token: the account has not logged in yet"
			r.Fix = login
			return r
		case cloud.CodeNoRefreshToken:
			r.Cause = "the saved athom access token has expired and there is no refresh token to renew it"
			r.Fix = login
			return r
		case "invalid_token":
			r.Cause = "Athom rejected a freshly renewed access token (invalid_token) while trying to " + step
			r.Fix = login
			return r
		}
	}
	if how, ok := unreachable(err); ok {
		r.Cause = fmt.Sprintf("athom cloud unreachable at %s (%s) while trying to %s: %s", c.cfg.CloudURL, how, step, plain(err))
		r.Fix = "check the network connection and accounts[].cloud_url (default " + DefaultCloudURL + "), then try again"
		return r
	}
	var he *HTTPError
	if errors.As(err, &he) && he.Status >= 500 {
		r.Cause = fmt.Sprintf("the athom cloud failed while trying to %s (HTTP %d: %s)", step, he.Status, he.Message)
		r.Fix = "try again later"
		return r
	}
	cause, fix := authn.ExplainFor(c.cfg.Account, err)
	r.Cause = "could not " + step + ": " + cause
	r.Fix = fix
	return r
}

// homeyFailed explains a failed call to the Homey at base.
func (c *Client) homeyFailed(r authn.Report, base, step string, err error) authn.Report {
	if how, ok := unreachable(err); ok {
		r.Cause = fmt.Sprintf("Homey unreachable at %s (%s) while trying to %s: %s", base, how, step, plain(err))
		r.Fix = "check that the Homey is switched on and reachable from this machine, then try again"
		return r
	}
	cause, fix := authn.ExplainFor(c.cfg.Account, err)
	r.Cause = "could not " + step + ": " + cause
	r.Fix = fix
	return r
}

// unreachable reports whether err is a failed connection rather than an
// answer, and how it failed.
func unreachable(err error) (string, bool) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer in time", true
	case errors.As(err, &ne):
		return "no connection", true
	}
	return "", false
}

// plain drops the "homey: account <name>: " prefix the report already
// shows.
func plain(err error) string {
	s := err.Error()
	for {
		rest, ok := strings.CutPrefix(s, "homey: account ")
		if !ok {
			return s
		}
		_, after, found := strings.Cut(rest, ": ")
		if !found {
			return s
		}
		s = after
	}
}

// parseExpiresAt reads session/me's expiresAt: RFC 3339 text or Unix
// milliseconds; null means unknown.
func parseExpiresAt(raw json.RawMessage) (time.Time, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		t, err := time.Parse(time.RFC3339, s)
		return t, err == nil
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		if n > 1e12 {
			return time.UnixMilli(int64(n)), true
		}
		return time.Unix(int64(n), 0), true
	}
	return time.Time{}, false
}
