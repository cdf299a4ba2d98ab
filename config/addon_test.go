package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
)

// addonConfig is the part of the Home Assistant add-on's config.yaml that
// maps to configuration keys.
type addonConfig struct {
	Options     map[string]any `yaml:"options"`
	Schema      map[string]any `yaml:"schema"`
	IngressPort int            `yaml:"ingress_port"`
}

func readAddon(t *testing.T) addonConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ha-addon", "cloud2mqtt", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var a addonConfig
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("ha-addon/cloud2mqtt/config.yaml: %v", err)
	}
	return a
}

// schemaKeys checks every key of the add-on schema node against the
// configuration type t, the way unknownKeys checks a file.
func schemaKeys(t *testing.T, path string, node any, typ reflect.Type) {
	t.Helper()
	switch n := node.(type) {
	case map[string]any:
		if typ == reflect.TypeFor[Account]() {
			accountSchemaKeys(t, path, n)
			return
		}
		if typ.Kind() != reflect.Struct {
			t.Errorf("add-on schema %s is a mapping, but the configuration key is a single value", path)
			return
		}
		known := knownKeys(typ)
		for k, v := range n {
			i := slices.Index(known, k)
			if i < 0 {
				t.Errorf("add-on schema %s: no configuration key %q (known: %s)", path, k, strings.Join(known, ", "))
				continue
			}
			schemaKeys(t, join(path, k), v, typ.Field(i).Type)
		}
	case []any:
		if typ.Kind() != reflect.Slice || len(n) != 1 {
			t.Errorf("add-on schema %s is a list of one item type, but the configuration key is %s", path, typ.Kind())
			return
		}
		schemaKeys(t, path+"[]", n[0], typ.Elem())
	case string:
		if typ.Kind() == reflect.Struct || typ.Kind() == reflect.Slice {
			t.Errorf("add-on schema %s is a single value (%s), but the configuration key is a %s", path, n, typ.Kind())
		}
	}
}

// accountSchemaKeys checks an account's schema keys against the common
// account keys and those of every registered cloud, and its cloud choices
// against the registered names.
func accountSchemaKeys(t *testing.T, path string, n map[string]any) {
	t.Helper()
	clouds := addonClouds()
	known := slices.Clone(commonAccountKeys)
	for _, reg := range clouds.Registrations() {
		known = append(known, settingsKeys(reflect.TypeOf(reg.Settings()).Elem())...)
	}
	for k := range n {
		if !slices.Contains(known, k) {
			t.Errorf("add-on schema %s: no account key %q in any cloud (known: %s)", path, k, strings.Join(known, ", "))
		}
	}
	if want := "list(" + strings.Join(clouds.Names(), "|") + ")"; n["cloud"] != want {
		t.Errorf("add-on schema %s.cloud = %v, want %s", path, n["cloud"], want)
	}
}

// addonClouds are the clouds the add-on offers.
func addonClouds() *cloud.Registry {
	r := cloud.NewRegistry()
	wink.Register(r)
	homey.Register(r)
	return r
}

func TestAddonOptionsAreConfigurationKeys(t *testing.T) {
	a := readAddon(t)
	schemaKeys(t, "", a.Schema, reflect.TypeFor[Config]())
	for k := range a.Options {
		if _, ok := a.Schema[k]; !ok {
			t.Errorf("add-on option %s has no schema entry", k)
		}
	}
	for k := range a.Schema {
		if _, ok := a.Options[k]; !ok {
			t.Errorf("add-on schema %s has no default in options", k)
		}
	}
}

// The options as Home Assistant writes them to /data/options.json, with a
// user's account filled in, are a configuration cloud2mqtt loads as is.
func TestAddonOptionsLoad(t *testing.T) {
	a := readAddon(t)
	opts := a.Options
	opts["web"] = map[string]any{"password": "chosen-in-the-ui", "public_url": ""}
	opts["accounts"] = []any{map[string]any{"name": "home", "cloud": "homey", "client_id": "id", "client_secret": "secret"}}
	b, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "options.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// As the add-on's Dockerfile sets them.
	t.Setenv("CLOUD2MQTT_STATE_DIR", "/data/state")
	t.Setenv("CLOUD2MQTT_WEB_LISTEN", "0.0.0.0:8099")
	c, err := Load(path, nil, addonClouds())
	if err != nil {
		t.Fatalf("the add-on's options do not load: %v", err)
	}
	if c.MQTT.URL != "tcp://core-mosquitto:1883" || c.Web.Listen != "0.0.0.0:8099" || len(c.Accounts) != 1 || c.Accounts[0].Cloud != "homey" {
		t.Errorf("loaded %+v", c)
	}
	if a.IngressPort != 8099 {
		t.Errorf("ingress_port %d, but the add-on's page listens on 8099", a.IngressPort)
	}
}
