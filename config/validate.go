package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
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
	switch c.Output {
	case "json", "attribute", "attribute_and_json":
	default:
		add(fmt.Errorf("output: %q: use json, attribute or attribute_and_json", c.Output))
	}
	switch c.Availability {
	case "state", "topic":
	default:
		add(fmt.Errorf("availability: %q: use state (in each device's JSON state) or topic (also on <device>/availability)", c.Availability))
	}
	switch c.HomeAssistant.Discovery {
	case "device", "component", "off":
	default:
		add(fmt.Errorf("homeassistant.discovery: %q: use device (Home Assistant 2024.11 and later), component (older versions) or off", c.HomeAssistant.Discovery))
	}
	if c.HomeAssistant.BirthDelay < 0 {
		add(errors.New("homeassistant.birth_delay: must not be negative: use e.g. 5s"))
	}
	add(c.Web.validate())
	add(c.Commands.validate())
	for i, d := range c.Devices {
		p := fmt.Sprintf("devices[%d]", i)
		if d.Account == "" || d.ID == "" {
			add(fmt.Errorf("%s: needs account and id (the cloud's id as listed in <base>/bridge/devices or by `cloud2mqtt devices`)", p))
		}
		if d.Topic != "" && (strings.ContainsAny(d.Topic, "/#+") || strings.TrimSpace(d.Topic) == "") {
			add(fmt.Errorf("%s.topic: %q must be one topic level without '/', '#' or '+', e.g. desk_lamp", p, d.Topic))
		}
	}
	seen := map[string]int{}
	for i, a := range c.Accounts {
		add(a.validate(fmt.Sprintf("accounts[%d]", i), c.registry()))
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

// registry is the clouds accounts may name (none for a Config built by
// hand).
func (c *Config) registry() *cloud.Registry {
	if c.clouds == nil {
		return cloud.NewRegistry()
	}
	return c.clouds
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

// validate checks the command settings.
func (c Commands) validate() error {
	var errs []error
	if c.Lifetime < time.Second {
		errs = append(errs, fmt.Errorf("commands.lifetime: %s is too short: use at least 1s, e.g. %s", c.Lifetime, DefaultCommandLifetime))
	}
	if c.MaxRate <= 0 || math.IsInf(c.MaxRate, 0) || math.IsNaN(c.MaxRate) {
		errs = append(errs, fmt.Errorf("commands.max_rate: %v: use a number of calls per second above 0, e.g. %v", c.MaxRate, DefaultCommandMaxRate))
	}
	if c.ConfirmAfter < 0 {
		errs = append(errs, fmt.Errorf("commands.confirm_after: must not be negative: use e.g. %s, or 0 to never re-read", DefaultConfirmAfter))
	}
	return errors.Join(errs...)
}

// validate checks the status page settings.
func (w Web) validate() error {
	if w.Listen == "" || w.Listen == "off" {
		return nil
	}
	host, _, err := net.SplitHostPort(w.Listen)
	if err != nil {
		return fmt.Errorf("web.listen: %q is not host:port: use e.g. %s, or off", w.Listen, DefaultWebListen)
	}
	if !isLoopback(host) && w.Password == "" {
		return fmt.Errorf("web.listen: %s is reachable beyond this machine: set web.password (or CLOUD2MQTT_WEB_PASSWORD), or listen on 127.0.0.1", w.Listen)
	}
	return nil
}

// isLoopback tells whether host only accepts connections from this machine.
func isLoopback(host string) bool { return cloud.IsLoopback(host) }
