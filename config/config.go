// Package config loads and validates cloud2mqtt's configuration.
//
// Sources, from lowest to highest precedence: built-in defaults, a YAML file,
// environment variables CLOUD2MQTT_<SECTION>_<KEY> (for example
// CLOUD2MQTT_MQTT_URL or CLOUD2MQTT_LOG_LEVEL), per-account variables
// CLOUD2MQTT_ACCOUNT_<NAME>_<KEY> (for example
// CLOUD2MQTT_ACCOUNT_WINK_CLIENT_SECRET) and finally command-line flags. The
// result is an immutable snapshot: the file is read once and never watched.
//
// Every error names the key (for example accounts[0].client_id) and says how
// to fix it; all problems are reported together. Secrets are replaced by
// "***" in Redacted and YAML.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix is the prefix of every configuration environment variable.
const EnvPrefix = "CLOUD2MQTT"

// DefaultFile is the configuration file read when Load gets no path and the
// file exists in the working directory.
const DefaultFile = "config.yaml"

// Default values.
const (
	DefaultBaseTopic       = "cloud2mqtt"
	DefaultDiscoveryPrefix = "homeassistant"
	DefaultStateDir        = "./state"
	DefaultLogLevel        = "info"
	DefaultWebListen       = "127.0.0.1:8099"
	DefaultCallbackListen  = "127.0.0.1:8765"
	DefaultOutput          = "json"
	DefaultAvailability    = "state"
	DefaultDiscovery       = "device"
	// DefaultBirthDelay lets Home Assistant finish starting before
	// discovery and state are sent again.
	DefaultBirthDelay = "2s"
	// DefaultCommandLifetime is how long a command is retried.
	DefaultCommandLifetime = "30s"
	// DefaultCommandMaxRate is the cloud calls a second per device.
	DefaultCommandMaxRate = 5.0
	// DefaultConfirmAfter is the wait for a push that shows a command.
	DefaultConfirmAfter = "3s"
)

// redactedValue replaces secrets in Redacted and YAML.
const redactedValue = "***"

// Config is the whole configuration.
type Config struct {
	MQTT     MQTT      `mapstructure:"mqtt" yaml:"mqtt"`
	StateDir string    `mapstructure:"state_dir" yaml:"state_dir"` // tokens live here
	LogLevel string    `mapstructure:"log_level" yaml:"log_level"` // debug|info|warn|error
	Accounts []Account `mapstructure:"accounts" yaml:"accounts"`
	// Output is how device state is published: json, attribute or
	// attribute_and_json.
	Output string `mapstructure:"output" yaml:"output"`
	// Availability is where device availability is published: state (in
	// the JSON state) or topic (also on <device>/availability).
	Availability  string        `mapstructure:"availability" yaml:"availability"`
	HomeAssistant HomeAssistant `mapstructure:"homeassistant" yaml:"homeassistant"`
	// Devices holds per-device options.
	Devices  []Device `mapstructure:"devices" yaml:"devices"`
	Web      Web      `mapstructure:"web" yaml:"web"`
	Auth     Auth     `mapstructure:"auth" yaml:"auth"`
	Commands Commands `mapstructure:"commands" yaml:"commands"`

	clouds *cloud.Registry // the clouds accounts[].cloud may name
}

// HomeAssistant configures discovery.
type HomeAssistant struct {
	// Discovery is device (device-based, Home Assistant 2024.11 and later),
	// component (one config per entity, for older versions) or off.
	Discovery string `mapstructure:"discovery" yaml:"discovery"`
	// BirthDelay is how long to wait after Home Assistant announces itself
	// online before discovery and state are published again.
	BirthDelay time.Duration `mapstructure:"birth_delay" yaml:"birth_delay"`
}

// Device holds the options of one device.
type Device struct {
	Account    string `mapstructure:"account" yaml:"account"`       // account name
	ID         string `mapstructure:"id" yaml:"id"`                 // the cloud's id, as in bridge/devices
	Exclude    bool   `mapstructure:"exclude" yaml:"exclude"`       // not published
	Topic      string `mapstructure:"topic" yaml:"topic"`           // topic level of one's own
	Optimistic bool   `mapstructure:"optimistic" yaml:"optimistic"` // publish commanded state at once
}

// Web configures the status page served by run.
type Web struct {
	// Listen is the page's address; "off" turns it off.
	Listen string `mapstructure:"listen" yaml:"listen"`
	// Password is required when Listen is not a loopback address.
	Password string `mapstructure:"password" yaml:"password"`
	// PublicURL is the page's address as a browser reaches it, used for the
	// login callback; default http://<listen>.
	PublicURL string `mapstructure:"public_url" yaml:"public_url"`
}

// Commands configures how accepted commands reach the clouds.
type Commands struct {
	// Lifetime is how long a command that the cloud has not applied yet is
	// retried before it is reported failed.
	Lifetime time.Duration `mapstructure:"lifetime" yaml:"lifetime"`
	// MaxRate is how many cloud calls a second one device gets at most;
	// commands arriving faster merge, the latest value winning.
	MaxRate float64 `mapstructure:"max_rate" yaml:"max_rate"`
	// ConfirmAfter is how long after a command a device is re-read when no
	// push has shown the new value; 0 never re-reads.
	ConfirmAfter time.Duration `mapstructure:"confirm_after" yaml:"confirm_after"`
}

// Auth configures `cloud2mqtt auth login`.
type Auth struct {
	// CallbackListen is the address of the local callback server.
	CallbackListen string `mapstructure:"callback_listen" yaml:"callback_listen"`
	// RedirectURI is the callback as registered for the OAuth client;
	// default http://<callback_listen>/callback.
	RedirectURI string `mapstructure:"redirect_uri" yaml:"redirect_uri"`
}

// MQTT is the broker connection and the topic layout.
type MQTT struct {
	// URL of the broker, e.g. tcp://127.0.0.1:1883 or mqtts://host:8883.
	// Empty means none is configured (demo mode then starts its own).
	URL      string `mapstructure:"url" yaml:"url"`
	Username string `mapstructure:"username" yaml:"username"`
	Password string `mapstructure:"password" yaml:"password"`
	ClientID string `mapstructure:"client_id" yaml:"client_id"`
	// BaseTopic is the first topic level of everything the bridge publishes.
	BaseTopic string `mapstructure:"base_topic" yaml:"base_topic"`
	// DiscoveryPrefix is Home Assistant's discovery prefix.
	DiscoveryPrefix string `mapstructure:"discovery_prefix" yaml:"discovery_prefix"`
	TLS             TLS    `mapstructure:"tls" yaml:"tls"`
}

// TLS configures TLS to the broker. CA, Cert and Key are PEM file paths.
type TLS struct {
	CA                 string `mapstructure:"ca" yaml:"ca"`
	Cert               string `mapstructure:"cert" yaml:"cert"`
	Key                string `mapstructure:"key" yaml:"key"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify" yaml:"insecure_skip_verify"`
}

// flagKey is a command-line flag and the configuration key it sets.
type flagKey struct{ flag, key string }

// flagKeys returns the flags Load honours.
func flagKeys() []flagKey {
	return []flagKey{
		{"mqtt-url", "mqtt.url"},
		{"base-topic", "mqtt.base_topic"},
		{"log-level", "log_level"},
		{"state-dir", "state_dir"},
	}
}

// defaults returns every scalar key with its default value.
func defaults() map[string]any {
	return map[string]any{
		"mqtt.url":                      "",
		"mqtt.username":                 "",
		"mqtt.password":                 "",
		"mqtt.client_id":                "",
		"mqtt.base_topic":               DefaultBaseTopic,
		"mqtt.discovery_prefix":         DefaultDiscoveryPrefix,
		"mqtt.tls.ca":                   "",
		"mqtt.tls.cert":                 "",
		"mqtt.tls.key":                  "",
		"mqtt.tls.insecure_skip_verify": false,
		"state_dir":                     DefaultStateDir,
		"log_level":                     DefaultLogLevel,
		"accounts":                      []any{},
		"output":                        DefaultOutput,
		"availability":                  DefaultAvailability,
		"homeassistant.discovery":       DefaultDiscovery,
		"homeassistant.birth_delay":     DefaultBirthDelay,
		"devices":                       []any{},
		"web.listen":                    DefaultWebListen,
		"web.password":                  "",
		"web.public_url":                "",
		"auth.callback_listen":          DefaultCallbackListen,
		"commands.lifetime":             DefaultCommandLifetime,
		"commands.max_rate":             DefaultCommandMaxRate,
		"commands.confirm_after":        DefaultConfirmAfter,
		"auth.redirect_uri":             "",
	}
}

// Load reads the configuration. path "" reads ./config.yaml when it exists
// and otherwise uses defaults and the environment only; an explicit path that
// does not exist is an error. flags may be nil; of it, the flags mqtt-url,
// base-topic, log-level and state-dir are used when set on the command line.
// Each account's own keys are decoded and validated by the cloud clouds
// holds under its accounts[].cloud. The result is validated; all problems
// are returned together, one per line.
func Load(path string, flags *pflag.FlagSet, clouds *cloud.Registry) (*Config, error) {
	if clouds == nil {
		clouds = cloud.NewRegistry()
	}
	data, src, err := readFile(path)
	if err != nil {
		return nil, err
	}

	defaultKeys := defaults()
	l := newLayers(defaultKeys)
	var errs []error
	if data != nil {
		var raw any
		if err := yaml.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("config: %s is not valid YAML: %w", src, err)
		}
		errs = append(errs, unknownKeys(raw)...)
		switch doc := raw.(type) {
		case map[string]any:
			l.mergeFile(doc)
		case nil: // an empty file
		default:
			return nil, fmt.Errorf("config: %s: %w", src, errors.Join(errs...))
		}
	}
	l.mergeEnv(defaultKeys)
	if flags != nil {
		for _, fk := range flagKeys() {
			if f := flags.Lookup(fk.flag); f != nil && f.Changed {
				l.set(fk.key, f.Value.String())
			}
		}
	}

	c := Config{clouds: clouds}
	if err := l.decode(&c); err != nil {
		errs = append(errs, fmt.Errorf("%w (fix the value's type in %s or the environment)", err, src))
	} else {
		accounts, aerrs := decodeAccounts(l.get("accounts"), clouds)
		c.Accounts = accounts
		errs = append(errs, aerrs...)
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("config: invalid configuration (%s):\n%w", src, errors.Join(errs...))
	}
	return &c, nil
}

// readFile returns the file's content and a description of the source for
// messages. A nil content means no file.
func readFile(path string) ([]byte, string, error) {
	if path == "" {
		data, err := os.ReadFile(DefaultFile)
		switch {
		case err == nil:
			return data, DefaultFile, nil
		case errors.Is(err, os.ErrNotExist):
			return nil, "defaults and environment", nil
		default:
			return nil, "", fmt.Errorf("config: read %s: %w", DefaultFile, err)
		}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("config: file %q does not exist: check the path given with --config, or omit it to use ./%s or defaults and environment", path, DefaultFile)
	}
	if err != nil {
		return nil, "", fmt.Errorf("config: read %q: %w", path, err)
	}
	return data, path, nil
}

// AccountEnvVar returns the environment variable that sets key of the
// account named name, e.g. CLOUD2MQTT_ACCOUNT_WINK_HOME_CLIENT_SECRET for
// ("wink-home", "client_secret").
func AccountEnvVar(name, key string) string { return cloud.AccountEnvVar(name, key) }

// Redacted returns a copy in which every secret that is set (passwords,
// the password in mqtt.url) reads "***"; accounts mask their cloud's
// secret keys (client secrets, refresh tokens, API keys) whenever they are
// written out as YAML.
func (c *Config) Redacted() *Config {
	r := *c
	r.MQTT.Password = redact(r.MQTT.Password)
	r.MQTT.URL = redactURL(r.MQTT.URL)
	r.Web.Password = redact(r.Web.Password)
	r.Devices = append([]Device(nil), c.Devices...)
	r.Accounts = append([]Account(nil), c.Accounts...) // each masks its secrets when shown
	return &r
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redactedValue
}

// redactURL hides the password of a URL's user info.
func redactURL(s string) string { return cloud.RedactURL(s) }

// YAML returns the redacted configuration as YAML, in the file's format.
func (c *Config) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c.Redacted()); err != nil {
		return nil, fmt.Errorf("config: encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: encode YAML: %w", err)
	}
	return b.Bytes(), nil
}

// ParseLevel parses a log level: debug, info, warn (or warning) or error,
// in any case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level: %q is not a level: use debug, info, warn or error", s)
}

// knownKeys returns the keys of a struct type from its mapstructure tags.
func knownKeys(t reflect.Type) []string {
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			keys = append(keys, tagName(t.Field(i)))
		}
	}
	return keys
}

func tagName(f reflect.StructField) string {
	if tag, ok := f.Tag.Lookup("mapstructure"); ok {
		if name, _, _ := strings.Cut(tag, ","); name != "" {
			return name
		}
	}
	return strings.ToLower(f.Name)
}
