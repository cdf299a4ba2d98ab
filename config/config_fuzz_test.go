package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad loads any config.yaml: no panic, and an error never shows a
// secret that the file set.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("mqtt:\n  url: tcp://u:s3cretpw@broker:1883\naccounts:\n  - {name: wink, cloud: wink, client_secret: s3cretpw}\n"))
	f.Add([]byte("log_level: loud\nmqtt: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, nil)
		if err != nil && strings.Contains(string(content), "s3cretpw") && strings.Contains(err.Error(), "s3cretpw") {
			t.Fatalf("error shows the secret: %v", err)
		}
	})
}
