package homeytest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func basic(id, secret string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	return h
}

func tokenCall(t *testing.T, s *Server, header http.Header, form url.Values) answer {
	t.Helper()
	return request(t, http.MethodPost, s.CloudURL+"/oauth2/token", header, form)
}

func TestAuthorizationCodeWithBasicAuthIsSingleUse(t *testing.T) {
	s := newTestServer(t, Options{AccessTokenTTL: 90 * time.Second})
	code := s.NewAuthorizationCode()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	a := tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form)
	wantStatus(t, a, http.StatusOK)
	tok := a.obj(t)
	if tok["token_type"] != "bearer" || tok["expires_in"] != 90.0 || tok["access_token"] == "" || tok["refresh_token"] == "" {
		t.Fatalf("token answer %s", a.raw)
	}
	me := get(t, s.CloudURL+"/user/me", tok["access_token"].(string))
	wantStatus(t, me, http.StatusOK)

	again := tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form)
	wantError(t, again, http.StatusBadRequest, "invalid_grant")
}

func TestTokenWithBodyCredentialsAndBadClient(t *testing.T) {
	s := newTestServer(t, Options{ClientID: "cid", ClientSecret: "csecret"})
	form := url.Values{"grant_type": {"authorization_code"}, "authorization_code": {s.NewAuthorizationCode()},
		"client_id": {"cid"}, "client_secret": {"csecret"}}
	wantStatus(t, tokenCall(t, s, nil, form), http.StatusOK)

	form.Set("code", s.NewAuthorizationCode())
	form.Set("client_secret", "wrong")
	wantError(t, tokenCall(t, s, nil, form), http.StatusUnauthorized, "invalid_client")
	wantError(t, tokenCall(t, s, basic("cid", "wrong"), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}),
		http.StatusUnauthorized, "invalid_client")

	form.Set("client_secret", "csecret")
	form.Set("grant_type", "client_credentials")
	wantError(t, tokenCall(t, s, nil, form), http.StatusBadRequest, "unsupported_grant_type")
}

func TestExpiredCodeIsRejected(t *testing.T) {
	s := newTestServer(t, Options{CodeTTL: time.Nanosecond})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {s.NewAuthorizationCode()}}
	wantError(t, tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form), http.StatusBadRequest, "invalid_grant")
}

func TestAuthoriseRedirectsWithCodeAndState(t *testing.T) {
	s := newTestServer(t, Options{})
	q := url.Values{"client_id": {"homeytest-client"}, "redirect_uri": {"http://localhost:9999/cb"},
		"response_type": {"code"}, "state": {"xyz"}}
	a := request(t, http.MethodGet, s.CloudURL+"/oauth2/authorise?"+q.Encode(), nil, nil)
	wantStatus(t, a, http.StatusFound)
	loc, err := url.Parse(a.header.Get("Location"))
	if err != nil || loc.Host != "localhost:9999" || loc.Path != "/cb" {
		t.Fatalf("Location %q", a.header.Get("Location"))
	}
	if loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("Location %q lacks code or state", loc)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}}
	wantStatus(t, tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form), http.StatusOK)
	if n := s.CountRequests(HostCloud, http.MethodGet, "/oauth2/authorise"); n != 1 {
		t.Fatalf("recorded %d authorise requests, want 1", n)
	}

	q.Set("client_id", "someone-else")
	wantError(t, request(t, http.MethodGet, s.CloudURL+"/oauth2/authorise?"+q.Encode(), nil, nil), http.StatusBadRequest, "invalid_client")
}

func TestRefreshTokensRotate(t *testing.T) {
	s := newTestServer(t, Options{})
	_, refresh := s.IssueTokens()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	a := tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form)
	wantStatus(t, a, http.StatusOK)
	next := a.obj(t)["refresh_token"].(string)
	if next == refresh {
		t.Fatalf("refresh token did not rotate")
	}
	wantError(t, tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form), http.StatusBadRequest, "invalid_grant")

	s.RevokeRefreshTokens()
	form.Set("refresh_token", next)
	wantError(t, tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form), http.StatusBadRequest, "invalid_grant")
}

func TestPasswordGrant(t *testing.T) {
	s := newTestServer(t, Options{})
	form := url.Values{"grant_type": {"password"}, "username": {"demo@example.com"}, "password": {"demo-password"}}
	wantStatus(t, tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form), http.StatusOK)
	form.Set("password", "nope")
	wantError(t, tokenCall(t, s, basic("homeytest-client", "homeytest-secret"), form), http.StatusBadRequest, "invalid_grant")
}

func TestExpiredAccessTokenAnswersInvalidToken(t *testing.T) {
	s := newTestServer(t, Options{})
	access, _ := s.IssueTokens()
	wantStatus(t, get(t, s.CloudURL+"/user/me", access), http.StatusOK)
	s.ExpireAccessTokens()
	wantError(t, get(t, s.CloudURL+"/user/me", access), http.StatusUnauthorized, "invalid_token")
	wantError(t, request(t, http.MethodPost, s.CloudURL+"/delegation/token?audience=homey", auth(access), map[string]any{}),
		http.StatusUnauthorized, "invalid_token")
	wantError(t, get(t, s.CloudURL+"/user/me", "made-up"), http.StatusUnauthorized, "invalid_token")
}

func TestUserMeListsTheHomey(t *testing.T) {
	s := newTestServer(t, Options{HomeyName: "Beach house"})
	access, _ := s.IssueTokens()
	me := get(t, s.CloudURL+"/user/me", access).obj(t)
	homeys, _ := me["homeys"].([]any)
	if len(homeys) != 1 || me["id"] != s.UserID {
		t.Fatalf("user %v", me)
	}
	h := homeys[0].(map[string]any)
	want := map[string]any{
		"_id": s.HomeyID, "id": s.HomeyID, "name": "Beach house", "platform": "local", "platformVersion": 2.0,
		"apiVersion": 3.0, "localUrl": s.HomeyURL, "remoteUrl": s.HomeyURL, "localUrlSecure": nil, "role": "owner",
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("homeys[0].%s = %v, want %v", k, h[k], v)
		}
	}
	if len(s.HomeyID) != 24 {
		t.Errorf("HomeyID %q is not 24 hex digits", s.HomeyID)
	}
}

func TestDelegationLoginSessionDevices(t *testing.T) {
	s := newTestServer(t, Options{SessionTTL: time.Hour})
	s.Furnish()
	access, _ := s.IssueTokens()
	wantError(t, request(t, http.MethodPost, s.CloudURL+"/delegation/token", auth(access), map[string]any{}),
		http.StatusBadRequest, "invalid_request")

	a := request(t, http.MethodPost, s.CloudURL+"/delegation/token?audience=homey", auth(access), map[string]any{})
	wantStatus(t, a, http.StatusOK)
	jwt := a.str(t)
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("delegation token %q is not a JWT", jwt)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims["aud"] != "homey" || claims["sub"] != s.UserID {
		t.Fatalf("JWT claims %s", payload)
	}
	if exp, _ := claims["exp"].(float64); exp < float64(time.Now().Unix()) || exp > float64(time.Now().Add(10*time.Minute).Unix()) {
		t.Fatalf("JWT exp %v is not a few minutes ahead", claims["exp"])
	}

	loginURL := s.HomeyURL + "/api/manager/users/login"
	sess := request(t, http.MethodPost, loginURL, nil, map[string]any{"token": jwt})
	wantStatus(t, sess, http.StatusOK)
	token := sess.str(t)

	// The JWT is single-use; forged and expired ones fail too.
	wantError(t, request(t, http.MethodPost, loginURL, nil, map[string]any{"token": jwt}), http.StatusUnauthorized, "invalid_token")
	wantError(t, request(t, http.MethodPost, loginURL, nil, map[string]any{"token": parts[0] + "." + parts[1] + ".AAAA"}), http.StatusUnauthorized, "invalid_token")
	wantError(t, request(t, http.MethodPost, loginURL, nil, map[string]any{"token": s.mintJWT(time.Now().Add(-time.Second))}), http.StatusUnauthorized, "invalid_token")
	wantError(t, request(t, http.MethodPost, loginURL, nil, map[string]any{}), http.StatusBadRequest, "invalid_request")

	me := get(t, s.HomeyURL+"/api/manager/sessions/session/me", token)
	wantStatus(t, me, http.StatusOK)
	m := me.obj(t)
	if m["userId"] != s.UserID || m["clientId"] != "homeytest-client" || m["expiresAt"] == nil {
		t.Fatalf("session/me %s", me.raw)
	}
	if scopes, _ := m["scopes"].([]any); len(scopes) != 1 || scopes[0] != "homey" {
		t.Fatalf("session scopes %v, want [homey]", m["scopes"])
	}

	devs := get(t, s.HomeyURL+"/api/manager/devices/device", token)
	wantStatus(t, devs, http.StatusOK)
	if n := len(devs.obj(t)); n != 20 {
		t.Fatalf("%d devices, want 20", n)
	}
}
