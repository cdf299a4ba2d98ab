package requestlog

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// waitFor is how long a test waits for something that should happen at once.
const waitFor = 5 * time.Second

func record(l *Log, host, method, target, body string) {
	l.Record(host, httptest.NewRequest(method, target, strings.NewReader(body)))
}

func TestRecordKeepsRequestAndLeavesBodyReadable(t *testing.T) {
	l := New(0)
	r := httptest.NewRequest("POST", "/oauth2/token?x=1", strings.NewReader("grant_type=password"))
	r.Header.Set("Authorization", "Bearer abc")
	before := time.Now()
	l.Record("cloud", r)

	again, err := io.ReadAll(r.Body)
	if err != nil || string(again) != "grant_type=password" {
		t.Fatalf("body after Record = %q, %v; want the same bytes again", again, err)
	}
	all := l.All()
	if len(all) != 1 {
		t.Fatalf("All() has %d requests, want 1", len(all))
	}
	got := all[0]
	if got.Host != "cloud" || got.Method != "POST" || got.Path != "/oauth2/token" || got.Query != "x=1" ||
		string(got.Body) != "grant_type=password" || got.Header.Get("Authorization") != "Bearer abc" || got.At.Before(before) {
		t.Fatalf("recorded %+v", got)
	}

	// All hands out copies: changing them does not change the log.
	got.Body[0] = 'X'
	got.Header.Set("Authorization", "changed")
	if again := l.All()[0]; string(again.Body) != "grant_type=password" || again.Header.Get("Authorization") != "Bearer abc" {
		t.Fatalf("log changed through a copy: %+v", again)
	}
}

func TestRecordWithoutBody(t *testing.T) {
	l := New(0)
	r := httptest.NewRequest("GET", "/users/me", nil)
	r.Body = nil
	l.Record("", r)
	if r.Body == nil {
		t.Fatal("Record left a nil body; handlers expect a readable one")
	}
	if got := l.All()[0]; len(got.Body) != 0 || got.Method != "GET" {
		t.Fatalf("recorded %+v", got)
	}
}

func TestWaitFindsPastRequest(t *testing.T) {
	l := New(0)
	record(l, "", "GET", "/a", "")
	record(l, "", "PUT", "/b", "on")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	got, err := l.Wait(ctx, func(r Request) bool { return r.Method == "PUT" })
	if err != nil || got.Path != "/b" || string(got.Body) != "on" {
		t.Fatalf("Wait = %+v, %v; want PUT /b", got, err)
	}
}

func TestWaitFindsPastRequestAfterCtxEnded(t *testing.T) {
	l := New(0)
	record(l, "", "GET", "/a", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := l.Wait(ctx, func(r Request) bool { return r.Path == "/a" }); err != nil || got.Path != "/a" {
		t.Fatalf("Wait = %+v, %v; a request already in the log should win", got, err)
	}
}

func TestWaitFindsFutureRequest(t *testing.T) {
	l := New(0)
	record(l, "", "GET", "/first", "")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	type result struct {
		r   Request
		err error
	}
	done := make(chan result, 1)
	started := make(chan struct{})
	go func() {
		once := false
		r, err := l.Wait(ctx, func(r Request) bool {
			if !once {
				once = true
				close(started)
			}
			return r.Path == "/later"
		})
		done <- result{r, err}
	}()
	select {
	case <-started:
	case <-time.After(waitFor):
		t.Fatal("Wait did not look at the log")
	}
	select {
	case res := <-done:
		t.Fatalf("Wait returned %+v, %v before the request came", res.r, res.err)
	default:
	}
	record(l, "", "GET", "/other", "")
	record(l, "homey", "DELETE", "/later", "")
	select {
	case res := <-done:
		if res.err != nil || res.r.Path != "/later" || res.r.Host != "homey" {
			t.Fatalf("Wait = %+v, %v; want DELETE /later on homey", res.r, res.err)
		}
	case <-time.After(waitFor):
		t.Fatal("Wait did not return after the matching request was recorded")
	}
}

func TestWaitEndsWithCtx(t *testing.T) {
	l := New(0)
	record(l, "", "GET", "/a", "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := l.Wait(ctx, func(r Request) bool { return r.Path == "/never" })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait error = %v, want context.DeadlineExceeded", err)
	}
}

func TestCloseEndsWaiters(t *testing.T) {
	l := New(0)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := l.Wait(ctx, func(Request) bool { return false })
		done <- err
	}()
	l.Close()
	l.Close() // a second Close is harmless
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Wait error = %v, want ErrClosed", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Close did not end the waiter")
	}

	// After Close the log still records, and a past match still wins.
	record(l, "", "GET", "/after", "")
	if got, err := l.Wait(ctx, func(r Request) bool { return r.Path == "/after" }); err != nil || got.Path != "/after" {
		t.Fatalf("Wait after Close = %+v, %v; want the recorded request", got, err)
	}
	if _, err := l.Wait(ctx, func(r Request) bool { return r.Path == "/never" }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close without a match = %v, want ErrClosed", err)
	}
}

func TestTrimsOldestAtCap(t *testing.T) {
	l := New(3)
	for _, p := range []string{"/1", "/2", "/3", "/4", "/5"} {
		record(l, "", "GET", p, "")
	}
	var paths []string
	for _, r := range l.All() {
		paths = append(paths, r.Path)
	}
	if got := strings.Join(paths, ","); got != "/3,/4,/5" {
		t.Fatalf("log holds %s, want /3,/4,/5", got)
	}
	if n := l.Count("", "", "/"); n != 3 {
		t.Fatalf("Count = %d, want 3 after trimming", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Wait(ctx, func(r Request) bool { return r.Path == "/1" }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait for a trimmed request = %v, want a timeout", err)
	}
}

func TestWaitKeepsGoingWhileLogTrims(t *testing.T) {
	l := New(2)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	done := make(chan Request, 1)
	go func() {
		r, err := l.Wait(ctx, func(r Request) bool { return r.Path == "/target" })
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		done <- r
	}()
	for range 10 {
		record(l, "", "GET", "/noise", "")
	}
	record(l, "", "GET", "/target", "")
	select {
	case r := <-done:
		if r.Path != "/target" {
			t.Fatalf("Wait = %+v, want /target", r)
		}
	case <-time.After(waitFor):
		t.Fatal("Wait missed the request recorded after the log trimmed")
	}
}

func TestDefaultCap(t *testing.T) {
	l := New(-1)
	for range DefaultMax + 5 {
		l.Record("", httptest.NewRequest("GET", "/x", nil))
	}
	if n := len(l.All()); n != DefaultMax {
		t.Fatalf("log holds %d requests, want DefaultMax (%d)", n, DefaultMax)
	}
}

func TestCount(t *testing.T) {
	l := New(0)
	record(l, "cloud", "POST", "/oauth2/token", "")
	record(l, "cloud", "GET", "/user/me", "")
	record(l, "homey", "GET", "/api/manager/devices/device/", "")
	record(l, "homey", "PUT", "/api/manager/devices/device/1/capability/onoff", "true")
	record(l, "homey", "GET", "/api/manager/zones/zone/", "")

	for _, c := range []struct {
		host, method, prefix string
		want                 int
	}{
		{"", "", "", 5},
		{"cloud", "", "", 2},
		{"homey", "", "", 3},
		{"", "GET", "", 3},
		{"homey", "GET", "", 2},
		{"", "", "/api/manager/devices", 2},
		{"homey", "PUT", "/api/manager/devices", 1},
		{"cloud", "", "/api/", 0},
		{"", "DELETE", "", 0},
	} {
		if got := l.Count(c.host, c.method, c.prefix); got != c.want {
			t.Errorf("Count(%q, %q, %q) = %d, want %d", c.host, c.method, c.prefix, got, c.want)
		}
	}
}
