package winktest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// authorize GETs the authorize URL without following the redirect.
func authorize(t *testing.T, s *Server, q url.Values) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/oauth2/authorize?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func authQuery(s *Server, redirect, state string) url.Values {
	return url.Values{"client_id": {s.opts.ClientID}, "redirect_uri": {redirect}, "state": {state}, "response_type": {"code"}}
}

func TestAuthorizeRedirectsWithSingleUseCode(t *testing.T) {
	s := newTestServer(t, Options{})
	resp, _ := authorize(t, s, authQuery(s, "http://127.0.0.1:8765/callback?x=1", "st-1"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status = %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Host != "127.0.0.1:8765" || loc.Path != "/callback" || loc.Query().Get("x") != "1" {
		t.Errorf("redirect to %s, want the redirect_uri with its query kept", loc)
	}
	if loc.Query().Get("state") != "st-1" {
		t.Errorf("state = %q, want st-1", loc.Query().Get("state"))
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	grant := map[string]any{"client_secret": s.opts.ClientSecret, "grant_type": "authorization_code", "code": code}
	checkTokenAnswer(t, s, call(t, "POST", s.URL+"/oauth2/token", "", grant))
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", grant), http.StatusBadRequest, "invalid_grant")
}

func TestAuthorizeCodeRemembersRedirectURI(t *testing.T) {
	s := newTestServer(t, Options{})
	resp, _ := authorize(t, s, authQuery(s, "http://127.0.0.1:1/cb", "s"))
	code, _ := url.Parse(resp.Header.Get("Location"))
	grant := map[string]any{"client_secret": s.opts.ClientSecret, "grant_type": "authorization_code",
		"code": code.Query().Get("code"), "redirect_uri": "http://127.0.0.1:2/cb"}
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", grant), http.StatusBadRequest, "invalid_grant")
}

func TestAuthorizeRefusesUnregisteredRedirectURI(t *testing.T) {
	s := newTestServer(t, Options{RedirectURIs: []string{"http://127.0.0.1:8765/callback"}})
	resp, body := authorize(t, s, authQuery(s, "http://127.0.0.1:9999/callback", "s"))
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("status = %d, location %q; want 400 without redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.Contains(body, "redirect_uri mismatch") {
		t.Errorf("page does not say redirect_uri mismatch: %s", body)
	}
	resp, _ = authorize(t, s, authQuery(s, "http://127.0.0.1:8765/callback", "s"))
	if resp.StatusCode != http.StatusFound {
		t.Errorf("registered redirect_uri: status = %d, want 302", resp.StatusCode)
	}
}

func TestAuthorizeRefusesUnknownClient(t *testing.T) {
	s := newTestServer(t, Options{})
	q := authQuery(s, "http://127.0.0.1:8765/callback", "s")
	q.Set("client_id", "someone-else")
	if resp, _ := authorize(t, s, q); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
}

func TestDenyNextAuthorization(t *testing.T) {
	s := newTestServer(t, Options{})
	s.DenyNextAuthorization()
	resp, _ := authorize(t, s, authQuery(s, "http://127.0.0.1:8765/callback", "st-2"))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusFound || q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "st-2" || q.Get("code") != "" {
		t.Fatalf("denied authorization: status %d, redirect %s", resp.StatusCode, loc)
	}
	resp, _ = authorize(t, s, authQuery(s, "http://127.0.0.1:8765/callback", "st-3"))
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("code") == "" {
		t.Errorf("the refusal applied to more than one authorization: %s", loc)
	}
}
