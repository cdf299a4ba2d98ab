// Package tokensource keeps one account's OAuth2 token for a cloud client:
// the stored token first, then the configured refresh token, then the
// cloud's first login (such as a password grant); refreshed before expiry
// and after a 401, with one refresh for all concurrent callers; every new
// token, rotated refresh token included, saved the moment it arrives; a
// rejected grant sticky until a new login appears in the store.
package tokensource

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
)

// Refresher runs the cloud's refresh grant with refreshToken.
type Refresher func(ctx context.Context, refreshToken string) (*oauth2.Token, error)

// Options configures a Source.
type Options struct {
	Cloud   string // the cloud's name, for errors
	Account string // the account; also the token store key
	// Store keeps the token; nil keeps it in memory only.
	Store *tokenstore.Store
	// Configured is accounts[].refresh_token, used when the store has none.
	Configured string
	// Refresh runs the refresh grant.
	Refresh Refresher
	// FirstLogin, when set, obtains a token with nothing to refresh (a
	// password grant); without it such an account needs a login.
	FirstLogin func(ctx context.Context) (*oauth2.Token, error)
	// ExpiredFix, when set, is the fix named when the access token expired
	// and nothing renews it (a bare configured access token).
	ExpiredFix string
	Logger     *slog.Logger // nil discards
}

// Source is the account's token. It is safe for concurrent use.
type Source struct {
	o   Options
	log *slog.Logger

	mu            sync.Mutex
	tok           *oauth2.Token
	gen           int    // counts installed tokens
	grants        int    // counts grants run
	failed        error  // sticky *cloud.AuthError until new credentials appear
	failedRefresh string // the refresh token that was rejected
}

// New returns a Source with no token read yet.
func New(o Options) *Source {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{o: o, log: log}
}

// Token returns a valid token and its generation, obtaining one when the
// current one is missing or expired.
func (s *Source) Token(ctx context.Context) (*oauth2.Token, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLocked(ctx); err != nil {
		return nil, 0, err
	}
	return s.tok, s.gen, nil
}

// Refresh renews the token after the cloud refused generation gen (a
// 401), unless another caller already did since.
func (s *Source) Refresh(ctx context.Context, gen int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.ensureLocked(ctx)
	}
	if gen != s.gen && s.tok != nil {
		return nil
	}
	refresh, access := "", ""
	if s.tok != nil {
		refresh, access = s.tok.RefreshToken, s.tok.AccessToken
	}
	// The refused token is kept, expired, so that an account with nothing
	// to renew it learns that its access token ended.
	s.tok = &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: time.Unix(1, 0)}
	return s.obtainLocked(ctx)
}

// Renew proves the credentials to the cloud now: it runs the refresh grant
// (or the first login) even while the access token is valid, unless
// getting the token just ran one, and saves what rotates. renewed is false
// when nothing can renew this token (no refresh token, no first login): the
// token then still works, but only until it expires.
func (s *Source) Renew(ctx context.Context) (tok *oauth2.Token, renewed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.grants
	if err := s.ensureLocked(ctx); err != nil {
		return nil, false, err
	}
	if s.grants != before {
		return s.tok, true, nil
	}
	if s.tok.RefreshToken == "" && s.o.FirstLogin == nil {
		return s.tok, false, nil
	}
	cur := s.tok
	s.tok = &oauth2.Token{RefreshToken: cur.RefreshToken, Expiry: time.Unix(1, 0)}
	if err := s.obtainLocked(ctx); err != nil {
		if s.failed == nil {
			s.tok = cur // not a rejection: the valid token stays
		}
		return nil, false, err
	}
	return s.tok, true, nil
}

// Install adopts t (from a code exchange) and saves it.
func (s *Source) Install(t *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installLocked(t)
}

// Expiry is when the current access token ends: zero when none is held or
// its end is unknown.
func (s *Source) Expiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		if st := s.Stored(); st != nil {
			return st.Expiry
		}
		return time.Time{}
	}
	return s.tok.Expiry
}

// Current returns the token held now (nil before the first call), without
// obtaining one.
func (s *Source) Current() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return s.Stored()
	}
	t := *s.tok
	return &t
}

// Stored returns the usable token in the store, or nil.
func (s *Source) Stored() *oauth2.Token { return s.o.Store.Usable(s.o.Account, s.log) }

// Failed returns the sticky rejection, nil while the credentials work.
func (s *Source) Failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// ensureLocked makes s.tok valid: the current one, the stored one, the
// configured refresh token or the first login, in that order.
func (s *Source) ensureLocked(ctx context.Context) error {
	if s.failed != nil {
		st := s.Stored()
		if st == nil || st.RefreshToken == s.failedRefresh {
			return s.failed
		}
		s.log.Info("new credentials found in the token store")
		s.failed, s.tok = nil, st
		s.gen++
	}
	if s.tok == nil {
		switch st := s.Stored(); {
		case st != nil:
			s.tok = st
		case s.o.Configured != "":
			s.tok = &oauth2.Token{RefreshToken: s.o.Configured}
		default:
			s.tok = &oauth2.Token{}
		}
		s.gen++
	}
	if s.tok.Valid() {
		return nil
	}
	return s.obtainLocked(ctx)
}

// obtainLocked replaces the invalid s.tok: by the refresh grant when it has
// a refresh token, else by the first login. The call outlives ctx: a
// refresh token is single-use, and an answer lost to a cancelled caller
// would force a new login (the HTTP client's timeout still bounds it).
func (s *Source) obtainLocked(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	s.grants++
	refresh := s.tok.RefreshToken
	var (
		t   *oauth2.Token
		err error
	)
	switch {
	case refresh != "":
		t, err = s.o.Refresh(ctx, refresh)
	case s.o.FirstLogin != nil:
		t, err = s.o.FirstLogin(ctx)
	case s.tok.AccessToken != "":
		ae := &cloud.AuthError{Cloud: s.o.Cloud, Account: s.o.Account, Code: cloud.CodeNoRefreshToken,
			Reason: "the access token expired and there is no refresh token"}
		if s.o.ExpiredFix != "" {
			ae.Cause, ae.Fix = "the access token expired and nothing can renew it", s.o.ExpiredFix
		}
		err = ae
	default:
		err = s.authError(cloud.CodeNoCredentials, "no stored token and no accounts[].refresh_token")
	}
	if err != nil {
		var ae *cloud.AuthError
		if errors.As(err, &ae) {
			s.failed, s.failedRefresh = err, refresh
		}
		return err
	}
	s.installLocked(t)
	return nil
}

func (s *Source) authError(code, reason string) error {
	return &cloud.AuthError{Cloud: s.o.Cloud, Account: s.o.Account, Code: code, Reason: reason}
}

func (s *Source) installLocked(t *oauth2.Token) {
	if t.RefreshToken == "" && s.tok != nil {
		t.RefreshToken = s.tok.RefreshToken
	}
	s.tok = t
	s.gen++
	s.failed = nil
	if s.o.Store != nil {
		if err := s.o.Store.Save(s.o.Account, t); err != nil {
			s.log.Error("saving the new token failed; a restart will need a new login", "err", err)
		}
	}
}
