package homey

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

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

// While the realtime socket is connected, a command goes over its RPC and
// nothing is re-read after it; without the socket it is one HTTP PUT per
// capability, again without a re-read.
func TestCommandsOverTheSocketWithoutReRead(t *testing.T) {
	srv := newServer(t)
	c, _ := cloudClient(t, srv, openStore(t))
	ctx := testCtx(t)
	dev := "/api/manager/devices/device/" + homeytest.DeviceLight

	// No socket yet: HTTP.
	if _, err := c.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	gets := srv.CountRequests(homeytest.HostHomey, http.MethodGet, dev)
	d, err := c.Set(ctx, homeytest.DeviceLight, cloud.Change{cloud.FieldBrightness: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if d.State[cloud.FieldBrightness] != 0.25 {
		t.Errorf("Set returned brightness %v, want 0.25", d.State[cloud.FieldBrightness])
	}
	if n := srv.CountRequests(homeytest.HostHomey, http.MethodPut, dev+"/capability/dim"); n != 1 {
		t.Errorf("%d HTTP PUTs without the socket, want 1", n)
	}
	if n := srv.CountRequests(homeytest.HostHomey, http.MethodGet, dev); n != gets {
		t.Errorf("the device was re-read %d times after the PUT, want none", n-gets)
	}

	// With the socket: RPC.
	w := watch(t, c)
	w.next("live push", isPush(cloud.PushLive))
	httpBefore := srv.CountRequests(homeytest.HostHomey, "", "/api/manager/devices/")
	d, err = c.Set(ctx, homeytest.DeviceLight, cloud.Change{cloud.FieldOn: true, cloud.FieldBrightness: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	if d.State[cloud.FieldBrightness] != 0.6 || d.State[cloud.FieldOn] != true {
		t.Errorf("Set returned %v, want on at 0.6", d.State)
	}
	if n := srv.CountRequests(homeytest.HostSocket, http.MethodPut, dev+"/capability/"); n != 2 {
		t.Errorf("%d capability writes over the socket, want 2 (onoff, dim)", n)
	}
	if n := srv.CountRequests(homeytest.HostHomey, "", "/api/manager/devices/"); n != httpBefore {
		t.Errorf("%d HTTP device requests while the socket is connected, want none", n-httpBefore)
	}
	if got, _ := srv.Device(homeytest.DeviceLight); got["capabilitiesObj"].(map[string]any)["dim"].(map[string]any)["value"] != 0.6 {
		t.Errorf("the Homey did not apply dim 0.6")
	}

	// A refused write over the socket is reported as over HTTP.
	_, err = c.Set(ctx, homeytest.DeviceLight, cloud.Change{cloud.FieldBrightness: 0.6, cloud.FieldColorTemp: 4000.0})
	if err != nil {
		t.Fatalf("a valid write: %v", err)
	}
	srv.SetAvailable(homeytest.DeviceLight, false)
	if _, err := c.Set(ctx, homeytest.DeviceLight, cloud.Change{cloud.FieldBrightness: 0.1}); err == nil || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("Set on an unavailable device = %v, want the Homey's refusal", err)
	}
}

// socketQueries lists the EIO= of every socket upgrade the Homey saw.
func socketQueries(srv *homeytest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Host == homeytest.HostHomey && strings.HasPrefix(r.Path, "/socket.io") {
			for _, kv := range strings.Split(r.Query, "&") {
				if strings.HasPrefix(kv, "EIO=") {
					out = append(out, kv)
				}
			}
		}
	}
	return out
}

// A Homey that speaks Engine.IO 4 gets it (the server pings, the client
// answers); one that refuses it gets Engine.IO 3 after one probe.
func TestEngineIOProbe(t *testing.T) {
	t.Run("EIO4", func(t *testing.T) {
		srv := homeytest.NewServer(homeytest.Options{ClientID: testClientID, ClientSecret: testClientSecret, EngineIO4: true,
			PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
		t.Cleanup(srv.Close)
		srv.Furnish()
		c, _ := cloudClient(t, srv, openStore(t))
		w := watch(t, c)
		w.next("live push", isPush(cloud.PushLive))
		// For longer than ping interval + timeout the socket stays: only
		// the client's answers to the server's pings keep it.
		quiet := time.After(time.Second)
		for watching := true; watching; {
			select {
			case e := <-w.events:
				if e.Kind == cloud.EventPush && e.Push == cloud.PushPolling {
					t.Fatal("the Engine.IO 4 socket was lost: the server's pings went unanswered")
				}
			case <-quiet:
				watching = false
			}
		}
		if err := srv.SetCapability(homeytest.DeviceMotion, "alarm_motion", true); err != nil {
			t.Fatal(err)
		}
		w.next("the motion event", deviceState(homeytest.DeviceMotion, cloud.FieldMotion, true))
		if q := socketQueries(srv); len(q) != 1 || q[0] != "EIO=4" {
			t.Errorf("socket upgrades %v, want one EIO=4", q)
		}
		if _, err := c.Set(testCtx(t), homeytest.DeviceFan, cloud.Change{cloud.FieldOn: true}); err != nil {
			t.Fatal(err)
		}
		if srv.CountRequests(homeytest.HostSocket, http.MethodPut, "/") != 1 {
			t.Error("the command did not go over the Engine.IO 4 socket")
		}
	})
	t.Run("EIO3", func(t *testing.T) {
		srv := newServer(t)
		c, _ := cloudClient(t, srv, openStore(t))
		w := watch(t, c)
		w.next("live push", isPush(cloud.PushLive))
		srv.DropSockets()
		w.next("polling", isPush(cloud.PushPolling))
		w.next("live again", isPush(cloud.PushLive))
		if q := socketQueries(srv); len(q) != 3 || q[0] != "EIO=4" || q[1] != "EIO=3" || q[2] != "EIO=3" {
			t.Errorf("socket upgrades %v, want one EIO=4 probe, then EIO=3 only", q)
		}
	})
}
