package winktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// throttleBody is the error Wink answered with HTTP 429.
const throttleBody = "You have been throttled. Please try again later."

// rateLimit is the X-RateLimit-Limit Wink reported.
const rateLimit = 50

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "winktest: encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, b)
}

// writeRaw answers with b, JSON already encoded.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// The answer is written in one piece: say its length, rather than
	// let net/http chunk an answer over 2 KB.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// envelope wraps data in Wink's answer shape.
func envelope(data any, pagination map[string]any) map[string]any {
	if pagination == nil {
		pagination = map[string]any{}
	}
	return map[string]any{"data": data, "errors": []string{}, "pagination": pagination}
}

// writeError answers status with data null and one error string.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"data": nil, "errors": []string{msg}, "pagination": map[string]any{}})
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

func (s *Server) restHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", s.handleToken)
	mux.HandleFunc("GET /oauth2/authorize", s.handleAuthorize)
	mux.HandleFunc("POST "+VerifyPath, s.handleVerify)
	mux.HandleFunc("POST "+TokenServicePath, s.handleTokenService)
	mux.HandleFunc("GET /users/me", s.authed(s.handleMe))
	mux.HandleFunc("GET /users/me/wink_devices", s.authed(s.handleListDevices))
	mux.HandleFunc("GET /users/me/{list}", s.authed(s.handleEmptyList))
	mux.HandleFunc("POST /users/me/session", s.authed(s.handleSession))
	mux.HandleFunc("POST /groups/{id}/activate", s.authed(s.activate("group")))
	mux.HandleFunc("POST /scenes/{id}/activate", s.authed(s.activate("scene")))
	mux.HandleFunc("POST /hubs/{id}/update_firmware", s.authed(s.handleUpdateFirmware))
	mux.HandleFunc("POST /locks/{id}/keys", s.authed(s.handleNewKey))
	mux.HandleFunc("POST /cloud_clocks/{id}/alarms", s.authed(s.handleNewAlarm))
	mux.HandleFunc("POST /piggy_banks/{id}/deposits", s.authed(s.handleDeposit))
	mux.HandleFunc("GET /{plural}/{id}", s.authed(s.handleGetDevice))
	mux.HandleFunc("PUT /{plural}/{id}", s.authed(s.handlePutDevice))
	mux.HandleFunc("PUT /{plural}/{id}/desired_state", s.authed(s.handlePutDesiredState))
	mux.HandleFunc("DELETE /{plural}/{id}", s.authed(s.handleDeleteDevice))
	mux.HandleFunc("/", s.authed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: %s %s", r.Method, r.URL.Path))
	}))
	return s.faults(mux)
}

// faults records the request and applies latency, throttling and injected
// failures before the real handler runs.
func (s *Server) faults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		s.log.Debug("winktest: request", "method", r.Method, "path", r.URL.Path, "user_agent", r.UserAgent())

		s.mu.Lock()
		latency := s.latency
		throttled, retryAfter := false, time.Duration(0)
		if s.throttleN > 0 {
			s.throttleN--
			throttled, retryAfter = true, s.throttleFor
		}
		failStatus := 0
		if !throttled && s.failN > 0 {
			s.failN--
			failStatus = s.failStatus
		}
		s.mu.Unlock()

		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.done:
				t.Stop()
				return
			}
		}
		if throttled {
			secs := int(math.Ceil(retryAfter.Seconds()))
			h := w.Header()
			h.Set("Retry-After", strconv.Itoa(secs))
			h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimit))
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", time.Now().Add(retryAfter).UTC().Format(time.RFC3339))
			writeError(w, http.StatusTooManyRequests, throttleBody)
			return
		}
		if failStatus != 0 {
			writeError(w, failStatus, fmt.Sprintf("%d %s", failStatus, http.StatusText(failStatus)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authed requires a valid bearer access token.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			token, ok = strings.CutPrefix(auth, "bearer ")
		}
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wink"`)
			writeError(w, http.StatusUnauthorized, "unauthorized: send an Authorization: Bearer <access_token> header")
			return
		}
		if !s.validAccess(token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wink", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized: the access token is invalid or expired; refresh it")
			return
		}
		h(w, r)
	}
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if appLike(r.Header.Get("User-Agent")) {
		s.mu.Lock()
		s.lastAppCall = now
		s.mu.Unlock()
	}
	user := map[string]any{
		"object_type":   "user",
		"object_id":     s.UserID,
		"user_id":       s.UserID,
		"uuid":          "5a0c1b7e-8d2f-4c3a-9b6e-" + fmt.Sprintf("%012s", s.UserID),
		"first_name":    "Demo",
		"last_name":     "User",
		"email":         s.opts.Email,
		"locale":        "en_us",
		"units":         map[string]any{},
		"tos_accepted":  true,
		"confirmed":     true,
		"created_at":    now.Add(-400 * 24 * time.Hour).Unix(),
		"desired_state": map[string]any{},
		"last_reading":  map[string]any{},
		"subscription":  s.userSubscription(),
	}
	writeJSON(w, http.StatusOK, envelope(user, nil))
}

func (s *Server) userSubscription() map[string]any {
	return s.subscriptionFor(s.userChannel)
}

func (s *Server) handleListDevices(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	list, n, err := s.listJSONLocked(func(objectType string) bool { return !ownList[objectType] })
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeList(w, list, n, s.userSubscription())
}

// writeList answers a listing: the envelope around list (a JSON array of
// n objects, as kept), with the subscription block when not nil; the
// bytes json.Marshal gives for the envelope of the decoded list.
func writeList(w http.ResponseWriter, list []byte, n int, subscription map[string]any) {
	var b bytes.Buffer
	b.Grow(len(list) + 256)
	b.WriteString(`{"data":`)
	b.Write(list)
	b.WriteString(`,"errors":[],"pagination":{"count":`)
	b.WriteString(strconv.Itoa(n))
	b.WriteString(`}`)
	if subscription != nil {
		sub, err := json.Marshal(subscription)
		if err != nil {
			http.Error(w, "winktest: encode answer: "+err.Error(), http.StatusInternalServerError)
			return
		}
		b.WriteString(`,"subscription":`)
		b.Write(sub)
	}
	b.WriteString(`}`)
	writeRaw(w, http.StatusOK, b.Bytes())
}

func (s *Server) handleEmptyList(w http.ResponseWriter, r *http.Request) {
	switch l := r.PathValue("list"); l {
	case "groups", "scenes", "robots":
		want := strings.TrimSuffix(l, "s")
		s.mu.Lock()
		list, n, err := s.listJSONLocked(func(objectType string) bool { return objectType == want })
		s.mu.Unlock()
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeList(w, list, n, nil)
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: %s %s", r.Method, r.URL.Path))
	}
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, envelope(map[string]any{"user_id": s.UserID}, nil))
}

func (s *Server) handleGetDevice(w http.ResponseWriter, r *http.Request) {
	objType, ok := singular(r.PathValue("plural"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: unknown resource %q", r.PathValue("plural")))
		return
	}
	obj, ok := s.Device(objType, r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no %s with id %q", objType, r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, envelope(obj, nil))
}

func (s *Server) handleDeleteDevice(w http.ResponseWriter, r *http.Request) {
	objType, ok := singular(r.PathValue("plural"))
	if !ok || !s.RemoveDevice(objType, r.PathValue("id")) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no %s with id %q", objType, r.PathValue("id")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handlePutDevice(w http.ResponseWriter, r *http.Request) {
	s.put(w, r, false)
}

func (s *Server) handlePutDesiredState(w http.ResponseWriter, r *http.Request) {
	s.put(w, r, true)
}

func (s *Server) put(w http.ResponseWriter, r *http.Request, desiredOnly bool) {
	objType, ok := singular(r.PathValue("plural"))
	id := r.PathValue("id")
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: unknown resource %q", r.PathValue("plural")))
		return
	}
	if _, ok := s.Device(objType, id); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: no %s with id %q", objType, id))
		return
	}
	raw, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "could not read the request body")
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil || body == nil {
		writeError(w, http.StatusBadRequest, "request body must be a JSON object")
		return
	}
	obj, status, msg := s.applyPut(objType, id, body, desiredOnly)
	if status != http.StatusOK {
		writeError(w, status, msg)
		return
	}
	writeJSON(w, http.StatusOK, envelope(obj, nil))
}
