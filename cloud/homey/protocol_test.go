package homey

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
)

// A 401 from Athom that does not say invalid_token is reported as it is:
// the refresh token is not spent on it.
func TestOnlyInvalidTokenSpendsTheRefreshToken(t *testing.T) {
	srv := newServer(t)
	c, _ := cloudClient(t, srv, openStore(t))
	ctx := testCtx(t)
	if _, err := c.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	grants := srv.CountRequests(homeytest.HostCloud, http.MethodPost, "/oauth2/token")
	srv.ExpireSessions()
	// {"error":"server_error"}: for the zones and the device listing alike.
	srv.FailNextCloud(10, http.StatusUnauthorized)
	_, err := c.Devices(ctx)
	srv.FailNextCloud(0, 0)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Devices after a 401 server_error = %v, want the 401 reported", err)
	}
	if n := srv.CountRequests(homeytest.HostCloud, http.MethodPost, "/oauth2/token"); n != grants {
		t.Errorf("%d token grants after a 401 without invalid_token, want none", n-grants)
	}
	// invalid_token does refresh.
	srv.ExpireAccessTokens()
	if _, err := c.Devices(ctx); err != nil {
		t.Fatalf("after the access token expired: %v", err)
	}
	if n := srv.CountRequests(homeytest.HostCloud, http.MethodPost, "/oauth2/token"); n != grants+1 {
		t.Errorf("%d token grants after invalid_token, want one", n-grants)
	}
}

// The scopes of the session are read once after login, and a missing one
// is reported by name before any call needing it is made.
func TestMissingScopesReportedAtOnce(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)

	none := localClient(t, srv, srv.NewAPIKey("homey.zone.readonly"))
	listings := srv.CountRequests(homeytest.HostHomey, http.MethodGet, "/api/manager/devices/device")
	_, err := none.Devices(ctx)
	var se *ScopeError
	if !errors.As(err, &se) || se.Scope != ScopeDeviceRead || !errors.Is(err, cloud.ErrAuth) {
		t.Fatalf("Devices without %s = %v, want a ScopeError naming it", ScopeDeviceRead, err)
	}
	if n := srv.CountRequests(homeytest.HostHomey, http.MethodGet, "/api/manager/devices/device"); n != listings {
		t.Errorf("%d device listings were tried without the scope, want none", n-listings)
	}
	if srv.CountRequests(homeytest.HostHomey, http.MethodGet, "/api/manager/sessions/session/me") == 0 {
		t.Error("sessions/session/me was not read")
	}

	ro := localClient(t, srv, srv.NewAPIKey("homey.device.readonly"))
	if _, err := ro.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	puts := srv.CountRequests(homeytest.HostHomey, http.MethodPut, "/api/manager/devices/")
	_, err = ro.Set(ctx, homeytest.DeviceFan, cloud.Change{"on": true})
	if !errors.As(err, &se) || se.Scope != ScopeDeviceControl {
		t.Fatalf("Set without %s = %v, want a ScopeError naming it", ScopeDeviceControl, err)
	}
	if n := srv.CountRequests(homeytest.HostHomey, http.MethodPut, "/api/manager/devices/"); n != puts {
		t.Errorf("%d PUTs were tried without the scope, want none", n-puts)
	}
}

// A handshake refused with statusCode 401 renews the session; a refusal
// with other words and no 401 does not.
func TestHandshakeJudgedByStatusCode(t *testing.T) {
	for _, tc := range []struct {
		ack  string
		auth bool
	}{
		{`{"error":"invalid_token","statusCode":401}`, true},
		{`{"error":"whatever","code":401}`, true},
		{`"Unauthorized: invalid token"`, false},
		{`{"error":"invalid_request","error_description":"invalid homeyId","statusCode":400}`, false},
	} {
		got := ackStatus([]byte(tc.ack)) == http.StatusUnauthorized
		if got != tc.auth {
			t.Errorf("handshake error %s: auth failure %v, want %v", tc.ack, got, tc.auth)
		}
	}
}
