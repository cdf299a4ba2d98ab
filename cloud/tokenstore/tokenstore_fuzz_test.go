package tokenstore

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad reads any tokens.json: no panic, and a store that cannot be
// read says so as an error.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"wink":{"access_token":"a","refresh_token":"r","expiry":"2030-01-01T00:00:00Z"}}`,
		`{"wink":null}`, `{"wink":{"expiry":"not a time"}}`, `[]`, `{"wink":{"access_token":1}}`} {
		f.Add([]byte(s))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "tokens.json"), content, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir)
		if err != nil {
			return
		}
		tok, ok, err := s.Load("wink")
		if err == nil && ok && tok == nil {
			t.Fatalf("Load reported a token but gave nil for %q", content)
		}
		_ = s.Usable("wink", log)
	})
}
