package winktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// VerifyPath is the emulated Wink Login verify-client endpoint.
//
// POST /api/verify-client with the JSON body
//
//	{"ClientId":"…","AccessToken":"…","ClientSecret":"…"}
//
// answers 200 with the token's owner and expiry:
//
//	{"firstName":"Demo","lastName":"User","email":"demo@example.com",
//	 "winkTag":"…","winkToken":"…","expiryTime":"2030-01-02T03:04:05Z"}
//
// expiryTime is RFC 3339 in UTC.
//
// Failures answer {"error":"<code>","message":"<text>"}. The real statuses
// and bodies are not known; these are assumptions, one status per cause:
//
//	400 invalid_request     body is not the JSON object above or lacks a field
//	403 invalid_client      unknown ClientId or wrong ClientSecret
//	412 client_not_enabled  the client is not set up for verification
//	422 invalid_token       the token was never issued (or was revoked)
//	409 azp_mismatch        the token was issued to another client (azp ≠ ClientId)
//	401 token_expired       the token has expired
const VerifyPath = "/api/verify-client"

// defaultTokenLife is the expiry reported for access tokens when
// Options.AccessTokenTTL is zero (they then never expire here; Wink's are
// said to last about 40 days).
const defaultTokenLife = 30 * 24 * time.Hour

// IssueTokensFor mints a valid token pair issued to another OAuth client
// (the JWT azp claim and the verify endpoint's view). The REST API accepts
// it like any other token.
func (s *Server) IssueTokensFor(clientID string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueForLocked(clientID)
}

// SetVerifyDisabled marks the client as set up (false) or not set up (true)
// for the verify-client endpoint, like Options.VerifyDisabled.
func (s *Server) SetVerifyDisabled(disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.VerifyDisabled = disabled
}

// expiryLocked is when an access token issued at issued expires.
func (s *Server) expiryLocked(issued time.Time) time.Time {
	if s.opts.AccessTokenTTL > 0 {
		return issued.Add(s.opts.AccessTokenTTL)
	}
	return issued.Add(defaultTokenLife)
}

// jwtLocked builds a JWT-shaped access token for clientID.
func (s *Server) jwtLocked(clientID string, now time.Time) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload, _ := json.Marshal(map[string]any{
		"exp":                s.expiryLocked(now).Unix(),
		"iat":                now.Unix(),
		"azp":                clientID,
		"sub":                s.UserID,
		"preferred_username": s.opts.Email,
		"jti":                randomHex(8),
	})
	unsigned := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.jwtKey)
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}

type verifyRequest struct {
	ClientID     string `json:"ClientId"`
	AccessToken  string `json:"AccessToken"`
	ClientSecret string `json:"ClientSecret"`
}

func verifyError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(r)
	var req verifyRequest
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil || req.ClientID == "" || req.AccessToken == "" || req.ClientSecret == "" {
		verifyError(w, http.StatusBadRequest, "invalid_request", "send a JSON object with ClientId, AccessToken and ClientSecret")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !equal(req.ClientID, s.opts.ClientID) || !equal(req.ClientSecret, s.opts.ClientSecret) {
		verifyError(w, http.StatusForbidden, "invalid_client", "unknown client or the client secret does not match")
		return
	}
	if s.opts.VerifyDisabled {
		verifyError(w, http.StatusPreconditionFailed, "client_not_enabled", "this client is not set up for token verification")
		return
	}
	issued, ok := s.access[req.AccessToken]
	switch {
	case !ok && s.retired[req.AccessToken]:
		verifyError(w, http.StatusUnauthorized, "token_expired", "the access token has expired")
		return
	case !ok:
		verifyError(w, http.StatusUnprocessableEntity, "invalid_token", "the access token is unknown or revoked")
		return
	case s.tokenClient[req.AccessToken] != req.ClientID:
		verifyError(w, http.StatusConflict, "azp_mismatch", "the access token was issued to another client")
		return
	}
	expiry := s.expiryLocked(issued)
	if s.opts.AccessTokenTTL > 0 && time.Now().After(expiry) {
		verifyError(w, http.StatusUnauthorized, "token_expired", "the access token has expired")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"firstName":  "Demo",
		"lastName":   "User",
		"email":      s.opts.Email,
		"winkTag":    "demo-" + s.UserID,
		"winkToken":  randomHex(16),
		"expiryTime": expiry.UTC().Format(time.RFC3339),
	})
}
