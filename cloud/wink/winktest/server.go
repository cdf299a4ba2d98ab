// Package winktest is an emulator of the Wink cloud for tests and the demo
// mode, in the spirit of net/http/httptest: NewServer starts real HTTP
// servers on loopback that speak the Wink v2 REST API (with its OAuth2 token
// endpoint) and the PubNub subscribe protocol that Wink used for pushes.
//
// The REST server answers in Wink's envelope {"data":…,"errors":[],
// "pagination":{}}. Device writes follow Wink's desired_state semantics: a
// PUT stores the requested values in desired_state and answers with the
// device unchanged otherwise; after Options.ApplyDelay the values move to
// last_reading, leave desired_state and the full device is pushed on its
// PubNub channel.
//
// Refresh tokens rotate: every refresh_token grant answers with a new refresh
// token and the one that was used stops working. Clients must save the
// rotated token at once.
//
// Logins: GET /oauth2/authorize consents at once and redirects to the
// redirect URI with a fresh code (see authorize.go); the Wink Login
// verify-client endpoint is POST /api/verify-client (see verify.go).
//
// Fault knobs (SetLatency, ThrottleNext, FailNext, FailNextPolls,
// DropPushes, ExpireAccessTokens, RevokeRefreshTokens) let tests exercise a
// client's recovery paths. Every REST request is recorded (Requests,
// WaitRequest, CountRequests), including the token endpoint.
package winktest

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

// The password-grant user the emulator knows unless Options name another.
const (
	DefaultEmail    = "demo@example.com"
	DefaultPassword = "demo-password"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// RESTAddr and PubNubAddr are the host:port the REST and PubNub
	// servers listen on; empty: 127.0.0.1 with a random port.
	RESTAddr, PubNubAddr string
	// ClientID and ClientSecret identify the one OAuth client the server
	// knows. Defaults: "winktest-client" and "winktest-secret".
	ClientID, ClientSecret string
	// Email and Password are the user accepted by the password grant.
	// Defaults: "demo@example.com" and "demo-password".
	Email, Password string
	// ApplyDelay is how long a device takes to apply a desired_state
	// change to last_reading. Default 20ms.
	ApplyDelay time.Duration
	// GiveUpAfter is how long a change to a disconnected device stays in
	// desired_state before the server clears it (Wink: 2 minutes).
	// Default 2m.
	GiveUpAfter time.Duration
	// HoldPoll is how long an idle PubNub long-poll is held before an
	// empty answer. Default 2s (real PubNub holds about 280s).
	HoldPoll time.Duration
	// AccessTokenTTL, when positive, makes access tokens answer 401 once
	// they are older than this. Zero means they never expire.
	AccessTokenTTL time.Duration
	// CodeTTL is the lifetime of an authorization code. Default 30s.
	// Codes are single-use.
	CodeTTL time.Duration
	// RedirectURIs are the redirect URIs registered for the client. When
	// set, GET /oauth2/authorize refuses any other redirect_uri with a 400
	// page and does not redirect. Empty accepts any absolute URI.
	RedirectURIs []string
	// JWTAccessTokens makes access tokens JWT-shaped (header.payload.
	// signature, HS256 with a per-server key) with the claims exp, iat,
	// azp (the client id), sub (UserID) and preferred_username (Email).
	JWTAccessTokens bool
	// VerifyDisabled marks the client as not set up for the Wink Login
	// verify-client endpoint (POST /api/verify-client).
	VerifyDisabled bool
	// PushesStopAfter, when positive, emulates Wink's keep-alive quirk:
	// pushes stop once this long has passed since the last GET /users/me
	// made with an app-like User-Agent (absent, or digits only as the
	// Wink app and Home Assistant's keep-alive sent) or since the server
	// started. Zero keeps pushes flowing.
	PushesStopAfter time.Duration
	// KeepDesired keeps an applied change in desired_state, equal to
	// last_reading, as many recorded devices show; by default applied
	// fields are cleared from desired_state.
	KeepDesired bool
	// NoOrigin leaves subscription.pubnub.origin out of objects (Wink
	// before 2019); by default every subscription names the emulator's
	// PubNub origin.
	NoOrigin bool
	// TokenServiceRefresh makes the token service (TokenServicePath)
	// answer a refresh token beside the access token.
	TokenServiceRefresh bool
	// Logger receives debug logs of requests (never tokens or secrets).
	// Nil discards.
	Logger *slog.Logger
}

// PushForm selects how a device update is carried in a PubNub message.
type PushForm int

const (
	// PushString sends a JSON-encoded string of the full object, as Wink
	// did. This is the default.
	PushString PushForm = iota
	// PushObject sends the full object as a JSON object.
	PushObject
	// PushPullURL sends only {"pull_url": "<REST URL of the object>"}; the
	// client must GET the object itself.
	PushPullURL
)

// String names the push form.
func (f PushForm) String() string {
	switch f {
	case PushString:
		return "string"
	case PushObject:
		return "object"
	case PushPullURL:
		return "pull_url"
	}
	return fmt.Sprintf("PushForm(%d)", int(f))
}

// Request is one REST request the server received. Host is always empty;
// Query is the raw query string.
type Request = requestlog.Request

// Server is a running Wink cloud emulator. All methods are safe for
// concurrent use.
type Server struct {
	// URL is the REST base, e.g. "http://127.0.0.1:PORT". The token
	// endpoint is URL+"/oauth2/token".
	URL string
	// PubNubOrigin is the PubNub server, "http://127.0.0.1:PORT". The
	// PubNub SDK wants its host:port as Config.Origin with Secure=false.
	PubNubOrigin string
	// SubscribeKey is the PubNub subscribe key every subscription block
	// carries.
	SubscribeKey string
	// UserID is the id of the emulated user ("user-<UserID>" ends every
	// device channel).
	UserID string

	opts Options
	log  *slog.Logger

	restSrv, pnSrv *http.Server
	done           chan struct{}
	closeOnce      sync.Once
	timers         sync.WaitGroup

	hub  *pubnubHub
	reqs *requestlog.Log // every request received, for tests

	mu          sync.Mutex
	closed      bool
	userChannel string
	devices     map[string]*device
	order       []string
	nextID      int
	applySeq    uint64
	access      map[string]time.Time // access token → issue time
	refresh     map[string]bool      // valid refresh tokens
	codes       map[string]time.Time // authorization code → expiry
	codeMeta    map[string]codeMeta  // authorization code → its request
	tokenClient map[string]string    // access token → client it was issued to
	retired     map[string]bool      // access tokens that expired
	denyNext    bool                 // next authorization is refused
	jwtKey      []byte               // signs JWT-shaped access tokens
	pushForm    PushForm
	latency     time.Duration
	throttleN   int
	throttleFor time.Duration
	failN       int
	failStatus  int
	local       localAPI  // the hub's local API, started by HubLocalURL
	lastAppCall time.Time // the last app-like GET /users/me (PushesStopAfter)
	quirkDrops  int       // pushes the keep-alive quirk swallowed
}

// NewServer starts the REST and PubNub servers on 127.0.0.1 with random
// ports (or Options.RESTAddr and PubNubAddr). It panics if it cannot
// listen, like httptest.NewServer. Call Close when done.
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
		SubscribeKey: "sub-c-" + randomHex(4) + "-" + randomHex(2) + "-" + randomHex(2) + "-" + randomHex(2) + "-" + randomHex(6),
		UserID:       "230781",
		opts:         opts,
		log:          log,
		done:         make(chan struct{}),
		devices:      map[string]*device{},
		nextID:       100000,
		access:       map[string]time.Time{},
		refresh:      map[string]bool{},
		codes:        map[string]time.Time{},
		codeMeta:     map[string]codeMeta{},
		tokenClient:  map[string]string{},
		retired:      map[string]bool{},
		jwtKey:       []byte(randomHex(32)),
		reqs:         requestlog.New(requestlog.DefaultMax),
	}
	s.userChannel = randomHex(20) + "|user-" + s.UserID
	s.lastAppCall = time.Now()
	s.hub = newPubNubHub(s.SubscribeKey, opts.HoldPoll, s.done)

	restLn, err := listen(opts.RESTAddr)
	if err != nil {
		return nil, err
	}
	pnLn, err := listen(opts.PubNubAddr)
	if err != nil {
		restLn.Close()
		return nil, err
	}
	s.URL = "http://" + restLn.Addr().String()
	s.PubNubOrigin = "http://" + pnLn.Addr().String()

	s.restSrv = &http.Server{Handler: s.restHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.pnSrv = &http.Server{Handler: s.hub.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.restSrv.Serve(restLn) }()
	go func() { _ = s.pnSrv.Serve(pnLn) }()
	return s, nil
}

func withDefaults(o Options) Options {
	if o.ClientID == "" {
		o.ClientID = "winktest-client"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "winktest-secret"
	}
	if o.Email == "" {
		o.Email = DefaultEmail
	}
	if o.Password == "" {
		o.Password = DefaultPassword
	}
	if o.ApplyDelay <= 0 {
		o.ApplyDelay = 20 * time.Millisecond
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 2 * time.Minute
	}
	if o.HoldPoll <= 0 {
		o.HoldPoll = 2 * time.Second
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = 30 * time.Second
	}
	return o
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("winktest: listen on %s: %w (choose another port)", addr, err)
	}
	return ln, nil
}

// Close stops both servers, ends held long-polls and pending device
// changes. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		s.reqs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.restSrv.Shutdown(ctx)
		_ = s.pnSrv.Shutdown(ctx)
		_ = s.restSrv.Close()
		_ = s.pnSrv.Close()
		s.closeLocal()
		s.timers.Wait()
	})
}

// UserChannel is the PubNub channel of the user's device list; it gets a
// {"data":[…devices…]} message whenever a device is added or removed.
func (s *Server) UserChannel() string {
	return s.userChannel
}

// SetLatency adds d to every REST answer.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// ThrottleNext makes the next n REST calls (the token endpoint included)
// answer 429 with Wink's throttle body and the headers Retry-After (whole
// seconds, rounded up), X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset.
func (s *Server) ThrottleNext(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleN = n
	s.throttleFor = retryAfter
}

// FailNext makes the next n REST calls (the token endpoint included) answer
// status with an envelope error.
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN = n
	s.failStatus = status
}

// FailNextPolls makes the next n PubNub subscribe requests after the
// handshake (those that carry a timetoken) answer status.
func (s *Server) FailNextPolls(n int, status int) {
	s.hub.failNextPolls(n, status)
}

// DropPushes makes the next n pushes vanish: they are neither delivered
// nor kept in the channel history.
func (s *Server) DropPushes(n int) {
	s.hub.dropPushes(n)
}

// PausePushes holds back the answers of the long polls, as a slow network
// to PubNub would, while pushes are published; ResumePushes answers them.
// More than 100 pushes meanwhile on one subscription's channels lose the
// older ones, as PubNub's queue does.
func (s *Server) PausePushes() { s.hub.pause(true) }

// ResumePushes answers the long polls PausePushes held.
func (s *Server) ResumePushes() { s.hub.pause(false) }

// SubscribeHandshakes returns how many long polls were started: subscribe
// requests without a timetoken.
func (s *Server) SubscribeHandshakes() int { return s.hub.handshakeCount() }

// SetPushForm selects how device updates are carried in pushes.
func (s *Server) SetPushForm(f PushForm) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushForm = f
}

// Requests returns a copy of the REST requests received so far, oldest
// first (at most the last 10000).
func (s *Server) Requests() []Request {
	return s.reqs.All()
}

// WaitRequest returns the first recorded request, past or future, for
// which match is true. It fails when ctx ends first or the server closes.
func (s *Server) WaitRequest(ctx context.Context, match func(Request) bool) (Request, error) {
	r, err := s.reqs.Wait(ctx, match)
	if errors.Is(err, requestlog.ErrClosed) {
		return Request{}, errors.New("winktest: wait for request: server closed")
	}
	if err != nil {
		return Request{}, fmt.Errorf("winktest: wait for request: %w", err)
	}
	return r, nil
}

// CountRequests counts recorded requests with the method (any if empty)
// whose path starts with pathPrefix.
func (s *Server) CountRequests(method, pathPrefix string) int {
	return s.reqs.Count("", method, pathPrefix)
}

// record stores a request and wakes waiters. It leaves a re-readable body.
func (s *Server) record(r *http.Request) {
	s.reqs.Record("", r)
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("winktest: random bytes: %v", err))
	}
	return hex.EncodeToString(b)
}
