package homey_test

import (
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/cloudtest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
)

func TestConformance(t *testing.T) {
	t.Run("AthomCloud", func(t *testing.T) {
		t.Parallel()
		cloudtest.Run(t, func(t *testing.T) cloudtest.Harness { return newConformanceHarness(t, false) })
	})
	t.Run("LocalAPIKey", func(t *testing.T) {
		t.Parallel()
		cloudtest.Run(t, func(t *testing.T) cloudtest.Harness { return newConformanceHarness(t, true) })
	})
}

// conformanceHarness is a Homey client against the furnished emulator,
// through the Athom cloud or with a local API key.
type conformanceHarness struct {
	cloudtest.Faults
	srv    *homeytest.Server
	store  *tokenstore.Store
	local  bool
	client *homey.Client
}

const conformanceAccount = "homey"

func newConformanceHarness(t *testing.T, local bool) cloudtest.Harness {
	srv := homeytest.NewServer(homeytest.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second})
	t.Cleanup(srv.Close)
	srv.Furnish()
	store, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := homey.Config{Account: conformanceAccount, Tokens: store,
		PollInterval: 100 * time.Millisecond, ResyncInterval: 300 * time.Millisecond}
	if local {
		cfg.Address, cfg.APIKey = srv.HomeyURL, srv.NewAPIKey("homey")
	} else {
		_, refresh := srv.IssueTokens()
		cfg.ClientID, cfg.ClientSecret, cfg.RefreshToken, cfg.CloudURL = "homeytest-client", "homeytest-secret", refresh, srv.CloudURL
	}
	c, err := homey.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &conformanceHarness{Faults: cloudtest.Faults{Emulator: srv}, srv: srv, store: store, local: local, client: c}
}

func (h *conformanceHarness) Provider() cloud.Provider { return h.client }
func (h *conformanceHarness) DeviceIDs() []string      { return h.srv.DeviceIDs() }
func (h *conformanceHarness) UnknownID() string        { return "00000000-0000-4000-8000-000000000000" }
func (h *conformanceHarness) Sensor() (string, string) {
	return homeytest.DeviceMotion, cloud.FieldMotion
}

func (h *conformanceHarness) Writes() []cloudtest.Write {
	return []cloudtest.Write{
		{Device: homeytest.DeviceLight, Field: cloud.FieldOn},
		{Device: homeytest.DeviceLight, Field: cloud.FieldBrightness},
		{Device: homeytest.DeviceThermostat, Field: cloud.FieldMode},
	}
}

func (h *conformanceHarness) ChangeInCloud(t *testing.T, value bool) {
	if err := h.srv.SetCapability(homeytest.DeviceMotion, "alarm_motion", value); err != nil {
		t.Fatal(err)
	}
}

func (h *conformanceHarness) DropPushes(_ *testing.T, n int) { h.srv.DropEvents(n) }

func (h *conformanceHarness) RejectCredentials(*testing.T) {
	if h.local {
		h.srv.RevokeAPIKeys()
		return
	}
	h.srv.RevokeRefreshTokens()
	h.srv.ExpireAccessTokens()
	h.srv.ExpireSessions()
}

// Login stores new athom tokens as `cloud2mqtt auth login` does. A local
// API key is configuration: a new one needs a new provider.
func (h *conformanceHarness) Login(t *testing.T) {
	if h.local {
		t.Skip("a new local API key is a configuration change, not a login")
	}
	access, refresh := h.srv.IssueTokens()
	tok := &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", Expiry: time.Now().Add(time.Hour)}
	if err := h.store.Save(conformanceAccount, tok); err != nil {
		t.Fatal(err)
	}
}

func (h *conformanceHarness) Rename(t *testing.T, id, name string) {
	if err := h.srv.Rename(id, name); err != nil {
		t.Fatal(err)
	}
}

func (h *conformanceHarness) Remove(t *testing.T, id string) {
	if !h.srv.RemoveDevice(id) {
		t.Fatalf("the emulator has no device %s", id)
	}
}
