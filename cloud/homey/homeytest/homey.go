package homeytest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// session is a Homey session token bought with a delegation JWT.
type session struct {
	id      string
	userID  string
	created time.Time
	expires time.Time
}

// apiKey is a Homey Pro local API key.
type apiKey struct {
	id     string
	name   string
	scopes []string
}

// principal is whoever a bearer token stands for.
type principal struct {
	kind   string // "session" or "apikey"
	id     string
	userID string
	scopes []string
	expiry time.Time
}

// hasScope reports whether any granted scope covers required, by prefix
// on dot boundaries as the Homey matches them: "homey.device" covers
// "homey.device.readonly".
func hasScope(granted []string, required string) bool {
	for _, g := range granted {
		if g == required || strings.HasPrefix(required, g+".") {
			return true
		}
	}
	return false
}

// homeyError answers in the Homey's error shape {"error",
// "error_description", "statusCode"}.
func homeyError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, errorBody(status, code, desc))
}

func errorBody(status int, code, desc string) map[string]any {
	b := map[string]any{"error": code, "statusCode": status}
	if desc != "" {
		b["error_description"] = desc
	}
	return b
}

// NewAPIKey creates a Homey Pro local API key with the scopes (for
// example "homey.device.readonly", or "homey" for everything) and returns
// it. Keys look like "<uuid>:<uuid>:<40 hex digits>".
func (s *Server) NewAPIKey(scopes ...string) string {
	id := newUUID()
	key := id + ":" + newUUID() + ":" + randomHex(20)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKeys[key] = &apiKey{id: id, name: "homeytest key", scopes: append([]string(nil), scopes...)}
	return key
}

// NewSession creates a Homey session token directly, as a login with a
// delegation JWT would.
func (s *Server) NewSession() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newSessionLocked(s.UserID)
}

func (s *Server) newSessionLocked(userID string) string {
	tok := randomHex(32)
	now := time.Now()
	s.sessions[tok] = &session{id: newUUID(), userID: userID, created: now, expires: now.Add(s.opts.SessionTTL)}
	return tok
}

// ExpireSessions makes every Homey session token issued so far answer 401.
// API keys are not affected.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, se := range s.sessions {
		se.expires = past
	}
}

// authenticate resolves a bearer token. On failure it returns the status
// and error body to answer.
func (s *Server) authenticate(tok string) (principal, int, map[string]any) {
	if tok == "" {
		return principal{}, http.StatusUnauthorized, errorBody(http.StatusUnauthorized, "not_logged_in", "You need to log in to access this resource")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if se, ok := s.sessions[tok]; ok {
		if time.Now().After(se.expires) {
			return principal{}, http.StatusUnauthorized, errorBody(http.StatusUnauthorized, "invalid_token", "The session has expired; log in again")
		}
		// Session tokens carry the OAuth scope "homey", which grants all.
		return principal{kind: "session", id: se.id, userID: se.userID, scopes: []string{"homey"}, expiry: se.expires}, 0, nil
	}
	if k, ok := s.apiKeys[tok]; ok {
		return principal{kind: "apikey", id: k.id, userID: s.UserID, scopes: k.scopes}, 0, nil
	}
	return principal{}, http.StatusUnauthorized, errorBody(http.StatusUnauthorized, "invalid_token", "The token is invalid")
}

// missingScope is the 403 body for a token lacking scope. The exact body
// a Homey sends is not documented; this shape is an assumption.
func missingScope(scope string) map[string]any {
	return errorBody(http.StatusForbidden, "Missing Scopes", "Missing scope: "+scope)
}

// homeyHandler serves the Homey; requests are logged under host.
func (s *Server) homeyHandler(host string) http.Handler {
	mux := http.NewServeMux()
	s.routeOperations(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		homeyError(w, http.StatusNotFound, "Not Found", fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(host, r)
		s.log.Debug("homeytest: homey request", "method", r.Method, "path", r.URL.Path)
		if r.URL.Path == "/socket.io/" || r.URL.Path == "/socket.io" {
			s.hub.serve(w, r)
			return
		}
		if !s.delay(r) || s.throttled(w) {
			return
		}
		if fail := s.injectedFailure(); fail != 0 {
			homeyError(w, fail, http.StatusText(fail), "injected failure")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// setFromAPI validates and applies a capability write from a client. A
// non-zero status is the failure to answer.
func (s *Server) setFromAPI(id, capability string, value any, txID string) (int, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return http.StatusNotFound, "device_not_found", fmt.Sprintf("Device not found: %s", id)
	}
	o := asMap(asMap(d["capabilitiesObj"])[capability])
	if o == nil {
		return http.StatusNotFound, "capability_not_found", fmt.Sprintf("Capability not found: %s", capability)
	}
	// How a Homey answers a write to an unavailable device is not
	// documented; 400 with the unavailable message is an assumption.
	if d["available"] == false {
		msg, _ := d["unavailableMessage"].(string)
		return http.StatusBadRequest, "device_unavailable", "Device is unavailable: " + msg
	}
	if msg := checkValue(capability, o, value, true); msg != "" {
		return http.StatusBadRequest, "invalid_value", msg
	}
	s.applyLocked(id, capability, value, txID)
	return 0, "", ""
}

// injectedFailure consumes one FailNext failure and returns its status, 0
// when none is pending.
func (s *Server) injectedFailure() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN <= 0 {
		return 0
	}
	s.failN--
	return s.failStatus
}
