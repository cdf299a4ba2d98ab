// Package web serves the small status page of `cloud2mqtt run`: the
// accounts with their status, token expiry and push state, a Connect button
// that starts the browser login of an account (completed on /callback), and
// the devices with their current state.
//
// The page is rendered on the server with html/template and needs no
// JavaScript. It never shows a secret: the views it renders hold none, and
// login results are worded by auth.Explain. Connect is a POST carrying a
// per-process token, so other sites cannot start a login; /callback only
// completes logins this server started (auth.Flows checks the state).
// Bound beyond loopback, the page requires a password (HTTP basic auth).
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
	"sort"
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
	CanLogin    bool // offers Connect (also needs an entry in Options.Logins)
}

// DeviceView is one device as the page shows it.
type DeviceView struct {
	Account, Name, Type, Topic string
	Available                  bool
	State                      map[string]any
}

// Source supplies what the page shows; it is called on every page view
// and must be safe for concurrent use.
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
}

// Server is the status page.
type Server struct {
	o       Options
	log     *slog.Logger
	csrf    string
	handler http.Handler

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
	if o.PublicURL == "" {
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
	s := &Server{o: o, log: o.Logger.With("component", "web"), csrf: hex.EncodeToString(b), flashes: map[string]flash{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handlePage)
	mux.HandleFunc("POST /connect", s.handleConnect)
	mux.HandleFunc("GET /callback", s.handleCallback)
	s.handler = s.protect(mux)
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

// Handler returns the page's handler (with the password check).
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
	s.log.Info("status page listening", "addr", ln.Addr().String())
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	return fmt.Errorf("web: serve: %w", err)
}

// protect adds the password check and headers every answer carries.
func (s *Server) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		if s.o.Password != "" {
			_, pw, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(s.o.Password)) != 1 {
				h.Set("WWW-Authenticate", `Basic realm="cloud2mqtt", charset="UTF-8"`)
				http.Error(w, "cloud2mqtt: this page needs the password set as web.password", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
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
	http.Redirect(w, r, "/?m="+id, http.StatusSeeOther)
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
	Expiry  string
	Connect bool
}

type deviceRow struct {
	DeviceView
	StateText []string
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	d := pageData{CSRF: s.csrf, Redirect: s.RedirectURI(), Now: time.Now().Format(time.DateTime)}
	if id := r.URL.Query().Get("m"); id != "" {
		if f, ok := s.takeFlash(id); ok {
			d.Flash = &f
		}
	}
	for _, a := range s.o.Source.Accounts() {
		row := accountRow{AccountView: a, Expiry: "unknown"}
		if !a.TokenExpiry.IsZero() {
			left := time.Until(a.TokenExpiry).Round(time.Minute)
			row.Expiry = a.TokenExpiry.Local().Format(time.DateTime)
			if left < 0 {
				row.Expiry += " (expired)"
			} else {
				row.Expiry += fmt.Sprintf(" (in %s)", left)
			}
		}
		row.Connect = a.CanLogin && s.o.Logins[a.Name] != nil
		d.Accounts = append(d.Accounts, row)
	}
	for _, dv := range s.o.Source.Devices() {
		keys := make([]string, 0, len(dv.State))
		for k := range dv.State {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		row := deviceRow{DeviceView: dv}
		for _, k := range keys {
			row.StateText = append(row.StateText, fmt.Sprintf("%s: %v", k, dv.State[k]))
		}
		d.Devices = append(d.Devices, row)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTmpl.Execute(w, d); err != nil {
		s.log.Warn("rendering the page failed", "err", err)
	}
}
