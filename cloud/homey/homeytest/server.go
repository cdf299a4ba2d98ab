// Package homeytest is an emulator of Athom's cloud and of one Homey (Pro
// Early 2023 / Homey Cloud, Web API v3) for tests and the demo mode, in the
// spirit of net/http/httptest: NewServer starts two real HTTP servers on
// loopback.
//
// The cloud server (CloudURL, standing in for https://api.athom.com) speaks
// the athom OAuth2 endpoints (/oauth2/authorise, /oauth2/token), /user/me
// and /delegation/token?audience=homey. The Homey server (HomeyURL) speaks
// /api/manager/... (ping, users/login, sessions/session/me, devices, zones,
// capability GET/PUT) and the realtime Socket.IO v2 / Engine.IO 3 socket at
// /socket.io/?EIO=3&transport=websocket (websocket transport only).
//
// Authentication chain: an athom access token buys a delegation JWT (a JSON
// string), the Homey trades that JWT once for a session token (a JSON
// string) that carries the OAuth scope "homey" (everything). Homey Pro
// local API keys (NewAPIKey) carry explicit scopes, matched by prefix as
// the Homey does: "homey.device" grants "homey.device.readonly" and
// "homey.device.control", "homey" grants all.
//
// Refresh tokens rotate: every refresh_token grant answers with a new
// refresh token and the one used stops working. Clients must save the
// rotated token at once (clients that keep the old one when none is
// returned still work, because one is always returned).
//
// Realtime events: a capability change is sent as the event "capability"
// on the URI homey:device:<id> with {capabilityId, value, transactionId,
// transactionTime}; a PUT's transactionId is echoed, other changes carry a
// fresh one. Device additions, changes (name, availability) and removals go
// to homey:manager:devices as device.create / device.update / device.delete
// with the full device. Only subscribers of a URI get its events. The token
// is checked at handshakeClient only; an open socket outlives its session.
// The socket also answers the "api" RPC event for getDevices, getDevice,
// getCapabilityValue, setCapabilityValue and getZones.
//
// Where the Homey's behaviour is not documented the emulator makes a
// believable choice: a token lacking a scope gets 403 {"error":"Missing
// Scopes","error_description":"Missing scope: <scope>","statusCode":403};
// an unknown or expired token 401 {"error":"invalid_token",…}, a missing
// one 401 {"error":"not_logged_in",…}; a write to an unavailable device
// 400 {"error":"device_unavailable",…}; an invalid value 400
// {"error":"invalid_value","error_description":"<what is wrong>",…}.
//
// Fault knobs (SetLatency, FailNext, FailNextCloud, DropSockets,
// RefuseSockets, ExpireAccessTokens, RevokeRefreshTokens, ExpireSessions)
// let tests exercise a client's recovery paths. Every HTTP request to
// either server is recorded (Requests, WaitRequest, CountRequests),
// socket upgrades included.
package homeytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/internal/requestlog"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// CloudAddr and HomeyAddr are the host:port the Athom cloud and the
	// Homey listen on; empty: 127.0.0.1 with a random port.
	CloudAddr, HomeyAddr string
	// ClientID and ClientSecret identify the one athom OAuth client the
	// cloud knows. Defaults: "homeytest-client" and "homeytest-secret".
	ClientID, ClientSecret string
	// Username and Password are the athom account accepted by the password
	// grant. Defaults: "demo@example.com" and "demo-password".
	Username, Password string
	// HomeyID is the Homey's id (its cloudId). Default: 24 random hex
	// digits.
	HomeyID string
	// HomeyName is the Homey's name. Default "Demo Homey".
	HomeyName string
	// AccessTokenTTL is the athom access token lifetime, reported as
	// expires_in; after it the cloud answers 401 {"error":"invalid_token"}.
	// Default 3660s.
	AccessTokenTTL time.Duration
	// DelegationTTL is the lifetime of a delegation JWT. Default 5m.
	DelegationTTL time.Duration
	// SessionTTL is the Homey session token lifetime; after it the Homey
	// answers 401. Default 24h.
	SessionTTL time.Duration
	// CodeTTL is the authorization code lifetime. Default 30s. Codes are
	// single-use.
	CodeTTL time.Duration
	// PingInterval and PingTimeout are announced in the Engine.IO open
	// packet. A socket that sends no ping for PingInterval+PingTimeout is
	// closed. Defaults 5s and 8s.
	PingInterval, PingTimeout time.Duration
	// Logger receives debug logs (never tokens or secrets). Nil discards.
	Logger *slog.Logger
	// LANPaths adds the Homey's other ways in: an HTTPS listener for
	// localUrlSecure (LocalSecureURL, a certificate TLSRoots trusts) and a
	// relay listener for remoteUrl (RemoteURL); HomeyURL stays localUrl.
	// CutLAN cuts the first two. Without it /user/me gives HomeyURL as
	// both localUrl and remoteUrl.
	LANPaths bool
	// EngineIO4 makes the realtime socket accept EIO=4 (Socket.IO 5, the
	// server pinging) beside EIO=3, as a Homey Pro (Early 2023) reportedly
	// does; without it EIO=4 is refused with 400, as by a Homey that only
	// speaks Engine.IO 3.
	EngineIO4 bool
}

// Host names used in Request.Host.
const (
	HostCloud = "cloud"
	HostHomey = "homey"
	// HostSocket names the socket's "api" RPC calls, logged as the HTTP
	// requests they stand for.
	HostSocket = "homey-socket"
)

// HomeyVersion is the firmware version the Homey reports (X-Homey-Version,
// softwareVersion).
const HomeyVersion = "12.4.0"

// Request is one HTTP request one of the servers received: Host is
// HostCloud or HostHomey, Query the raw query string.
type Request = requestlog.Request

// Server is a running athom cloud and Homey emulator. All methods are safe
// for concurrent use.
type Server struct {
	// CloudURL is the athom API base, e.g. "http://127.0.0.1:PORT"
	// (stands in for https://api.athom.com).
	CloudURL string
	// HomeyURL is the Homey's base URL, e.g. "http://127.0.0.1:PORT". It is
	// given as localUrl and remoteUrl in /user/me.
	HomeyURL string
	// LocalSecureURL is the Homey's localUrlSecure with Options.LANPaths:
	// "https://127-0-0-1.homey.homeylocal.com:PORT" (the name stands for
	// 127.0.0.1; a client must connect there and verify the name).
	LocalSecureURL string
	// RemoteURL is the Homey's remoteUrl with Options.LANPaths: a plain
	// HTTP listener standing in for the cloud relay.
	RemoteURL string
	// HomeyID is the Homey's id.
	HomeyID string
	// UserID is the athom user's id.
	UserID string

	opts Options
	log  *slog.Logger

	cloudSrv, homeySrv *http.Server
	done               chan struct{}
	closeOnce          sync.Once
	jwtKey             []byte

	hub  *hub
	reqs *requestlog.Log // every request received, for tests
	lan  *lanPaths       // nil without Options.LANPaths

	mu         sync.Mutex
	closed     bool
	devices    map[string]map[string]any
	devOrder   []string
	zones      map[string]map[string]any
	zoneOrder  []string
	access     map[string]time.Time // athom access token → expiry
	refresh    map[string]bool      // valid refresh tokens
	codes      map[string]time.Time // authorization code → expiry
	challenges map[string]string    // authorization code → its PKCE S256 challenge
	usedJWT    map[string]bool      // delegation JWT ids already traded
	sessions   map[string]*session
	apiKeys    map[string]*apiKey
	latency    time.Duration
	failN      int
	failStatus int
	cloudFailN int
	cloudFail  int
	faults     faults // see faults.go
}

// NewServer starts the athom cloud and the Homey on 127.0.0.1 with random
// ports (or Options.CloudAddr and HomeyAddr). It panics if it cannot
// listen, like httptest.NewServer. The Homey
// starts with its root zone "Home" and no devices; call Furnish for a demo
// home. Call Close when done.
func NewServer(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic(err.Error())
	}
	return s
}

// Start is NewServer returning an error when it cannot listen.
func Start(opts Options) (*Server, error) {
	opts = withDefaults(opts)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		HomeyID:    opts.HomeyID,
		UserID:     randomHex(12),
		opts:       opts,
		log:        log,
		done:       make(chan struct{}),
		jwtKey:     []byte(randomHex(32)),
		reqs:       requestlog.New(requestlog.DefaultMax),
		devices:    map[string]map[string]any{},
		zones:      map[string]map[string]any{},
		access:     map[string]time.Time{},
		refresh:    map[string]bool{},
		codes:      map[string]time.Time{},
		challenges: map[string]string{},
		usedJWT:    map[string]bool{},
		sessions:   map[string]*session{},
		apiKeys:    map[string]*apiKey{},
	}
	s.hub = newHub(s)
	s.addZoneLocked(map[string]any{"id": RootZoneID, "name": "Home", "parent": nil, "icon": "home"})

	cloudLn, err := listen(opts.CloudAddr)
	if err != nil {
		return nil, err
	}
	homeyLn, err := listen(opts.HomeyAddr)
	if err != nil {
		cloudLn.Close()
		return nil, err
	}
	s.CloudURL = "http://" + cloudLn.Addr().String()
	s.HomeyURL = "http://" + homeyLn.Addr().String()

	s.cloudSrv = &http.Server{Handler: s.cloudHandler(), ReadHeaderTimeout: 10 * time.Second}
	homey := s.homeyHandler(HostHomey)
	if opts.LANPaths {
		homey = s.lanOnly(homey)
		if err := s.startLANPaths(); err != nil {
			cloudLn.Close()
			homeyLn.Close()
			return nil, err
		}
	}
	s.homeySrv = &http.Server{Handler: homey, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.cloudSrv.Serve(cloudLn) }()
	go func() { _ = s.homeySrv.Serve(homeyLn) }()
	return s, nil
}

func withDefaults(o Options) Options {
	if o.ClientID == "" {
		o.ClientID = "homeytest-client"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "homeytest-secret"
	}
	if o.Username == "" {
		o.Username = "demo@example.com"
	}
	if o.Password == "" {
		o.Password = "demo-password"
	}
	if o.HomeyID == "" {
		o.HomeyID = randomHex(12)
	}
	if o.HomeyName == "" {
		o.HomeyName = "Demo Homey"
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = 3660 * time.Second
	}
	if o.DelegationTTL <= 0 {
		o.DelegationTTL = 5 * time.Minute
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 24 * time.Hour
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = 30 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 5 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 8 * time.Second
	}
	return o
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("homeytest: listen on %s: %w (choose another port)", addr, err)
	}
	return ln, nil
}

// Close closes every realtime socket and stops both servers. It is safe to
// call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		s.reqs.Close()
		s.hub.dropAll()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.cloudSrv.Shutdown(ctx)
		_ = s.homeySrv.Shutdown(ctx)
		_ = s.cloudSrv.Close()
		_ = s.homeySrv.Close()
		s.closeLANPaths(ctx)
		s.hub.wait()
	})
}

// SetLatency delays every HTTP answer of both servers by d (socket
// upgrades excepted).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// FailNext makes the next n Homey REST calls (ping and login included,
// socket upgrades excepted) answer status with a Homey error body
// {"error":…,"statusCode":status}.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN = n
	s.failStatus = status
}

// FailNextCloud makes the next n athom cloud calls answer status with an
// OAuth-style error body {"error":…,"error_description":…}.
func (s *Server) FailNextCloud(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cloudFailN = n
	s.cloudFail = status
}

// DropSockets closes every realtime connection now, as a network drop
// would.
func (s *Server) DropSockets() {
	s.hub.dropAll()
}

// RefuseSockets makes socket upgrades answer 503 while refuse is true, so
// clients must fall back to polling.
func (s *Server) RefuseSockets(refuse bool) {
	s.hub.setRefuse(refuse)
}

// SocketCount is the number of open realtime connections.
func (s *Server) SocketCount() int {
	return s.hub.count()
}

// Requests returns a copy of the requests received so far, oldest first
// (at most the last 10000).
func (s *Server) Requests() []Request {
	return s.reqs.All()
}

// WaitRequest returns the first recorded request, past or future, for
// which match is true. It fails when ctx ends first or the server closes.
func (s *Server) WaitRequest(ctx context.Context, match func(Request) bool) (Request, error) {
	r, err := s.reqs.Wait(ctx, match)
	if errors.Is(err, requestlog.ErrClosed) {
		return Request{}, errors.New("homeytest: wait for request: server closed")
	}
	if err != nil {
		return Request{}, fmt.Errorf("homeytest: wait for request: %w", err)
	}
	return r, nil
}

// CountRequests counts recorded requests to host (HostCloud, HostHomey, or
// any if empty) with the method (any if empty) whose path starts with
// pathPrefix.
func (s *Server) CountRequests(host, method, pathPrefix string) int {
	return s.reqs.Count(host, method, pathPrefix)
}

// record stores a request and wakes waiters. It leaves a re-readable body.
func (s *Server) record(host string, r *http.Request) {
	s.reqs.Record(host, r)
}

// delay waits for the configured latency; false means the request or the
// server ended first.
func (s *Server) delay(r *http.Request) bool { return s.waitLatency(r.Context().Done()) }

// delayRPC waits for the configured latency before a socket RPC answer;
// false means the server ended first.
func (s *Server) delayRPC() bool { return s.waitLatency(nil) }

// waitLatency waits for the configured latency, or until cancel is closed
// or the server ends (false then).
func (s *Server) waitLatency(cancel <-chan struct{}) bool {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency <= 0 {
		return true
	}
	t := time.NewTimer(latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-cancel:
	case <-s.done:
	}
	return false
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("homeytest: random bytes: %v", err))
	}
	return hex.EncodeToString(b)
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("homeytest: random bytes: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
