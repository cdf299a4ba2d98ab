package web

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hostNames are the names the page answers to: those it listens on (for a
// wildcard address: loopback, this machine's addresses and host name) and
// web.public_url's host. Other Host headers are refused, so that a web
// site cannot reach the page through a name of its own (DNS rebinding).
//
// On a wildcard address any IP literal is answered too: a page reached as
// http://192.168.1.10:8099 through a container's published port names an
// address the container does not have, and DNS rebinding needs a name, not
// an address.
type hostNames map[string]bool

// anyIP marks hostNames that answer every IP literal.
const anyIP = "*"

func newHostNames(listen, publicURL string) hostNames {
	h := hostNames{}
	host, _, _ := net.SplitHostPort(listen)
	switch host {
	case "", "0.0.0.0", "::":
		h[anyIP] = true
		for _, n := range []string{"localhost", "127.0.0.1", "::1"} {
			h[n] = true
		}
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					h[n.IP.String()] = true
				}
			}
		}
		if name, err := os.Hostname(); err == nil && name != "" {
			h[strings.ToLower(name)] = true
		}
	default:
		h[strings.ToLower(host)] = true
		if loopback(host) {
			h["localhost"], h["127.0.0.1"], h["::1"] = true, true, true
		}
	}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		h[strings.ToLower(u.Hostname())] = true
	}
	return h
}

// allows reports whether hostport (a Host header or an Origin's host)
// names this page.
func (h hostNames) allows(hostport string) bool {
	host := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if h[anyIP] && net.ParseIP(host) != nil {
		return true
	}
	return h[strings.ToLower(host)]
}

// sameOrigin reports whether a POST came from the page itself: its Origin
// (when the browser sends one) must name this page, and a browser's
// Sec-Fetch-Site must not say cross-site.
func (h hostNames) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return false
	case "same-origin":
		return true // set by the browser itself, beyond a page's reach
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser, or an old one: the form token still guards
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes "null"
	}
	return h.allows(u.Host)
}

// Wrong-password throttling: after maxFailures wrong passwords from one
// address, it must wait (1 s, doubling with every further failure, up to
// maxLockout) before the page checks its password again.
const (
	maxFailures   = 5
	maxLockout    = 5 * time.Minute
	forgetAfter   = 15 * time.Minute // failures this old are forgotten
	maxRemembered = 4096             // addresses tracked at once
)

// throttle counts wrong passwords per client address.
type throttle struct {
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	peers map[string]*failures
}

type failures struct {
	count int
	last  time.Time
	until time.Time // no password check before this
}

func newThrottle(log *slog.Logger) *throttle {
	return &throttle{log: log, now: time.Now, peers: map[string]*failures{}}
}

// peer is the client's address without its port.
func peer(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// wait is how long the address must still wait; zero when it may try.
func (t *throttle) wait(addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.peers[addr]
	if !ok {
		return 0
	}
	return max(f.until.Sub(t.now()), 0)
}

// failed records a wrong password from addr.
func (t *throttle) failed(addr string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.peers[addr]
	if !ok || now.Sub(f.last) > forgetAfter {
		if len(t.peers) >= maxRemembered {
			t.forget(now)
		}
		f = &failures{}
		t.peers[addr] = f
	}
	f.count++
	f.last = now
	if f.count >= maxFailures {
		lockout := min(time.Second<<min(f.count-maxFailures, 20), maxLockout)
		f.until = now.Add(lockout)
		t.log.Warn("repeated wrong passwords for the status page; that address must wait",
			"remote", addr, "failures", f.count, "wait", lockout)
	}
}

// succeeded forgets addr's failures.
func (t *throttle) succeeded(addr string) {
	t.mu.Lock()
	delete(t.peers, addr)
	t.mu.Unlock()
}

// forget drops old entries, or all when none is old. Call with t.mu held.
func (t *throttle) forget(now time.Time) {
	for k, f := range t.peers {
		if now.Sub(f.last) > forgetAfter {
			delete(t.peers, k)
		}
	}
	if len(t.peers) >= maxRemembered {
		clear(t.peers)
	}
}

// checkPassword answers 401 or 429 and returns false unless r carries the
// page password (any user name).
func (s *Server) checkPassword(w http.ResponseWriter, r *http.Request) bool {
	addr := peer(r)
	if d := s.throttle.wait(addr); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d.Round(time.Second)/time.Second)+1))
		http.Error(w, fmt.Sprintf("cloud2mqtt: too many wrong passwords from %s; try again in %s", addr, duration(d.Round(time.Second))),
			http.StatusTooManyRequests)
		return false
	}
	_, pw, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(s.o.Password)) != 1 {
		if ok {
			s.throttle.failed(addr)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="cloud2mqtt", charset="UTF-8"`)
		http.Error(w, "cloud2mqtt: this page needs the password set as web.password", http.StatusUnauthorized)
		return false
	}
	s.throttle.succeeded(addr)
	return true
}
