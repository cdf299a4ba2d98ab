package mqtt

import (
	"strings"
	"testing"
)

func TestParseBrokerURL(t *testing.T) {
	cases := []struct {
		in, want, user, pass string
	}{
		{"tcp://127.0.0.1:1883", "tcp://127.0.0.1:1883", "", ""},
		{"mqtt://broker", "mqtt://broker:1883", "", ""},
		{"MQTTS://broker", "mqtts://broker:8883", "", ""},
		{"ssl://broker", "ssl://broker:8883", "", ""},
		{"tls://broker:9883", "tls://broker:9883", "", ""},
		{"ws://broker/mqtt", "ws://broker:80/mqtt", "", ""},
		{"wss://broker/mqtt", "wss://broker:443/mqtt", "", ""},
		{"tcp://[::1]", "tcp://[::1]:1883", "", ""},
		{"tcp://bridge:p%40ss@broker:1884", "tcp://broker:1884", "bridge", "p@ss"},
	}
	for _, tc := range cases {
		b, err := parseBrokerURL(tc.in)
		if err != nil {
			t.Errorf("parseBrokerURL(%q): %v", tc.in, err)
			continue
		}
		if b.u.String() != tc.want || b.username != tc.user || b.password != tc.pass {
			t.Errorf("parseBrokerURL(%q) = %s %q %q, want %s %q %q", tc.in, b.u, b.username, b.password, tc.want, tc.user, tc.pass)
		}
	}
}

func TestParseBrokerURLErrors(t *testing.T) {
	cases := map[string]string{
		"":                         "mqtt.url is empty",
		"127.0.0.1:1883":           "mqtt.url",
		"http://broker":            `unsupported scheme "http"`,
		"tcp://":                   "no host",
		"tcp://broker:1883/topic":  "has a path",
		"broker":                   "no scheme",
		"tcp://u:secret@bro ker:1": "mqtt.url",
	}
	for in, want := range cases {
		_, err := parseBrokerURL(in)
		if err == nil {
			t.Errorf("parseBrokerURL(%q) succeeded", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("parseBrokerURL(%q) = %q, want it to mention %q", in, err, want)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("parseBrokerURL(%q) error shows the password: %q", in, err)
		}
	}
}

func TestValidFilter(t *testing.T) {
	for _, f := range []string{"a/b", "a/+/c", "#", "a/#", "+", "+/+"} {
		if err := validFilter(f); err != nil {
			t.Errorf("validFilter(%q) = %v", f, err)
		}
	}
	for _, f := range []string{"", "a/#/b", "a/b+", "a#", "a/+b/c"} {
		if err := validFilter(f); err == nil {
			t.Errorf("validFilter(%q) accepted", f)
		}
	}
}
