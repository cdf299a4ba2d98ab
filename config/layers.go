package config

import (
	"os"
	"reflect"
	"strings"

	"github.com/go-viper/mapstructure/v2"
)

// layers is the configuration as one tree of settings, keys in lower case,
// built from the lowest layer up: defaults, the file, the environment, the
// command line.
type layers struct {
	tree map[string]any
}

// newLayers starts the tree with the defaults, keyed "section.key".
func newLayers(defaults map[string]any) *layers {
	l := &layers{tree: map[string]any{}}
	for key, v := range defaults {
		l.set(key, v)
	}
	return l
}

// set puts a value at a dotted key, making the sections on its way; a
// section that held a single value becomes a section.
func (l *layers) set(key string, v any) {
	path := strings.Split(strings.ToLower(key), ".")
	m := l.tree
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// mergeFile lays the file's document over the tree: its sections are
// merged key by key, case-insensitively, and its values (lists included)
// replace what was there; an empty value (`output:` or `mqtt: ~`) leaves
// the default.
func (l *layers) mergeFile(doc map[string]any) { mergeInto(l.tree, doc) }

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		k = strings.ToLower(k)
		if v == nil {
			continue
		}
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
			fresh := map[string]any{}
			mergeInto(fresh, sm)
			dst[k] = fresh
			continue
		}
		dst[k] = v
	}
}

// mergeEnv sets each of the known keys (those of the defaults) from its
// environment variable, when that is set and not empty: CLOUD2MQTT_ and
// the key in upper case with "_" for ".", e.g. CLOUD2MQTT_MQTT_URL for
// mqtt.url.
func (l *layers) mergeEnv(known map[string]any) {
	for key := range known {
		if v := os.Getenv(envVar(key)); v != "" {
			l.set(key, v)
		}
	}
}

// envVar is the environment variable that sets a configuration key, e.g.
// CLOUD2MQTT_MQTT_URL for mqtt.url.
func envVar(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// get returns the value at a top-level key.
func (l *layers) get(key string) any { return l.tree[key] }

// decode fills out from the tree as the file's keys name its fields
// (mapstructure tags): text converts to numbers, booleans and durations
// ("30s"), as environment variables and flags are text.
func (l *layers) decode(out any) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		WeaklyTypedInput: true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			splitCommas,
		),
		Result: out,
	})
	if err != nil {
		return err
	}
	return dec.Decode(l.tree)
}

// splitCommas makes a list of a text value ("a,b"), as an environment
// variable gives one.
func splitCommas(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() != reflect.Slice {
		return data, nil
	}
	s := data.(string)
	if s == "" {
		return []string{}, nil
	}
	return strings.Split(s, ","), nil
}
