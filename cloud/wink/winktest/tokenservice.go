package winktest

import (
	"encoding/json"
	"net/http"
)

// TokenServicePath is the emulator's token service: the service Home
// Assistant's Wink "email and password" sign-in asked for a token. It takes
// {"email","password"} and answers {"access_token", "token_type",
// "expires_in" (with Options.AccessTokenTTL)} plus a "refresh_token" with
// Options.TokenServiceRefresh.
const TokenServicePath = "/token_service"

func (s *Server) handleTokenService(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(r)
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err != nil || json.Unmarshal(raw, &req) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "body must be {\"email\",\"password\"}"})
		return
	}
	if !equal(req.Email, s.opts.Email) || !equal(req.Password, s.opts.Password) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_grant", "error_description": "email or password rejected"})
		return
	}
	s.mu.Lock()
	access, refresh := s.issueLocked()
	s.mu.Unlock()
	tok := map[string]any{"access_token": access, "token_type": "bearer"}
	if s.opts.TokenServiceRefresh {
		tok["refresh_token"] = refresh
	}
	if s.opts.AccessTokenTTL > 0 {
		tok["expires_in"] = int(s.opts.AccessTokenTTL.Seconds())
	}
	writeJSON(w, http.StatusOK, tok)
}
