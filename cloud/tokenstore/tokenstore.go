// Package tokenstore keeps OAuth2 tokens of every cloud account in one JSON
// file, <dir>/tokens.json, readable by its owner only.
//
// The file maps an account name to its token. Every write replaces the whole
// file atomically (a temporary file in the same directory, written, synced
// and renamed over the old one), so a crash leaves either the old or the new
// content, never a torn file.
package tokenstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/oauth2"
)

// FileName is the name of the token file inside the store's directory.
const FileName = "tokens.json"

// Store is the token file of one installation. It is safe for concurrent use
// within one process.
type Store struct {
	dir  string
	path string
	mu   sync.Mutex // held while the file is read or replaced

	// Saves waiting for the next write: one write (two fsyncs) stores the
	// tokens of every account that refreshed meanwhile, as at start when
	// all accounts refresh at once.
	queueMu sync.Mutex
	queue   map[string]*oauth2.Token
	batch   *saveBatch

	// beforeRename, when set, runs after the temporary file is written and
	// before it replaces the token file; an error aborts the write.
	beforeRename func(tmp string) error
}

// Open returns the store in dir, creating dir with mode 0700 when missing. It
// refuses a token file that group or others may read or write, and says how to
// fix it.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("tokenstore: empty directory: set state_dir to a private directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tokenstore: create %s: %w", dir, err)
	}
	s := &Store{dir: dir, path: filepath.Join(dir, FileName)}
	if err := s.checkMode(); err != nil {
		return nil, err
	}
	if _, err := s.read(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path returns the token file's path.
func (s *Store) Path() string { return s.path }

func (s *Store) checkMode() error {
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tokenstore: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("tokenstore: %s has mode %04o and may be read or written by other users; fix it with: chmod 600 %s", s.path, perm, s.path)
	}
	return nil
}

// read loads the whole file; a missing file is an empty store.
func (s *Store) read() (map[string]*oauth2.Token, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*oauth2.Token{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tokenstore: read %s: %w", s.path, err)
	}
	m := map[string]*oauth2.Token{}
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("tokenstore: %s is not valid JSON (%v); move it away and log in again", s.path, err)
	}
	return m, nil
}

// Load returns the token saved for account, and whether there is one.
func (s *Store) Load(account string) (*oauth2.Token, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkMode(); err != nil {
		return nil, false, err
	}
	m, err := s.read()
	if err != nil {
		return nil, false, err
	}
	t, ok := m[account]
	if !ok || t == nil {
		return nil, false, nil
	}
	return t, true, nil
}

// saveBatch is the saves one write stores; done is closed once it is
// written or failed (readErr: the file could not be read; writeErr: not
// replaced).
type saveBatch struct {
	done              chan struct{}
	readErr, writeErr error
}

// Save stores tok for account, replacing the file atomically, and returns
// once the file holds it. Saves of several accounts at once share a write.
func (s *Store) Save(account string, tok *oauth2.Token) error {
	if tok == nil {
		return fmt.Errorf("tokenstore: save %s: nil token", account)
	}
	s.queueMu.Lock()
	if s.batch == nil {
		s.queue, s.batch = map[string]*oauth2.Token{}, &saveBatch{done: make(chan struct{})}
	}
	s.queue[account] = tok
	mine := s.batch
	s.queueMu.Unlock()

	// Whoever holds the file next writes every queued save, ours included
	// unless an earlier writer already took it.
	s.mu.Lock()
	s.queueMu.Lock()
	queued, batch := s.queue, s.batch
	s.queue, s.batch = nil, nil
	s.queueMu.Unlock()
	if batch != nil {
		batch.readErr, batch.writeErr = s.writeSaves(queued)
		close(batch.done)
	}
	s.mu.Unlock()
	<-mine.done
	if mine.readErr != nil {
		return mine.readErr
	}
	if mine.writeErr != nil {
		return fmt.Errorf("tokenstore: save %s: %w", account, mine.writeErr)
	}
	return nil
}

// writeSaves adds the queued tokens to the file. Call with s.mu held.
func (s *Store) writeSaves(queued map[string]*oauth2.Token) (readErr, writeErr error) {
	m, err := s.read()
	if err != nil {
		return err, nil
	}
	for account, tok := range queued {
		m[account] = tok
	}
	return nil, s.write(m)
}

// Delete removes account's token; deleting a missing account is no error.
func (s *Store) Delete(account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.read()
	if err != nil {
		return err
	}
	if _, ok := m[account]; !ok {
		return nil
	}
	delete(m, account)
	if err := s.write(m); err != nil {
		return fmt.Errorf("tokenstore: delete %s: %w", account, err)
	}
	return nil
}

// write replaces the file with m: temp file, 0600, write, fsync, rename,
// fsync of the directory.
func (s *Store) write(m map[string]*oauth2.Token) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, "."+FileName+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if s.beforeRename != nil {
		if err := s.beforeRename(tmp); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Usable returns the account's stored token when it holds an access or a
// refresh token; nil when there is none, when s is nil, or when the store
// cannot be read (that failure is logged).
func (s *Store) Usable(account string, log *slog.Logger) *oauth2.Token {
	if s == nil {
		return nil
	}
	t, ok, err := s.Load(account)
	if err != nil {
		if log != nil {
			log.Warn("reading the token store failed", "err", err)
		}
		return nil
	}
	if !ok || (t.AccessToken == "" && t.RefreshToken == "") {
		return nil
	}
	return t
}
