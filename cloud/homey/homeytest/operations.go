package homeytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Manager URIs of the operations the emulator serves (besides DevicesURI
// and ZonesURI).
const (
	SystemURI   = "homey:manager:system"
	UsersURI    = "homey:manager:users"
	SessionsURI = "homey:manager:sessions"
)

// opError is a failed operation: the status and the Homey error body.
type opError struct {
	status     int
	code, desc string
}

func (e *opError) body() map[string]any { return errorBody(e.status, e.code, e.desc) }

func failOp(status int, code, desc string) *opError {
	return &opError{status: status, code: code, desc: desc}
}

// noBody is the result of an operation that answers HTTP with an empty
// 200 and the socket with null.
type noBody struct{}

// operation is one Web API operation. HTTP and the socket's "api" RPC both
// serve it through handle: HTTP gathers args from the path parameters
// (named as in the spec), the query and the JSON body; the RPC takes them
// from the call's args.
type operation struct {
	id     string // the spec's operationId, the RPC's "operation"
	uri    string // the manager URI, the RPC's "uri"
	method string
	path   string // under /api/manager, with {name} parameters
	scope  string // required scope; "" none
	// public operations need no token over HTTP (ping, login).
	public bool
	handle func(p principal, args map[string]any) (any, *opError)
}

// operations is every operation the emulator serves.
func (s *Server) operations() []operation {
	return []operation{
		{id: "ping", uri: SystemURI, method: http.MethodGet, path: "/system/ping", public: true, handle: s.opPing},
		{id: "getInfo", uri: SystemURI, method: http.MethodGet, path: "/system/", scope: "homey.system.readonly", handle: s.opSystem},
		{id: "login", uri: UsersURI, method: http.MethodPost, path: "/users/login", public: true, handle: s.opLogin},
		{id: "getSessionMe", uri: SessionsURI, method: http.MethodGet, path: "/sessions/session/me", handle: s.opSessionMe},
		{id: "getDevices", uri: DevicesURI, method: http.MethodGet, path: "/devices/device/", scope: "homey.device.readonly", handle: s.opDevices},
		{id: "getDevice", uri: DevicesURI, method: http.MethodGet, path: "/devices/device/{id}", scope: "homey.device.readonly", handle: s.opDevice},
		{id: "getCapabilityValue", uri: DevicesURI, method: http.MethodGet, path: "/devices/device/{deviceId}/capability/{capabilityId}",
			scope: "homey.device.readonly", handle: s.opGetCapability},
		{id: "setCapabilityValue", uri: DevicesURI, method: http.MethodPut, path: "/devices/device/{deviceId}/capability/{capabilityId}",
			scope: "homey.device.control", handle: s.opSetCapability},
		{id: "getZones", uri: ZonesURI, method: http.MethodGet, path: "/zones/zone/", scope: "homey.zone.readonly", handle: s.opZones},
		{id: "getZone", uri: ZonesURI, method: http.MethodGet, path: "/zones/zone/{id}", scope: "homey.zone.readonly", handle: s.opZone},
	}
}

// OperationIDs lists the operations the emulator serves as "uri operation"
// pairs, over HTTP and the socket alike.
func (s *Server) OperationIDs() []string {
	var out []string
	for _, op := range s.operations() {
		out = append(out, op.uri+" "+op.id)
	}
	return out
}

// routeOperations registers every operation on mux. A path ending in "/"
// is served with and without it.
func (s *Server) routeOperations(mux *http.ServeMux) {
	for _, op := range s.operations() {
		h := s.httpOperation(op)
		p := "/api/manager" + op.path
		if strings.HasSuffix(p, "/") {
			mux.HandleFunc(op.method+" "+p+"{$}", h)
			mux.HandleFunc(op.method+" "+strings.TrimSuffix(p, "/"), h)
			continue
		}
		mux.HandleFunc(op.method+" "+p, h)
	}
}

// pathParams are the {name} parameters of a path pattern.
func pathParams(path string) []string {
	var names []string
	for _, part := range strings.Split(path, "/") {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			names = append(names, strings.Trim(part, "{}"))
		}
	}
	return names
}

// httpOperation serves op over HTTP.
func (s *Server) httpOperation(op operation) http.HandlerFunc {
	params := pathParams(op.path)
	return func(w http.ResponseWriter, r *http.Request) {
		var p principal
		if !op.public {
			var status int
			var body map[string]any
			if p, status, body = s.authenticate(bearer(r)); status != 0 {
				writeJSON(w, status, body)
				return
			}
		}
		args := map[string]any{}
		for k, v := range r.URL.Query() {
			args[k] = v[0]
		}
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil || body == nil {
				homeyError(w, http.StatusBadRequest, "invalid_request", `the body must be a JSON object`)
				return
			}
			for k, v := range body {
				args[k] = v
			}
		}
		for _, name := range params {
			args[name] = r.PathValue(name)
		}
		out, fail := s.runOperation(op, p, args)
		if op.id == "ping" {
			w.Header().Set("X-Homey-ID", s.HomeyID)
			w.Header().Set("X-Homey-Version", HomeyVersion)
		}
		switch {
		case fail != nil:
			writeJSON(w, fail.status, fail.body())
		case out == noBody{}:
			w.WriteHeader(http.StatusOK)
		default:
			writeJSON(w, http.StatusOK, out)
		}
	}
}

// runOperation checks the scope and runs op.
func (s *Server) runOperation(op operation, p principal, args map[string]any) (any, *opError) {
	if op.scope != "" && !hasScope(p.scopes, op.scope) {
		b := missingScope(op.scope)
		return nil, &opError{status: http.StatusForbidden, code: b["error"].(string), desc: b["error_description"].(string)}
	}
	return op.handle(p, args)
}

// recordRPC logs a socket RPC call under HostSocket as the HTTP request it
// stands for: the operation's method and path with the arguments filled
// in, and the arguments as the JSON body.
func (s *Server) recordRPC(op operation, args map[string]any) {
	path := op.path
	for _, name := range pathParams(op.path) {
		path = strings.Replace(path, "{"+name+"}", url.PathEscape(argString(args, name)), 1)
	}
	body, _ := json.Marshal(args)
	r, err := http.NewRequest(op.method, "http://socket/api/manager"+path, bytes.NewReader(body))
	if err != nil {
		return
	}
	s.record(HostSocket, r)
}

// findOperation looks an RPC call up in the table.
func (s *Server) findOperation(uri, id string) (operation, bool) {
	for _, op := range s.operations() {
		if op.uri == uri && op.id == id {
			return op, true
		}
	}
	return operation{}, false
}

func argString(args map[string]any, k string) string {
	v, _ := args[k].(string)
	return v
}

func (s *Server) opPing(_ principal, args map[string]any) (any, *opError) {
	id := argString(args, "id")
	return id == "" || id == s.HomeyID, nil
}

func (s *Server) opSystem(principal, map[string]any) (any, *opError) {
	return map[string]any{
		"cloudId":         s.HomeyID,
		"homeyVersion":    HomeyVersion,
		"homeyModelId":    "homey5q",
		"homeyModelName":  "Homey Pro (Early 2023)",
		"homeyPlatform":   "local",
		"platformVersion": 2,
		"hostname":        "Homey-" + s.HomeyID,
		"wifiAddress":     "127.0.0.1",
		"uptime":          3600,
	}, nil
}

func (s *Server) opLogin(_ principal, args map[string]any) (any, *opError) {
	tok := argString(args, "token")
	if tok == "" {
		return nil, failOp(http.StatusBadRequest, "invalid_request", `the body must be {"token":"<delegation token>"}`)
	}
	claims, problem := s.checkJWT(tok)
	if problem != "" {
		return nil, failOp(http.StatusUnauthorized, "invalid_token", problem)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newSessionLocked(claims.Sub), nil
}

// Session types of sessions/session/me, from the spec's enum: OAUTH for a
// session bought with a delegation token, PAT for a local API key (APP is
// an app's own session, which the emulator has none of).
const (
	SessionTypeOAuth = "OAUTH"
	SessionTypePAT   = "PAT"
)

func (s *Server) opSessionMe(p principal, _ map[string]any) (any, *opError) {
	me := map[string]any{
		"id":                p.id,
		"type":              SessionTypeOAuth,
		"userId":            p.userID,
		"userName":          "Demo User",
		"userAthomId":       p.userID,
		"scopes":            p.scopes,
		"intersectedScopes": p.scopes,
		"clientId":          s.opts.ClientID,
		"clientName":        "homeytest client",
		"expiresAt":         nil,
	}
	if p.kind == "apikey" {
		me["type"] = SessionTypePAT
		me["clientId"] = nil
		me["clientName"] = nil
	} else {
		me["expiresAt"] = isoTime(p.expiry)
	}
	return me, nil
}

func (s *Server) opDevices(principal, map[string]any) (any, *opError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]any, len(s.devices))
	for id, d := range s.devices {
		out[id] = deepCopy(d)
	}
	return out, nil
}

func deviceMissing(id string) *opError {
	return failOp(http.StatusNotFound, "device_not_found", fmt.Sprintf("Device not found: %s", id))
}

func (s *Server) opDevice(_ principal, args map[string]any) (any, *opError) {
	d, ok := s.Device(argString(args, "id"))
	if !ok {
		return nil, deviceMissing(argString(args, "id"))
	}
	return d, nil
}

func (s *Server) opGetCapability(_ principal, args map[string]any) (any, *opError) {
	id, capability := argString(args, "deviceId"), argString(args, "capabilityId")
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, deviceMissing(id)
	}
	o := asMap(asMap(d["capabilitiesObj"])[capability])
	if o == nil {
		return nil, failOp(http.StatusNotFound, "capability_not_found", fmt.Sprintf("Capability not found: %s", capability))
	}
	return deepCopy(o["value"]), nil
}

func (s *Server) opSetCapability(_ principal, args map[string]any) (any, *opError) {
	value, ok := args["value"]
	if !ok {
		return nil, failOp(http.StatusBadRequest, "invalid_request", "missing value")
	}
	status, code, desc := s.setFromAPI(argString(args, "deviceId"), argString(args, "capabilityId"), value, argString(args, "transactionId"))
	if status != 0 {
		return nil, failOp(status, code, desc)
	}
	return noBody{}, nil
}

func (s *Server) opZones(principal, map[string]any) (any, *opError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]any, len(s.zones))
	for id, z := range s.zones {
		out[id] = deepCopy(z)
	}
	return out, nil
}

func (s *Server) opZone(_ principal, args map[string]any) (any, *opError) {
	id := argString(args, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.zones[id]
	if !ok {
		return nil, failOp(http.StatusNotFound, "zone_not_found", fmt.Sprintf("Zone not found: %s", id))
	}
	return deepCopy(z), nil
}
