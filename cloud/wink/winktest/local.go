package winktest

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// A hub's local API, as the Wink Hub and Hub 2 served it on the LAN at
// https://<ip_address>:8888 with a self-signed certificate: PUT
// /{plural}/{local_id} {"desired_state": …} with a local_control bearer
// token applies the change at once and answers {"data":{"last_reading":…}}.
// The token comes from the refresh grant with scope local_control and the
// hub's local_control_id; that grant does not rotate the refresh token.

// localAPI is the emulated local API of the furnished hub.
type localAPI struct {
	once   sync.Once
	srv    *httptest.Server
	tokens map[string]string // local token → hub device key (under Server.mu)
	down   bool              // the API drops connections (under Server.mu)
}

// HubLocalURL starts (once) and returns the furnished hub's local API on
// loopback TLS, "https://127.0.0.1:PORT"; the hub's certificate is
// self-signed, as a real hub's is. After Close it is "".
func (s *Server) HubLocalURL() string {
	s.startLocal()
	if s.local.srv == nil {
		return ""
	}
	return s.local.srv.URL
}

// HubCertificate is the local API's self-signed certificate (starting the
// API), for a client that pins it; nil after Close.
func (s *Server) HubCertificate() *x509.Certificate {
	s.startLocal()
	if s.local.srv == nil {
		return nil
	}
	return s.local.srv.Certificate()
}

func (s *Server) startLocal() {
	s.local.once.Do(func() {
		select {
		case <-s.done:
			return // closed: no local API any more
		default:
		}
		s.local.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.handleLocal))
		s.local.srv.Config.ReadHeaderTimeout = 10 * time.Second
		s.local.srv.StartTLS()
	})
}

// closeLocal stops the local API if it was started (and keeps it from
// starting later).
func (s *Server) closeLocal() {
	s.local.once.Do(func() {})
	if s.local.srv != nil {
		s.local.srv.Close()
	}
}

// localGrantLocked issues a local_control token for the hub whose
// local_control_id is id; ok is false when no hub has it. s.mu must be held.
func (s *Server) localGrantLocked(id string) (token string, ok bool) {
	for key, d := range s.devices {
		if str(d.obj["object_type"]) == "hub" && id != "" && str(reading(d.obj)["local_control_id"]) == id {
			if s.local.tokens == nil {
				s.local.tokens = map[string]string{}
			}
			token = randomHex(16)
			s.local.tokens[token] = key
			return token, true
		}
	}
	return "", false
}

// SetHubLocalDown makes the hub's local API stop answering (connections
// are dropped) or answer again.
func (s *Server) SetHubLocalDown(down bool) {
	s.mu.Lock()
	s.local.down = down
	s.mu.Unlock()
}

func (s *Server) handleLocal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.local.down
	s.mu.Unlock()
	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		writeError(w, http.StatusServiceUnavailable, "the hub does not answer")
		return
	}
	s.record(r)
	if r.Method != http.MethodPut {
		writeError(w, http.StatusMethodNotAllowed, "the local API takes PUT /{plural}/{local_id}")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 2 {
		writeError(w, http.StatusNotFound, "not found: "+r.URL.Path)
		return
	}
	localID := parts[1] // the type in the path is not checked, as on the hub
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	raw, err := readBody(r)
	var body map[string]any
	if err != nil || json.Unmarshal(raw, &body) != nil {
		writeError(w, http.StatusBadRequest, "request body must be a JSON object")
		return
	}
	ds, ok := body["desired_state"].(map[string]any)
	if !ok {
		writeError(w, http.StatusBadRequest, "missing desired_state hash")
		return
	}
	s.mu.Lock()
	hubKey, authorized := s.local.tokens[tok]
	var key string
	var dev *device
	if authorized {
		_, hubID := splitKey(hubKey)
		for k, d := range s.devices {
			if str(d.obj["hub_id"]) == hubID && str(d.obj["local_id"]) == localID {
				key, dev = k, d
				break
			}
		}
	}
	if !authorized {
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "unauthorized: a local_control token of this hub is needed")
		return
	}
	if dev == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no device with local_id %q on this hub", localID))
		return
	}
	if msg := validateDesired(dev.obj, ds); msg != "" {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	dev.changedLocked()
	lr := subMap(dev.obj, "last_reading")
	now := stamp(time.Now())
	for k, v := range ds {
		lr[k] = v
		lr[k+"_updated_at"], lr[k+"_changed_at"] = now, now
	}
	out := map[string]any{"last_reading": deepCopy(lr)}
	s.pushDeviceLocked(key, dev) // the cloud learns it and pushes, as with a real hub
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, envelope(out, nil))
}
