package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Validate checks every value and returns all problems together, one per
// line, each naming the key and the fix. An empty mqtt.url passes (demo mode
// starts its own broker); connecting then fails with a clear message.
// Accounts without credentials pass as well: `auth login` fills the token
// store later.
func (c *Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(c.MQTT.validate())
	if _, err := ParseLevel(c.LogLevel); err != nil {
		add(err)
	}
	if strings.TrimSpace(c.StateDir) == "" {
		add(errors.New("state_dir: is empty: set a directory for the token store, e.g. ./state"))
	}
	seen := map[string]int{}
	for i, a := range c.Accounts {
		add(a.validate(fmt.Sprintf("accounts[%d]", i)))
		if a.Name == "" {
			continue
		}
		if j, dup := seen[a.Name]; dup {
			add(fmt.Errorf("accounts[%d].name: %q is already used by accounts[%d]: give every account its own name", i, a.Name, j))
			continue
		}
		seen[a.Name] = i
	}
	return errors.Join(errs...)
}

func (m MQTT) validate() error {
	var errs []error
	if m.URL != "" {
		if err := validateBrokerURL(m.URL); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, validateTopicRoot("mqtt.base_topic", m.BaseTopic, DefaultBaseTopic))
	errs = append(errs, validateTopicRoot("mqtt.discovery_prefix", m.DiscoveryPrefix, DefaultDiscoveryPrefix))
	if (m.TLS.Cert == "") != (m.TLS.Key == "") {
		errs = append(errs, errors.New("mqtt.tls.cert and mqtt.tls.key: set both (client certificate and its key) or neither"))
	} else if _, err := m.TLSConfig(); err != nil {
		errs = append(errs, err)
	}
	if m.URL != "" && m.TLS != (TLS{}) {
		if u, err := url.Parse(m.URL); err == nil && !tlsScheme(strings.ToLower(u.Scheme)) {
			errs = append(errs, fmt.Errorf("mqtt.tls: TLS options are set but mqtt.url uses %s://: use mqtts://, ssl:// or wss:// to connect with TLS", u.Scheme))
		}
	}
	return errors.Join(errs...)
}

// validateBrokerURL checks mqtt.url without showing its password.
func validateBrokerURL(raw string) error {
	const fix = "use e.g. tcp://127.0.0.1:1883 or mqtts://broker.example:8883"
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("mqtt.url: %q is not a URL: %s", redactURL(raw), fix)
	}
	switch strings.ToLower(u.Scheme) {
	case "tcp", "mqtt", "ssl", "mqtts", "tls", "ws", "wss":
	case "":
		return fmt.Errorf("mqtt.url: %q has no scheme: %s", u.Redacted(), fix)
	default:
		return fmt.Errorf("mqtt.url: scheme %q is not supported: use tcp, mqtt, ssl, mqtts, tls, ws or wss (%s)", u.Scheme, fix)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("mqtt.url: %q has no host: %s", u.Redacted(), fix)
	}
	return nil
}

func tlsScheme(s string) bool {
	switch s {
	case "ssl", "mqtts", "tls", "wss":
		return true
	}
	return false
}

// validateTopicRoot checks a topic prefix: not empty, no wildcards, no
// leading, trailing or doubled '/'.
func validateTopicRoot(key, v, def string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s: is empty: set a topic prefix such as %q", key, def)
	case strings.ContainsAny(v, "+#"):
		return fmt.Errorf("%s: %q contains an MQTT wildcard (+ or #): use plain topic levels such as %q", key, v, def)
	case strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/"):
		return fmt.Errorf("%s: %q starts or ends with '/': remove it, e.g. %q", key, v, strings.Trim(v, "/"))
	case strings.Contains(v, "//"):
		return fmt.Errorf("%s: %q has an empty topic level ('//'): remove the extra '/'", key, v)
	case strings.ContainsRune(v, 0):
		return fmt.Errorf("%s: contains a NUL character: remove it", key)
	}
	return nil
}

// slugRE matches an account name.
func slugRE() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`) }

func (a Account) validate(p string) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case a.Name == "":
		add("%s.name: is missing: give the account a short name of a-z, 0-9, '_' and '-', e.g. \"wink\"", p)
	case !slugRE().MatchString(a.Name):
		add("%s.name: %q is not a slug: use only a-z, 0-9, '_' and '-' (it becomes part of MQTT topics), e.g. %q", p, a.Name, slugify(a.Name))
	}
	switch a.Cloud {
	case CloudWink:
		if a.ClientID == "" {
			add("%s.client_id: is missing for a wink account: set the OAuth client id from the Wink developer portal (or %s)", p, envHint(a.Name, "client_id"))
		}
	case "":
		add("%s.cloud: is missing: set it to %q", p, CloudWink)
	default:
		add("%s.cloud: %q is not supported: use %q", p, a.Cloud, CloudWink)
	}
	if (a.Email == "") != (a.Password == "") {
		add("%s.email and %s.password: set both for the password login, or neither", p, p)
	}
	if a.APIURL != "" {
		if u, err := url.Parse(a.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("%s.api_url: %q is not an http(s) URL: use e.g. %s", p, redactURL(a.APIURL), DefaultWinkAPIURL)
		}
	}
	if a.PubNubOrigin != "" {
		if err := validateOrigin(a.PubNubOrigin); err != nil {
			add("%s.pubnub_origin: %v", p, err)
		}
	}
	return errors.Join(errs...)
}

// validateOrigin accepts "host[:port]" or "http(s)://host[:port]".
func validateOrigin(o string) error {
	const fix = `use "host[:port]" for TLS or "http://host:port" for plain HTTP`
	host := o
	if strings.Contains(o, "://") {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
			return fmt.Errorf("%q is not a valid origin: %s", redactURL(o), fix)
		}
		return nil
	}
	if strings.ContainsAny(host, "/@ ") {
		return fmt.Errorf("%q is not a valid origin: %s", o, fix)
	}
	if strings.Contains(host, ":") {
		h, port, err := net.SplitHostPort(host)
		if err != nil || h == "" || port == "" {
			return fmt.Errorf("%q is not a valid origin: %s", o, fix)
		}
	}
	return nil
}

func envHint(name, key string) string {
	if name == "" {
		return "its environment variable"
	}
	return AccountEnvVar(name, key)
}

// slugify suggests a valid account name for s.
func slugify(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '.':
			b.WriteRune('-')
		}
	}
	out := strings.TrimLeft(b.String(), "-_")
	if out == "" {
		return "account1"
	}
	return out
}
