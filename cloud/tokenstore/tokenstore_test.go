package tokenstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func tok(n int) *oauth2.Token {
	return &oauth2.Token{
		AccessToken:  fmt.Sprintf("access-%d", n),
		RefreshToken: fmt.Sprintf("refresh-%d", n),
		TokenType:    "bearer",
		Expiry:       time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestSaveLoadDelete(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("dir mode %04o, want 0700", perm)
	}
	if _, ok, err := s.Load("wink"); err != nil || ok {
		t.Fatalf("Load on empty store = %v, %v", ok, err)
	}
	if err := s.Save("wink", tok(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("other", tok(2)); err != nil {
		t.Fatal(err)
	}
	fi, err = os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %04o, want 0600", perm)
	}

	// A second Store on the same directory sees the saved tokens.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.Load("wink")
	if err != nil || !ok {
		t.Fatalf("Load = %v, %v", ok, err)
	}
	if got.AccessToken != "access-1" || got.RefreshToken != "refresh-1" || !got.Expiry.Equal(tok(1).Expiry) {
		t.Errorf("loaded %+v", got)
	}
	if err := s2.Delete("wink"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Load("wink"); ok {
		t.Error("token still there after Delete")
	}
	if got, ok, _ := s.Load("other"); !ok || got.AccessToken != "access-2" {
		t.Error("Delete removed another account's token")
	}
	if err := s.Delete("missing"); err != nil {
		t.Errorf("Delete of a missing account: %v", err)
	}
}

func TestOpenRefusesWorldReadableFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil {
		t.Fatal("Open accepted a 0644 token file")
	}
	if want := "chmod 600 " + path; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not give the fix %q", err, want)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Errorf("Open after chmod 600: %v", err)
	}
}

func TestConcurrentSaves(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Save(fmt.Sprintf("acct-%d", i), tok(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 20 {
		got, ok, err := s.Load(fmt.Sprintf("acct-%d", i))
		if err != nil || !ok || got.AccessToken != fmt.Sprintf("access-%d", i) {
			t.Errorf("acct-%d: %v %v %v", i, got, ok, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path()), ".*tmp*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// Saves that arrive while the file is being written wait for one write
// that stores them all, and each returns only once its token is in the
// file.
func TestSavesDuringAWriteShareTheNext(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	inWrite, release := make(chan struct{}), make(chan struct{})
	var writes int
	s.beforeRename = func(string) error {
		writes++
		if writes == 1 {
			close(inWrite)
			<-release
		}
		return nil
	}
	first := make(chan error, 1)
	go func() { first <- s.Save("acct-0", tok(0)) }()
	<-inWrite
	const others = 9
	var wg sync.WaitGroup
	for i := 1; i <= others; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Save(fmt.Sprintf("acct-%d", i), tok(i)); err != nil {
				t.Error(err)
				return
			}
			s2, err := Open(filepath.Dir(s.Path()))
			if err != nil {
				t.Error(err)
				return
			}
			if got, ok, err := s2.Load(fmt.Sprintf("acct-%d", i)); err != nil || !ok || got.AccessToken != fmt.Sprintf("access-%d", i) {
				t.Errorf("acct-%d after Save returned: %v %v %v", i, got, ok, err)
			}
		}()
	}
	// Let the others queue behind the first write.
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.queueMu.Lock()
		n := len(s.queue)
		s.queueMu.Unlock()
		if n == others || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if writes != 2 {
		t.Errorf("%d writes for %d saves, want 2: the first and one for all that waited", writes, others+1)
	}
}

func TestFailedWriteKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save("wink", tok(1)); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("power lost")
	s.beforeRename = func(tmp string) error {
		// The new content is fully written but not yet in place.
		b, err := os.ReadFile(tmp)
		if err != nil || !strings.Contains(string(b), "access-2") {
			t.Errorf("temporary file not written: %v", err)
		}
		return crash
	}
	if err := s.Save("wink", tok(2)); !errors.Is(err, crash) {
		t.Fatalf("Save error = %v, want the crash", err)
	}
	s.beforeRename = nil
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.Load("wink")
	if err != nil || !ok || got.AccessToken != "access-1" {
		t.Fatalf("after failed write: %v %v %v, want the old token", got, ok, err)
	}
}

func TestLeftoverTempFileIgnored(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save("wink", tok(1)); err != nil {
		t.Fatal(err)
	}
	// A process died halfway through writing a temporary file.
	if err := os.WriteFile(filepath.Join(dir, "."+FileName+".tmp-123"), []byte(`{"wink":{"access_tok`), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.Load("wink")
	if err != nil || !ok || got.AccessToken != "access-1" {
		t.Fatalf("Load = %v %v %v", got, ok, err)
	}
	if err := s2.Save("wink", tok(3)); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptFileNamed(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("Open of a corrupt file: %v", err)
	}
}

func TestUsableSkipsEmptyAndMissingTokens(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if s.Usable("wink", nil) != nil {
		t.Error("a missing token is usable")
	}
	if err := s.Save("wink", &oauth2.Token{}); err != nil {
		t.Fatal(err)
	}
	if s.Usable("wink", nil) != nil {
		t.Error("an empty token is usable")
	}
	if err := s.Save("wink", &oauth2.Token{RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	if tok := s.Usable("wink", nil); tok == nil || tok.RefreshToken != "r" {
		t.Errorf("Usable = %v, want the stored refresh token", tok)
	}
	var none *Store
	if none.Usable("wink", nil) != nil {
		t.Error("a nil store has a usable token")
	}
}
