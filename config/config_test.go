package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/config"
)

// writeFile writes a config file into a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clearEnv makes sure no CLOUD2MQTT_ configuration variable from the
// machine leaks into a test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, config.EnvPrefix+"_") {
			t.Setenv(k, "")
			_ = os.Unsetenv(k)
		}
	}
}

// clouds are the clouds the tests' configurations name.
func clouds() *cloud.Registry {
	r := cloud.NewRegistry()
	wink.Register(r)
	homey.Register(r)
	return r
}

// winkSettings returns a Wink account's own keys.
func winkSettings(t *testing.T, a config.Account) *wink.Settings {
	t.Helper()
	s, ok := a.Settings.(*wink.Settings)
	if !ok {
		t.Fatalf("account %s: settings %T, want *wink.Settings", a.Name, a.Settings)
	}
	return s
}

// homeySettings returns a Homey account's own keys.
func homeySettings(t *testing.T, a config.Account) *homey.Settings {
	t.Helper()
	s, ok := a.Settings.(*homey.Settings)
	if !ok {
		t.Fatalf("account %s: settings %T, want *homey.Settings", a.Name, a.Settings)
	}
	return s
}

func mustLoad(t *testing.T, path string, flags *pflag.FlagSet) *config.Config {
	t.Helper()
	c, err := config.Load(path, flags, clouds())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func loadErr(t *testing.T, content string) string {
	t.Helper()
	_, err := config.Load(writeFile(t, content), nil, clouds())
	if err == nil {
		t.Fatalf("Load succeeded, want an error for:\n%s", content)
	}
	return err.Error()
}

func contains(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("error does not contain %q:\n%s", w, got)
		}
	}
}

func TestDefaults(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	c := mustLoad(t, "", nil)
	if c.MQTT.BaseTopic != "cloud2mqtt" || c.MQTT.DiscoveryPrefix != "homeassistant" ||
		c.StateDir != "./state" || c.LogLevel != "info" || c.MQTT.URL != "" || len(c.Accounts) != 0 ||
		c.Availability != "state" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestDefaultFileInWorkingDirectory(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("log_level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if c := mustLoad(t, "", nil); c.LogLevel != "debug" {
		t.Fatalf("log_level = %q, want debug from ./config.yaml", c.LogLevel)
	}
}

func TestExplicitMissingFile(t *testing.T) {
	clearEnv(t)
	p := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := config.Load(p, nil, clouds())
	if err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	contains(t, err.Error(), p, "does not exist")
}

func TestPrecedenceFileEnvFlags(t *testing.T) {
	clearEnv(t)
	p := writeFile(t, `
mqtt:
  url: tcp://file:1883
  base_topic: fromfile
  username: fileuser
state_dir: /file/state
log_level: warn
`)
	// File only.
	c := mustLoad(t, p, nil)
	if c.MQTT.URL != "tcp://file:1883" || c.MQTT.BaseTopic != "fromfile" || c.LogLevel != "warn" || c.StateDir != "/file/state" {
		t.Fatalf("file values not used: %+v", c)
	}

	// Environment beats the file, including keys only set in the environment.
	t.Setenv("CLOUD2MQTT_MQTT_URL", "tcp://env:1883")
	t.Setenv("CLOUD2MQTT_LOG_LEVEL", "error")
	t.Setenv("CLOUD2MQTT_MQTT_PASSWORD", "envpass")
	t.Setenv("CLOUD2MQTT_MQTT_DISCOVERY_PREFIX", "ha")
	t.Setenv("CLOUD2MQTT_STATE_DIR", "/env/state")
	c = mustLoad(t, p, nil)
	if c.MQTT.URL != "tcp://env:1883" || c.LogLevel != "error" || c.MQTT.Password != "envpass" ||
		c.MQTT.DiscoveryPrefix != "ha" || c.StateDir != "/env/state" || c.MQTT.Username != "fileuser" {
		t.Fatalf("environment does not override the file: %+v", c)
	}

	// Flags beat the environment, but only when set on the command line.
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("mqtt-url", "tcp://flagdefault:1883", "")
	fs.String("base-topic", "", "")
	fs.String("log-level", "info", "")
	fs.String("state-dir", "", "")
	if err := fs.Parse([]string{"--mqtt-url=tcp://flag:1883", "--base-topic=fromflag", "--state-dir=/flag/state"}); err != nil {
		t.Fatal(err)
	}
	c = mustLoad(t, p, fs)
	if c.MQTT.URL != "tcp://flag:1883" || c.MQTT.BaseTopic != "fromflag" || c.StateDir != "/flag/state" {
		t.Fatalf("flags do not override: %+v", c)
	}
	if c.LogLevel != "error" {
		t.Fatalf("unset flag log-level overrode the environment: %q", c.LogLevel)
	}
}

func TestTLSFromEnvironment(t *testing.T) {
	clearEnv(t)
	ca, _, _ := writeCert(t)
	t.Setenv("CLOUD2MQTT_MQTT_URL", "mqtts://broker.example")
	t.Setenv("CLOUD2MQTT_MQTT_TLS_CA", ca)
	t.Setenv("CLOUD2MQTT_MQTT_TLS_INSECURE_SKIP_VERIFY", "true")
	t.Chdir(t.TempDir())
	c := mustLoad(t, "", nil)
	if c.MQTT.TLS.CA != ca || !c.MQTT.TLS.InsecureSkipVerify {
		t.Fatalf("TLS from env not applied: %+v", c.MQTT.TLS)
	}
}

func TestAccountSecretsFromEnvironment(t *testing.T) {
	clearEnv(t)
	p := writeFile(t, `
accounts:
  - name: wink-home
    cloud: wink
    client_id: cid
`)
	t.Setenv("CLOUD2MQTT_ACCOUNT_WINK_HOME_CLIENT_SECRET", "s3cret")
	t.Setenv("CLOUD2MQTT_ACCOUNT_WINK_HOME_REFRESH_TOKEN", "rt-123")
	c := mustLoad(t, p, nil)
	a := winkSettings(t, c.Accounts[0])
	if a.ClientSecret != "s3cret" || a.RefreshToken != "rt-123" || a.ClientID != "cid" {
		t.Fatalf("account env not applied: %+v", a)
	}
	if a.APIURL != "https://api.wink.com" {
		t.Fatalf("api_url default = %q", a.APIURL)
	}
	if got := config.AccountEnvVar("wink-home", "client_secret"); got != "CLOUD2MQTT_ACCOUNT_WINK_HOME_CLIENT_SECRET" {
		t.Fatalf("AccountEnvVar = %s", got)
	}
}

func TestUnknownKeys(t *testing.T) {
	clearEnv(t)
	msg := loadErr(t, `
mqtt:
  url: tcp://h:1883
  basetopic: x
  tls:
    cafile: /x
loglevel: debug
accounts:
  - name: wink
    cloud: wink
    clien_id: abc
frobnicate: 1
state_dir: ""
`)
	contains(t, msg,
		`mqtt.basetopic: unknown key; did you mean "base_topic"?`,
		`mqtt.tls.cafile: unknown key; did you mean "ca"?`,
		`loglevel: unknown key; did you mean "log_level"?`,
		`accounts[0].clien_id: unknown key; did you mean "client_id"?`,
		`frobnicate: unknown key; known keys here: mqtt, state_dir, log_level, accounts`,
		// Bad values are reported along with the unknown keys.
		`accounts[0].client_id: is missing`,
		`state_dir: is empty`,
	)
	// All problems are reported, one per line.
	if n := strings.Count(msg, "\n"); n < 5 {
		t.Errorf("want one problem per line, got:\n%s", msg)
	}
}

func TestWrongShapes(t *testing.T) {
	clearEnv(t)
	contains(t, loadErr(t, "mqtt: tcp://h:1883\n"), "mqtt: must be a mapping")
	contains(t, loadErr(t, "accounts:\n  name: wink\n"), "accounts: must be a list")
	contains(t, loadErr(t, "mqtt:\n  url: [a, b]\n"), "mqtt.url: must be a single value")
	contains(t, loadErr(t, "mqtt: [\n"), "not valid YAML")
	contains(t, loadErr(t, "mqtt:\n  tls:\n    insecure_skip_verify: maybe\n"), "insecure_skip_verify")
	contains(t, loadErr(t, "- mqtt\n- web\n"), "the configuration file: must be a mapping of keys (mqtt, state_dir,")
}

// An empty value in the file (a section or key with nothing after it)
// leaves the default, and keys are read in any case.
func TestEmptyValuesKeepDefaults(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, writeFile(t, "mqtt:\noutput: ~\nCommands:\n  Max_Rate: 8\n"), nil)
	if c.MQTT.BaseTopic != "cloud2mqtt" || c.Output != "json" || c.Commands.MaxRate != 8 {
		t.Errorf("base_topic %q, output %q, commands.max_rate %v", c.MQTT.BaseTopic, c.Output, c.Commands.MaxRate)
	}
}

func TestValidationErrors(t *testing.T) {
	clearEnv(t)
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"url scheme", "mqtt:\n  url: http://h:1883\n", []string{"mqtt.url", `scheme "http"`, "tcp"}},
		{"url no host", "mqtt:\n  url: tcp://\n", []string{"mqtt.url", "no host"}},
		{"log level", "log_level: verbose\n", []string{"log_level", `"verbose"`, "debug, info, warn or error"}},
		{"base topic wildcard", "mqtt:\n  base_topic: a/#\n", []string{"mqtt.base_topic", "wildcard"}},
		{"base topic slash", "mqtt:\n  base_topic: /c2m/\n", []string{"mqtt.base_topic", `e.g. "c2m"`}},
		{"discovery prefix", "mqtt:\n  discovery_prefix: ha/+\n", []string{"mqtt.discovery_prefix", "wildcard"}},
		{"empty state dir", "state_dir: ''\n", []string{"state_dir", "is empty"}},
		{"tls cert without key", "mqtt:\n  url: mqtts://h\n  tls:\n    cert: /c.pem\n", []string{"mqtt.tls.cert and mqtt.tls.key"}},
		{"tls with plain url", "mqtt:\n  url: tcp://h\n  tls:\n    insecure_skip_verify: true\n", []string{"mqtt.tls", "tcp://", "mqtts://"}},
		{"tls ca missing", "mqtt:\n  url: mqtts://h\n  tls:\n    ca: /does/not/exist.pem\n", []string{"mqtt.tls.ca", "/does/not/exist.pem", "no such file"}},
		{"account name missing", "accounts:\n  - cloud: wink\n    client_id: x\n", []string{"accounts[0].name: is missing"}},
		{"account name slug", "accounts:\n  - name: My Wink\n    cloud: wink\n    client_id: x\n", []string{"accounts[0].name", "not a slug", `"my-wink"`}},
		{"duplicate names", "accounts:\n  - {name: w, cloud: wink, client_id: x}\n  - {name: w, cloud: wink, client_id: y}\n", []string{"accounts[1].name", "already used by accounts[0]"}},
		{"cloud unknown", "accounts:\n  - {name: h, cloud: smartthings}\n", []string{"accounts[0].cloud", `"smartthings" is not supported`, `"wink"`}},
		{"cloud missing", "accounts:\n  - {name: h}\n", []string{"accounts[0].cloud: is missing"}},
		{"wink client id", "accounts:\n  - {name: w, cloud: wink}\n", []string{"accounts[0].client_id", "missing", "CLOUD2MQTT_ACCOUNT_W_CLIENT_ID"}},
		{"email without password", "accounts:\n  - {name: w, cloud: wink, client_id: x, email: a@b.c}\n", []string{"accounts[0].email and accounts[0].password"}},
		{"api url", "accounts:\n  - {name: w, cloud: wink, client_id: x, api_url: 'ftp://x'}\n", []string{"accounts[0].api_url", "http(s)"}},
		{"pubnub origin", "accounts:\n  - {name: w, cloud: wink, client_id: x, pubnub_origin: 'ftp://x/y'}\n", []string{"accounts[0].pubnub_origin", "host[:port]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			contains(t, loadErr(t, tc.yaml), tc.want...)
		})
	}
}

func TestValidAccounts(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, writeFile(t, `
accounts:
  - name: wink
    cloud: wink
    client_id: cid
  - name: wink_2
    cloud: wink
    client_id: cid
    email: a@example.com
    password: pw
    api_url: http://127.0.0.1:8080
    pubnub_origin: http://127.0.0.1:9090
  - name: wink-3
    cloud: wink
    client_id: cid
    pubnub_origin: ps.example.com:443
`), nil)
	if len(c.Accounts) != 3 || winkSettings(t, c.Accounts[1]).APIURL != "http://127.0.0.1:8080" {
		t.Fatalf("accounts = %+v", c.Accounts)
	}
}

func TestErrorsNeverShowSecrets(t *testing.T) {
	clearEnv(t)
	msg := loadErr(t, `
mqtt:
  url: "http://user:topsecret@h:1883"
accounts:
  - {name: w, cloud: wink, client_id: x, client_secret: cs-secret, api_url: "ftp://u:apisecret@x"}
`)
	for _, s := range []string{"topsecret", "cs-secret", "apisecret"} {
		if strings.Contains(msg, s) {
			t.Errorf("error shows secret %q:\n%s", s, msg)
		}
	}
}

func TestRedactedAndYAML(t *testing.T) {
	clearEnv(t)
	p := writeFile(t, `
mqtt:
  url: tcp://bridge:urlpass@h:1883
  username: bridge
  password: mqttpass
accounts:
  - name: wink
    cloud: wink
    client_id: cid
    client_secret: csecret
    refresh_token: rtoken
    email: me@example.com
    password: winkpass
`)
	c := mustLoad(t, p, nil)
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	y := string(out)
	for _, s := range []string{"urlpass", "mqttpass", "csecret", "rtoken", "winkpass"} {
		if strings.Contains(y, s) {
			t.Errorf("YAML shows secret %q:\n%s", s, y)
		}
	}
	for _, s := range []string{"client_id: cid", "email: me@example.com", "username: bridge", "tcp://bridge:***@h:1883", "client_secret: '***'"} {
		if !strings.Contains(y, s) {
			t.Errorf("YAML lacks %q:\n%s", s, y)
		}
	}
	// The original is untouched.
	if winkSettings(t, c.Accounts[0]).ClientSecret != "csecret" || c.MQTT.Password != "mqttpass" {
		t.Fatal("Redacted changed the original")
	}
	// Unset secrets stay empty rather than "***".
	r := (&config.Config{}).Redacted()
	if r.MQTT.Password != "" {
		t.Fatalf("empty secrets redacted: %+v", r)
	}
	if !strings.Contains(y, "verify_url: \"\"") {
		t.Errorf("an unset key is not shown empty:\n%s", y)
	}
	// The dump loads back.
	back := mustLoad(t, writeFile(t, y), nil)
	if winkSettings(t, back.Accounts[0]).ClientID != "cid" || back.MQTT.Username != "bridge" {
		t.Fatalf("dump does not load back: %+v", back)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError} {
		got, err := config.ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := config.ParseLevel("trace"); err == nil || !strings.Contains(err.Error(), "log_level") {
		t.Errorf("ParseLevel(trace) err = %v", err)
	}
}

func TestTLSConfig(t *testing.T) {
	if cfg, err := (config.MQTT{URL: "tcp://h:1883"}).TLSConfig(); cfg != nil || err != nil {
		t.Fatalf("plain tcp: got %v, %v; want nil, nil", cfg, err)
	}
	cfg, err := (config.MQTT{URL: "mqtts://h"}).TLSConfig()
	if err != nil || cfg == nil || cfg.RootCAs != nil {
		t.Fatalf("mqtts without options: %v, %v; want a config with system roots", cfg, err)
	}
	ca, cert, key := writeCert(t)
	cfg, err = (config.MQTT{URL: "ssl://h", TLS: config.TLS{CA: ca, Cert: cert, Key: key}}).TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("CA or client certificate not loaded: %+v", cfg)
	}
	_, err = (config.MQTT{URL: "ssl://h", TLS: config.TLS{CA: key}}).TLSConfig()
	if err == nil || !strings.Contains(err.Error(), "mqtt.tls.ca") {
		t.Fatalf("CA file without certificate: err = %v", err)
	}
	_, err = (config.MQTT{URL: "ssl://h", TLS: config.TLS{Cert: cert, Key: ca}}).TLSConfig()
	if err == nil || !strings.Contains(err.Error(), "mqtt.tls.cert/mqtt.tls.key") {
		t.Fatalf("mismatched key: err = %v", err)
	}
}

// writeCert writes a self-signed certificate and its key as PEM files and
// returns the paths (the certificate doubles as the CA).
func writeCert(t *testing.T) (ca, cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IsCA:         true,
		KeyUsage:     x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert = filepath.Join(dir, "cert.pem")
	key = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, cert, key
}

func TestExampleConfigLoads(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, filepath.Join("testdata", "example.yaml"), nil)
	if c.MQTT.URL != "tcp://127.0.0.1:1883" || len(c.Accounts) != 1 || c.Accounts[0].Cloud != "wink" {
		t.Fatalf("example = %+v", c)
	}
}
