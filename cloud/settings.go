package cloud

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Defaulter is implemented by Settings whose defaults depend on other keys
// (a Homey's cloud URL only when no local address is set). The
// configuration calls ApplyDefaults after decoding, before Validate.
type Defaulter interface {
	ApplyDefaults()
}

// redactedValue replaces secrets wherever the configuration is shown.
const redactedValue = "***"

// RedactURL hides the password of a URL's user info. A string that does
// not parse but looks like it carries user info is hidden as a whole.
func RedactURL(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			return redactedValue
		}
		return s
	}
	if u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), redactedValue)
	}
	return strings.Replace(u.String(), url.QueryEscape(redactedValue), redactedValue, 1)
}

// CheckHTTPURL checks that raw is an http(s) URL with a host; key names it
// in the message and example is a value that would do.
func CheckHTTPURL(key, raw, example string) error {
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an http(s) URL: use e.g. %s", key, RedactURL(raw), example)
	}
	return nil
}

// CheckSecretURL checks a URL that client secrets and tokens are sent to:
// https, or http to this machine only, and no user info.
func CheckSecretURL(key, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%s: %q is not a plain https URL: use e.g. https://login.example.com/verify", key, RedactURL(raw))
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%s: %q would send the client secret unencrypted: use https (http only to 127.0.0.1)", key, RedactURL(raw))
}

// IsLoopback tells whether host only accepts connections from this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
