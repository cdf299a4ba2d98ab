package bridge_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// accountStatus reports whether a bridge/info message shows the account
// with the status.
func accountStatus(m mqtt.Message, topic, account, status string) bool {
	if m.Topic != topic {
		return false
	}
	var info struct {
		Accounts []struct{ Name, Status string }
	}
	if json.Unmarshal(m.Payload, &info) != nil {
		return false
	}
	for _, a := range info.Accounts {
		if a.Name == account && a.Status == status {
			return true
		}
	}
	return false
}

func TestRejectedCredentialsStopOneAccountUntilANewLogin(t *testing.T) {
	store, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := newBaseHarness(t)
	var servers []*winktest.Server
	var clients []*wink.Client
	for _, name := range []string{"upstairs", "downstairs"} {
		srv := furnishedWink(t)
		c := newWinkClient(t, srv, name, func(c *wink.Config) {
			c.Tokens, c.ResyncInterval, c.PollInterval = store, 300*time.Millisecond, 200*time.Millisecond
		})
		servers, clients = append(servers, srv), append(clients, c)
	}
	h.start(t, clients[0], clients[1])
	h.state(t, "upstairs/porch_light", nil)

	// The upstairs grant is revoked (the user removed the app's access).
	servers[0].RevokeRefreshTokens()
	servers[0].ExpireAccessTokens()
	info := h.topics.BridgeInfo()
	h.rec.Wait(t, wait, func(m mqtt.Message) bool { return accountStatus(m, info, "upstairs", "auth_required") })
	h.events.Wait(t, wait, func(m mqtt.Message) bool {
		return strings.Contains(string(m.Payload), `"account_status"`) && strings.Contains(string(m.Payload), `"auth_required"`) &&
			strings.Contains(string(m.Payload), "auth login upstairs")
	})
	upstairs := h.topics.Base + "/upstairs/porch_light"
	h.rec.Wait(t, wait, availabilitySequence(upstairs, "online", "offline"))

	// The other account goes on working.
	h.publish(t, "downstairs/porch_light/set", "ON")
	h.state(t, "downstairs/porch_light", func(s map[string]any) bool { return s["state"] == "ON" })
	if m, _ := h.rec.Last(h.topics.Base + "/downstairs/porch_light"); availabilityIn(m.Payload) != "online" {
		t.Errorf("downstairs state = %s, want availability online", m.Payload)
	}

	// A new login (as `cloud2mqtt auth login upstairs` would store it) is
	// picked up without a restart.
	access, refresh := servers[0].IssueTokens()
	if err := store.Save("upstairs", &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer"}); err != nil {
		t.Fatal(err)
	}
	h.rec.Wait(t, wait, func(m mqtt.Message) bool { return accountStatus(m, info, "upstairs", "connected") })
	h.rec.Wait(t, wait, availabilitySequence(upstairs, "online", "offline", "online"))
	h.publish(t, "upstairs/porch_light/set", "ON")
	h.state(t, "upstairs/porch_light", func(s map[string]any) bool { return s["state"] == "ON" })
}

func TestCloudOutageMarksTheAccountInErrorAndRecovers(t *testing.T) {
	srv := furnishedWink(t)
	c := newWinkClient(t, srv, "wink", func(c *wink.Config) {
		c.ResyncInterval, c.PollInterval = 200*time.Millisecond, 200*time.Millisecond
	})
	h := newBaseHarness(t)
	h.start(t, c)
	h.state(t, "wink/porch_light", nil)

	srv.FailNext(40, 503) // the cloud is down for a while, then back
	info := h.topics.BridgeInfo()
	h.rec.Wait(t, wait, func(m mqtt.Message) bool { return accountStatus(m, info, "wink", "error") })
	porch := h.topics.Base + "/wink/porch_light"
	h.rec.Wait(t, wait, availabilitySequence(porch, "online", "offline"))
	h.rec.Wait(t, wait, nth(2, func(m mqtt.Message) bool { return accountStatus(m, info, "wink", "connected") }))
	h.rec.Wait(t, wait, availabilitySequence(porch, "online", "offline", "online"))
	if n := count(h.rec, func(m mqtt.Message) bool { return m.Topic == porch+"/availability" }); n != 0 {
		t.Errorf("%d messages on %s/availability; availability: state publishes none", n, porch)
	}
}
