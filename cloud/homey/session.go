package homey

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// sessionKey is the token store entry of the Homey session token.
func (c *Client) sessionKey() string { return c.cfg.Account + "/session" }

// session is the Homey the client talks to and its bearer (session token
// or API key). gen counts renewals so that concurrent callers that saw the
// same 401 share one renewal.
type session struct {
	mu       sync.Mutex
	route    route     // how the Homey is reached (cloud mode)
	probedAt time.Time // when the LAN was last tried while on a remote path
	base     string
	homeyID  string
	token    string
	expiry   time.Time // zero: never (API key)
	gen      int
	loaded   bool   // the stored session was tried
	renewals int    // completed delegation → login chains
	checked  string // the token whose scopes were read (sessions/session/me)
}

// target is what one Homey call needs.
type target struct {
	base, homeyID, token string
	gen                  int
}

// renewMargin is how long before the session's end it is renewed.
func (c *Client) renewMargin() time.Duration {
	return min(c.cfg.SessionLifetime/10, 10*time.Minute)
}

func (s *session) target() target {
	return target{base: s.base, homeyID: s.homeyID, token: s.token, gen: s.gen}
}

// target returns the Homey to call and a bearer valid for a while.
func (c *Client) target(ctx context.Context) (target, error) {
	s := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.local {
		if s.base == "" {
			id, err := c.ping(ctx, c.cfg.Address, "", 0)
			if err != nil {
				return target{}, fmt.Errorf("homey: account %s: reach the Homey at accounts[].address %s: %w", c.cfg.Account, c.cfg.Address, err)
			}
			s.base, s.homeyID, s.token = c.cfg.Address, id, c.cfg.APIKey
		}
		if err := c.checkScopesLocked(ctx); err != nil {
			return target{}, err
		}
		return s.target(), nil
	}
	if s.base == "" {
		if err := c.discoverLocked(ctx); err != nil {
			return target{}, err
		}
	}
	c.reprobeLocked(ctx)
	if s.token == "" || !time.Now().Before(s.expiry.Add(-c.renewMargin())) {
		if err := c.renewLocked(ctx); err != nil {
			return target{}, err
		}
	}
	if err := c.checkScopesLocked(ctx); err != nil {
		return target{}, err
	}
	return s.target(), nil
}

// checkScopesLocked reads sessions/session/me once per token, as Homey's
// own client does after login, and reports a missing scope at once, by
// name: without homey.device.readonly the account cannot work (an error);
// without homey.device.control commands fail (a warning now, and each Set
// fails at once); without homey.zone.readonly devices have no areas. A
// Homey that does not answer the call is not held against the token.
func (c *Client) checkScopesLocked(ctx context.Context) error {
	s := c.sess
	if s.checked == s.token {
		return nil
	}
	status, b, err := c.send(ctx, http.MethodGet, s.base+"/api/manager/sessions/session/me", nil, s.target(), true)
	if err != nil || status != http.StatusOK {
		c.log.Debug("no session details from the Homey", "status", status, "err", err)
		s.checked = s.token
		return nil
	}
	var me struct {
		Type              string   `json:"type"`
		Scopes            []string `json:"scopes"`
		IntersectedScopes []string `json:"intersectedScopes"`
	}
	if json.Unmarshal(b, &me) != nil || (me.Scopes == nil && me.IntersectedScopes == nil) {
		s.checked = s.token
		return nil
	}
	granted := me.IntersectedScopes
	if granted == nil {
		granted = me.Scopes
	}
	if !grants(granted, ScopeDeviceRead) {
		return &ScopeError{Account: c.cfg.Account, Local: c.local, Scope: ScopeDeviceRead, Op: "reading devices",
			Message: "the session's scopes are " + strings.Join(granted, ", ")}
	}
	s.checked = s.token
	c.mu.Lock()
	c.noControl = !grants(granted, ScopeDeviceControl)
	c.zonesDenied = c.zonesDenied || !grants(granted, ScopeZoneRead)
	c.mu.Unlock()
	if !grants(granted, ScopeDeviceControl) {
		se := &ScopeError{Account: c.cfg.Account, Local: c.local, Scope: ScopeDeviceControl, Op: "changing devices"}
		c.log.Warn("commands will fail: the credentials lack "+ScopeDeviceControl, "fix", se.fix())
	}
	if !grants(granted, ScopeZoneRead) {
		se := &ScopeError{Account: c.cfg.Account, Local: c.local, Scope: ScopeZoneRead, Op: "reading zones"}
		c.log.Info("no zone names for devices: the credentials lack "+ScopeZoneRead, "fix", se.fix())
	}
	return nil
}

// grants reports whether a granted scope covers want: scopes grant by
// prefix on dot boundaries ("homey.device" covers "homey.device.control",
// "homey" covers all).
func grants(granted []string, want string) bool {
	for _, g := range granted {
		if g == want || strings.HasPrefix(want, g+".") {
			return true
		}
	}
	return false
}

// renew replaces the session after a 401 unless another caller already did
// since generation gen was handed out.
func (c *Client) renew(ctx context.Context, gen int) error {
	if c.local {
		return nil
	}
	s := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen && s.token != "" && time.Now().Before(s.expiry) {
		return nil
	}
	s.token = ""
	s.loaded = true // the stored session is the one that failed
	return c.renewLocked(ctx)
}

// forgetURL makes the next call find the Homey's URL again (after a
// transport error: its local address may have changed). The session token
// is kept: it belongs to the Homey, not to the URL.
func (c *Client) forgetURL(base string) {
	if c.local {
		return
	}
	s := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base == base {
		s.base = ""
		s.route.reason = s.route.path + " failed mid-run; finding the Homey again"
	}
}

// discoverLocked finds the Homey and the URL to use.
func (c *Client) discoverLocked(ctx context.Context) error {
	r, err := c.discover(ctx)
	if err != nil {
		return err
	}
	s := c.sess
	s.route, s.base, s.homeyID, s.probedAt = r, r.base, r.homeyID, time.Now()
	return nil
}

// reprobeLocked tries the LAN again, at most every LANProbeInterval, while
// the Homey is reached by a remote path, and moves back to the first LAN
// URL that answers. The session token works on any of the Homey's URLs.
func (c *Client) reprobeLocked(ctx context.Context) {
	s := c.sess
	if !s.route.remote() || len(s.route.lan) == 0 || time.Since(s.probedAt) < c.cfg.LANProbeInterval {
		return
	}
	s.probedAt = time.Now()
	for _, cd := range s.route.lan {
		if _, err := c.ping(ctx, cd.url, s.homeyID, cd.timeout); err != nil {
			continue
		}
		c.log.Info("the Homey answers on the LAN again; moving back", "url", cd.url, "path", cd.path)
		s.route.base, s.route.path, s.route.reason = cd.url, cd.path, "the LAN answers again"
		s.base = cd.url
		return
	}
}

// Path is how the client reaches the Homey now and why
// (cloud.PathReporter): PathLocalSecure, PathLocal, PathRemoteForwarded or
// PathCloud; "" before the Homey was found.
func (c *Client) Path() (path, reason string) {
	if c.local {
		return PathLocal, "a local API key at accounts[].address"
	}
	s := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base == "" {
		return "", s.route.reason
	}
	return s.route.path, s.route.reason
}

// renewLocked finds the Homey when needed and runs delegation → login.
func (c *Client) renewLocked(ctx context.Context) error {
	s := c.sess
	if s.base == "" {
		if err := c.discoverLocked(ctx); err != nil {
			return err
		}
	}
	if !s.loaded {
		s.loaded = true
		if t := c.storedSession(); t != nil {
			s.token, s.expiry = t.AccessToken, t.Expiry
			s.gen++
			if time.Now().Before(s.expiry.Add(-c.renewMargin())) {
				c.log.Debug("using the stored Homey session")
				return nil
			}
		}
	}
	tok, err := c.login(ctx, s.base, s.homeyID)
	if err != nil {
		return err
	}
	s.token, s.expiry = tok, time.Now().Add(c.cfg.SessionLifetime)
	s.gen++
	s.renewals++
	if st := c.cfg.Tokens; st != nil {
		if err := st.Save(c.sessionKey(), &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: s.expiry}); err != nil {
			c.log.Warn("saving the Homey session failed", "err", err)
		}
	}
	c.log.Info("logged in to the Homey", "homey_id", s.homeyID, "valid_until", s.expiry.Format(time.RFC3339))
	return nil
}

func (c *Client) storedSession() *oauth2.Token {
	st := c.cfg.Tokens
	if st == nil {
		return nil
	}
	t, ok, err := st.Load(c.sessionKey())
	if err != nil || !ok || t.AccessToken == "" {
		return nil
	}
	return t
}

// login runs delegation → Homey login and returns the session token.
func (c *Client) login(ctx context.Context, base, homeyID string) (string, error) {
	jwt, err := c.delegation(ctx)
	if err != nil {
		return "", err
	}
	return c.homeyLogin(ctx, base, homeyID, jwt)
}

// delegation asks Athom for a delegation JWT for the Homey.
func (c *Client) delegation(ctx context.Context) (string, error) {
	b, err := c.cloudCall(ctx, http.MethodPost, "/delegation/token?audience=homey", map[string]any{})
	if err != nil {
		return "", fmt.Errorf("homey: account %s: delegation token: %w", c.cfg.Account, err)
	}
	jwt := jsonString(b)
	if jwt == "" {
		return "", fmt.Errorf("homey: account %s: delegation token: empty answer", c.cfg.Account)
	}
	return jwt, nil
}

// homeyLogin trades a delegation JWT for a session token at the Homey.
func (c *Client) homeyLogin(ctx context.Context, base, homeyID, jwt string) (string, error) {
	payload, _ := json.Marshal(map[string]string{"token": jwt})
	status, lb, err := c.send(ctx, http.MethodPost, base+"/api/manager/users/login", payload, target{homeyID: homeyID}, false)
	if err != nil {
		return "", fmt.Errorf("homey: account %s: log in to the Homey: %w", c.cfg.Account, err)
	}
	if status < 200 || status > 299 {
		herr := &HTTPError{Method: http.MethodPost, Path: "/api/manager/users/login", Status: status, Message: errorMessage(lb, status)}
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return "", c.authError(codeLoginRefused, herr.Error())
		}
		return "", fmt.Errorf("homey: account %s: log in to the Homey: %w", c.cfg.Account, herr)
	}
	tok := jsonString(lb)
	if tok == "" {
		return "", fmt.Errorf("homey: account %s: log in to the Homey: empty session token", c.cfg.Account)
	}
	return tok, nil
}
