package cloudtest_test

import (
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/cloudtest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
)

// The memory cloud, the smallest registered cloud, passes the same suite
// as Wink and Homey.
func TestMemoryCloudConformance(t *testing.T) {
	cloudtest.Run(t, func(t *testing.T) cloudtest.Harness {
		store, err := tokenstore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		home := cloudtest.NewMemoryHome(2)
		return &memoryHarness{Faults: cloudtest.Faults{Emulator: home}, home: home, store: store,
			p: cloudtest.NewMemory("attic", home, home.IssueToken(), store)}
	})
}

type memoryHarness struct {
	cloudtest.Faults
	home  *cloudtest.MemoryHome
	store *tokenstore.Store
	p     *cloudtest.Memory
}

func (h *memoryHarness) Provider() cloud.Provider       { return h.p }
func (h *memoryHarness) DeviceIDs() []string            { return []string{"lamp-1", "lamp-2", "motion-1"} }
func (h *memoryHarness) UnknownID() string              { return "lamp-99" }
func (h *memoryHarness) Sensor() (string, string)       { return "motion-1", cloud.FieldMotion }
func (h *memoryHarness) DropPushes(_ *testing.T, n int) { h.home.DropPushes(n) }
func (h *memoryHarness) RejectCredentials(*testing.T)   { h.home.RevokeTokens() }
func (h *memoryHarness) Remove(_ *testing.T, id string) { h.home.Remove(id) }

func (h *memoryHarness) Writes() []cloudtest.Write {
	return []cloudtest.Write{{Device: "lamp-1", Field: cloud.FieldOn}, {Device: "lamp-1", Field: cloud.FieldBrightness},
		{Device: "lamp-2", Field: "effect"}}
}

func (h *memoryHarness) ChangeInCloud(_ *testing.T, value bool) {
	h.home.Change("motion-1", "", map[string]any{cloud.FieldMotion: value})
}

func (h *memoryHarness) Rename(_ *testing.T, id, name string) { h.home.Change(id, name, nil) }

func (h *memoryHarness) Login(t *testing.T) {
	tok := &oauth2.Token{AccessToken: h.home.IssueToken(), Expiry: time.Now().Add(time.Hour)}
	if err := h.store.Save("attic", tok); err != nil {
		t.Fatal(err)
	}
}
