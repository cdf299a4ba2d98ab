package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v3"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// Account is one cloud account: the keys every account has, and the
// cloud's own keys decoded by its registration into Settings.
type Account struct {
	// Name identifies the account in topics: a slug of [a-z0-9_-].
	Name string `mapstructure:"name" yaml:"name"`
	// Cloud is the registered cloud's name (accounts[].cloud).
	Cloud string `mapstructure:"cloud" yaml:"cloud"`
	// RedirectURI overrides auth.redirect_uri for this account's client.
	RedirectURI string `mapstructure:"redirect_uri" yaml:"redirect_uri"`
	// Settings are the cloud's own keys (client_id, api_url, …); nil when
	// the cloud is not registered.
	Settings cloud.Settings `mapstructure:"-" yaml:"-"`

	secrets []string // keys of Settings masked when shown
}

// commonAccountKeys are the keys of Account itself.
var commonAccountKeys = []string{"name", "cloud", "redirect_uri"}

// decodeAccounts decodes accounts: each entry's common keys, then its
// cloud's own keys (with CLOUD2MQTT_ACCOUNT_<NAME>_<KEY> winning over the
// file) into the cloud's Settings. Unknown keys and values of the wrong type
// are reported by path.
func decodeAccounts(raw any, clouds *cloud.Registry) ([]Account, []error) {
	list, ok := raw.([]any)
	if raw == nil {
		return nil, nil
	}
	if !ok {
		return nil, []error{fmt.Errorf("accounts: must be a list, not %s", kindOf(raw))}
	}
	var (
		out  []Account
		errs []error
	)
	for i, entry := range list {
		path := fmt.Sprintf("accounts[%d]", i)
		m, ok := entry.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: must be a mapping of keys (name, cloud, …), not %s", path, kindOf(entry)))
			continue
		}
		a, aerrs := decodeAccount(path, lowerKeys(m), clouds)
		out = append(out, a)
		errs = append(errs, aerrs...)
	}
	return out, errs
}

func decodeAccount(path string, m map[string]any, clouds *cloud.Registry) (Account, []error) {
	var a Account
	var errs []error
	for _, k := range commonAccountKeys {
		v, ok := m[k]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			errs = append(errs, fmt.Errorf("%s.%s: must be a single text value, not %s", path, k, kindOf(v)))
			continue
		}
		switch k {
		case "name":
			a.Name = s
		case "cloud":
			a.Cloud = s
		case "redirect_uri":
			a.RedirectURI = s
		}
	}
	if v, ok := os.LookupEnv(cloud.AccountEnvVar(a.Name, "redirect_uri")); ok && a.Name != "" {
		a.RedirectURI = v
	}
	reg, ok := clouds.Lookup(a.Cloud)
	if !ok {
		return a, errs // Validate names the cloud
	}
	settings := reg.Settings()
	keys := settingsKeys(reflect.TypeOf(settings).Elem())
	own := map[string]any{}
	for _, k := range sortedKeys(m) {
		if slices.Contains(commonAccountKeys, k) {
			continue
		}
		if !slices.Contains(keys, k) {
			errs = append(errs, unknownKeyError(path+"."+k, k, append(slices.Clone(commonAccountKeys), keys...)))
			continue
		}
		own[k] = m[k]
	}
	if a.Name != "" {
		for _, k := range keys {
			if v, ok := os.LookupEnv(cloud.AccountEnvVar(a.Name, k)); ok {
				own[k] = v
			}
		}
	}
	for _, k := range sortedKeys(own) {
		if err := decodeKey(settings, k, own[k]); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w: fix the value in the file or in %s", path, k, err, cloud.EnvHint(a.Name, k)))
		}
	}
	if d, ok := settings.(cloud.Defaulter); ok {
		d.ApplyDefaults()
	}
	a.Settings, a.secrets = settings, reg.Secrets
	return a, errs
}

// decodeKey decodes one key's value into settings, converting text to
// numbers, booleans and durations as YAML and the environment give them.
func decodeKey(settings cloud.Settings, key string, value any) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           settings,
		WeaklyTypedInput: true,
		DecodeHook:       mapstructure.StringToTimeDurationHookFunc(),
	})
	if err != nil {
		return err
	}
	if err := dec.Decode(map[string]any{key: value}); err != nil {
		var de *mapstructure.DecodeError
		if errors.As(err, &de) && de.Unwrap() != nil {
			return de.Unwrap()
		}
		return err
	}
	return nil
}

// settingsKeys returns the keys of a settings struct, from its mapstructure
// tags.
func settingsKeys(t reflect.Type) []string {
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || tagName(f) == "-" {
			continue
		}
		keys = append(keys, tagName(f))
	}
	return keys
}

func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// validate checks the account's name and cloud, then lets the cloud check
// its own keys.
func (a Account) validate(p string, clouds *cloud.Registry) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case a.Name == "":
		add("%s.name: is missing: give the account a short name of a-z, 0-9, '_' and '-', e.g. \"home\"", p)
	case !slugRE().MatchString(a.Name):
		add("%s.name: %q is not a slug: use only a-z, 0-9, '_' and '-' (it becomes part of MQTT topics), e.g. %q", p, a.Name, slugify(a.Name))
	case a.Name == "bridge":
		add("%s.name: \"bridge\" is the bridge's own topic level (<base>/bridge/...): choose another name, e.g. \"home\"", p)
	}
	if a.Settings == nil {
		errs = append(errs, clouds.UnknownError(p, a.Cloud))
		return errors.Join(errs...)
	}
	if a.RedirectURI != "" {
		if err := cloud.CheckHTTPURL(p+".redirect_uri", a.RedirectURI, "http://127.0.0.1:8765/callback"); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, a.Settings.Validate(p, a.Name))
	return errors.Join(errs...)
}

// Keys returns the account's own keys and their values in the order of
// the cloud's settings, secrets masked when redacted is true.
func (a Account) Keys(redacted bool) []cloud.KeyValue {
	if a.Settings == nil {
		return nil
	}
	v := reflect.ValueOf(a.Settings).Elem()
	t := v.Type()
	var out []cloud.KeyValue
	for i := range t.NumField() {
		f := t.Field(i)
		key := tagName(f)
		if !f.IsExported() || key == "-" {
			continue
		}
		val := v.Field(i).Interface()
		if redacted {
			val = redactValue(val, slices.Contains(a.secrets, key))
		}
		out = append(out, cloud.KeyValue{Key: key, Value: val})
	}
	return out
}

func redactValue(v any, secret bool) any {
	switch x := v.(type) {
	case string:
		if secret {
			return redact(x)
		}
		return cloud.RedactURL(x)
	case time.Duration:
		return x.String()
	}
	return v
}

// MarshalYAML writes the account as config.yaml holds it, secrets masked.
func (a Account) MarshalYAML() (any, error) {
	keys := []string{"name", "cloud"}
	values := []any{a.Name, a.Cloud}
	if a.RedirectURI != "" {
		keys, values = append(keys, "redirect_uri"), append(values, a.RedirectURI)
	}
	for _, kv := range a.Keys(true) {
		keys, values = append(keys, kv.Key), append(values, kv.Value)
	}
	nodes, err := valueNodes(values)
	if err != nil {
		// The key at fault, found by encoding each value on its own.
		for i, v := range values {
			var n yaml.Node
			if kerr := n.Encode(v); kerr != nil {
				return nil, fmt.Errorf("account %s: key %s: %w", a.Name, keys[i], kerr)
			}
		}
		return nil, fmt.Errorf("account %s: %w", a.Name, err)
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Content: make([]*yaml.Node, 0, 2*len(keys))}
	for i, k := range keys {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, nodes[i])
	}
	return n, nil
}

// valueNodes are the YAML nodes of values, as Node.Encode makes each, from
// one Encode of them all: Encode writes its value out as text and parses
// it back, which, once per value, cost a millisecond and 2 MB at every
// start for ten accounts.
func valueNodes(values []any) ([]*yaml.Node, error) {
	var seq yaml.Node
	if err := seq.Encode(values); err != nil {
		return nil, err
	}
	if seq.Kind != yaml.SequenceNode || len(seq.Content) != len(values) {
		return nil, fmt.Errorf("encode %d values: got %d nodes", len(values), len(seq.Content))
	}
	return seq.Content, nil
}

// NewAccount decodes and validates an account from its keys, as if
// config.yaml held them (the demo's accounts for the emulators).
func NewAccount(clouds *cloud.Registry, name, cloudName string, keys []cloud.KeyValue) (Account, error) {
	m := map[string]any{"name": name, "cloud": cloudName}
	for _, kv := range keys {
		m[kv.Key] = kv.Value
	}
	path := "account " + name
	a, errs := decodeAccount(path, m, clouds)
	errs = append(errs, a.validate(path, clouds))
	return a, errors.Join(errs...)
}
