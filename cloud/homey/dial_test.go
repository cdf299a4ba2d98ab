package homey

import "testing"

func TestDashedIP(t *testing.T) {
	for host, want := range map[string]string{
		"192-168-1-100.homey.homeylocal.com": "192.168.1.100",
		"127-0-0-1.homey.homeylocal.com":     "127.0.0.1",
		"12-34-56-78.homey.homeylocal.com":   "12.34.56.78",
		"homey.homeylocal.com":               "",
		"a.b.homey.homeylocal.com":           "",
		"300-1-1-1.homey.homeylocal.com":     "",
		"192-168-1-100.example.com":          "",
		"abc.connect.athom.com":              "",
	} {
		if got := dashedIP(host); got != want {
			t.Errorf("dashedIP(%q) = %q, want %q", host, got, want)
		}
	}
}
