package web

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// health is the body of /healthz.
type health struct {
	Status   string            `json:"status"` // ok or unhealthy
	Broker   string            `json:"broker"` // connected, disconnected or unknown
	Accounts map[string]string `json:"accounts"`
	Problems []string          `json:"problems,omitempty"`
}

// handleHealth answers 200 while the broker is connected and no account is
// in error, 503 otherwise, with the reasons. It needs no password and
// shows no error text, only statuses.
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	h := health{Status: "ok", Broker: "unknown", Accounts: map[string]string{}}
	if s.o.BrokerConnected != nil {
		if s.o.BrokerConnected() {
			h.Broker = "connected"
		} else {
			h.Broker = "disconnected"
			h.Problems = append(h.Problems, "the MQTT broker is not connected")
		}
	}
	for _, a := range s.o.Source.Accounts() {
		h.Accounts[a.Name] = a.Status
		if a.Status == "error" {
			h.Problems = append(h.Problems, fmt.Sprintf("account %s is in error", a.Name))
		}
	}
	code := http.StatusOK
	if len(h.Problems) > 0 {
		h.Status, code = "unhealthy", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}
