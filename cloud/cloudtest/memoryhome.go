package cloudtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// MemoryHome is the memory cloud's side: its devices, the tokens it
// accepts, the pushes it sends and the faults it can be told to have, as
// an emulator has them.
type MemoryHome struct {
	mu       sync.Mutex
	devices  map[string]cloud.Device
	order    []string
	tokens   map[string]bool
	throttle int
	wait     time.Duration
	fail     int
	status   int
	drop     int
	watchers map[chan cloud.Device]bool
}

// NewMemoryHome returns a home with lamps lamps (off) and a motion sensor.
func NewMemoryHome(lamps int) *MemoryHome {
	h := &MemoryHome{devices: map[string]cloud.Device{}, tokens: map[string]bool{}, watchers: map[chan cloud.Device]bool{}}
	for i := range lamps {
		h.add(cloud.Device{ID: fmt.Sprintf("lamp-%d", i+1), Name: fmt.Sprintf("Lamp %d", i+1), Class: cloud.ClassLight, Type: "lamp",
			Available: true, State: map[string]any{cloud.FieldOn: false, cloud.FieldBrightness: 0.0},
			Fields: []cloud.Field{{Name: cloud.FieldOn, Kind: cloud.KindBool, Writable: true},
				{Name: cloud.FieldBrightness, Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(0), Max: cloud.Range(1)},
				{Name: "effect", Kind: cloud.KindEnum, Writable: true, Choices: []string{"none", "candle"}}}})
	}
	h.add(cloud.Device{ID: "motion-1", Name: "Hall motion", Class: cloud.ClassSensor, Type: "motion", Available: true,
		State: map[string]any{cloud.FieldMotion: false}, Fields: []cloud.Field{{Name: cloud.FieldMotion, Kind: cloud.KindBool}}})
	return h
}

func (h *MemoryHome) add(d cloud.Device) {
	h.devices[d.ID] = d
	h.order = append(h.order, d.ID)
}

// IssueToken returns a new token the home accepts.
func (h *MemoryHome) IssueToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	h.mu.Lock()
	h.tokens[tok] = true
	h.mu.Unlock()
	return tok
}

// RevokeTokens makes every token issued so far rejected.
func (h *MemoryHome) RevokeTokens() {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.tokens)
}

// ThrottleNext makes the next n requests answer 429 with retryAfter.
func (h *MemoryHome) ThrottleNext(n int, retryAfter time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.throttle, h.wait = n, retryAfter
}

// FailNext makes the next n requests answer status.
func (h *MemoryHome) FailNext(n, status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail, h.status = n, status
}

// DropPushes loses the next n pushes.
func (h *MemoryHome) DropPushes(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop = n
}

// Change changes a device in the home, as its app or the device would, and
// pushes it. rename, when not empty, is the device's new name.
func (h *MemoryHome) Change(id, rename string, state map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.devices[id]
	if !ok {
		return
	}
	d = d.Clone()
	if rename != "" {
		d.Name = rename
	}
	for k, v := range state {
		d.State[k] = v
	}
	h.devices[id] = d
	h.pushLocked(d)
}

// Remove removes a device from the home.
func (h *MemoryHome) Remove(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.devices, id)
}

func (h *MemoryHome) pushLocked(d cloud.Device) {
	if h.drop > 0 {
		h.drop--
		return
	}
	for w := range h.watchers {
		select {
		case w <- d.Clone():
		default:
		}
	}
}

// statusError is a refusal with an HTTP status, as a cloud answers.
type statusError struct {
	status int
	wait   time.Duration
}

func (e *statusError) Error() string             { return fmt.Sprintf("memory: HTTP %d", e.status) }
func (e *statusError) HTTPStatus() int           { return e.status }
func (e *statusError) RetryAfter() time.Duration { return e.wait }

// serve runs one request with token: the faults first, then the
// credentials, then do under the home's lock.
func (h *MemoryHome) serve(account, token string, do func() error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.throttle > 0:
		h.throttle--
		return &statusError{status: http.StatusTooManyRequests, wait: h.wait}
	case h.fail > 0:
		if h.fail != math.MaxInt32 {
			h.fail--
		}
		return &statusError{status: h.status}
	case !h.tokens[token]:
		return &cloud.AuthError{Cloud: MemoryCloud, Account: account, Code: "invalid_token", OAuth: true, Reason: "the token was revoked"}
	}
	return do()
}
