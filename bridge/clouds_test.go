package bridge_test

import (
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// The one place per cloud where the bridge tests start an emulator and
// build a provider against it.

// furnishedWink starts the Wink emulator with the demo home.
func furnishedWink(tb testing.TB) *winktest.Server {
	tb.Helper()
	srv := winktest.NewServer(winktest.Options{HoldPoll: 2 * time.Second, Logger: testLogger(tb)})
	tb.Cleanup(srv.Close)
	srv.Furnish()
	return srv
}

// newWinkClient returns a provider for account logged in to srv; tune,
// when set, adjusts the configuration first.
func newWinkClient(tb testing.TB, srv *winktest.Server, account string, tune func(*wink.Config)) *wink.Client {
	tb.Helper()
	_, refresh := srv.IssueTokens()
	cfg := wink.Config{Account: account, ClientID: "winktest-client", ClientSecret: "winktest-secret",
		RefreshToken: refresh, APIURL: srv.URL, PubNubOrigin: srv.PubNubOrigin,
		SubscribeTimeout: 5 * time.Second, Logger: testLogger(tb)}
	if tune != nil {
		tune(&cfg)
	}
	c, err := wink.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// furnishedHomey starts the Homey emulator with the demo home.
func furnishedHomey(tb testing.TB) *homeytest.Server {
	tb.Helper()
	srv := homeytest.NewServer(homeytest.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second, Logger: testLogger(tb)})
	tb.Cleanup(srv.Close)
	srv.Furnish()
	return srv
}

// newHomeyClient returns a provider for account on srv: through the
// emulated Athom cloud, or with a local API key of the given scopes when
// scopes are given.
func newHomeyClient(tb testing.TB, srv *homeytest.Server, account string, scopes ...string) *homey.Client {
	tb.Helper()
	cfg := homey.Config{Account: account, PollInterval: 100 * time.Millisecond, Logger: testLogger(tb)}
	if len(scopes) > 0 {
		cfg.Address, cfg.APIKey = srv.HomeyURL, srv.NewAPIKey(scopes...)
	} else {
		_, refresh := srv.IssueTokens()
		cfg.ClientID, cfg.ClientSecret, cfg.RefreshToken, cfg.CloudURL = "homeytest-client", "homeytest-secret", refresh, srv.CloudURL
	}
	c, err := homey.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
