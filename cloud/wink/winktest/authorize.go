package winktest

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// codeMeta remembers the authorization request a code was issued for.
type codeMeta struct {
	clientID    string
	redirectURI string
	challenge   string // the PKCE S256 code_challenge, "" when none was sent
}

// codeMatches reports whether a token request may redeem a code issued for
// meta: a client_id or redirect_uri the request names must be the code's.
// Wink's code grant sends neither (reference §2), so a bare request passes.
func codeMatches(meta codeMeta, req tokenRequest, defaultClient string) bool {
	client := meta.clientID
	if client == "" {
		client = defaultClient
	}
	if req.ClientID != "" && !equal(req.ClientID, client) {
		return false
	}
	if meta.redirectURI != "" && req.RedirectURI != "" && req.RedirectURI != meta.redirectURI {
		return false
	}
	return true
}

// DenyNextAuthorization makes the next GET /oauth2/authorize act as if the
// user pressed "Deny": it redirects with error=access_denied, an
// error_description and the caller's state, and issues no code.
func (s *Server) DenyNextAuthorization() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyNext = true
}

// authorizePage answers a refused authorization request with a small HTML
// page and no redirect, as authorization servers do when the client or the
// redirect URI cannot be trusted.
func authorizePage(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s</h1><p>%s</p>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(detail))
}

// handleAuthorize is GET /oauth2/authorize?client_id=…&redirect_uri=…
// [&state=…][&response_type=code][&code_challenge=…]. The owner consents at
// once: it redirects (302) to redirect_uri?code=<fresh code>&state=<state>.
// An unknown client_id or, when Options.RedirectURIs is set, an
// unregistered redirect_uri gets a 400 page and no redirect.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") == "" || !equal(q.Get("client_id"), s.opts.ClientID) {
		authorizePage(w, http.StatusBadRequest, "invalid_client", "unknown client_id")
		return
	}
	if rt := q.Get("response_type"); rt != "" && rt != "code" {
		authorizePage(w, http.StatusBadRequest, "unsupported_response_type", "response_type must be code")
		return
	}
	if m := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && m != "S256" {
		authorizePage(w, http.StatusBadRequest, "invalid_request", "code_challenge_method must be S256")
		return
	}
	raw := q.Get("redirect_uri")
	target, err := url.Parse(raw)
	if raw == "" || err != nil || !target.IsAbs() {
		authorizePage(w, http.StatusBadRequest, "invalid_request", "redirect_uri must be an absolute URL")
		return
	}
	if len(s.opts.RedirectURIs) > 0 && !slices.Contains(s.opts.RedirectURIs, raw) {
		authorizePage(w, http.StatusBadRequest, "redirect_uri mismatch",
			fmt.Sprintf("redirect_uri mismatch: %s is not registered for this client", raw))
		return
	}
	tq := target.Query()
	s.mu.Lock()
	deny := s.denyNext
	s.denyNext = false
	if deny {
		tq.Set("error", "access_denied")
		tq.Set("error_description", "The resource owner denied the request")
	} else {
		code := randomHex(10)
		s.codes[code] = time.Now().Add(s.opts.CodeTTL)
		s.codeMeta[code] = codeMeta{clientID: s.opts.ClientID, redirectURI: raw, challenge: q.Get("code_challenge")}
		tq.Set("code", code)
	}
	s.mu.Unlock()
	if st := q.Get("state"); st != "" {
		tq.Set("state", st)
	}
	target.RawQuery = tq.Encode()
	s.log.Debug("winktest: authorize", "redirect_host", target.Host, "denied", deny)
	http.Redirect(w, r, target.String(), http.StatusFound)
}
