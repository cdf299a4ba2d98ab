package homey

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

// sessionKey is the token store entry of the Homey session token.
func (c *Client) sessionKey() string { return c.cfg.Account + "/session" }

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
func (c *Client) AuthCodeURL(state, redirectURI string) string {
	if c.oauth == nil {
		return ""
	}
	cfg := *c.oauth
	cfg.RedirectURL = redirectURI
	return cfg.AuthCodeURL(state)
}

// Exchange trades an authorization code for tokens and saves them; the
// client uses them from then on.
func (c *Client) Exchange(ctx context.Context, code, redirectURI string) error {
	if c.oauth == nil {
		return fmt.Errorf("homey: account %s: a local API key account has no login; it uses accounts[].api_key", c.cfg.Account)
	}
	cfg := *c.oauth
	cfg.RedirectURL = redirectURI
	t, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, c.http), code)
	if err != nil {
		return fmt.Errorf("homey: account %s: exchange the authorization code: %w", c.cfg.Account, c.tokenError("authorization_code", err))
	}
	c.athom.Install(t)
	c.log.Info("obtained athom tokens by authorization code")
	return nil
}

// cloudCall makes one call to Athom's cloud with the access token,
// refreshing once when the cloud answers 401. out, when non-nil, receives
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
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			if err := c.athom.Refresh(ctx, gen); err != nil {
				return nil, err
			}
			continue
		}
		herr := &HTTPError{Method: method, Path: path, Status: resp.StatusCode, Message: errorMessage(b, resp.StatusCode)}
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, &cloud.AuthError{Cloud: CloudName, Account: c.cfg.Account, Code: "invalid_token", OAuth: true, Reason: "Athom rejected a fresh access token: " + herr.Message}
		}
		return nil, fmt.Errorf("athom: %w", herr)
	}
}

// session is the Homey the client talks to and its bearer (session token
// or API key). gen counts renewals so that concurrent callers that saw the
// same 401 share one renewal.
type session struct {
	mu       sync.Mutex
	base     string
	homeyID  string
	token    string
	expiry   time.Time // zero: never (API key)
	gen      int
	loaded   bool // the stored session was tried
	renewals int  // completed delegation → login chains
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
		return s.target(), nil
	}
	if s.base == "" {
		base, id, err := c.discover(ctx)
		if err != nil {
			return target{}, err
		}
		s.base, s.homeyID = base, id
	}
	if s.token != "" && time.Now().Before(s.expiry.Add(-c.renewMargin())) {
		return s.target(), nil
	}
	if err := c.renewLocked(ctx); err != nil {
		return target{}, err
	}
	return s.target(), nil
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
	}
}

// renewLocked finds the Homey when needed and runs delegation → login.
func (c *Client) renewLocked(ctx context.Context) error {
	s := c.sess
	if s.base == "" {
		base, id, err := c.discover(ctx)
		if err != nil {
			return err
		}
		s.base, s.homeyID = base, id
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

// userHomey is one entry of /user/me's homeys.
type userHomey struct {
	ID                 string `json:"id"`
	UID                string `json:"_id"`
	Name               string `json:"name"`
	LocalURL           string `json:"localUrl"`
	LocalURLSecure     string `json:"localUrlSecure"`
	RemoteURL          string `json:"remoteUrl"`
	RemoteURLForwarded string `json:"remoteUrlForwarded"`
}

func (h userHomey) id() string {
	if h.ID != "" {
		return h.ID
	}
	return h.UID
}

// discover picks the Homey from /user/me and the URL to reach it by.
func (c *Client) discover(ctx context.Context) (base, homeyID string, err error) {
	b, err := c.cloudCall(ctx, http.MethodGet, "/user/me", nil)
	if err != nil {
		return "", "", fmt.Errorf("homey: account %s: read the athom user: %w", c.cfg.Account, err)
	}
	var me struct {
		Homeys []userHomey `json:"homeys"`
	}
	if err := json.Unmarshal(b, &me); err != nil {
		return "", "", fmt.Errorf("homey: account %s: athom user is not JSON: %w", c.cfg.Account, err)
	}
	h, err := c.pickHomey(me.Homeys)
	if err != nil {
		return "", "", err
	}
	base, err = c.pickURL(ctx, h)
	if err != nil {
		return "", "", err
	}
	c.log.Info("found the Homey", "homey", h.Name, "homey_id", h.id(), "url", base)
	return base, h.id(), nil
}

func (c *Client) pickHomey(hs []userHomey) (userHomey, error) {
	var names []string
	for _, h := range hs {
		if c.cfg.HomeyID != "" && h.id() == c.cfg.HomeyID {
			return h, nil
		}
		names = append(names, fmt.Sprintf("%q (%s)", h.Name, h.id()))
	}
	switch {
	case c.cfg.HomeyID != "" && len(hs) == 0:
		return userHomey{}, fmt.Errorf("homey: account %s: accounts[].homey_id %s: the athom user has no Homey", c.cfg.Account, c.cfg.HomeyID)
	case c.cfg.HomeyID != "":
		return userHomey{}, fmt.Errorf("homey: account %s: accounts[].homey_id %s is not among the user's Homeys: %s", c.cfg.Account, c.cfg.HomeyID, strings.Join(names, ", "))
	case len(hs) == 0:
		return userHomey{}, fmt.Errorf("homey: account %s: the athom user has no Homey", c.cfg.Account)
	case len(hs) > 1:
		return userHomey{}, fmt.Errorf("homey: account %s: the athom user has %d Homeys (%s): set accounts[].homey_id to one of them", c.cfg.Account, len(hs), strings.Join(names, ", "))
	}
	return hs[0], nil
}

// candidate is a URL to try and how long its ping may take.
type candidate struct {
	url     string
	timeout time.Duration
	secure  bool
}

// pickURL pings the Homey's URLs at once and takes localUrlSecure when it
// answers, else the first of the others to answer.
func (c *Client) pickURL(ctx context.Context, h userHomey) (string, error) {
	var cands []candidate
	add := func(u string, d time.Duration, secure bool) {
		if u == "" {
			return
		}
		if b, err := baseURL(u); err == nil {
			for _, x := range cands {
				if x.url == b {
					return
				}
			}
			cands = append(cands, candidate{url: b, timeout: d, secure: secure})
		}
	}
	add(h.LocalURLSecure, 1200*time.Millisecond, true)
	add(h.LocalURL, 1000*time.Millisecond, false)
	add(h.RemoteURLForwarded, 2000*time.Millisecond, false)
	add(h.RemoteURL, 5000*time.Millisecond, false)
	if len(cands) == 0 {
		return "", fmt.Errorf("homey: account %s: the athom user lists no URL for Homey %q", c.cfg.Account, h.Name)
	}
	type result struct {
		c   candidate
		err error
	}
	results := make(chan result, len(cands))
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, cd := range cands {
		go func() {
			_, err := c.ping(pctx, cd.url, h.id(), cd.timeout)
			results <- result{cd, err}
		}()
	}
	var first string
	secureOpen := cands[0].secure
	var errs []string
	for range cands {
		r := <-results
		switch {
		case r.err != nil:
			errs = append(errs, r.c.url+": "+r.err.Error())
			if r.c.secure {
				secureOpen = false
			}
		case r.c.secure:
			return r.c.url, nil
		case first == "":
			first = r.c.url
		}
		if first != "" && !secureOpen {
			return first, nil
		}
	}
	if first != "" {
		return first, nil
	}
	return "", fmt.Errorf("homey: account %s: Homey %q answers on none of its URLs: %s", c.cfg.Account, h.Name, strings.Join(errs, "; "))
}

// ping checks that base is the Homey homeyID ("" = any) and returns the id
// it reports in X-Homey-ID.
func (c *Client) ping(ctx context.Context, base, homeyID string, timeout time.Duration) (string, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	u := base + "/api/manager/system/ping"
	if homeyID != "" {
		u += "?id=" + url.QueryEscape(homeyID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	if homeyID != "" {
		req.Header.Set("X-Homey-ID", homeyID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("ping: %w", redact(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("ping: HTTP %d: %s", resp.StatusCode, errorMessage(b, resp.StatusCode))
	}
	if strings.TrimSpace(string(b)) == "false" {
		return "", errors.New("ping: another Homey answers there")
	}
	id := resp.Header.Get("X-Homey-ID")
	if homeyID != "" && id != "" && id != homeyID {
		return "", fmt.Errorf("ping: Homey %s answers there, not %s", id, homeyID)
	}
	if id == "" {
		id = homeyID
	}
	return id, nil
}
