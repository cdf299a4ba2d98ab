package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// browserTools finds node, playwright-core ($CLOUD2MQTT_TEST_PLAYWRIGHT:
// the node_modules directory holding it) and Chromium
// ($CLOUD2MQTT_TEST_CHROMIUM, default /usr/bin/chromium), or skips.
func browserTools(t *testing.T) (node, modules, chromium string) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; .ci/run has it")
	}
	modules = os.Getenv("CLOUD2MQTT_TEST_PLAYWRIGHT")
	if modules == "" {
		t.Skip("CLOUD2MQTT_TEST_PLAYWRIGHT (a node_modules directory with playwright-core) is not set; .ci/run installs and sets it")
	}
	if _, err := os.Stat(filepath.Join(modules, "playwright-core")); err != nil {
		t.Skipf("no playwright-core in CLOUD2MQTT_TEST_PLAYWRIGHT=%s", modules)
	}
	chromium = os.Getenv("CLOUD2MQTT_TEST_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium; .ci/run does)", chromium)
	}
	return node, modules, chromium
}

// artefacts is where screenshots are kept: $CLOUD2MQTT_TEST_ARTEFACTS, or
// the repository's ignored .artefacts directory.
func artefacts(t *testing.T) string {
	dir := os.Getenv("CLOUD2MQTT_TEST_ARTEFACTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", ".artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// TestStatusPageInChromium opens the demo's status page in Chromium at a
// phone's width: it loads with no console error, fits 390 px, changes by
// itself when the lamp changes, and Connect logs the Wink account in
// against the emulator.
func TestStatusPageInChromium(t *testing.T) {
	node, modules, chromium := browserTools(t)
	b := Broker(t)
	rec := mqtttest.NewRecorder(t, b.URL(), "cloud2mqtt/wink/bedroom_lamp")
	_, addr := Demo(t, Binary(t), b.URL(), "--sensor-interval", "0")
	rec.Wait(t, Wait, func(m mqtt.Message) bool { return len(m.Payload) > 0 })

	shot := filepath.Join(artefacts(t), "status-page-390px.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*Wait)
	defer cancel()
	script, _ := filepath.Abs("browser.cjs")
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "CHROMIUM="+chromium, "SHOT="+shot, "PAGE_URL=http://"+addr+"/")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{cmd: cmd, line: make(chan struct{}), done: make(chan struct{})}
	p.attach(t)

	p.WaitFor(t, regexp.MustCompile(`(?m)^loaded$`))
	mqtttest.Publish(t, b.URL(), "cloud2mqtt/wink/bedroom_lamp/set", []byte("TOGGLE"), false)
	if _, err := stdin.Write([]byte("changed\n")); err != nil {
		t.Fatal(err)
	}
	m := p.WaitFor(t, regexp.MustCompile(`(?m)^(?:result (.*)|error (.*))$`))
	if m[2] != "" {
		t.Fatalf("the browser script failed: %s\n%s", m[2], p.Output())
	}
	var r struct {
		ConsoleErrors         []string
		ScrollWidth           int
		ScrollWidthAfterLogin int
		UpdatedByItself       bool
		Before, After, Flash  string
		Connected             bool
	}
	if err := json.Unmarshal([]byte(m[1]), &r); err != nil {
		t.Fatalf("result: %v", err)
	}
	t.Logf("screenshots: %s (whole page), %s (first screen)", shot, strings.TrimSuffix(shot, ".png")+"-viewport.png")
	t.Logf("lamp %q → %q without a reload: %v; page %d px wide; login: %q", r.Before, r.After, r.UpdatedByItself, r.ScrollWidth, r.Flash)
	if len(r.ConsoleErrors) > 0 {
		t.Errorf("console errors: %q", r.ConsoleErrors)
	}
	if r.ScrollWidth > 390 || r.ScrollWidthAfterLogin > 390 {
		t.Errorf("the page is %d (after login %d) px wide in a 390 px viewport", r.ScrollWidth, r.ScrollWidthAfterLogin)
	}
	if !r.UpdatedByItself || r.Before == r.After {
		t.Errorf("the lamp went %q → %q, updated by itself: %v", r.Before, r.After, r.UpdatedByItself)
	}
	if !r.Connected {
		t.Errorf("Connect did not complete: %q", r.Flash)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	}

}
