package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// emulatedConfig starts `cloud2mqtt emulate` and writes a config.yaml of
// its accounts plus extra into dir. It returns the snippet.
func emulatedConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	stdout, _, _ := start(t, "emulate")
	stdout.waitFor(t, "api_key:", wait)
	snippet := stdout.String()
	cfg := "state_dir: " + filepath.Join(dir, "state") + "\n" + extra + snippet
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return snippet
}

// snippetValue returns the first value of key in the accounts snippet.
func snippetValue(t *testing.T, snippet, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + key + `: (\S+)$`).FindStringSubmatch(snippet)
	if m == nil {
		t.Fatalf("no %s in snippet:\n%s", key, snippet)
	}
	return m[1]
}

func TestAuthCheckNamesEveryAccountsState(t *testing.T) {
	dir := inEmptyDir(t)
	emulatedConfig(t, dir, "")
	var out, errOut syncBuffer
	if code := execute(context.Background(), []string{"auth", "check"}, &out, &errOut); code != 0 {
		t.Fatalf("auth check exited %d:\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"wink", "homey", "homey-local"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("auth check output lacks %q:\n%s", want, out.String())
		}
	}

	// A wrong client secret is named as such, with a non-zero exit.
	t.Setenv("CLOUD2MQTT_ACCOUNT_WINK_CLIENT_SECRET", "not-the-secret")
	// A fresh store, so that the check has to use the refresh token.
	t.Setenv("CLOUD2MQTT_STATE_DIR", filepath.Join(dir, "fresh-state"))
	out, errOut = syncBuffer{}, syncBuffer{}
	code := execute(context.Background(), []string{"auth", "check", "wink"}, &out, &errOut)
	if code == 0 || !strings.Contains(strings.ToLower(out.String()), "secret") {
		t.Errorf("auth check with a wrong secret: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "not-the-secret") {
		t.Error("auth check printed the client secret")
	}
}

func TestAuthLoginThroughTheBrowserStoresTokens(t *testing.T) {
	dir := inEmptyDir(t)
	emulatedConfig(t, dir, "auth:\n  callback_listen: 127.0.0.1:0\n")
	stdout, stderr, stop := start(t, "auth", "login", "wink")
	stdout.waitFor(t, "http://", wait)
	authURL := regexp.MustCompile(`http://\S+/oauth2/authorize\S*`).FindString(stdout.String())
	if authURL == "" {
		t.Fatalf("no authorize URL printed:\n%s", stdout.String())
	}
	// The browser: follow the authorize redirect to the callback.
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("callback page %d: %s", resp.StatusCode, page)
	}
	if code := stop(); code != 0 {
		t.Fatalf("auth login exited %d:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	store, err := tokenstore.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	tok, ok, err := store.Load("wink")
	if err != nil || !ok || tok.RefreshToken == "" {
		t.Fatalf("no token stored: %v %v", ok, err)
	}
	info, err := os.Stat(store.Path())
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("token store mode = %v, %v", info.Mode().Perm(), err)
	}
	if strings.Contains(stdout.String(), tok.RefreshToken) || strings.Contains(stdout.String(), tok.AccessToken) {
		t.Error("auth login printed a token")
	}
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestNoSecretReachesLogsMQTTOrThePage(t *testing.T) {
	dir := inEmptyDir(t)
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	page := freeAddr(t)
	snippet := emulatedConfig(t, dir, "log_level: debug\nmqtt:\n  url: "+url+"\n  base_topic: "+base+
		"\n  discovery_prefix: "+base+"-ha\nweb:\n  listen: "+page+"\n")
	rec := mqtttest.NewRecorder(t, url, base+"/#")
	disc := mqtttest.NewClearingRecorder(t, url, base+"-ha/#")
	stdout, stderr, stop := start(t, "run")
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/bridge/info" && strings.Count(string(m.Payload), `"status":"connected"`) == 3
	})
	// Commands make the clients refresh and renew along the way.
	mqtttest.Publish(t, url, base+"/wink/porch_light/set", []byte("ON"), false)
	mqtttest.Publish(t, url, base+"/homey/coffee_machine/set", []byte("OFF"), false)
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/wink/porch_light" && strings.Contains(string(m.Payload), `"state":"ON"`)
	})
	resp, err := http.Get("http://" + page + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Porch light") {
		t.Errorf("the page lacks the devices:\n%.500s", body)
	}
	stop()

	secrets := []string{snippetValue(t, snippet, "client_secret"), snippetValue(t, snippet, "refresh_token"),
		snippetValue(t, snippet, "api_key"), winktest.DefaultPassword}
	store, err := tokenstore.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	for _, account := range []string{"wink", "homey", "homey/session"} {
		if tok, ok, _ := store.Load(account); ok {
			secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
		}
	}
	outputs := map[string]string{"log": stderr.String(), "stdout": stdout.String(), "page": string(body)}
	for _, m := range append(rec.Messages(), disc.Messages()...) {
		outputs["mqtt "+m.Topic] += string(m.Payload)
	}
	for _, secret := range secrets {
		if len(secret) < 6 {
			continue
		}
		for where, text := range outputs {
			if strings.Contains(text, secret) {
				t.Errorf("a secret (%.4s…) appears in %s", secret, where)
			}
		}
	}
	if !strings.Contains(stderr.String(), "level=DEBUG") {
		t.Error("the run did not log at debug level")
	}
}
