package winktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freshListing is GET /users/me/{list} as the emulator answered before it
// kept encoded devices: the listed objects copied and the whole envelope
// encoded by json.Marshal.
func freshListing(t *testing.T, s *Server, list string) []byte {
	t.Helper()
	s.mu.Lock()
	var body map[string]any
	if list == "wink_devices" {
		l := s.deviceListLocked()
		body = envelope(l, map[string]any{"count": len(l)})
		body["subscription"] = s.userSubscription()
	} else {
		want := strings.TrimSuffix(list, "s")
		l := s.listLocked(func(objectType string) bool { return objectType == want })
		body = envelope(l, map[string]any{"count": len(l)})
	}
	s.mu.Unlock()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkListings compares every listing the REST API answers with a fresh
// encoding, byte for byte.
func checkListings(t *testing.T, s *Server, access, after string) {
	t.Helper()
	for _, list := range []string{"wink_devices", "groups", "scenes", "robots"} {
		a := call(t, "GET", s.URL+"/users/me/"+list, access, nil)
		if a.status != http.StatusOK {
			t.Fatalf("after %s: /users/me/%s: %d %s", after, list, a.status, a.raw)
		}
		if want := freshListing(t, s, list); !bytes.Equal(a.raw, want) {
			i := 0
			for i < len(a.raw) && i < len(want) && a.raw[i] == want[i] {
				i++
			}
			from := max(0, i-100)
			t.Errorf("after %s: /users/me/%s differs from a fresh encoding at byte %d:\n got …%.200s\nwant …%.200s",
				after, list, i, a.raw[from:], want[from:])
		}
		if got := a.header.Get("Content-Length"); got != "" && got != strconv.Itoa(len(a.raw)) {
			t.Errorf("after %s: /users/me/%s: Content-Length %s for %d bytes", after, list, got, len(a.raw))
		}
	}
}

// waitReading waits until the device's last_reading[field] is want.
func waitReading(t *testing.T, s *Server, typ, id, field string, want any) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		d, _ := s.Device(typ, id)
		if reading(d)[field] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s-%s: last_reading %s never became %v", typ, id, field, want)
		}
		<-time.After(5 * time.Millisecond)
	}
}

func TestListingsStayTheSameAsAFreshEncodingThroughEveryChange(t *testing.T) {
	// Changes apply late enough to be listed while pending.
	s := newTestServer(t, Options{ApplyDelay: 300 * time.Millisecond})
	s.Furnish()
	access, _ := s.IssueTokens()
	checkListings(t, s, access, "furnishing")
	checkListings(t, s, access, "a listing") // now from the kept encodings

	if err := s.Update("sensor_pod", "198190", map[string]any{"temperature": 27.5}); err != nil {
		t.Fatal(err)
	}
	checkListings(t, s, access, "an update")
	if err := s.Rename("light_bulb", "2194253", "Reading lamp"); err != nil {
		t.Fatal(err)
	}
	checkListings(t, s, access, "a rename")

	a := call(t, "PUT", s.URL+"/light_bulbs/2194260/desired_state", access, map[string]any{"desired_state": map[string]any{"powered": true, "brightness": 0.4}})
	if a.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", a.status, a.raw)
	}
	checkListings(t, s, access, "a desired_state PUT")
	waitReading(t, s, "light_bulb", "2194260", "brightness", 0.4)
	checkListings(t, s, access, "the PUT applied")

	a = call(t, "PUT", s.URL+"/powerstrips/24313", access, map[string]any{"outlets": []any{map[string]any{}, map[string]any{"desired_state": map[string]any{"powered": true}}}})
	if a.status != http.StatusOK {
		t.Fatalf("PUT outlets: %d %s", a.status, a.raw)
	}
	checkListings(t, s, access, "an outlet PUT")
	a = call(t, "PUT", s.URL+"/light_bulbs/2194270", access, map[string]any{"name": "Porch"})
	if a.status != http.StatusOK {
		t.Fatalf("PUT name: %d %s", a.status, a.raw)
	}
	checkListings(t, s, access, "a name PUT")

	if a := call(t, "POST", s.URL+"/cloud_clocks/2240/alarms", access, map[string]any{"name": "Tea", "next_at": 1924990500.0}); a.status != http.StatusCreated {
		t.Fatalf("alarm: %d %s", a.status, a.raw)
	}
	checkListings(t, s, access, "a new alarm")
	if a := call(t, "POST", s.URL+"/groups/9001/activate", access, map[string]any{"desired_state": map[string]any{"powered": false}}); a.status != http.StatusOK {
		t.Fatalf("group activate: %d %s", a.status, a.raw)
	}
	checkListings(t, s, access, "a group activation")

	key := s.AddDevice(map[string]any{"object_type": "binary_switch", "name": "New switch", "last_reading": map[string]any{"powered": false}})
	checkListings(t, s, access, "an added device")
	typ, id := splitKey(key)
	if !s.RemoveDevice(typ, id) {
		t.Fatalf("remove %s", key)
	}
	checkListings(t, s, access, "a removed device")
}
