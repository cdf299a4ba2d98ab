package homey

import (
	"net/http"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
)

// lanServer is the furnished emulator with its LAN (localUrlSecure,
// localUrl) and relay (remoteUrl) paths.
func lanServer(t *testing.T) *homeytest.Server {
	t.Helper()
	srv := homeytest.NewServer(homeytest.Options{
		ClientID: testClientID, ClientSecret: testClientSecret, LANPaths: true,
		PingInterval: 200 * time.Millisecond, PingTimeout: 500 * time.Millisecond,
	})
	t.Cleanup(srv.Close)
	srv.Furnish()
	return srv
}

func lanClient(t *testing.T, srv *homeytest.Server, probe time.Duration) *Client {
	t.Helper()
	_, refresh := srv.IssueTokens()
	c, err := New(Config{
		Account: "home", ClientID: testClientID, ClientSecret: testClientSecret,
		RefreshToken: refresh, CloudURL: srv.CloudURL, Tokens: openStore(t),
		PollInterval: 100 * time.Millisecond, LANProbeInterval: probe, RootCAs: srv.TLSRoots(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dimOf(t *testing.T, srv *homeytest.Server) any {
	t.Helper()
	d, _ := srv.Device(homeytest.DeviceLight)
	return d["capabilitiesObj"].(map[string]any)["dim"].(map[string]any)["value"]
}

// The client takes localUrlSecure (HTTPS to 127.0.0.1, the certificate
// verified for its dashed-IP name) when it answers.
func TestLocalSecureFirst(t *testing.T) {
	srv := lanServer(t)
	c := lanClient(t, srv, time.Minute)
	ctx := testCtx(t)
	if _, err := c.Set(ctx, homeytest.DeviceLight, cloud.Change{cloud.FieldBrightness: 0.4}); err != nil {
		t.Fatal(err)
	}
	if path, why := c.Path(); path != PathLocalSecure {
		t.Errorf("path %q (%s), want %s", path, why, PathLocalSecure)
	}
	// Discovery pings every URL at once, as Athom's client does; nothing
	// else goes through the relay.
	if n := srv.CountRequests(homeytest.HostRemote, "", "/api/manager/devices/"); n != 0 {
		t.Errorf("%d device requests went through the relay, want none", n)
	}
	// Without trust in the certificate, localUrlSecure fails and localUrl
	// is next.
	c2 := lanClient(t, srv, time.Minute)
	c2.http = withLANDialing(&http.Client{Timeout: 5 * time.Second}, nil)
	if _, err := c2.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	if path, why := c2.Path(); path != PathLocal {
		t.Errorf("path without trust in the certificate %q (%s), want %s", path, why, PathLocal)
	}
}

// A LAN cut during a stream of commands moves the client to the cloud
// relay without losing a command; when the LAN is back the client moves
// back within the re-probe interval.
func TestLANFailoverDuringCommands(t *testing.T) {
	srv := lanServer(t)
	const probe = 300 * time.Millisecond
	c := lanClient(t, srv, probe)
	ctx := testCtx(t)
	w := watch(t, c)
	w.next("live push", isPush(cloud.PushLive))

	for i := 1; i <= 60; i++ {
		if i == 20 {
			srv.CutLAN(true)
		}
		want := float64(i) / 100
		if _, err := c.Set(ctx, homeytest.DeviceLight, cloud.Change{cloud.FieldBrightness: want}); err != nil {
			t.Fatalf("command %d (dim %v): %v", i, want, err)
		}
		if got := dimOf(t, srv); got != want {
			t.Fatalf("command %d: the Homey has dim %v, want %v", i, got, want)
		}
	}
	if path, why := c.Path(); path != PathCloud {
		t.Errorf("path after the LAN cut %q (%s), want %s", path, why, PathCloud)
	}
	if srv.CountRequests(homeytest.HostRemote, http.MethodPut, "/api/manager/devices/") == 0 {
		t.Error("no command went through the relay after the LAN cut")
	}

	srv.CutLAN(false)
	back := time.Now()
	waitFor(t, "the LAN path again", func() bool { p, _ := c.Path(); return p == PathLocalSecure })
	if took := time.Since(back); took > 10*probe {
		t.Errorf("back on the LAN after %s, want within a few re-probe intervals (%s)", took, probe)
	}
	relayed := srv.CountRequests(homeytest.HostRemote, "", "/")
	if _, err := c.Set(ctx, homeytest.DeviceLight, cloud.Change{cloud.FieldBrightness: 0.99}); err != nil {
		t.Fatal(err)
	}
	if dimOf(t, srv) != 0.99 {
		t.Errorf("the last command was not applied")
	}
	if n := srv.CountRequests(homeytest.HostRemote, "", "/") - relayed; n != 0 {
		t.Errorf("%d requests still went through the relay after moving back", n)
	}
}
