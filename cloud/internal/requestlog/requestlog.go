// Package requestlog is the request log the cloud emulators (winktest,
// homeytest) keep: every HTTP request a server receives is recorded with a
// copy of its body, tests read the log (All, Count) or wait for a request,
// past or future, that matches (Wait). The log keeps the most recent
// entries up to a cap so a long demo run does not grow without limit.
package requestlog

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultMax is the cap New uses when given none: the log keeps at most
// this many requests, dropping the oldest first.
const DefaultMax = 10000

// maxBody bounds how much of a request body is read and kept.
const maxBody = 1 << 20

// ErrClosed is returned by Wait when the log is closed before a matching
// request arrives.
var ErrClosed = errors.New("requestlog: closed")

// Request is one HTTP request a server received.
type Request struct {
	// Host names the server that received the request, as the caller of
	// Record gave it (empty for an emulator with one REST server).
	Host         string
	Method, Path string
	// Query is the raw query string.
	Query  string
	Header http.Header
	Body   []byte
	At     time.Time
}

// Log records requests. All methods are safe for concurrent use.
type Log struct {
	max int

	mu      sync.Mutex
	reqs    []Request
	dropped int           // requests trimmed from the front so far
	notify  chan struct{} // closed and replaced on every Record

	done      chan struct{}
	closeOnce sync.Once
}

// New returns an empty log that keeps at most max requests (DefaultMax if
// max is not positive).
func New(max int) *Log {
	if max <= 0 {
		max = DefaultMax
	}
	return &Log{max: max, notify: make(chan struct{}), done: make(chan struct{})}
}

// Record stores r under host and wakes waiters. It reads the body (up to
// 1 MiB) and leaves r with a body that reads the same bytes again, so the
// handler that runs next can still read it.
func (l *Log) Record(host string, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxBody))
		_ = r.Body.Close()
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	req := Request{
		Host:   host,
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		Header: r.Header.Clone(),
		Body:   body,
		At:     time.Now(),
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, req)
	if over := len(l.reqs) - l.max; over > 0 {
		clear(l.reqs[:over]) // let the dropped headers and bodies be collected
		l.reqs = l.reqs[over:]
		l.dropped += over
	}
	close(l.notify)
	l.notify = make(chan struct{})
}

// All returns a copy of the recorded requests, oldest first.
func (l *Log) All() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Request, len(l.reqs))
	for i, r := range l.reqs {
		out[i] = clone(r)
	}
	return out
}

// Wait returns the first recorded request, past or future, for which match
// is true. A request already in the log wins even when ctx has ended or the
// log is closed. Otherwise it returns ctx.Err() when ctx ends first and
// ErrClosed when the log is closed first. Requests trimmed from the log
// before Wait saw them are not matched.
func (l *Log) Wait(ctx context.Context, match func(Request) bool) (Request, error) {
	next := 0 // index in the whole history, trimmed requests included
	for {
		l.mu.Lock()
		next = max(next, l.dropped)
		for ; next-l.dropped < len(l.reqs); next++ {
			if r := l.reqs[next-l.dropped]; match(r) {
				l.mu.Unlock()
				return clone(r), nil
			}
		}
		notify := l.notify
		l.mu.Unlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return Request{}, ctx.Err()
		case <-l.done:
			return Request{}, ErrClosed
		}
	}
}

// Count counts the recorded requests to host (any if empty) with method
// (any if empty) whose path starts with pathPrefix.
func (l *Log) Count(host, method, pathPrefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		if (host == "" || r.Host == host) && (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// Close ends every Wait that has no match yet with ErrClosed. Recording
// still works after Close. It is safe to call more than once.
func (l *Log) Close() {
	l.closeOnce.Do(func() { close(l.done) })
}

// clone copies r so the caller may change it without touching the log.
func clone(r Request) Request {
	r.Header = r.Header.Clone()
	r.Body = append([]byte(nil), r.Body...)
	return r
}
