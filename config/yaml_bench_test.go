package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/config"
)

// BenchmarkYAML measures the redacted YAML of a configuration of ten Wink
// accounts, which the bridge makes at every start for bridge/info.
func BenchmarkYAML(b *testing.B) {
	var s strings.Builder
	s.WriteString("mqtt:\n  url: tcp://127.0.0.1:1883\naccounts:\n")
	for i := range 10 {
		fmt.Fprintf(&s, "  - name: wink-%d\n    cloud: wink\n    client_id: cid\n    client_secret: csecret\n    refresh_token: rtoken%d\n    api_url: http://127.0.0.1:%d\n", i, i, 30000+i)
	}
	p := filepath.Join(b.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(s.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	c, err := config.Load(p, nil, clouds())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.YAML(); err != nil {
			b.Fatal(err)
		}
	}
}
