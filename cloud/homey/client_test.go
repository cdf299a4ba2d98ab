package homey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
)

const (
	testClientID     = "test-client"
	testClientSecret = "test-secret-value"
)

func newServer(t *testing.T) *homeytest.Server {
	t.Helper()
	srv := homeytest.NewServer(homeytest.Options{
		ClientID: testClientID, ClientSecret: testClientSecret,
		PingInterval: 200 * time.Millisecond, PingTimeout: 500 * time.Millisecond,
	})
	t.Cleanup(srv.Close)
	srv.Furnish()
	return srv
}

func openStore(t *testing.T) *tokenstore.Store {
	t.Helper()
	st, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// cloudClient is a cloud-mode client seeded with a fresh refresh token.
func cloudClient(t *testing.T, srv *homeytest.Server, st *tokenstore.Store) (*Client, string) {
	t.Helper()
	_, refresh := srv.IssueTokens()
	c, err := New(Config{
		Account: "home", ClientID: testClientID, ClientSecret: testClientSecret,
		RefreshToken: refresh, CloudURL: srv.CloudURL, Tokens: st,
		PollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, refresh
}

func localClient(t *testing.T, srv *homeytest.Server, key string) *Client {
	t.Helper()
	c, err := New(Config{Account: "pro", Address: srv.HomeyURL, APIKey: key, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func byID(devs []cloud.Device, id string) (cloud.Device, bool) {
	for _, d := range devs {
		if d.ID == id {
			return d, true
		}
	}
	return cloud.Device{}, false
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "accounts[].name"},
		{Config{Account: "a"}, "accounts[].api_key"},
		{Config{Account: "a", Address: "http://h", APIKey: "k", ClientID: "c", ClientSecret: "s"}, "both"},
		{Config{Account: "a", APIKey: "k"}, "accounts[].address"},
		{Config{Account: "a", Address: "http://h"}, "accounts[].api_key"},
		{Config{Account: "a", Address: "192.168.1.5", APIKey: "k"}, "accounts[].address"},
		{Config{Account: "a", ClientID: "c"}, "accounts[].client_secret"},
		{Config{Account: "a", ClientSecret: "s"}, "accounts[].client_id"},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error naming %q", tc.cfg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s\"") {
			t.Errorf("error shows a secret: %v", err)
		}
	}
	c, err := New(Config{Account: "a", ClientID: "c", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Cloud() != "homey" || c.Account() != "a" {
		t.Errorf("Cloud/Account = %q/%q", c.Cloud(), c.Account())
	}
}

func TestCloudChainListsDevices(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	c, seed := cloudClient(t, srv, st)
	devs, err := c.Devices(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 20 {
		t.Fatalf("got %d devices, want the 20 furnished ones", len(devs))
	}
	lamp, ok := byID(devs, homeytest.DeviceColourLight)
	if !ok {
		t.Fatal("colour lamp missing")
	}
	if lamp.Class != cloud.ClassLight || lamp.Area != "Living room" || lamp.Name != "Colour lamp" {
		t.Errorf("colour lamp = %+v", lamp)
	}
	if lamp.State["on"] != false || lamp.State["brightness"] != 0.5 || lamp.ColorMode != cloud.ColorModeTemp {
		t.Errorf("colour lamp state = %v", lamp.State)
	}
	th, _ := byID(devs, homeytest.DeviceThermostat)
	if th.Class != cloud.ClassClimate || th.State["temperature_floor"] != 23.1 || th.State["target_temp"] != 21.5 {
		t.Errorf("thermostat = %v %v", th.Class, th.State)
	}

	// The rotated refresh token and the session were saved at once.
	tok, ok, err := st.Load("home")
	if err != nil || !ok || tok.RefreshToken == "" || tok.RefreshToken == seed || tok.AccessToken == "" {
		t.Errorf("stored athom token: ok %v err %v rotated %v", ok, err, ok && tok.RefreshToken != seed)
	}
	sess, ok, _ := st.Load("home/session")
	if !ok || sess.AccessToken == "" || time.Until(sess.Expiry) < 23*time.Hour {
		t.Errorf("stored session: ok %v expiry %v, want a session valid about 24h", ok, sess)
	}

	// The chain's wire details.
	for _, r := range srv.Requests() {
		switch {
		case r.Host == homeytest.HostCloud && r.Path == "/delegation/token":
			if !strings.Contains(r.Query, "audience=homey") || strings.TrimSpace(string(r.Body)) != "{}" {
				t.Errorf("delegation request query %q body %q", r.Query, r.Body)
			}
		case r.Host == homeytest.HostHomey && r.Path == "/api/manager/users/login":
			if r.Header.Get("Authorization") != "" {
				t.Error("login carried an Authorization header")
			}
		case r.Host == homeytest.HostHomey && strings.HasPrefix(r.Path, "/api/manager/devices"):
			if r.Header.Get("X-Homey-ID") != srv.HomeyID || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				t.Errorf("device request headers %v", r.Header)
			}
		}
	}

	// A second client on the same store reuses the saved session: no new login.
	logins := srv.CountRequests(homeytest.HostHomey, http.MethodPost, "/api/manager/users/login")
	c2, err := New(Config{Account: "home", ClientID: testClientID, ClientSecret: testClientSecret, CloudURL: srv.CloudURL, Tokens: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Device(testCtx(t), homeytest.DeviceFan); err != nil {
		t.Fatal(err)
	}
	if n := srv.CountRequests(homeytest.HostHomey, http.MethodPost, "/api/manager/users/login"); n != logins {
		t.Errorf("logins went from %d to %d, want the stored session reused", logins, n)
	}
}

func TestDeviceNotFound(t *testing.T) {
	srv := newServer(t)
	c := localClient(t, srv, srv.NewAPIKey("homey"))
	_, err := c.Device(testCtx(t), "no-such-device")
	if !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Device(unknown) = %v, want ErrNotFound", err)
	}
}

// puts returns the capability PUTs received for device id, in order.
func puts(srv *homeytest.Server, id string, since int) []map[string]any {
	var out []map[string]any
	prefix := "/api/manager/devices/device/" + id + "/capability/"
	reqs := srv.Requests()
	for _, r := range reqs[since:] {
		if r.Method != http.MethodPut || !strings.HasPrefix(r.Path, prefix) {
			continue
		}
		var body map[string]any
		_ = json.Unmarshal(r.Body, &body)
		body["cap"] = strings.TrimPrefix(r.Path, prefix)
		out = append(out, body)
	}
	return out
}

func capOrder(ps []map[string]any) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p["cap"].(string))
	}
	return s
}

func TestSetOrderAndUnits(t *testing.T) {
	srv := newServer(t)
	c, _ := cloudClient(t, srv, openStore(t))
	ctx := testCtx(t)
	since := len(srv.Requests())
	dev, err := c.Set(ctx, homeytest.DeviceColourLight, cloud.Change{"on": true, "brightness": 0.3, "color_temp": 3000.0})
	if err != nil {
		t.Fatal(err)
	}
	ps := puts(srv, homeytest.DeviceColourLight, since)
	if got, want := strings.Join(capOrder(ps), ","), "onoff,light_mode,light_temperature,dim"; got != want {
		t.Errorf("PUT order %s, want %s", got, want)
	}
	seen := map[string]bool{}
	for _, p := range ps {
		tx, _ := p["transactionId"].(string)
		if !strings.HasPrefix(tx, "homey-api-") || seen[tx] {
			t.Errorf("transactionId %q: want a fresh homey-api-<uuid>", tx)
		}
		seen[tx] = true
		switch p["cap"] {
		case "light_mode":
			if p["value"] != "temperature" {
				t.Errorf("light_mode value %v", p["value"])
			}
		case "light_temperature":
			// 3000 K → (6500−3000)/3800 ≈ 0.921
			if v, _ := p["value"].(float64); v < 0.92 || v > 0.922 {
				t.Errorf("light_temperature value %v, want ≈0.921", p["value"])
			}
		}
	}
	if dev.State["on"] != true || dev.State["brightness"] != 0.3 || dev.State["color_temp"] != 3000.0 || dev.ColorMode != cloud.ColorModeTemp {
		t.Errorf("returned state %v", dev.State)
	}
	raw, _ := srv.Device(homeytest.DeviceColourLight)
	if raw["capabilitiesObj"].(map[string]any)["dim"].(map[string]any)["value"] != 0.3 {
		t.Error("the emulator's dim is not 0.3")
	}

	// Switching off with a level: the level first, off last.
	since = len(srv.Requests())
	dev, err = c.Set(ctx, homeytest.DeviceColourLight, cloud.Change{"on": false, "brightness": 0.2, "hue": 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(capOrder(puts(srv, homeytest.DeviceColourLight, since)), ","), "light_mode,light_hue,dim,onoff"; got != want {
		t.Errorf("PUT order %s, want %s", got, want)
	}
	if dev.State["on"] != false || dev.ColorMode != cloud.ColorModeHS {
		t.Errorf("returned state %v", dev.State)
	}

	// Bad changes are refused before anything is sent.
	since = len(srv.Requests())
	for _, ch := range []cloud.Change{{"temperature": 20.0}, {"nope": 1.0}, {"on": "yes"}, {}} {
		if _, err := c.Set(ctx, homeytest.DeviceThermostat, ch); err == nil {
			t.Errorf("Set(%v): want an error", ch)
		}
	}
	if n := len(puts(srv, homeytest.DeviceThermostat, since)); n != 0 {
		t.Errorf("%d PUTs for refused changes", n)
	}
	if _, err := c.Set(ctx, homeytest.DeviceThermostat, cloud.Change{"target_temp": 19.5, "mode": "off"}); err != nil {
		t.Fatal(err)
	}
}

func TestSessionExpiryRenewedOnceForConcurrentSets(t *testing.T) {
	srv := newServer(t)
	c, _ := cloudClient(t, srv, openStore(t))
	ctx := testCtx(t)
	if _, err := c.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	logins := srv.CountRequests(homeytest.HostHomey, http.MethodPost, "/api/manager/users/login")
	srv.ExpireSessions()
	ids := []string{homeytest.DeviceLight, homeytest.DeviceColourLight, homeytest.DeviceSocket, homeytest.DeviceFan}
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := c.Set(ctx, id, cloud.Change{"on": true})
			if err == nil && d.State["on"] != true {
				err = errors.New(id + ": not on after Set")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := srv.CountRequests(homeytest.HostHomey, http.MethodPost, "/api/manager/users/login") - logins; n != 1 {
		t.Errorf("%d logins after the session expired, want exactly 1 shared renewal", n)
	}
}

func TestAccessTokenRefreshedOn401(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	c, _ := cloudClient(t, srv, st)
	ctx := testCtx(t)
	if _, err := c.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	before, _, _ := st.Load("home")
	srv.ExpireAccessTokens()
	srv.ExpireSessions()
	if _, err := c.Devices(ctx); err != nil {
		t.Fatalf("after the access token and session expired: %v", err)
	}
	after, _, _ := st.Load("home")
	if after.RefreshToken == before.RefreshToken {
		t.Error("the rotated refresh token was not saved")
	}
}

func TestInvalidGrantIsAuthError(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	c, refresh := cloudClient(t, srv, st)
	srv.RevokeRefreshTokens()
	_, err := c.Devices(testCtx(t))
	if !errors.Is(err, cloud.ErrAuth) {
		t.Fatalf("Devices = %v, want cloud.ErrAuth", err)
	}
	if !strings.Contains(err.Error(), "cloud2mqtt auth login home") {
		t.Errorf("error %q does not say how to log in again", err)
	}
	if strings.Contains(err.Error(), refresh) || strings.Contains(err.Error(), testClientSecret) {
		t.Error("error shows a secret")
	}
	// A new login through the authorization code brings the account back.
	u := c.AuthCodeURL("st4te", "http://127.0.0.1:9/callback", "")
	pu, err := url.Parse(u)
	if err != nil || !strings.HasPrefix(u, srv.CloudURL+"/oauth2/authorise?") {
		t.Fatalf("AuthCodeURL = %q", u)
	}
	q := pu.Query()
	if q.Get("client_id") != testClientID || q.Get("response_type") != "code" || q.Get("state") != "st4te" || q.Get("redirect_uri") != "http://127.0.0.1:9/callback" {
		t.Errorf("AuthCodeURL query %v", q)
	}
	if err := c.Exchange(testCtx(t), srv.NewAuthorizationCode(), "http://127.0.0.1:9/callback", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Devices(testCtx(t)); err != nil {
		t.Errorf("after a new login: %v", err)
	}
	if err := c.Exchange(testCtx(t), "not-a-code", "http://127.0.0.1:9/callback", ""); !errors.Is(err, cloud.ErrAuth) {
		t.Errorf("Exchange(bad code) = %v, want ErrAuth", err)
	}
}

func TestNoTokenAsksForLogin(t *testing.T) {
	srv := newServer(t)
	c, err := New(Config{Account: "home", ClientID: testClientID, ClientSecret: testClientSecret, CloudURL: srv.CloudURL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Devices(testCtx(t))
	if !errors.Is(err, cloud.ErrAuth) || !strings.Contains(err.Error(), "cloud2mqtt auth login home") {
		t.Errorf("Devices without any token = %v", err)
	}
}

func TestLocalAPIKey(t *testing.T) {
	srv := newServer(t)
	ctx := testCtx(t)

	full := localClient(t, srv, srv.NewAPIKey("homey.device", "homey.zone.readonly"))
	devs, err := full.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := byID(devs, homeytest.DeviceFan); d.Area != "Bedroom" {
		t.Errorf("fan area %q, want Bedroom", d.Area)
	}
	d, err := full.Set(ctx, homeytest.DeviceFan, cloud.Change{"on": true, "speed": 0.75})
	if err != nil {
		t.Fatal(err)
	}
	if d.State["on"] != true || d.State["speed"] != 0.75 {
		t.Errorf("fan after Set: %v", d.State)
	}

	// A read-only key reads, and says clearly why it cannot change.
	ro := localClient(t, srv, srv.NewAPIKey("homey.device.readonly"))
	devs, err = ro.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := byID(devs, homeytest.DeviceFan); d.Area != "" {
		t.Errorf("area %q without homey.zone.readonly, want none", d.Area)
	}
	_, err = ro.Set(ctx, homeytest.DeviceFan, cloud.Change{"on": false})
	var se *ScopeError
	if !errors.As(err, &se) || se.Scope != ScopeDeviceControl {
		t.Fatalf("Set with a read-only key = %v, want a ScopeError for %s", err, ScopeDeviceControl)
	}
	if !strings.Contains(err.Error(), "Settings → API Keys") || errors.Is(err, cloud.ErrAuth) {
		t.Errorf("error %q: want the fix and no ErrAuth", err)
	}

	// A key without read access cannot work at all.
	none := localClient(t, srv, srv.NewAPIKey("homey.flow.start"))
	if _, err := none.Devices(ctx); !errors.Is(err, cloud.ErrAuth) || !strings.Contains(err.Error(), ScopeDeviceRead) {
		t.Errorf("Devices without read scope = %v", err)
	}

	// An unknown (deleted) key is fatal.
	gone := localClient(t, srv, "deleted:key:value")
	_, err = gone.Devices(ctx)
	if !errors.Is(err, cloud.ErrAuth) || strings.Contains(err.Error(), "deleted:key:value") {
		t.Errorf("Devices with an unknown key = %v, want ErrAuth without the key", err)
	}
}

func TestSessionRenewedBeforeItEnds(t *testing.T) {
	srv := newServer(t)
	_, refresh := srv.IssueTokens()
	c, err := New(Config{Account: "home", ClientID: testClientID, ClientSecret: testClientSecret,
		RefreshToken: refresh, CloudURL: srv.CloudURL, SessionLifetime: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if _, err := c.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, "the session lifetime to pass", func() bool { return time.Since(start) > 300*time.Millisecond })
	if _, err := c.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.CountRequests(homeytest.HostHomey, http.MethodPost, "/api/manager/users/login"); n != 2 {
		t.Errorf("%d logins, want 2: one at start, one renewal when the lifetime ended", n)
	}
	if n := srv.CountRequests(homeytest.HostCloud, http.MethodPost, "/delegation/token"); n != 2 {
		t.Errorf("%d delegation tokens, want 2 (the whole chain is renewed)", n)
	}
}

func TestServerErrorsRetriedForReads(t *testing.T) {
	srv := newServer(t)
	c := localClient(t, srv, srv.NewAPIKey("homey"))
	ctx := testCtx(t)
	if _, err := c.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, http.StatusBadGateway)
	if _, err := c.Device(ctx, homeytest.DeviceFan); err != nil {
		t.Errorf("a read after one 502: %v", err)
	}
	srv.FailNext(1, http.StatusInternalServerError)
	_, err := c.Set(ctx, homeytest.DeviceFan, cloud.Change{"on": true})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusInternalServerError {
		t.Errorf("Set after a 500 = %v, want the HTTP error (changes are not retried blindly)", err)
	}
}
