package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/config"
)

const secretMarker = "s3cretpw"

var secretUse = regexp.MustCompile(`(?m)^\s*(- )?(client_secret|password|refresh_token): s3cretpw\s*$|` +
	`(?m)^\s*url: [a-z]+://[a-z]+:s3cretpw@[a-z0-9.]+(:[0-9]+)?\s*$`)

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
		_, err := config.Load(path, nil, clouds())
		// The marker counts as a secret only where every use of it is a
		// secret (a password in a URL, a password or client secret key):
		// as, say, a whole mqtt.url it may rightly be quoted.
		text := string(content)
		n := strings.Count(text, secretMarker)
		if err != nil && n > 0 && len(secretUse.FindAllString(text, -1)) == n && strings.Contains(err.Error(), secretMarker) {
			t.Fatalf("error shows the secret: %v", err)
		}
	})
}
