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
