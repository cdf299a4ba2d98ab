package wink_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/cloudtest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

func TestConformance(t *testing.T) {
	cloudtest.Run(t, newConformanceHarness)
}

// conformanceHarness is a Wink client against the furnished emulator.
type conformanceHarness struct {
	cloudtest.Faults
	srv    *winktest.Server
	store  *tokenstore.Store
	client *wink.Client
}

const conformanceAccount = "wink"

func newConformanceHarness(t *testing.T) cloudtest.Harness {
	srv := winktest.NewServer(winktest.Options{HoldPoll: time.Second})
	t.Cleanup(srv.Close)
	srv.Furnish()
	store, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, refresh := srv.IssueTokens()
	c, err := wink.New(wink.Config{Account: conformanceAccount, ClientID: "winktest-client", ClientSecret: "winktest-secret",
		RefreshToken: refresh, APIURL: srv.URL, PubNubOrigin: srv.PubNubOrigin, Tokens: store,
		SubscribeTimeout: 5 * time.Second, ResyncInterval: 300 * time.Millisecond, PollInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &conformanceHarness{Faults: cloudtest.Faults{Emulator: srv}, srv: srv, store: store, client: c}
}

// objectRef splits a device id into the emulator's object type and id.
func objectRef(t *testing.T, id string) (typ, oid string) {
	typ, oid, ok := strings.Cut(id, "-")
	if !ok {
		t.Fatalf("device id %q is not <object_type>-<object_id>", id)
	}
	return typ, oid
}

func (h *conformanceHarness) Provider() cloud.Provider { return h.client }

// DeviceIDs are the furnished objects but Wink's built-in and empty
// groups, which the client skips.
func (h *conformanceHarness) DeviceIDs() []string {
	return slices.DeleteFunc(h.srv.DeviceKeys(), func(id string) bool { return id == "group-9004" || id == "group-9005" })
}
func (h *conformanceHarness) UnknownID() string        { return "light_bulb-999999" }
func (h *conformanceHarness) Sensor() (string, string) { return "sensor_pod-198190", cloud.FieldMotion }

func (h *conformanceHarness) Writes() []cloudtest.Write {
	return []cloudtest.Write{
		{Device: "light_bulb-2194253", Field: cloud.FieldOn},
		{Device: "light_bulb-2194253", Field: cloud.FieldBrightness},
		{Device: "fan-27001", Field: cloud.FieldSpeed},
		{Device: "piggy_bank-4410", Field: "nose_color"},
	}
}

func (h *conformanceHarness) ChangeInCloud(t *testing.T, value bool) {
	if err := h.srv.Update("sensor_pod", "198190", map[string]any{"motion": value}); err != nil {
		t.Fatal(err)
	}
}

func (h *conformanceHarness) DropPushes(_ *testing.T, n int) { h.srv.DropPushes(n) }

func (h *conformanceHarness) RejectCredentials(*testing.T) {
	h.srv.RevokeRefreshTokens()
	h.srv.ExpireAccessTokens()
}

// Login stores new tokens as `cloud2mqtt auth login` does.
func (h *conformanceHarness) Login(t *testing.T) {
	access, refresh := h.srv.IssueTokens()
	if err := h.store.Save(conformanceAccount, &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer"}); err != nil {
		t.Fatal(err)
	}
}

func (h *conformanceHarness) Rename(t *testing.T, id, name string) {
	typ, oid := objectRef(t, id)
	if err := h.srv.Rename(typ, oid, name); err != nil {
		t.Fatal(err)
	}
}

func (h *conformanceHarness) Remove(t *testing.T, id string) {
	if typ, oid := objectRef(t, id); !h.srv.RemoveDevice(typ, oid) {
		t.Fatalf("the emulator has no device %s", id)
	}
}
