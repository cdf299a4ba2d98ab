// Package wink is the Wink cloud client: OAuth2 tokens (refresh, legacy
// password grant), device listing and decoding into the common model,
// desired_state changes and real-time updates through PubNub, with polling as
// the fallback.
package wink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/tokensource"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/internal/backoff"
	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonobj"
)

// DefaultAPIURL is the Wink REST API.
const DefaultAPIURL = "https://api.wink.com"

// UserAgent is sent on every REST call: Wink served complete data only to
// app-like user agents, and this form was accepted.
const UserAgent = "Manufacturer/cloud2mqtt python/3 Wink/3"

// Config configures one Wink account.
type Config struct {
	Account      string // account name, used in topics
	ClientID     string // OAuth2 client id
	ClientSecret string // OAuth2 client secret
	RefreshToken string // seed refresh token, used when the store has none
	Email        string // legacy password grant, used without any refresh token
	Password     string // legacy password grant
	// TokenURL is a token service taking email and password (no client
	// credentials needed).
	TokenURL string
	// AccessToken is a bare access token, used while the store holds no
	// usable token, until it expires.
	AccessToken string
	APIURL      string // default DefaultAPIURL
	// PubNubOrigin overrides the PubNub host: "" takes the origin from the
	// devices' subscription blocks (else ps.pndsn.com), "host:port" uses TLS
	// and "http://host:port" plain HTTP.
	PubNubOrigin string
	// VerifyURL is Wink Login's verify-client endpoint, used by Check.
	VerifyURL  string
	Tokens     *tokenstore.Store // may be nil: tokens are kept in memory only
	HTTPClient *http.Client      // default: a client with a 15 s timeout
	Logger     *slog.Logger      // nil discards logs

	// LocalControl is LocalAuto, LocalOff or LocalOnly: whether commands
	// go to the hub on the LAN first. "" is LocalOff here; the account
	// settings default to LocalAuto.
	LocalControl string
	// LocalURL overrides a hub's local address https://<ip_address>:8888.
	LocalURL     string
	LocalTimeout time.Duration // a local command's limit before the cloud takes it, default 2s
	LocalRetry   time.Duration // after a local failure, the cloud only for this long, default 30s

	ResyncInterval    time.Duration // full re-read while watching, default 10m
	KeepAliveInterval time.Duration // keep-alive calls that keep pushes flowing, default 1h
	SubscribeTimeout  time.Duration // PubNub long-poll timeout, default 310s
	PollInterval      time.Duration // device list polling without PubNub, default 60s
}

// Client is one Wink account. It implements cloud.Provider.
type Client struct {
	cfg    Config
	api    *url.URL
	http   *http.Client
	log    *slog.Logger
	tokens *tokensource.Source

	mu    sync.Mutex
	known map[string]decoded // last decoded state per device id

	local localState   // hubs that take local commands
	wires wireCache    // wire maps shared by devices of one shape
	keys  jsonobj.Keys // the keys of the objects answers and pushes spell
}

var _ cloud.Provider = (*Client)(nil)

// New validates cfg and returns a client. Errors name the configuration key.
func New(cfg Config) (*Client, error) {
	if cfg.Account == "" {
		return nil, errors.New("wink: accounts[].name is empty: give the account a name")
	}
	noClient := cfg.TokenURL != "" || cfg.AccessToken != ""
	if cfg.ClientID == "" && !noClient {
		return nil, fmt.Errorf("wink: account %s: accounts[].client_id is empty: set client_id and client_secret from developer.wink.com, "+
			"or, without them, accounts[].token_url with email and password (a token service), or accounts[].access_token", cfg.Account)
	}
	if cfg.ClientSecret == "" && cfg.ClientID != "" && !noClient {
		return nil, fmt.Errorf("wink: account %s: accounts[].client_secret is empty: set the client secret from developer.wink.com", cfg.Account)
	}
	if cfg.TokenURL != "" && (cfg.Email == "" || cfg.Password == "") {
		return nil, fmt.Errorf("wink: account %s: accounts[].token_url needs accounts[].email and accounts[].password", cfg.Account)
	}
	if (cfg.Email == "") != (cfg.Password == "") {
		return nil, fmt.Errorf("wink: account %s: accounts[].email and accounts[].password must be set together", cfg.Account)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wink: account %s: accounts[].api_url %q is not an http(s) URL", cfg.Account, cfg.APIURL)
	}
	if o := cfg.PubNubOrigin; o != "" {
		if strings.HasPrefix(o, "https://") || strings.Contains(strings.TrimPrefix(o, "http://"), "/") {
			return nil, fmt.Errorf("wink: account %s: accounts[].pubnub_origin %q must be host:port or http://host:port", cfg.Account, o)
		}
	}
	switch cfg.LocalControl {
	case "":
		cfg.LocalControl = LocalOff
	case LocalAuto, LocalOff, LocalOnly:
	default:
		return nil, fmt.Errorf("wink: account %s: accounts[].local_control %q: use auto, off or only", cfg.Account, cfg.LocalControl)
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
	def(&cfg.ResyncInterval, 10*time.Minute)
	def(&cfg.KeepAliveInterval, time.Hour)
	def(&cfg.SubscribeTimeout, 310*time.Second)
	def(&cfg.PollInterval, time.Minute)
	def(&cfg.LocalTimeout, 2*time.Second)
	def(&cfg.LocalRetry, 30*time.Second)
	c := &Client{
		cfg:   cfg,
		api:   u,
		http:  cfg.HTTPClient,
		log:   cfg.Logger.With("cloud", "wink", "account", cfg.Account),
		known: map[string]decoded{},
	}
	c.tokens = newTokens(c)
	c.seedAccessToken()
	return c, nil
}

// Account returns the configured account name.
func (c *Client) Account() string { return c.cfg.Account }

// Cloud returns "wink".
func (c *Client) Cloud() string { return CloudName }

// plural returns the REST collection of an object type.
func plural(typ string) string {
	if typ == "binary_switch" {
		return "binary_switches"
	}
	return typ + "s"
}

// splitID splits "<object_type>-<object_id>"; object types never contain "-".
func splitID(id string) (typ, oid string, ok bool) {
	i := strings.LastIndex(id, "-")
	if i <= 0 || i == len(id)-1 {
		return "", "", false
	}
	return id[:i], id[i+1:], true
}

// Devices lists every device of the account.
func (c *Client) Devices(ctx context.Context) ([]cloud.Device, error) {
	devs, err := c.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("wink: list devices: %w", err)
	}
	return devs, nil
}

// listing is GET /users/me/wink_devices decoded.
type listing struct {
	devices []cloud.Device
	objects []map[string]any // the raw objects, for subscriptions
	user    map[string]any   // the top-level subscription block, if any
}

func (c *Client) list(ctx context.Context) ([]cloud.Device, error) {
	l, err := c.listFull(ctx)
	if err != nil {
		return nil, err
	}
	return l.devices, nil
}

// listFull reads the device list and then the lists of their own
// (ownLists), one after the other on one connection: asked for at once
// they would take a connection each, a TLS handshake each with the cloud.
func (c *Client) listFull(ctx context.Context) (*listing, error) {
	env, err := c.callList(ctx, "/users/me/wink_devices")
	if err != nil {
		return nil, err
	}
	l := &listing{user: env.Subscription}
	known := make(map[string]decoded, len(env.list))
	ids, err := c.addObjects("device", env, l, known)
	if err != nil {
		return nil, err
	}
	c.rememberLocal(l.objects, ids)
	for _, list := range ownLists {
		env, err := c.callList(ctx, "/users/me/"+list)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", list, err)
		}
		if _, err := c.addObjects(list, env, l, known); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.known = known
	c.mu.Unlock()
	return l, nil
}

// ownLists are the /users/me lists of objects that /users/me/wink_devices
// does not hold.
var ownLists = []string{"robots", "groups", "scenes"}

// addObjects decodes the objects of one list into l and known, skipping
// (and logging) those that are no device, and returns the device ids of
// each object it added.
func (c *Client) addObjects(list string, env *envelope, l *listing, known map[string]decoded) ([][]string, error) {
	objs, errs, err := env.objects()
	if err != nil {
		return nil, fmt.Errorf("%s list: %w", list, err)
	}
	l.objects = slices.Grow(l.objects, len(objs))
	l.devices = slices.Grow(l.devices, len(objs))
	ids := make([][]string, 0, len(objs))
	for i, m := range objs {
		err := errs[i]
		var ds []decoded
		if err == nil {
			ds, err = decodeObject(m)
		}
		if err != nil {
			c.log.Warn("skipping an undecodable object", "list", list, "err", err)
			continue
		}
		l.objects = append(l.objects, m)
		these := make([]string, 0, len(ds))
		for _, d := range ds {
			d.wire = c.wires.shared(d.wire)
			known[d.dev.ID] = d
			l.devices = append(l.devices, d.dev.Clone())
			these = append(these, d.dev.ID)
		}
		ids = append(ids, these)
	}
	return ids, nil
}

// remember stores decoded devices for later Set and Device calls.
func (c *Client) remember(ds []decoded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range ds {
		c.known[d.dev.ID] = d
	}
}

func (c *Client) lookup(id string) (decoded, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.known[id]
	return d, ok
}

// Device re-reads one device.
func (c *Client) Device(ctx context.Context, id string) (cloud.Device, error) {
	d, err := c.fetch(ctx, id)
	if err != nil {
		return cloud.Device{}, fmt.Errorf("wink: get %s: %w", id, err)
	}
	return d.dev.Clone(), nil
}

// fetch reads one device (an outlet through its powerstrip).
func (c *Client) fetch(ctx context.Context, id string) (decoded, error) {
	typ, oid, ok := splitID(id)
	if !ok {
		return decoded{}, fmt.Errorf("malformed id %q (want <object_type>-<object_id>): %w", id, cloud.ErrNotFound)
	}
	if typ == "outlet" {
		ref, err := c.outletRef(ctx, id)
		if err != nil {
			return decoded{}, err
		}
		typ, oid = "powerstrip", ref.stripID
	}
	ds, err := c.getObject(ctx, "/"+plural(typ)+"/"+url.PathEscape(oid))
	if err != nil {
		return decoded{}, err
	}
	for _, d := range ds {
		if d.dev.ID == id {
			return d, nil
		}
	}
	return decoded{}, fmt.Errorf("%s: %w", id, cloud.ErrNotFound)
}

// getObject GETs one object and decodes and remembers it.
func (c *Client) getObject(ctx context.Context, path string) ([]decoded, error) {
	env, err := c.callObject(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	ds, err := env.devices()
	if err != nil {
		return nil, err
	}
	c.remember(ds)
	return ds, nil
}

// outletRef finds an outlet's strip, listing devices when it is not known.
func (c *Client) outletRef(ctx context.Context, id string) (*outletRef, error) {
	if d, ok := c.lookup(id); ok && d.outlet != nil {
		return d.outlet, nil
	}
	if _, err := c.list(ctx); err != nil {
		return nil, err
	}
	if d, ok := c.lookup(id); ok && d.outlet != nil {
		return d.outlet, nil
	}
	return nil, fmt.Errorf("%s: %w", id, cloud.ErrNotFound)
}

// Set sends c to the device and returns the device as the cloud answered.
// The answer's last_reading may still show the old state until the device
// applies the change; the applied state arrives later as a push.
func (c *Client) Set(ctx context.Context, id string, ch cloud.Change) (cloud.Device, error) {
	dev, err := c.set(ctx, id, ch)
	if err != nil {
		return cloud.Device{}, fmt.Errorf("wink: set %s: %w", id, err)
	}
	return dev, nil
}

func (c *Client) set(ctx context.Context, id string, ch cloud.Change) (cloud.Device, error) {
	if len(ch) == 0 {
		return cloud.Device{}, errors.New("empty change")
	}
	typ, oid, ok := splitID(id)
	if !ok {
		return cloud.Device{}, fmt.Errorf("malformed id %q: %w", id, cloud.ErrNotFound)
	}
	d, ok := c.lookup(id)
	if !ok {
		var err error
		if d, err = c.fetch(ctx, id); err != nil {
			return cloud.Device{}, err
		}
	}
	desired, top, err := toDesired(d, ch)
	if err != nil {
		return cloud.Device{}, err
	}
	if h, lpath, raw := c.localTarget(d, typ, top); h != nil && raw != nil {
		ans, err := c.setLocal(ctx, h, lpath, raw, id, desired)
		switch {
		case err == nil:
			c.remember(ans.ds)
			c.local.mu.Lock()
			c.local.raw[id] = ans.raw
			c.local.mu.Unlock()
			for _, x := range ans.ds {
				if x.dev.ID == id {
					return x.dev.Clone(), nil
				}
			}
		case c.cfg.LocalControl == LocalOnly:
			return cloud.Device{}, fmt.Errorf("local control (accounts[].local_control: only): %w", err)
		case !errors.Is(err, errLocalResting):
			c.log.Info("the hub did not take the command; sending it through the cloud", "hub", "hub-"+h.objectID, "err", err)
		}
	}
	var path string
	var body any
	switch {
	case typ == "scene":
		if ch[cloud.FieldActivate] != true {
			return cloud.Device{}, fmt.Errorf("field %s: send true to run the scene", cloud.FieldActivate)
		}
		path = "/scenes/" + url.PathEscape(oid) + "/activate"
	case typ == "group":
		path = "/groups/" + url.PathEscape(oid) + "/activate"
		body = map[string]any{"desired_state": desired}
	case len(top) > 0:
		// Keys of the object itself go to the object, with any
		// desired_state beside them.
		if len(desired) > 0 {
			top["desired_state"] = desired
		}
		path = "/" + plural(typ) + "/" + url.PathEscape(oid)
		body = top
	case d.outlet != nil:
		outlets := make([]map[string]any, d.outlet.count)
		for i := range outlets {
			outlets[i] = map[string]any{}
		}
		outlets[d.outlet.index] = map[string]any{"desired_state": desired}
		path = "/powerstrips/" + url.PathEscape(d.outlet.stripID)
		body = map[string]any{"outlets": outlets}
	default:
		path = "/" + plural(typ) + "/" + url.PathEscape(oid) + "/desired_state"
		body = map[string]any{"desired_state": desired}
	}
	method := http.MethodPut
	if typ == "scene" || typ == "group" {
		method = http.MethodPost
	}
	env, err := c.callObject(ctx, method, path, body)
	if err != nil {
		return cloud.Device{}, err
	}
	ds, err := env.devices()
	if err != nil {
		return cloud.Device{}, fmt.Errorf("answer: %w", err)
	}
	c.remember(ds)
	for _, x := range ds {
		if x.dev.ID == id {
			return x.dev.Clone(), nil
		}
	}
	return cloud.Device{}, fmt.Errorf("answer does not contain %s", id)
}

// maxAnswer bounds the answer read.
const maxAnswer = 16 << 20

// readAnswer reads an answer's body, in one allocation when its length is
// known.
func readAnswer(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxAnswer {
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
}

// rawData is a JSON value kept as it is, like json.RawMessage but without
// a copy: it points into the answer that was decoded, which nothing
// changes afterwards.
type rawData []byte

// UnmarshalJSON keeps data.
func (r *rawData) UnmarshalJSON(data []byte) error {
	*r = data
	return nil
}

// envelope is Wink's response wrapper.
type envelope struct {
	Data         rawData        `json:"data"`
	Errors       []any          `json:"errors"`
	Subscription map[string]any `json:"subscription"`

	// object is the data object already decoded, by callObject; list the
	// data list, by callList. Data is then not set.
	object map[string]any
	list   []any
}

// answerShape is what a call expects as the answer's data, so that it can
// be decoded with the envelope in one pass.
type answerShape int

const (
	answerAny    answerShape = iota // kept raw in Data
	answerObject                    // one object, in envelope.object
	answerList                      // a list, in envelope.list
)

// devices decodes the answer's data object.
func (e *envelope) devices() ([]decoded, error) {
	if e.object != nil {
		return decodeObject(e.object)
	}
	return decodeAll(json.RawMessage(e.Data))
}

// objects parses the answer's data list as objectsOf does.
func (e *envelope) objects() ([]map[string]any, []error, error) {
	if e.list != nil {
		objs, errs := objectsIn(e.list)
		return objs, errs, nil
	}
	return objectsOf(json.RawMessage(e.Data))
}

// decodeAnswer decodes a successful answer. An answer whose data has the
// shape asked for (an object, a list) is decoded in one pass into
// envelope.object or envelope.list; any other answer as by json.Unmarshal
// into the envelope.
func decodeAnswer(b []byte, shape answerShape, keys *jsonobj.Keys) (*envelope, error) {
	if shape != answerAny {
		if m, err := keys.Decode(b); err == nil && plainEnvelope(m) {
			env := &envelope{}
			switch data := m["data"].(type) {
			case map[string]any:
				env.object = data
			case []any:
				env.list = data
			}
			if (shape == answerObject && env.object != nil) || (shape == answerList && env.list != nil) {
				env.Errors, _ = m["errors"].([]any)
				env.Subscription, _ = m["subscription"].(map[string]any)
				return env, nil
			}
		}
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, err
	}
	return &env, nil
}

// plainEnvelope tells whether json.Unmarshal would fill the envelope from
// m as decodeAnswer does: "data", "errors" and "subscription" spelt so and
// only so (it matches names regardless of case), and errors and
// subscription of their types or null.
func plainEnvelope(m map[string]any) bool {
	for k := range m {
		for _, name := range []string{"data", "errors", "subscription"} {
			if k != name && strings.EqualFold(k, name) {
				return false
			}
		}
	}
	if e, ok := m["errors"]; ok && e != nil {
		if _, isList := e.([]any); !isList {
			return false
		}
	}
	if sub, ok := m["subscription"]; ok && sub != nil {
		if _, isObj := sub.(map[string]any); !isObj {
			return false
		}
	}
	return true
}

// HTTPError is a REST call's failure status with Wink's error texts.
type HTTPError struct {
	Method, Path string
	Status       int
	Wait         time.Duration // the answer's Retry-After, zero when none
	Message      string        // Wink's errors list joined, or the status text
}

// Error returns the method, path, status and Wink's error texts.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// HTTPStatus returns the status (cloud.StatusError).
func (e *HTTPError) HTTPStatus() int { return e.Status }

// RetryAfter returns the wait the answer asked for (cloud.RetryAfterError).
func (e *HTTPError) RetryAfter() time.Duration { return e.Wait }

// errorText joins an envelope's errors list.
func errorText(errs []any) string {
	var parts []string
	for _, e := range errs {
		switch x := e.(type) {
		case string:
			parts = append(parts, x)
		default:
			b, _ := json.Marshal(x)
			parts = append(parts, string(b))
		}
	}
	return strings.Join(parts, "; ")
}

// retry limits.
const (
	maxThrottleRetries = 2
	maxServerRetries   = 2
	maxRetryAfter      = 2 * time.Minute
)

// call performs one REST call with the bearer token, refreshing once on 401,
// honouring 429 Retry-After and retrying GETs on 5xx.
func (c *Client) call(ctx context.Context, method, path string, body any) (*envelope, error) {
	return c.callUA(ctx, method, path, body, UserAgent)
}

// callObject is call for an answer whose data is one object, which it
// decodes in the same pass as the envelope.
func (c *Client) callObject(ctx context.Context, method, path string, body any) (*envelope, error) {
	return c.callAs(ctx, method, path, body, UserAgent, answerObject)
}

// callList is call for an answer whose data is a list of objects, which it
// decodes in the same pass as the envelope.
func (c *Client) callList(ctx context.Context, path string) (*envelope, error) {
	return c.callAs(ctx, http.MethodGet, path, nil, UserAgent, answerList)
}

func (c *Client) callUA(ctx context.Context, method, path string, body any, ua string) (*envelope, error) {
	return c.callAs(ctx, method, path, body, ua, answerAny)
}

func (c *Client) callAs(ctx context.Context, method, path string, body any, ua string, shape answerShape) (*envelope, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	refreshed := false
	throttled, failed := 0, 0
	for {
		tok, gen, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, method, path, payload, ua, tok.AccessToken)
		if err != nil {
			// A request that never reached the server was not applied.
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if failed < maxServerRetries && (method == http.MethodGet || notSent(err)) {
				failed++
				if err := backoff.Sleep(ctx, backoff.Delay(failed)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		b, rerr := readAnswer(resp)
		resp.Body.Close()
		if rerr != nil {
			return nil, fmt.Errorf("%s %s: read answer: %w", method, path, rerr)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			env, jerr := decodeAnswer(b, shape, &c.keys)
			if jerr != nil {
				return nil, fmt.Errorf("%s %s: answer is not JSON: %w", method, path, jerr)
			}
			return env, nil
		}
		var env envelope
		_ = json.Unmarshal(b, &env)
		herr := &HTTPError{Method: method, Path: path, Status: resp.StatusCode, Message: errorText(env.Errors)}
		if herr.Message == "" {
			herr.Message = http.StatusText(resp.StatusCode)
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !refreshed:
			refreshed = true
			if err := c.tokens.Refresh(ctx, gen); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode == http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: %w; log in again with: cloud2mqtt auth login %s", herr, cloud.ErrAuth, c.cfg.Account)
		case resp.StatusCode == http.StatusTooManyRequests && throttled < maxThrottleRetries:
			throttled++
			c.log.Info("throttled by Wink", "path", path, "retry_after", resp.Header.Get("Retry-After"))
			if err := backoff.SleepRetryAfter(ctx, resp.Header.Get("Retry-After"), maxRetryAfter); err != nil {
				return nil, fmt.Errorf("%w: %w", herr, err)
			}
			continue
		case resp.StatusCode >= 500 && method == http.MethodGet && failed < maxServerRetries:
			failed++
			if err := backoff.Sleep(ctx, backoff.Delay(failed)); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("%w: %w", herr, cloud.ErrNotFound)
		}
		return nil, herr
	}
}

func (c *Client) send(ctx context.Context, method, path string, payload []byte, ua, tok string) (*http.Response, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api.String()+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, redact(err))
	}
	return resp, nil
}

// redact drops the URL from a transport error (it never holds secrets here,
// but keeps messages short).
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// notSent reports whether a transport error proves the request never
// reached the server (connection refused or a failed dial).
func notSent(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such host") || strings.Contains(s, "dial tcp")
}
