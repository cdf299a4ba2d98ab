package winktest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func verifyBody(s *Server, token string) map[string]any {
	return map[string]any{"ClientId": s.opts.ClientID, "AccessToken": token, "ClientSecret": s.opts.ClientSecret}
}

func checkVerifyError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.body["error"] != code {
		t.Fatalf("verify: status %d body %s; want %d %s", a.status, a.raw, status, code)
	}
	if m, _ := a.body["message"].(string); m == "" {
		t.Errorf("verify error without message: %s", a.raw)
	}
}

func TestVerifyClientReturnsProfile(t *testing.T) {
	s := newTestServer(t, Options{AccessTokenTTL: time.Hour})
	access, _ := s.IssueTokens()
	a := call(t, "POST", s.URL+VerifyPath, "", verifyBody(s, access))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	if a.body["email"] != "demo@example.com" || a.body["firstName"] == "" || a.body["lastName"] == "" || a.body["winkTag"] == "" || a.body["winkToken"] == "" {
		t.Errorf("profile incomplete: %s", a.raw)
	}
	exp, err := time.Parse(time.RFC3339, a.body["expiryTime"].(string))
	if err != nil || exp.Before(time.Now().Add(50*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("expiryTime = %v (%v), want about an hour from now", a.body["expiryTime"], err)
	}
}

func TestVerifyClientFailureCauses(t *testing.T) {
	s := newTestServer(t, Options{})
	access, _ := s.IssueTokens()
	other, _ := s.IssueTokensFor("another-client")

	wrong := verifyBody(s, access)
	wrong["ClientSecret"] = "not-the-secret"
	checkVerifyError(t, call(t, "POST", s.URL+VerifyPath, "", wrong), http.StatusForbidden, "invalid_client")
	checkVerifyError(t, call(t, "POST", s.URL+VerifyPath, "", verifyBody(s, other)), http.StatusConflict, "azp_mismatch")
	checkVerifyError(t, call(t, "POST", s.URL+VerifyPath, "", verifyBody(s, "never-issued")), http.StatusUnprocessableEntity, "invalid_token")
	checkVerifyError(t, call(t, "POST", s.URL+VerifyPath, "", map[string]any{"ClientId": "x"}), http.StatusBadRequest, "invalid_request")

	s.SetVerifyDisabled(true)
	checkVerifyError(t, call(t, "POST", s.URL+VerifyPath, "", verifyBody(s, access)), http.StatusPreconditionFailed, "client_not_enabled")
	s.SetVerifyDisabled(false)

	s.ExpireAccessTokens()
	checkVerifyError(t, call(t, "POST", s.URL+VerifyPath, "", verifyBody(s, access)), http.StatusUnauthorized, "token_expired")
}

func TestVerifyClientDisabledByOption(t *testing.T) {
	s := newTestServer(t, Options{VerifyDisabled: true})
	access, _ := s.IssueTokens()
	checkVerifyError(t, call(t, "POST", s.URL+VerifyPath, "", verifyBody(s, access)), http.StatusPreconditionFailed, "client_not_enabled")
}

func TestJWTAccessTokens(t *testing.T) {
	s := newTestServer(t, Options{JWTAccessTokens: true, AccessTokenTTL: time.Hour})
	access, _ := s.IssueTokens()
	other, _ := s.IssueTokensFor("another-client")
	for tok, azp := range map[string]string{access: s.opts.ClientID, other: "another-client"} {
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("token %q is not header.payload.signature", tok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Exp, Iat          int64
			Azp, Sub          string
			PreferredUsername string `json:"preferred_username"`
		}
		if err := json.Unmarshal(raw, &claims); err != nil {
			t.Fatal(err)
		}
		if claims.Azp != azp || claims.Sub != s.UserID || claims.PreferredUsername != "demo@example.com" || claims.Exp-claims.Iat != 3600 {
			t.Errorf("claims = %+v, want azp %s, sub %s, one hour", claims, azp, s.UserID)
		}
		if a := call(t, "GET", s.URL+"/users/me", tok, nil); a.status != http.StatusOK {
			t.Errorf("REST with a JWT token: status %d", a.status)
		}
	}
}
