package config_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEConfigurationLoads keeps the README's configuration example
// valid: it must load without an error.
func TestREADMEConfigurationLoads(t *testing.T) {
	clearEnv(t)
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n")
	if !ok {
		t.Fatal("README has no yaml block")
	}
	block, _, _ := strings.Cut(rest, "```")
	c := mustLoad(t, writeFile(t, block), nil)
	if len(c.Accounts) != 3 || len(c.Devices) != 3 || c.Web.Listen != "127.0.0.1:8099" {
		t.Errorf("README configuration read as %d accounts, %d devices, web %q", len(c.Accounts), len(c.Devices), c.Web.Listen)
	}
}
