// Package cloudtest is the conformance suite every cloud.Provider passes
// against its cloud's emulator: listing and reading devices, setting each
// writable kind of field, pushes and the resync that repairs a lost one,
// rejected credentials and a new login, unknown ids, throttling and server
// errors, renames, removals and a cloud that stops answering.
//
// A cloud package runs it from a test with a Harness of its own:
//
//	func TestConformance(t *testing.T) {
//		cloudtest.Run(t, func(t *testing.T) cloudtest.Harness { return newHarness(t) })
//	}
package cloudtest

import (
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// Harness is one provider against a freshly furnished emulator, made for
// one scenario. The methods that change the cloud act as the cloud's own
// app, its devices or its failures would; they fail t when the emulator
// refuses. A method may call t.Skip when its cloud cannot do what it asks.
type Harness interface {
	// Provider is the provider, logged in to the emulator, with resync and
	// poll intervals well under a second.
	Provider() cloud.Provider
	// DeviceIDs are the ids of the devices the emulator was furnished with.
	DeviceIDs() []string
	// Writes names device fields the suite may set to any valid value: one
	// at least for each kind of writable field the devices have.
	Writes() []Write
	// UnknownID is an id of the provider's form that the cloud does not
	// know.
	UnknownID() string

	// Sensor names a device and one of its boolean fields that
	// ChangeInCloud sets; it is false at the start.
	Sensor() (id, field string)
	// ChangeInCloud sets the Sensor field to value in the cloud, as the
	// device would; the cloud pushes the change.
	ChangeInCloud(t *testing.T, value bool)
	// DropPushes makes the cloud lose its next n pushes.
	DropPushes(t *testing.T, n int)

	// RejectCredentials makes the cloud reject the provider's current
	// credentials, for good (as revoking the app's access would).
	RejectCredentials(t *testing.T)
	// Login hands the provider new credentials the way a new login does
	// (for example a new token in its token store), without a new
	// provider.
	Login(t *testing.T)

	// Throttle makes the next n requests answer 429 Too Many Requests
	// with a Retry-After of retryAfter.
	Throttle(t *testing.T, n int, retryAfter time.Duration)
	// FailNext makes the next n requests answer status (a 5xx).
	FailNext(t *testing.T, n, status int)
	// StopAnswering makes the cloud fail every request until Answer.
	StopAnswering(t *testing.T)
	// Answer ends StopAnswering.
	Answer(t *testing.T)

	// Rename renames a device in the cloud's app.
	Rename(t *testing.T, id, name string)
	// Remove removes a device from the account.
	Remove(t *testing.T, id string)
}

// Write names a writable field of a device.
type Write struct {
	Device string // device id
	Field  string // field name
}

// wait bounds every wait of the suite for the provider or the emulator.
const wait = 10 * time.Second

// Run runs every scenario, each in parallel with the others and against a
// harness of its own from start.
func Run(t *testing.T, start func(t *testing.T) Harness) {
	scenarios := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"List", testList},
		{"Get", testGet},
		{"SetEachKind", testSetEachKind},
		{"PushReachesWatch", testPush},
		{"ResyncAfterLostPush", testResyncAfterLostPush},
		{"CredentialsRejectedThenNewLogin", testCredentials},
		{"UnknownID", testUnknownID},
		{"ThrottledThenServed", testThrottled},
		{"ServerErrorsThenServed", testServerErrors},
		{"Rename", testRename},
		{"Remove", testRemove},
		{"CloudStopsAnswering", testOutage},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(t, start(t))
		})
	}
}

// Faulty is an emulator with the usual fault knobs, as the winktest and
// homeytest servers have them.
type Faulty interface {
	ThrottleNext(n int, retryAfter time.Duration)
	FailNext(n, status int)
}

// Faults implements Harness's Throttle, FailNext, StopAnswering and Answer
// over a Faulty emulator; a harness embeds it.
type Faults struct{ Emulator Faulty }

// Throttle implements Harness.
func (f Faults) Throttle(_ *testing.T, n int, retryAfter time.Duration) {
	f.Emulator.ThrottleNext(n, retryAfter)
}

// FailNext implements Harness.
func (f Faults) FailNext(_ *testing.T, n, status int) { f.Emulator.FailNext(n, status) }

// StopAnswering implements Harness: every request answers 503.
func (f Faults) StopAnswering(*testing.T) { f.Emulator.FailNext(math.MaxInt32, 503) }

// Answer implements Harness.
func (f Faults) Answer(*testing.T) { f.Emulator.FailNext(0, 0) }

// NotFound is an http.RoundTripper that answers every request 404 at once,
// with no network: for tests (fuzzing a client's handling of pushes, say)
// in which a cloud call must fail without delay.
type NotFound struct{}

// RoundTrip implements http.RoundTripper.
func (NotFound) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusNotFound, Status: "404 Not Found",
		Body: io.NopCloser(strings.NewReader(`{"error":"not found","errors":["not found"]}`)), Header: http.Header{}, Request: r}, nil
}

// Authorize opens an emulator's authorization page as a browser would and
// returns the code its redirect carries.
func Authorize(t *testing.T, authURL string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("the authorization page answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}
