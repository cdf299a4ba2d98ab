package homey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

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

// Paths to a Homey, as Path reports them.
const (
	PathLocalSecure     = "local_secure"     // localUrlSecure: HTTPS on the LAN
	PathLocal           = "local"            // localUrl (or a local API key's address)
	PathRemoteForwarded = "remote_forwarded" // remoteUrlForwarded: a forwarded port
	PathCloud           = "cloud"            // remoteUrl: Athom's relay
)

// route is how the client reaches the Homey: the URL in use, which path
// that is and why, and the LAN URLs to try again while on a remote one.
type route struct {
	base, homeyID string
	path, reason  string
	lan           []candidate
}

// remote reports whether the route leaves the LAN.
func (r route) remote() bool { return r.path == PathCloud || r.path == PathRemoteForwarded }

// discover picks the Homey from /user/me and the URL to reach it by.
func (c *Client) discover(ctx context.Context) (route, error) {
	b, err := c.cloudCall(ctx, http.MethodGet, "/user/me", nil)
	if err != nil {
		return route{}, fmt.Errorf("homey: account %s: read the athom user: %w", c.cfg.Account, err)
	}
	var me struct {
		Homeys []userHomey `json:"homeys"`
	}
	if err := json.Unmarshal(b, &me); err != nil {
		return route{}, fmt.Errorf("homey: account %s: athom user is not JSON: %w", c.cfg.Account, err)
	}
	h, err := c.pickHomey(me.Homeys)
	if err != nil {
		return route{}, err
	}
	r, err := c.pickURL(ctx, h)
	if err != nil {
		return route{}, err
	}
	r.homeyID = h.id()
	c.log.Info("found the Homey", "homey", h.Name, "homey_id", h.id(), "url", r.base, "path", r.path, "why", r.reason)
	return r, nil
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

// candidate is a URL to try, which path it is and how long its ping may
// take.
type candidate struct {
	url     string
	timeout time.Duration
	secure  bool
	path    string
}

// pickURL pings the Homey's URLs at once and takes localUrlSecure when it
// answers, else the first of the others to answer, preferring the LAN:
// localUrlSecure, localUrl, remoteUrlForwarded, remoteUrl.
func (c *Client) pickURL(ctx context.Context, h userHomey) (route, error) {
	var cands []candidate
	add := func(u string, d time.Duration, secure bool, path string) {
		if u == "" {
			return
		}
		if b, err := baseURL(u); err == nil {
			for _, x := range cands {
				if x.url == b {
					return
				}
			}
			cands = append(cands, candidate{url: b, timeout: d, secure: secure, path: path})
		}
	}
	add(h.LocalURLSecure, 1200*time.Millisecond, true, PathLocalSecure)
	add(h.LocalURL, 1000*time.Millisecond, false, PathLocal)
	add(h.RemoteURLForwarded, 2000*time.Millisecond, false, PathRemoteForwarded)
	add(h.RemoteURL, 5000*time.Millisecond, false, PathCloud)
	if len(cands) == 0 {
		return route{}, fmt.Errorf("homey: account %s: the athom user lists no URL for Homey %q", c.cfg.Account, h.Name)
	}
	var lan []candidate
	for _, cd := range cands {
		if cd.path == PathLocalSecure || cd.path == PathLocal {
			lan = append(lan, cd)
		}
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
	// Take the best answer once every better candidate has failed.
	answered := map[string]bool{}
	failed := map[string]string{}
	choose := func() (candidate, bool) {
		for _, cd := range cands {
			if answered[cd.url] {
				return cd, true
			}
			if _, gone := failed[cd.url]; !gone {
				return candidate{}, false // a better one may still answer
			}
		}
		return candidate{}, false
	}
	for range cands {
		r := <-results
		if r.err != nil {
			failed[r.c.url] = r.err.Error()
		} else {
			answered[r.c.url] = true
		}
		if best, ok := choose(); ok {
			return route{base: best.url, path: best.path, reason: reasonFor(best, cands, failed), lan: lan}, nil
		}
	}
	var errs []string
	for _, cd := range cands {
		errs = append(errs, cd.url+": "+failed[cd.url])
	}
	return route{}, fmt.Errorf("homey: account %s: Homey %q answers on none of its URLs: %s", c.cfg.Account, h.Name, strings.Join(errs, "; "))
}

// reasonFor says why best was chosen: it is the best the Homey offers, or
// the better ones did not answer.
func reasonFor(best candidate, cands []candidate, failed map[string]string) string {
	var skipped []string
	for _, cd := range cands {
		if cd.url == best.url {
			break
		}
		skipped = append(skipped, cd.path+" did not answer ("+failed[cd.url]+")")
	}
	if len(skipped) == 0 {
		return "the best path the Homey offers"
	}
	return strings.Join(skipped, "; ")
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
