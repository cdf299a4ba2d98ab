package winktest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func passwordGrant(s *Server, user string) map[string]any {
	return map[string]any{
		"client_id": s.opts.ClientID, "client_secret": s.opts.ClientSecret,
		"username": user, "password": s.opts.Password, "grant_type": "password",
	}
}

func checkTokenAnswer(t *testing.T, s *Server, a answer) (access, refresh string) {
	t.Helper()
	if a.status != http.StatusCreated {
		t.Fatalf("token status = %d, want 201: %s", a.status, a.raw)
	}
	for _, where := range []map[string]any{a.body, a.data()} {
		if where["token_type"] != "bearer" || where["scopes"] != "full_access" || where["token_endpoint"] != s.URL+"/oauth2/token" {
			t.Errorf("token answer lacks token_type/scopes/token_endpoint: %s", a.raw)
		}
		if where["access_token"] != a.body["access_token"] || where["refresh_token"] != a.body["refresh_token"] {
			t.Errorf("top-level and data tokens differ: %s", a.raw)
		}
	}
	if _, ok := a.body["expires_in"]; ok {
		t.Errorf("token answer has expires_in, Wink sent none")
	}
	access, _ = a.body["access_token"].(string)
	refresh, _ = a.body["refresh_token"].(string)
	if access == "" || refresh == "" {
		t.Fatalf("empty tokens in %s", a.raw)
	}
	return access, refresh
}

func checkOAuthError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d: %s", a.status, status, a.raw)
	}
	if a.body["error"] != code || a.data()["error"] != code {
		t.Errorf("error = %v / data.error = %v, want %q", a.body["error"], a.data()["error"], code)
	}
	if _, ok := a.body["error_description"].(string); !ok {
		t.Errorf("error_description missing at top level: %s", a.raw)
	}
	if !strings.HasPrefix(a.firstError(), code+": ") {
		t.Errorf("errors[0] = %q, want %q prefix", a.firstError(), code+": ")
	}
	if _, ok := a.body["pagination"]; !ok {
		t.Errorf("no pagination in error envelope")
	}
}

func TestPasswordGrantWithUsernameOrEmail(t *testing.T) {
	s := newTestServer(t, Options{})
	a := call(t, "POST", s.URL+"/oauth2/token", "", passwordGrant(s, "demo@example.com"))
	access, _ := checkTokenAnswer(t, s, a)
	if me := call(t, "GET", s.URL+"/users/me", access, nil); me.status != http.StatusOK || me.data()["email"] != "demo@example.com" {
		t.Fatalf("GET /users/me with the new token: %d %s", me.status, me.raw)
	}

	body := passwordGrant(s, "")
	delete(body, "username")
	body["email"] = "demo@example.com"
	checkTokenAnswer(t, s, call(t, "POST", s.URL+"/oauth2/token", "", body))
}

func TestPasswordGrantFailures(t *testing.T) {
	s := newTestServer(t, Options{ClientID: "cid", ClientSecret: "csecret", Email: "a@b.c", Password: "pw"})
	bad := passwordGrant(s, "a@b.c")
	bad["password"] = "wrong"
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", bad), http.StatusBadRequest, "invalid_grant")

	wrongSecret := passwordGrant(s, "a@b.c")
	wrongSecret["client_secret"] = "nope"
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", wrongSecret), http.StatusUnauthorized, "invalid_client")

	unknownClient := passwordGrant(s, "a@b.c")
	unknownClient["client_id"] = "other"
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", unknownClient), http.StatusUnauthorized, "invalid_client")
}

func TestTokenEndpointRequiresJSON(t *testing.T) {
	s := newTestServer(t, Options{})
	a := call(t, "POST", s.URL+"/oauth2/token", "", "grant_type=password&username=demo%40example.com&password=demo-password&client_id=winktest-client&client_secret=winktest-secret")
	checkOAuthError(t, a, http.StatusBadRequest, "invalid_request")
	if !strings.Contains(a.firstError(), "JSON") {
		t.Errorf("error %q does not say the body must be JSON", a.firstError())
	}
}

func TestAuthorizationCodeIsSingleUse(t *testing.T) {
	s := newTestServer(t, Options{})
	code := s.NewAuthorizationCode()
	grant := map[string]any{"client_secret": s.opts.ClientSecret, "grant_type": "authorization_code", "code": code}
	checkTokenAnswer(t, s, call(t, "POST", s.URL+"/oauth2/token", "", grant))
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", grant), http.StatusBadRequest, "invalid_grant")

	noSecret := map[string]any{"grant_type": "authorization_code", "code": s.NewAuthorizationCode()}
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", noSecret), http.StatusUnauthorized, "invalid_client")

	withID := map[string]any{"client_id": s.opts.ClientID, "client_secret": s.opts.ClientSecret, "grant_type": "authorization_code", "code": s.NewAuthorizationCode()}
	checkTokenAnswer(t, s, call(t, "POST", s.URL+"/oauth2/token", "", withID))

	unknown := map[string]any{"client_secret": s.opts.ClientSecret, "grant_type": "authorization_code", "code": "not-a-code"}
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", unknown), http.StatusBadRequest, "invalid_grant")
}

func TestAuthorizationCodeExpires(t *testing.T) {
	s := newTestServer(t, Options{CodeTTL: time.Nanosecond})
	code := s.NewAuthorizationCode()
	// A code's lifetime is measured from minting; one nanosecond has
	// passed by the time the request arrives.
	grant := map[string]any{"client_secret": s.opts.ClientSecret, "grant_type": "authorization_code", "code": code}
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", grant), http.StatusBadRequest, "invalid_grant")
}

func TestRefreshTokensRotate(t *testing.T) {
	s := newTestServer(t, Options{})
	_, refresh := s.IssueTokens()
	grant := func(rt string) map[string]any {
		return map[string]any{"client_id": s.opts.ClientID, "client_secret": s.opts.ClientSecret, "grant_type": "refresh_token", "refresh_token": rt}
	}
	access2, refresh2 := checkTokenAnswer(t, s, call(t, "POST", s.URL+"/oauth2/token", "", grant(refresh)))
	if refresh2 == refresh {
		t.Fatalf("refresh returned the same refresh token; it must rotate")
	}
	if a := call(t, "GET", s.URL+"/users/me", access2, nil); a.status != http.StatusOK {
		t.Fatalf("refreshed access token rejected: %d", a.status)
	}
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", grant(refresh)), http.StatusBadRequest, "invalid_grant")
	_, refresh3 := checkTokenAnswer(t, s, call(t, "POST", s.URL+"/oauth2/token", "", grant(refresh2)))

	s.RevokeRefreshTokens()
	checkOAuthError(t, call(t, "POST", s.URL+"/oauth2/token", "", grant(refresh3)), http.StatusBadRequest, "invalid_grant")
}

func TestExpiredAccessTokenAnswers401(t *testing.T) {
	s := newTestServer(t, Options{})
	access, _ := s.IssueTokens()
	if a := call(t, "GET", s.URL+"/users/me/wink_devices", access, nil); a.status != http.StatusOK {
		t.Fatalf("fresh token: status %d", a.status)
	}
	s.ExpireAccessTokens()
	a := call(t, "GET", s.URL+"/users/me/wink_devices", access, nil)
	if a.status != http.StatusUnauthorized || a.body["data"] != nil || a.firstError() == "" {
		t.Fatalf("expired token: %d %s, want 401 envelope", a.status, a.raw)
	}
	if strings.Contains(string(a.raw), access) {
		t.Errorf("401 answer echoes the token")
	}
	if a := call(t, "GET", s.URL+"/users/me", "", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("no token: status %d, want 401", a.status)
	}
}

func TestAccessTokenTTL(t *testing.T) {
	s := newTestServer(t, Options{AccessTokenTTL: time.Nanosecond})
	access, _ := s.IssueTokens()
	if a := call(t, "GET", s.URL+"/users/me", access, nil); a.status != http.StatusUnauthorized {
		t.Fatalf("token past its TTL: status %d, want 401", a.status)
	}
}
