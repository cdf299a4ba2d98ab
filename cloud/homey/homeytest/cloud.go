package homeytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "homeytest: encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// oauthError answers in athom's OAuth error shape.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (s *Server) cloudHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/authorise", s.handleAuthorise)
	mux.HandleFunc("POST /oauth2/token", s.handleToken)
	mux.HandleFunc("GET /user/me", s.cloudAuthed(s.handleUserMe))
	mux.HandleFunc("POST /delegation/token", s.cloudAuthed(s.handleDelegation))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		oauthError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(HostCloud, r)
		s.log.Debug("homeytest: cloud request", "method", r.Method, "path", r.URL.Path)
		if !s.delay(r) {
			return
		}
		s.mu.Lock()
		fail := 0
		if s.cloudFailN > 0 {
			s.cloudFailN--
			fail = s.cloudFail
		}
		s.mu.Unlock()
		if fail != 0 {
			oauthError(w, fail, "server_error", fmt.Sprintf("%d %s", fail, http.StatusText(fail)))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// IssueTokens mints a valid athom access/refresh token pair for the
// configured client, as a finished login would.
func (s *Server) IssueTokens() (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked()
}

func (s *Server) issueLocked() (access, refresh string) {
	access = randomHex(20)
	refresh = randomHex(20)
	s.access[access] = time.Now().Add(s.opts.AccessTokenTTL)
	s.refresh[refresh] = true
	return access, refresh
}

// NewAuthorizationCode mints a fresh single-use authorization code, valid
// for Options.CodeTTL, as the redirect after consent would carry.
func (s *Server) NewAuthorizationCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCodeLocked()
}

func (s *Server) newCodeLocked() string {
	code := randomHex(20)
	s.codes[code] = time.Now().Add(s.opts.CodeTTL)
	return code
}

// ExpireAccessTokens makes every athom access token issued so far answer
// 401 {"error":"invalid_token"}.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for t := range s.access {
		s.access[t] = past
	}
}

// RevokeRefreshTokens makes every refresh token issued so far fail with
// invalid_grant.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh = map[string]bool{}
}

// handleAuthorise consents automatically: it redirects to redirect_uri
// with a fresh code and the caller's state.
func (s *Server) handleAuthorise(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") == "" || !equal(q.Get("client_id"), s.opts.ClientID) {
		oauthError(w, http.StatusBadRequest, "invalid_client", "unknown client_id")
		return
	}
	rt := q.Get("response_type")
	if rt == "" {
		rt = q.Get("authorization_type")
	}
	if rt != "code" {
		oauthError(w, http.StatusBadRequest, "unsupported_response_type", "response_type must be code")
		return
	}
	target, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("redirect_uri") == "" || err != nil || !target.IsAbs() {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri must be an absolute URL")
		return
	}
	challenge := q.Get("code_challenge")
	if challenge != "" && q.Get("code_challenge_method") != "S256" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "code_challenge_method must be S256")
		return
	}
	code := s.NewAuthorizationCode()
	if challenge != "" {
		s.mu.Lock()
		s.challenges[code] = challenge
		s.mu.Unlock()
	}
	tq := target.Query()
	tq.Set("code", code)
	if st := q.Get("state"); st != "" {
		tq.Set("state", st)
	}
	target.RawQuery = tq.Encode()
	s.log.Debug("homeytest: authorise consented", "redirect_host", target.Host)
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" || !equal(id, s.opts.ClientID) || !equal(secret, s.opts.ClientSecret) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret (send Basic auth or client_id/client_secret)")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "authorization_code":
		code := r.PostForm.Get("code")
		if code == "" {
			code = r.PostForm.Get("authorization_code")
		}
		exp, ok := s.codes[code]
		challenge := s.challenges[code]
		delete(s.codes, code) // single use, even when expired
		delete(s.challenges, code)
		if code == "" || !ok || time.Now().After(exp) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the authorization code is invalid, used or expired")
			return
		}
		if challenge != "" && !equal(oauth2.S256ChallengeFromVerifier(r.PostForm.Get("code_verifier")), challenge) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed: the code_verifier does not match the code_challenge")
			return
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if rt == "" || !s.refresh[rt] {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is invalid or revoked")
			return
		}
		delete(s.refresh, rt) // refresh tokens rotate
	case "password":
		if !equal(r.PostForm.Get("username"), s.opts.Username) || !equal(r.PostForm.Get("password"), s.opts.Password) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid username or password")
			return
		}
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "missing grant_type")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code, refresh_token or password")
		return
	}
	access, refresh := s.issueLocked()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  access,
		"expires_in":    int(s.opts.AccessTokenTTL / time.Second),
		"refresh_token": refresh,
		"token_type":    "bearer",
	})
}

// cloudAuthed requires a valid athom access token.
func (s *Server) cloudAuthed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		s.mu.Lock()
		exp, ok := s.access[tok]
		s.mu.Unlock()
		switch {
		case tok == "":
			oauthError(w, http.StatusUnauthorized, "invalid_token", "missing Authorization: Bearer <access_token>")
		case !ok:
			oauthError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid")
		case time.Now().After(exp):
			oauthError(w, http.StatusUnauthorized, "invalid_token", "the access token has expired")
		default:
			next(w, r)
		}
	}
}

func (s *Server) handleUserMe(w http.ResponseWriter, r *http.Request) {
	homey := map[string]any{
		"_id":                s.HomeyID,
		"id":                 s.HomeyID,
		"name":               s.opts.HomeyName,
		"platform":           "local",
		"platformVersion":    2,
		"apiVersion":         3,
		"softwareVersion":    HomeyVersion,
		"model":              "homey5q",
		"modelName":          "Homey Pro (Early 2023)",
		"role":               "owner",
		"language":           "en",
		"region":             "eu",
		"state":              "online",
		"localUrl":           s.HomeyURL,
		"localUrlSecure":     nil,
		"remoteUrl":          s.HomeyURL,
		"remoteUrlForwarded": nil,
		"users":              []any{},
		"apps":               []any{},
	}
	if s.lan != nil {
		homey["localUrlSecure"] = s.LocalSecureURL
		homey["remoteUrl"] = s.RemoteURL
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_id":       s.UserID,
		"id":        s.UserID,
		"firstname": "Demo",
		"lastname":  "User",
		"fullname":  "Demo User",
		"email":     s.opts.Username,
		"language":  "en",
		"avatar":    map[string]any{"small": nil, "medium": nil, "large": nil},
		"homeys":    []any{homey},
		"devices":   []any{},
		"roleIds":   []any{},
	})
}

// handleDelegation answers a JWT for the Homey as a JSON string.
func (s *Server) handleDelegation(w http.ResponseWriter, r *http.Request) {
	if aud := r.URL.Query().Get("audience"); aud != "homey" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "audience must be homey")
		return
	}
	writeJSON(w, http.StatusOK, s.mintJWT(time.Now().Add(s.opts.DelegationTTL)))
}

type jwtClaims struct {
	Aud  string `json:"aud"`
	Sub  string `json:"sub"`
	Iss  string `json:"iss"`
	Type string `json:"type"`
	Iat  int64  `json:"iat"`
	Exp  int64  `json:"exp"`
	Jti  string `json:"jti"`
}

// mintJWT signs a delegation token for the user, expiring at exp.
func (s *Server) mintJWT(exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(jwtClaims{
		Aud: "homey", Sub: s.UserID, Iss: "athom", Type: "delegation",
		Iat: time.Now().Unix(), Exp: exp.Unix(), Jti: randomHex(12),
	})
	unsigned := header + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, s.jwtKey)
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}

// checkJWT validates a delegation token and marks it used. The returned
// message names the problem.
func (s *Server) checkJWT(tok string) (jwtClaims, string) {
	var c jwtClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, "the token is not a JWT"
	}
	enc := base64.RawURLEncoding
	mac := hmac.New(sha256.New, s.jwtKey)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := enc.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return c, "the token signature is invalid"
	}
	raw, err := enc.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return c, "the token payload is invalid"
	}
	if c.Aud != "homey" {
		return c, "the token audience is not homey"
	}
	if time.Now().Unix() >= c.Exp {
		return c, "the token has expired"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usedJWT[c.Jti] {
		return c, "the token was already used"
	}
	s.usedJWT[c.Jti] = true
	return c, ""
}
