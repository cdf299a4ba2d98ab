package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"golang.org/x/oauth2"
)

// Loginer is an account that can finish an OAuth authorization-code login.
type Loginer = cloud.Loginer

// Defaults of LoginOptions.
const (
	DefaultListen       = "127.0.0.1:8765"
	DefaultLoginTimeout = 5 * time.Minute
	// exchangeTimeout bounds the code exchange: codes live for seconds.
	exchangeTimeout = 30 * time.Second
)

// LoginOptions configures Login. The zero value is usable.
type LoginOptions struct {
	// Listen is the callback server's address, default DefaultListen.
	// Port 0 picks a free port.
	Listen string
	// RedirectURI is sent to the cloud and must match the one registered
	// for the client. Default "http://<Listen>/callback". Its path is the
	// callback's path.
	RedirectURI string
	// Out receives the URL to open and the closing line; nil discards.
	Out io.Writer
	// OpenBrowser, when set, is called with the URL to open; nil only
	// prints it. A failure is reported and the printed URL still works.
	OpenBrowser func(url string) error
	// Timeout bounds the wait for the browser, default DefaultLoginTimeout.
	Timeout time.Duration
	// Logger receives progress logs (never codes, states or tokens).
	Logger *slog.Logger
}

// NewState returns a random OAuth state (32 bytes from crypto/rand,
// base64url).
func NewState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Login runs one browser login for l (`cloud2mqtt auth login <account>`):
// it listens for the callback, prints the authorization URL (and opens it
// when OpenBrowser is set), checks the callback's state, exchanges the code
// at once and tells both the browser and Out the result in words. It
// returns nil once the tokens are stored. A failure is already explained
// on Out (cause and fix); callers need only exit non-zero.
func Login(ctx context.Context, l Loginer, o LoginOptions) error {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultLoginTimeout
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	account := l.Account()
	log = log.With("account", account)

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("auth: account %s: listen on %s for the login callback: %w; choose a free address (it must match the registered redirect URI)", account, o.Listen, err)
	}
	if o.RedirectURI == "" {
		o.RedirectURI = "http://" + ln.Addr().String() + "/callback"
	}
	ru, err := url.Parse(o.RedirectURI)
	if err != nil || !ru.IsAbs() {
		_ = ln.Close()
		return fmt.Errorf("auth: account %s: redirect URI %q is not an absolute URL", account, o.RedirectURI)
	}
	cbPath := ru.Path
	if cbPath == "" {
		cbPath = "/"
	}

	state, verifier := NewState(), oauth2.GenerateVerifier()
	authURL := l.AuthCodeURL(state, o.RedirectURI, verifier)
	if authURL == "" {
		_ = ln.Close()
		return fmt.Errorf("auth: account %s has no browser login (it uses an API key or configured credentials)", account)
	}

	result := make(chan error, 1)
	var once sync.Once
	finish := func(err error) { once.Do(func() { result <- err }) }
	var mu sync.Mutex
	done := false

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		callbackLike := q.Has("code") || q.Has("error") || q.Has("state")
		if r.URL.Path != cbPath {
			if !callbackLike {
				http.NotFound(w, r)
				return
			}
			got := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
			err := &RedirectMismatchError{Account: account, RedirectURI: o.RedirectURI, Got: got.String()}
			writeResult(w, http.StatusBadRequest, account, err)
			finish(err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if done {
			writePage(w, http.StatusGone, "Login already finished", "This login has already finished. Look at the terminal for the result.", "")
			return
		}
		err := handleCallback(ctx, l, q, state, o.RedirectURI, verifier)
		done = true
		status := http.StatusOK
		if err != nil {
			status = http.StatusBadRequest
		}
		log.Info("login callback received", "ok", err == nil)
		writeResult(w, status, account, err)
		finish(err)
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(o.Out, "To log in account %s, open this address in a browser:\n\n  %s\n\n", account, authURL)
	fmt.Fprintf(o.Out, "Waiting up to %s for the browser to come back to %s\n(this redirect URI must be the one registered for the client).\n", o.Timeout, o.RedirectURI)
	if o.OpenBrowser != nil {
		go func() {
			if err := o.OpenBrowser(authURL); err != nil {
				log.Warn("could not open a browser; open the printed address yourself", "err", err)
			}
		}()
	}

	timer := time.NewTimer(o.Timeout)
	defer timer.Stop()
	select {
	case err = <-result:
	case <-timer.C:
		err = &RedirectMismatchError{Account: account, RedirectURI: o.RedirectURI, Waited: o.Timeout}
	case <-ctx.Done():
		err = fmt.Errorf("auth: account %s: login cancelled: %w", account, ctx.Err())
	}
	if err != nil {
		cause, fix := Explain(err)
		fmt.Fprintf(o.Out, "Login of account %s failed: %s\n", account, cause)
		if fix != "" {
			fmt.Fprintf(o.Out, "Fix: %s\n", fix)
		}
		return err
	}
	fmt.Fprintf(o.Out, "Logged in: account %s is connected and its tokens are saved.\n", account)
	return nil
}

// handleCallback checks one callback's state and exchanges its code.
func handleCallback(ctx context.Context, l Loginer, q url.Values, state, redirectURI, verifier string) error {
	account := l.Account()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		return &StateError{Account: account}
	}
	return exchange(ctx, l, q, redirectURI, verifier)
}

// exchange turns a callback with a valid state into a stored token.
func exchange(ctx context.Context, l Loginer, q url.Values, redirectURI, verifier string) error {
	account := l.Account()
	if code := q.Get("error"); code != "" {
		return &CallbackError{Account: account, Code: code, Description: q.Get("error_description")}
	}
	code := q.Get("code")
	if code == "" {
		return &CallbackError{Account: account, Code: "invalid_request", Description: "the callback carried no code"}
	}
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	if err := l.Exchange(ctx, code, redirectURI, verifier); err != nil {
		return &ExchangeError{Account: account, Err: err}
	}
	return nil
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cloud2mqtt: {{.Title}}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.5}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Text}}</p>{{if .Fix}}<p><strong>Fix:</strong> {{.Fix}}</p>{{end}}</body></html>
`))

func writePage(w http.ResponseWriter, status int, title, text, fix string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct{ Title, Text, Fix string }{title, text, fix})
}

// writeResult tells the browser user how the login ended.
func writeResult(w http.ResponseWriter, status int, account string, err error) {
	if err == nil {
		writePage(w, status, "Logged in", fmt.Sprintf("Account %s is connected. You can close this tab.", account), "")
		return
	}
	cause, fix := Explain(err)
	writePage(w, status, "Login failed", fmt.Sprintf("Account %s was not connected: %s.", account, cause), fix)
}
