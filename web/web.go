// Package web serves the small status page of `cloud2mqtt run`: the
// accounts with their status, token expiry and push state, a Connect button
// that starts the browser login of an account (completed on /callback), and
// the devices with their current state.
//
// The page is rendered on the server with html/template and works without
// JavaScript; with it, the page stays current through server-sent events
// on /events (see Changes). Values are written for people: colours as a
// swatch, numbers with their units, times relative to now. It never shows
// a secret: the views it renders hold none, and login results are worded
// by auth.Explain. Connect is a POST carrying a per-process token and a
// same-origin check, so other sites cannot start a login; /callback only
// completes logins this server started (auth.Flows checks the state).
// Only the host names the page listens on (and web.public_url's) are
// answered. Bound beyond loopback, the page requires a password (HTTP
// basic auth); repeated wrong passwords make that address wait.
//
// /healthz answers for container health checks and /metrics serves
// Options.Metrics.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/auth"
)

// DefaultListen is the page's default address: loopback only.
const DefaultListen = "127.0.0.1:8099"

// AccountView is one account as the page shows it.
type AccountView struct {
	Name, Cloud string
	Status      string // connected, auth_required, error, …
	Push        string // live, polling, …
	Error       string // the last error in words; must hold no secret
	TokenExpiry time.Time
	// ExpiryNote says why TokenExpiry is zero ("an API key does not
	// expire"); "" shows "unknown".
	ExpiryNote string
	CanLogin   bool // offers Connect (also needs an entry in Options.Logins)
	// Path is how the account reaches its cloud or hub (local_secure,
	// local, cloud, …) and PathReason why; empty when it has one way only.
	Path, PathReason string
}

// DeviceView is one device as the page shows it.
type DeviceView struct {
	Account, Name, Type, Topic string
	Available                  bool
	State                      map[string]any
	Units                      map[string]string // state key → unit ("°C", "%", "mired")
	Labels                     map[string]string // state key → its name in words; default from the key
	UpdatedAt                  time.Time         // the device's last change; zero when unknown
}

// Source supplies what the page shows; it is called on every page view
// and update and must be safe for concurrent use. A Source that also
// implements Changes makes open pages update as soon as something changes.
type Source interface {
	Accounts() []AccountView
	Devices() []DeviceView
}

// Options configures the page.
type Options struct {
	// Listen is the address, default DefaultListen. Turning the page off
	// ("" or "off" in the configuration) is the caller's business.
	Listen string
	// Password protects the page with HTTP basic auth (any user name). It
	// is required when Listen is not a loopback address.
	Password string
	// Source supplies accounts and devices (required).
	Source Source
	// Logins are the accounts that have a Connect button, by name.
	Logins map[string]auth.Loginer
	// Flows keeps the logins in flight; nil makes a new one.
	Flows *auth.Flows
	// PublicURL is the page's address as the browser reaches it, the base
	// of the redirect URI PublicURL+"/callback" (which must be registered
	// for the client). Default "http://<Listen>".
	PublicURL string
	// Logger receives page logs (never secrets); nil discards.
	Logger *slog.Logger
	// BrokerConnected tells /healthz whether the MQTT broker is
	// connected; nil leaves the broker out of the health check.
	BrokerConnected func() bool
	// Metrics, when set, is served on /metrics (behind the password).
	Metrics http.Handler
}

// Server is the status page.
type Server struct {
	o        Options
	log      *slog.Logger
	csrf     string
	handler  http.Handler
	hosts    hostNames
	throttle *throttle
	// publicDefault: PublicURL was derived from Listen, so Serve sets it
	// to the address really listened on (Listen may name port 0).
	publicDefault bool

	mu      sync.Mutex
	flashes map[string]flash
}

type flash struct {
	Text    string
	OK      bool
	expires time.Time
}

// maxFlashes bounds the result messages waiting to be shown.
const maxFlashes = 32

// New checks o and returns the page. Errors name the configuration key.
func New(o Options) (*Server, error) {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.Source == nil {
		return nil, errors.New("web: no Source for the page")
	}
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("web: web.listen %q is not host:port: %w", o.Listen, err)
	}
	if !loopback(host) && o.Password == "" {
		return nil, fmt.Errorf("web: web.listen %q is reachable from other machines: set web.password, or listen on 127.0.0.1", o.Listen)
	}
	publicDefault := o.PublicURL == ""
	if publicDefault {
		o.PublicURL = "http://" + o.Listen
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Flows == nil {
		o.Flows = auth.NewFlows(0, o.Logger)
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	log := o.Logger.With("component", "web")
	s := &Server{o: o, log: log, csrf: hex.EncodeToString(b), flashes: map[string]flash{},
		hosts: newHostNames(o.Listen, o.PublicURL), throttle: newThrottle(log), publicDefault: publicDefault}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handlePage)
	mux.HandleFunc("GET /app.js", s.handleScript)
	mux.HandleFunc("GET /events", s.handleEvents)
	mux.HandleFunc("POST /connect", s.handleConnect)
	mux.HandleFunc("GET /callback", s.handleCallback)
	if o.Metrics != nil {
		mux.Handle("GET /metrics", o.Metrics)
	}
	outer := http.NewServeMux()
	outer.HandleFunc("GET /healthz", s.handleHealth)
	outer.Handle("/", s.protect(mux))
	s.handler = outer
	return s, nil
}

// loopback reports whether host only accepts local connections.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedirectURI is the callback address logins started here come back to;
// it must be registered for each client with a Connect button.
func (s *Server) RedirectURI() string { return s.o.PublicURL + "/callback" }

// Handler returns the page's handler (with the host and password checks).
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe listens on Options.Listen and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.o.Listen)
	if err != nil {
		return fmt.Errorf("web: listen on web.listen %s: %w", s.o.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves the page on ln until ctx ends, then shuts down (waiting up
// to 5 s for requests in progress). It returns nil after a shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if s.publicDefault {
		s.o.PublicURL = "http://" + ln.Addr().String()
	}
	s.log.Info("status page listening", "addr", ln.Addr().String())
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	return fmt.Errorf("web: serve: %w", err)
}

// protect adds the host, origin and password checks and the headers every
// answer carries.
func (s *Server) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: with no-referrer a browser sends
		// "Origin: null" on the page's own form.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; "+
			"style-src 'unsafe-inline'; form-action 'self' https: http:; frame-ancestors 'none'")
		if !s.hosts.allows(r.Host) {
			s.log.Debug("request for another host name refused", "host", r.Host, "remote", peer(r))
			http.Error(w, "cloud2mqtt: this page does not answer to that host name; "+
				"open it by the address it listens on, or set web.public_url to the address you use", http.StatusMisdirectedRequest)
			return
		}
		if r.Method == http.MethodPost && !s.hosts.sameOrigin(r) {
			s.log.Warn("form sent from another site refused", "origin", r.Header.Get("Origin"), "remote", peer(r))
			http.Error(w, "cloud2mqtt: the form came from another site; open the page itself and press Connect there", http.StatusForbidden)
			return
		}
		if s.o.Password != "" && !s.checkPassword(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handleScript serves the page's script, which keeps it current.
func (s *Server) handleScript(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write([]byte(appJS))
}

// handleConnect starts the login of one account and sends the browser to
// the cloud's authorization page.
func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cloud2mqtt: bad form", http.StatusBadRequest)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf)) != 1 {
		http.Error(w, "cloud2mqtt: the form is stale or came from another site; reload the page and press Connect again", http.StatusForbidden)
		return
	}
	name := r.PostForm.Get("account")
	l, ok := s.o.Logins[name]
	if !ok || l == nil {
		http.Error(w, "cloud2mqtt: no browser login for this account", http.StatusNotFound)
		return
	}
	authURL := s.o.Flows.Start(l, s.RedirectURI())
	if authURL == "" {
		s.redirectWith(w, r, fmt.Sprintf("Account %s has no browser login.", name), false)
		return
	}
	s.log.Info("login started from the page", "account", name)
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// handleCallback completes a login started by Connect.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	account, err := s.o.Flows.Callback(r.Context(), r)
	if err != nil {
		cause, fix := auth.ExplainFor(account, err)
		who := "The login"
		if account != "" {
			who = "The login of account " + account
		}
		text := fmt.Sprintf("%s failed: %s.", who, cause)
		if fix != "" {
			text += " Fix: " + fix + "."
		}
		s.log.Warn("login from the page failed", "account", account, "cause", cause)
		s.redirectWith(w, r, text, false)
		return
	}
	s.redirectWith(w, r, fmt.Sprintf("Account %s is connected; its tokens are saved.", account), true)
}

// redirectWith shows text once on the next view of the page.
func (s *Server) redirectWith(w http.ResponseWriter, r *http.Request, text string, ok bool) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	now := time.Now()
	s.mu.Lock()
	for k, f := range s.flashes {
		if now.After(f.expires) || len(s.flashes) >= maxFlashes {
			delete(s.flashes, k)
		}
	}
	s.flashes[id] = flash{Text: text, OK: ok, expires: now.Add(10 * time.Minute)}
	s.mu.Unlock()
	// Relative, so that it also works behind a proxy serving the page
	// under a path of its own (Home Assistant's ingress).
	w.Header().Set("Location", "./?m="+id)
	w.WriteHeader(http.StatusSeeOther)
}

func (s *Server) takeFlash(id string) (flash, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flashes[id]
	delete(s.flashes, id)
	if !ok || time.Now().After(f.expires) {
		return flash{}, false
	}
	return f, true
}

// pageData is what the template renders.
type pageData struct {
	Flash    *flash
	CSRF     string
	Redirect string
	Accounts []accountRow
	Devices  []deviceRow
	Now      string
}

type accountRow struct {
	AccountView
	Expiry      string // relative: "in 3 h 10 min", "expired 5 min ago", "unknown"
	ExpiryAt    string // the absolute time, local
	StatusClass string
	Connect     bool
}

type deviceRow struct {
	DeviceView
	Fields  []field
	Updated string // relative, empty when unknown
}

// view is what the page shows at now.
func (s *Server) view(now time.Time) pageData {
	d := pageData{CSRF: s.csrf, Redirect: s.RedirectURI(), Now: now.Local().Format(time.DateTime)}
	for _, a := range s.o.Source.Accounts() {
		row := accountRow{AccountView: a, Expiry: "unknown", StatusClass: statusClass(a.Status)}
		if a.ExpiryNote != "" {
			row.Expiry = a.ExpiryNote
		}
		if !a.TokenExpiry.IsZero() {
			row.ExpiryAt = a.TokenExpiry.Local().Format(time.DateTime)
			if a.TokenExpiry.Before(now) {
				row.Expiry = "expired " + relative(a.TokenExpiry, now)
			} else {
				row.Expiry = relative(a.TokenExpiry, now)
			}
		}
		row.Connect = a.CanLogin && s.o.Logins[a.Name] != nil
		d.Accounts = append(d.Accounts, row)
	}
	for _, dv := range s.o.Source.Devices() {
		row := deviceRow{DeviceView: dv, Fields: fields(dv.State, dv.Units, dv.Labels)}
		if !dv.UpdatedAt.IsZero() {
			row.Updated = relative(dv.UpdatedAt, now)
		}
		d.Devices = append(d.Devices, row)
	}
	return d
}

// statusClass colours an account status.
func statusClass(status string) string {
	switch status {
	case "connected":
		return "good"
	case "error":
		return "fail"
	}
	return "warn"
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	d := s.view(time.Now())
	if id := r.URL.Query().Get("m"); id != "" {
		if f, ok := s.takeFlash(id); ok {
			d.Flash = &f
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTmpl.Execute(w, d); err != nil {
		s.log.Warn("rendering the page failed", "err", err)
	}
}
