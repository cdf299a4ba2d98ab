package tokensource

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
)

// fakeCloud rotates refresh tokens like Wink and Athom: each one works once.
type fakeCloud struct {
	calls atomic.Int32
	mu    sync.Mutex
	valid map[string]bool
	n     int
}

func (f *fakeCloud) refresh(_ context.Context, refresh string) (*oauth2.Token, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.valid[refresh] {
		return nil, &cloud.AuthError{Cloud: "fake", Account: "a", Code: "invalid_grant", OAuth: true}
	}
	delete(f.valid, refresh)
	f.n++
	next := "rt-" + string(rune('a'+f.n))
	f.valid[next] = true
	return &oauth2.Token{AccessToken: "at-" + next, RefreshToken: next, Expiry: time.Now().Add(time.Hour)}, nil
}

func newSource(t *testing.T, f *fakeCloud, configured string) (*Source, *tokenstore.Store) {
	t.Helper()
	store, err := tokenstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Cloud: "fake", Account: "a", Store: store, Configured: configured, Refresh: f.refresh}), store
}

func TestConcurrentCallersShareOneRefreshAndTheRotationIsSaved(t *testing.T) {
	f := &fakeCloud{valid: map[string]bool{"seed": true}}
	s, store := newSource(t, f, "seed")
	ctx := context.Background()
	first, gen, err := s.Token(ctx)
	if err != nil || f.calls.Load() != 1 {
		t.Fatalf("first token: %v, %d calls", err, f.calls.Load())
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Refresh(ctx, gen); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if f.calls.Load() != 2 {
		t.Fatalf("8 callers after one 401 made %d refreshes, want 1", f.calls.Load()-1)
	}
	now, _, _ := s.Token(ctx)
	saved, ok, err := store.Load("a")
	if err != nil || !ok || saved.RefreshToken != now.RefreshToken || now.AccessToken == first.AccessToken {
		t.Fatalf("stored %+v, current %+v", saved, now)
	}
}

func TestRejectedGrantIsStickyUntilANewLogin(t *testing.T) {
	f := &fakeCloud{valid: map[string]bool{}}
	s, store := newSource(t, f, "revoked")
	ctx := context.Background()
	_, _, err := s.Token(ctx)
	var ae *cloud.AuthError
	if !errors.As(err, &ae) || !errors.Is(err, cloud.ErrAuth) {
		t.Fatalf("Token = %v, want an AuthError", err)
	}
	_, _, _ = s.Token(ctx)
	if f.calls.Load() != 1 {
		t.Fatalf("a rejected grant was sent %d times", f.calls.Load())
	}
	// A new login lands in the store (another process ran `auth login`).
	if err := store.Save("a", &oauth2.Token{AccessToken: "new", RefreshToken: "rt-new", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Token(ctx)
	if err != nil || tok.AccessToken != "new" || s.Failed() != nil {
		t.Fatalf("after a new login: %v, %v", tok, err)
	}
}

func TestNothingToStartFromNamesTheProblem(t *testing.T) {
	s, _ := newSource(t, &fakeCloud{}, "")
	_, _, err := s.Token(context.Background())
	var ae *cloud.AuthError
	if !errors.As(err, &ae) || ae.Code != cloud.CodeNoCredentials || ae.OAuthCode() != "" {
		t.Fatalf("Token = %v, want no_credentials", err)
	}
	logins := 0
	s.o.FirstLogin = func(context.Context) (*oauth2.Token, error) {
		logins++
		return &oauth2.Token{AccessToken: "pw", Expiry: time.Now().Add(time.Hour)}, nil
	}
	s.failed = nil
	if tok, _, err := s.Token(context.Background()); err != nil || tok.AccessToken != "pw" || logins != 1 {
		t.Fatalf("first login: %v, %v, %d", tok, err, logins)
	}
	if s.Expiry().IsZero() {
		t.Error("expiry unknown after a token with expires_in")
	}
}
