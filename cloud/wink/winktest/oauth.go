package winktest

import (
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// IssueTokens mints a valid access/refresh token pair for the configured
// client, as a successful login would.
func (s *Server) IssueTokens() (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked()
}

func (s *Server) issueLocked() (access, refresh string) {
	return s.issueForLocked(s.opts.ClientID)
}

// issueForLocked mints a token pair issued to clientID (the JWT azp).
func (s *Server) issueForLocked(clientID string) (access, refresh string) {
	now := time.Now()
	access = randomHex(16)
	if s.opts.JWTAccessTokens {
		access = s.jwtLocked(clientID, now)
	}
	refresh = randomHex(20)
	s.access[access] = now
	s.tokenClient[access] = clientID
	s.refresh[refresh] = true
	return access, refresh
}

// NewAuthorizationCode mints a fresh single-use authorization code, valid
// for Options.CodeTTL, as Wink's redirect to the callback would carry.
func (s *Server) NewAuthorizationCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randomHex(10)
	s.codes[code] = time.Now().Add(s.opts.CodeTTL)
	return code
}

// ExpireAccessTokens makes every access token issued so far answer 401.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.access {
		s.retired[t] = true
	}
	s.access = map[string]time.Time{}
}

// RevokeRefreshTokens makes every refresh token issued so far fail with
// invalid_grant.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh = map[string]bool{}
}

func (s *Server) validAccess(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	issued, ok := s.access[token]
	if !ok {
		return false
	}
	if s.opts.AccessTokenTTL > 0 && time.Since(issued) > s.opts.AccessTokenTTL {
		delete(s.access, token)
		s.retired[token] = true
		return false
	}
	return true
}

// oauthError answers in the shape Wink used for token failures: the error
// and its description at top level and in data, and "error: description"
// in errors.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{
		"data":              map[string]any{"error": code, "error_description": desc},
		"errors":            []string{code + ": " + desc},
		"pagination":        map[string]any{},
		"error":             code,
		"error_description": desc,
	})
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Username     string `json:"username"`
	Email        string `json:"email"`
	Password     string `json:"password"`
	RefreshToken string `json:"refresh_token"`
	Code         string `json:"code"`
	RedirectURI  string `json:"redirect_uri"`
	CodeVerifier string `json:"code_verifier"`
	// Scope local_control with LocalControlID asks a hub's local token.
	Scope          string `json:"scope"`
	LocalControlID string `json:"local_control_id"`
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the token request body must be JSON (Content-Type: application/json)")
		return
	}
	raw, err := readBody(r)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "could not read the request body")
		return
	}
	var req tokenRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the token request body must be a JSON object (Content-Type: application/json)")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	clientOK := func(idRequired bool) bool {
		if idRequired || req.ClientID != "" {
			if !equal(req.ClientID, s.opts.ClientID) {
				return false
			}
		}
		return equal(req.ClientSecret, s.opts.ClientSecret)
	}

	switch req.GrantType {
	case "password":
		if !clientOK(true) {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret")
			return
		}
		user := req.Username
		if user == "" {
			user = req.Email
		}
		if !equal(user, s.opts.Email) || !equal(req.Password, s.opts.Password) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid username or password")
			return
		}
	case "refresh_token":
		if !clientOK(true) {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret")
			return
		}
		if req.RefreshToken == "" || !s.refresh[req.RefreshToken] {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "")
			return
		}
		if req.Scope == "local_control" {
			s.localGrantAnswerLocked(w, req)
			return
		}
		delete(s.refresh, req.RefreshToken) // refresh tokens rotate
	case "authorization_code", "code":
		if req.ClientSecret == "" || !clientOK(false) {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret")
			return
		}
		exp, ok := s.codes[req.Code]
		meta := s.codeMeta[req.Code]
		delete(s.codes, req.Code) // single use, even when expired
		delete(s.codeMeta, req.Code)
		if req.Code == "" || !ok || time.Now().After(exp) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "")
			return
		}
		if !codeMatches(meta, req, s.opts.ClientID) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the code was issued to another client or redirect_uri")
			return
		}
		if meta.challenge != "" && !equal(oauth2.S256ChallengeFromVerifier(req.CodeVerifier), meta.challenge) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed: the code_verifier does not match the code_challenge")
			return
		}
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "missing grant_type")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be password, refresh_token or authorization_code")
		return
	}

	access, refresh := s.issueLocked()
	tok := map[string]any{
		"access_token":   access,
		"refresh_token":  refresh,
		"token_type":     "bearer",
		"token_endpoint": s.URL + "/oauth2/token",
		"scopes":         "full_access",
	}
	body := envelope(tok, nil)
	for k, v := range tok {
		body[k] = v
	}
	writeJSON(w, http.StatusCreated, body)
}

// localGrantAnswerLocked answers the refresh grant with scope
// local_control: a local token of the hub named by local_control_id, and
// the same refresh token (it does not rotate). s.mu must be held.
func (s *Server) localGrantAnswerLocked(w http.ResponseWriter, req tokenRequest) {
	tok, ok := s.localGrantLocked(req.LocalControlID)
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", "local_control_id does not name a hub of this account")
		return
	}
	ans := map[string]any{"access_token": tok, "refresh_token": req.RefreshToken, "token_type": "bearer", "scopes": "local_control"}
	body := envelope(ans, nil)
	for k, v := range ans {
		body[k] = v
	}
	writeJSON(w, http.StatusCreated, body)
}
