// Package homey is the Homey client: the athom cloud chain (OAuth2 access
// token → delegation JWT → Homey login → session token, renewed before it
// ends and on a 401) or a Homey Pro local API key; device and zone listing
// decoded into the common model; capability changes; and realtime events
// over the Homey's Socket.IO socket (Engine.IO 3), with polling as the
// fallback.
package homey

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/tokensource"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/internal/backoff"
	"golang.org/x/oauth2"
)

// DefaultCloudURL is Athom's cloud API.
const DefaultCloudURL = "https://api.athom.com"

// Scopes the client needs from a local API key.
const (
	ScopeDeviceRead    = "homey.device.readonly"
	ScopeDeviceControl = "homey.device.control"
	ScopeZoneRead      = "homey.zone.readonly"
)

// Config configures one Homey account. Exactly one mode is used: local
// (Address and APIKey) or cloud (ClientID and ClientSecret).
type Config struct {
	Account string // account name, used in topics and the token store

	// Cloud mode (a Homey reached through Athom's cloud).
	ClientID, ClientSecret string        // athom OAuth client
	RefreshToken           string        // seed; the store's token wins when present
	HomeyID                string        // which Homey; "" = the only one of the user
	CloudURL               string        // default DefaultCloudURL
	SessionLifetime        time.Duration // the Homey session is renewed before this; default 24h

	// Local mode (Homey Pro 2023 API key).
	Address string // e.g. "http://192.168.1.50"
	APIKey  string

	Tokens     *tokenstore.Store // may be nil: tokens are kept in memory only
	HTTPClient *http.Client      // default: a client with a 15 s timeout
	Logger     *slog.Logger      // nil discards logs

	PollInterval   time.Duration // device polling without the realtime socket; default 10s
	ResyncInterval time.Duration // full re-read while watching; default 10m
	// LANProbeInterval is how often the LAN is tried again while the Homey
	// is reached through a remote URL; default 5m.
	LANProbeInterval time.Duration
	// RootCAs are extra roots for the Homey's HTTPS (localUrlSecure); nil:
	// the system's, which trust a Homey's real certificate.
	RootCAs *x509.CertPool
}

// Client is one Homey account. It implements cloud.Provider.
type Client struct {
	cfg   Config
	local bool
	http  *http.Client
	log   *slog.Logger
	oauth *oauth2.Config
	athom *tokensource.Source // cloud mode only
	sess  *session
	txs   *txLog

	mu          sync.Mutex
	known       map[string]decoded
	zones       map[string]string
	zonesDenied bool    // the key lacks homey.zone.readonly (logged once)
	noControl   bool    // the credentials lack homey.device.control
	rpc         *socket // the watcher's connected realtime socket, for commands
	eio         int     // the Homey's Engine.IO version once probed (3 or 4); 0 unknown
}

var _ cloud.Provider = (*Client)(nil)

// New validates cfg and returns a client. Errors name the configuration key
// and the fix. A cloud account without any token is accepted: its calls fail
// with an error wrapping cloud.ErrAuth that asks for `cloud2mqtt auth login`
// (which uses AuthCodeURL and Exchange on this client).
func New(cfg Config) (*Client, error) {
	if cfg.Account == "" {
		return nil, errors.New("homey: accounts[].name is empty: give the account a name")
	}
	local := cfg.Address != "" || cfg.APIKey != ""
	cloudMode := cfg.ClientID != "" || cfg.ClientSecret != ""
	switch {
	case local && cloudMode:
		return nil, fmt.Errorf("homey: account %s: both accounts[].address/api_key and accounts[].client_id/client_secret are set: keep address and api_key for a Homey Pro's local API, or client_id and client_secret for the athom cloud", cfg.Account)
	case !local && !cloudMode:
		return nil, fmt.Errorf("homey: account %s: set accounts[].address and accounts[].api_key (Homey Pro local API key) or accounts[].client_id and accounts[].client_secret (athom cloud)", cfg.Account)
	case local && cfg.Address == "":
		return nil, fmt.Errorf("homey: account %s: accounts[].address is empty: set the Homey's address, e.g. http://192.168.1.50", cfg.Account)
	case local && cfg.APIKey == "":
		return nil, fmt.Errorf("homey: account %s: accounts[].api_key is empty: create an API key in the Homey web app → Settings → API Keys", cfg.Account)
	case cloudMode && cfg.ClientID == "":
		return nil, fmt.Errorf("homey: account %s: accounts[].client_id is empty: set the athom OAuth client id", cfg.Account)
	case cloudMode && cfg.ClientSecret == "":
		return nil, fmt.Errorf("homey: account %s: accounts[].client_secret is empty: set the athom OAuth client secret", cfg.Account)
	}
	if local {
		addr, err := baseURL(cfg.Address)
		if err != nil {
			return nil, fmt.Errorf("homey: account %s: accounts[].address %q is not an http(s) URL: use e.g. http://192.168.1.50", cfg.Account, cfg.Address)
		}
		cfg.Address = addr
	} else {
		if cfg.CloudURL == "" {
			cfg.CloudURL = DefaultCloudURL
		}
		u, err := baseURL(cfg.CloudURL)
		if err != nil {
			return nil, fmt.Errorf("homey: account %s: accounts[].cloud_url %q is not an http(s) URL", cfg.Account, cfg.CloudURL)
		}
		cfg.CloudURL = u
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.SessionLifetime, 24*time.Hour)
	def(&cfg.PollInterval, 10*time.Second)
	def(&cfg.ResyncInterval, 10*time.Minute)
	def(&cfg.LANProbeInterval, 5*time.Minute)
	c := &Client{
		cfg:   cfg,
		local: local,
		http:  withLANDialing(cfg.HTTPClient, cfg.RootCAs),
		log:   cfg.Logger.With("cloud", "homey", "account", cfg.Account),
		sess:  &session{},
		txs:   &txLog{ids: map[string]*txState{}},
		known: map[string]decoded{},
	}
	if !local {
		c.oauth = &oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:  cfg.CloudURL + "/oauth2/authorise",
				TokenURL: cfg.CloudURL + "/oauth2/token",
				// Athom's own client sends the client credentials as
				// HTTP Basic, the form its token endpoint documents;
				// fixing the style also avoids auto-detection sending a
				// single-use refresh token twice.
				AuthStyle: oauth2.AuthStyleInHeader,
			},
		}
		c.athom = newAthomTokens(c)
	}
	return c, nil
}

func baseURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an http(s) URL")
	}
	return u.String(), nil
}

// Account returns the configured account name.
func (c *Client) Account() string { return c.cfg.Account }

// Cloud returns "homey".
func (c *Client) Cloud() string { return CloudName }

// Devices lists every device of the Homey.
func (c *Client) Devices(ctx context.Context) ([]cloud.Device, error) {
	ds, err := c.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("homey: account %s: list devices: %w", c.cfg.Account, err)
	}
	out := make([]cloud.Device, len(ds))
	for i, d := range ds {
		out[i] = d.dev.Clone()
	}
	return out, nil
}

// list reads zones and devices, decodes and remembers them (sorted by name
// then id) and forgets devices that are gone.
func (c *Client) list(ctx context.Context) ([]decoded, error) {
	zones := c.readZones(ctx)
	b, err := c.call(ctx, http.MethodGet, "/api/manager/devices/device", nil)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("device list is not a JSON object: %w", err)
	}
	known := make(map[string]decoded, len(raw))
	ds := make([]decoded, 0, len(raw))
	for id, r := range raw {
		d, err := decodeJSON(r, zones)
		if err != nil {
			c.log.Warn("skipping an undecodable device", "device", id, "err", err)
			continue
		}
		known[d.dev.ID] = d
		ds = append(ds, d)
	}
	sortDecoded(ds)
	c.mu.Lock()
	c.known = known
	c.mu.Unlock()
	return ds, nil
}

func sortDecoded(ds []decoded) {
	less := func(a, b decoded) bool {
		if a.dev.Name != b.dev.Name {
			return a.dev.Name < b.dev.Name
		}
		return a.dev.ID < b.dev.ID
	}
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && less(ds[j], ds[j-1]); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// readZones returns zone id → name. Zones are optional: a key without
// homey.zone.readonly gives no areas (logged once), and on other errors the
// last known zones are kept.
func (c *Client) readZones(ctx context.Context) map[string]string {
	c.mu.Lock()
	denied, last := c.zonesDenied, c.zones
	c.mu.Unlock()
	if denied {
		return last
	}
	b, err := c.call(ctx, http.MethodGet, "/api/manager/zones/zone", nil)
	if err != nil {
		var se *ScopeError
		if errors.As(err, &se) {
			c.log.Info("no zone names for devices: the credentials lack "+ScopeZoneRead, "fix", se.fix())
			c.mu.Lock()
			c.zonesDenied = true
			c.mu.Unlock()
			return last
		}
		c.log.Warn("reading zones failed; keeping the last known areas", "err", err)
		return last
	}
	var raw map[string]struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		c.log.Warn("zone list is not a JSON object", "err", err)
		return last
	}
	zones := make(map[string]string, len(raw))
	for id, z := range raw {
		if z.ID != "" {
			id = z.ID
		}
		zones[id] = z.Name
	}
	c.mu.Lock()
	c.zones = zones
	c.mu.Unlock()
	return zones
}

func (c *Client) zoneNames() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.zones
}

func (c *Client) lookup(id string) (decoded, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.known[id]
	return d, ok
}

func (c *Client) remember(d decoded) {
	c.mu.Lock()
	c.known[d.dev.ID] = d
	c.mu.Unlock()
}

// Device re-reads one device.
func (c *Client) Device(ctx context.Context, id string) (cloud.Device, error) {
	d, err := c.fetch(ctx, id)
	if err != nil {
		return cloud.Device{}, fmt.Errorf("homey: account %s: get device %s: %w", c.cfg.Account, id, err)
	}
	return d.dev.Clone(), nil
}

func (c *Client) fetch(ctx context.Context, id string) (decoded, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return decoded{}, fmt.Errorf("malformed id %q: %w", id, cloud.ErrNotFound)
	}
	zones := c.zoneNames()
	if zones == nil {
		zones = c.readZones(ctx)
	}
	b, err := c.call(ctx, http.MethodGet, "/api/manager/devices/device/"+url.PathEscape(id), nil)
	if err != nil {
		return decoded{}, err
	}
	d, err := decodeJSON(b, zones)
	if err != nil {
		return decoded{}, err
	}
	c.remember(d)
	return d, nil
}

// HTTPError is a failed Homey or athom call with the server's message.
type HTTPError struct {
	Method, Path string
	Status       int
	Wait         time.Duration // the answer's Retry-After, zero when none
	Message      string        // error_description or error, or the status text
}

// Error describes the failed call.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// HTTPStatus returns the status (cloud.StatusError).
func (e *HTTPError) HTTPStatus() int { return e.Status }

// RetryAfter returns the wait the answer asked for (cloud.RetryAfterError).
func (e *HTTPError) RetryAfter() time.Duration { return e.Wait }

// errorMessage reads Homey's and athom's error bodies: {"error", "error_description"}.
func errorMessage(b []byte, status int) string {
	var e struct {
		Error       any `json:"error"`
		Description any `json:"error_description"`
		Message     any `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil {
		for _, v := range []any{e.Description, e.Error, e.Message} {
			switch x := v.(type) {
			case string:
				if x != "" {
					return x
				}
			case map[string]any:
				mb, _ := json.Marshal(x)
				return string(mb)
			}
		}
	}
	if s := strings.TrimSpace(string(b)); s != "" && len(s) < 200 && !strings.HasPrefix(s, "{") {
		return s
	}
	return http.StatusText(status)
}

// ScopeError says the credentials lack a scope an operation needs.
type ScopeError struct {
	Account string
	Local   bool   // an API key (else the athom session)
	Scope   string // e.g. homey.device.control
	Op      string // what needed it
	Message string // the Homey's message
}

// Error names the missing scope and the fix.
func (e *ScopeError) Error() string {
	return fmt.Sprintf("homey: account %s: %s needs the scope %s (Homey: %s): %s", e.Account, e.Op, e.Scope, e.Message, e.fix())
}

// AccountName returns the account whose credentials lack the scope.
func (e *ScopeError) AccountName() string { return e.Account }

func (e *ScopeError) fix() string {
	if e.Local {
		return "the API key lacks it; create a key with " + e.Scope + " in the Homey web app → Settings → API Keys and set it as accounts[].api_key"
	}
	return "the athom session lacks it; the OAuth client or the user's role on this Homey does not allow it (ask the Homey's owner for a role that does)"
}

// HTTPStatus is the Homey's 403 (cloud.StatusError): sending the same
// request again cannot succeed without a new key.
func (e *ScopeError) HTTPStatus() int { return http.StatusForbidden }

// Is makes a missing read scope count as cloud.ErrAuth: without it the
// account cannot work at all.
func (e *ScopeError) Is(target error) bool {
	return target == cloud.ErrAuth && e.Scope == ScopeDeviceRead
}

// scopeFor names the scope an operation needs, and the operation.
func scopeFor(method, path string) (scope, op string) {
	switch {
	case strings.HasPrefix(path, "/api/manager/zones/"):
		return ScopeZoneRead, "reading zones"
	case strings.HasPrefix(path, "/api/manager/devices/") && method == http.MethodPut:
		return ScopeDeviceControl, "changing devices"
	case strings.HasPrefix(path, "/api/manager/devices/"):
		return ScopeDeviceRead, "reading devices"
	}
	return "", path
}

// retry limits.
const (
	maxServerRetries   = 2
	maxThrottleRetries = 2
	maxRetryAfter      = 2 * time.Minute
)

// call performs one Homey API call with the session (or API key), renewing
// the session once on a 401 in cloud mode, waiting out a 429's Retry-After
// and retrying GETs on 5xx.
func (c *Client) call(ctx context.Context, method, path string, body any) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	renewed := false
	failed, throttled := 0, 0
	for {
		t, err := c.target(ctx)
		if err != nil {
			return nil, err
		}
		status, header, b, err := c.exchange(ctx, method, t.base+path, payload, t, true)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// The URL failed: find the Homey again (the LAN may be down,
			// the relay up) and send the call there. A capability write
			// sets a value, so sending it again is safe.
			c.forgetURL(t.base)
			if failed < maxServerRetries {
				failed++
				if err := backoff.Sleep(ctx, backoff.Delay(failed)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		if status >= 200 && status < 300 {
			return b, nil
		}
		herr := &HTTPError{Method: method, Path: path, Status: status, Message: errorMessage(b, status)}
		switch {
		case status == http.StatusUnauthorized && c.local:
			return nil, fmt.Errorf("%w: %w: the Homey rejected the API key (deleted?); create a new one in the Homey web app → Settings → API Keys and set accounts[].api_key", herr, cloud.ErrAuth)
		case status == http.StatusUnauthorized && !renewed:
			renewed = true
			c.log.Info("the Homey session was rejected; renewing it")
			if err := c.renew(ctx, t.gen); err != nil {
				return nil, err
			}
			continue
		case status == http.StatusUnauthorized:
			return nil, c.authError(codeSessionRejected, "the Homey rejected a fresh session: "+herr.Message)
		case status == http.StatusForbidden:
			scope, op := scopeFor(method, path)
			if scope != "" {
				return nil, &ScopeError{Account: c.cfg.Account, Local: c.local, Scope: scope, Op: op, Message: herr.Message}
			}
		case status == http.StatusNotFound:
			return nil, fmt.Errorf("%w: %w", herr, cloud.ErrNotFound)
		case status == http.StatusTooManyRequests && throttled < maxThrottleRetries:
			throttled++
			c.log.Info("throttled by the Homey", "path", path, "retry_after", header.Get("Retry-After"))
			if err := backoff.SleepRetryAfter(ctx, header.Get("Retry-After"), maxRetryAfter); err != nil {
				return nil, fmt.Errorf("%w: %w", herr, err)
			}
			continue
		case status >= 500 && method == http.MethodGet && failed < maxServerRetries:
			failed++
			if err := backoff.Sleep(ctx, backoff.Delay(failed)); err != nil {
				return nil, err
			}
			continue
		}
		return nil, herr
	}
}

// send makes one request to a Homey. auth false leaves out the bearer.
func (c *Client) send(ctx context.Context, method, rawURL string, payload []byte, t target, auth bool) (int, []byte, error) {
	status, _, b, err := c.exchange(ctx, method, rawURL, payload, t, auth)
	return status, b, err
}

// exchange is send that also returns the answer's header.
func (c *Client) exchange(ctx context.Context, method, rawURL string, payload []byte, t target, auth bool) (int, http.Header, []byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	if t.homeyID != "" {
		req.Header.Set("X-Homey-ID", t.homeyID)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, redact(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// redact drops the URL (which may carry a query) from a transport error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// jsonString reads a bare JSON string answer, falling back to the raw body
// without quotes.
func jsonString(b []byte) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return strings.Trim(strings.TrimSpace(string(b)), `"`)
}

// newTransactionID returns "homey-api-<uuid v4>", the form Homey's own
// client uses.
func newTransactionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("homey-api-%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// txLog remembers the transactionIds of our own changes for a while, so
// that Watch can recognise their echoes: while the Set that sent one is
// still running its echo is not reported (Set returns the confirmed device).
type txLog struct {
	mu    sync.Mutex
	ids   map[string]*txState
	order []string // ids oldest first, to forget them in order
}

type txState struct {
	at   time.Time
	done bool // the Set returned
}

const txMemory = 2 * time.Minute

func (l *txLog) add(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	n := 0
	for _, k := range l.order {
		if st, ok := l.ids[k]; ok && now.Sub(st.at) <= txMemory {
			break
		}
		delete(l.ids, k)
		n++
	}
	l.order = append(l.order[n:], id)
	l.ids[id] = &txState{at: now}
}

// finish marks the Set that sent ids as returned.
func (l *txLog) finish(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if st, ok := l.ids[id]; ok {
			st.done = true
		}
	}
}

// lookup reports whether id is ours and whether its Set has returned.
func (l *txLog) lookup(id string) (ours, done bool) {
	if id == "" {
		return false, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.ids[id]
	if !ok {
		return false, false
	}
	return true, st.done
}
