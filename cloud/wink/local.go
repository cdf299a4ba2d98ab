package wink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// Hub local control: a command for a device behind a Wink Hub or Hub 2 is
// sent to the hub on the LAN (https://<ip_address>:8888/<plural>/<local_id>
// with a local_control token) before the cloud, and the cloud takes it on
// any local failure, so no command is lost. Pushes still come from PubNub.

// Local control modes, the values of accounts[].local_control.
const (
	LocalAuto = "auto" // local first, the cloud when the hub fails
	LocalOff  = "off"  // the cloud only
	LocalOnly = "only" // the hub only: a local failure fails the command
)

// localHub is one hub that takes local commands.
type localHub struct {
	objectID  string // the hub's object_id (devices' hub_id)
	controlID string // local_control_id, for the local grant
	base      string // https://<ip>:8888, or Config.LocalURL

	mu        sync.Mutex
	token     string
	pin       [32]byte // SHA-256 of the hub's certificate, pinned on first use
	pinned    bool
	failUntil time.Time
	lastErr   string
	latency   time.Duration
	client    *http.Client
}

// localState is what the client knows for local control.
type localState struct {
	mu   sync.Mutex
	hubs map[string]*localHub      // by hub object_id
	raw  map[string]map[string]any // device id → its last listed object
	refs map[string][2]string      // device id → hub object_id, local_id
}

// rememberLocal records the hubs and devices of a listing.
func (c *Client) rememberLocal(objects []map[string]any, ids [][]string) {
	if c.cfg.LocalControl == LocalOff {
		return
	}
	c.local.mu.Lock()
	defer c.local.mu.Unlock()
	if c.local.hubs == nil {
		c.local.hubs = map[string]*localHub{}
	}
	c.local.raw = map[string]map[string]any{}
	c.local.refs = map[string][2]string{}
	for i, m := range objects {
		typ, oid := str(m["object_type"]), str(m["object_id"])
		lr, _ := m["last_reading"].(map[string]any)
		if typ == "hub" {
			cid, ip := str(lr["local_control_id"]), str(lr["ip_address"])
			if cid == "" || (ip == "" && c.cfg.LocalURL == "") {
				continue
			}
			base := c.cfg.LocalURL
			if base == "" {
				base = "https://" + ip + ":8888"
			}
			h := c.local.hubs[oid]
			if h == nil || h.base != base || h.controlID != cid {
				h = &localHub{objectID: oid, controlID: cid, base: base}
				c.local.hubs[oid] = h
			}
			continue
		}
		if hub, lid := str(m["hub_id"]), str(m["local_id"]); hub != "" && lid != "" && i < len(ids) {
			for _, id := range ids[i] {
				c.local.raw[id] = m
				c.local.refs[id] = [2]string{hub, lid}
			}
		}
	}
}

// localTarget is the hub and local path of a device that can be commanded
// locally now, or nil.
func (c *Client) localTarget(d decoded, typ string, top map[string]any) (*localHub, string, map[string]any) {
	if c.cfg.LocalControl == LocalOff || d.outlet != nil || len(top) > 0 || typ == "group" || typ == "scene" || typ == "robot" {
		return nil, "", nil
	}
	c.local.mu.Lock()
	defer c.local.mu.Unlock()
	ref, ok := c.local.refs[d.dev.ID]
	if !ok {
		return nil, "", nil
	}
	h := c.local.hubs[ref[0]]
	if h == nil {
		return nil, "", nil
	}
	return h, "/" + plural(typ) + "/" + url.PathEscape(ref[1]), c.local.raw[d.dev.ID]
}

// errLocalResting is the answer while a failed hub rests before the next
// local try.
var errLocalResting = errors.New("the hub failed recently; trying the cloud")

// setLocal sends desired to the hub and returns the device with the hub's
// answer applied.
func (c *Client) setLocal(ctx context.Context, h *localHub, path string, raw map[string]any, id string, desired map[string]any) (decodedAnswer, error) {
	h.mu.Lock()
	resting := time.Now().Before(h.failUntil)
	h.mu.Unlock()
	if resting && c.cfg.LocalControl != LocalOnly {
		return decodedAnswer{}, errLocalResting
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.LocalTimeout)
	defer cancel()
	start := time.Now()
	lr, err := c.putLocal(ctx, h, path, desired)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.failUntil = time.Now().Add(c.cfg.LocalRetry)
		h.lastErr = err.Error()
		return decodedAnswer{}, err
	}
	h.failUntil, h.lastErr, h.latency = time.Time{}, "", time.Since(start)
	obj := make(map[string]any, len(raw))
	for k, v := range raw {
		obj[k] = v
	}
	merged := map[string]any{}
	if old, ok := raw["last_reading"].(map[string]any); ok {
		for k, v := range old {
			merged[k] = v
		}
	}
	for k, v := range lr {
		merged[k] = v
	}
	obj["last_reading"] = merged
	b, err := json.Marshal(obj)
	if err != nil {
		return decodedAnswer{}, err
	}
	ds, err := decodeAll(b)
	if err != nil {
		return decodedAnswer{}, err
	}
	return decodedAnswer{ds: ds, raw: obj}, nil
}

// decodedAnswer is a local answer decoded, with the object it came from.
type decodedAnswer struct {
	ds  []decoded
	raw map[string]any
}

// putLocal does the local PUT, getting a local token first when needed and
// once more when the hub refuses it.
func (c *Client) putLocal(ctx context.Context, h *localHub, path string, desired map[string]any) (map[string]any, error) {
	body, err := json.Marshal(map[string]any{"desired_state": desired})
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.localToken(ctx, h)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, h.base+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.hubClient(h).Do(req)
		if err != nil {
			return nil, fmt.Errorf("hub %s: %w", h.objectID, redact(err))
		}
		raw, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			h.mu.Lock()
			h.token = ""
			h.mu.Unlock()
			continue
		}
		if rerr != nil {
			return nil, fmt.Errorf("hub %s: read answer: %w", h.objectID, rerr)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("hub %s: PUT %s: HTTP %d", h.objectID, path, resp.StatusCode)
		}
		var env struct {
			Data struct {
				LastReading map[string]any `json:"last_reading"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil || env.Data.LastReading == nil {
			return nil, fmt.Errorf("hub %s: answer has no last_reading", h.objectID)
		}
		return env.Data.LastReading, nil
	}
}

// localToken is the hub's local_control token: the refresh grant with
// scope local_control and the hub's local_control_id (the refresh token
// does not rotate on it).
func (c *Client) localToken(ctx context.Context, h *localHub) (string, error) {
	h.mu.Lock()
	tok := h.token
	h.mu.Unlock()
	if tok != "" {
		return tok, nil
	}
	t, _, err := c.tokens.Token(ctx)
	if err != nil {
		return "", err
	}
	if t.RefreshToken == "" {
		return "", errors.New("no refresh token for the local_control grant")
	}
	lt, err := c.postToken(ctx, map[string]string{
		"client_id": c.cfg.ClientID, "client_secret": c.cfg.ClientSecret, "grant_type": "refresh_token",
		"refresh_token": t.RefreshToken, "scope": "local_control", "local_control_id": h.controlID,
	})
	if err != nil {
		return "", fmt.Errorf("local_control grant: %w", err)
	}
	h.mu.Lock()
	h.token = lt.AccessToken
	h.mu.Unlock()
	return lt.AccessToken, nil
}

// hubClient is the hub's HTTP client: the hub's self-signed certificate is
// pinned on first use and any other is refused.
func (c *Client) hubClient(h *localHub) *http.Client {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.client != nil {
		return h.client
	}
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the hub sent no certificate")
		}
		sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !h.pinned {
			h.pin, h.pinned = sum, true
			return nil
		}
		if sum != h.pin {
			return errors.New("the hub's certificate changed since it was first seen; restart to accept a new one")
		}
		return nil
	}
	h.client = &http.Client{Timeout: c.cfg.LocalTimeout, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true, VerifyConnection: verify}, // the pin above checks the hub
		MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute,
	}}
	return h.client
}

// LocalHubs reports each hub's local control: ok, failing (with the
// reason) or off, and the last local round trip (cloud.LocalReporter).
func (c *Client) LocalHubs() []cloud.LocalHub {
	c.local.mu.Lock()
	defer c.local.mu.Unlock()
	out := make([]cloud.LocalHub, 0, len(c.local.hubs))
	for _, h := range c.local.hubs {
		h.mu.Lock()
		st := cloud.LocalHub{Hub: "hub-" + h.objectID, State: "ok", LatencyMS: float64(h.latency.Microseconds()) / 1000}
		switch {
		case c.cfg.LocalControl == LocalOff:
			st.State = "off"
		case h.lastErr != "":
			st.State, st.Reason = "failing", h.lastErr
		}
		h.mu.Unlock()
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hub < out[j].Hub })
	return out
}
