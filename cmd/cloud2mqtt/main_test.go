package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

const wait = 20 * time.Second

// syncBuffer is a bytes.Buffer safe for a writer and a reader, which can
// wait for text to appear.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}

// waitFor returns once the buffer contains text, failing the test after
// the timeout.
func (s *syncBuffer) waitFor(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), text) {
			s.mu.Unlock()
			return
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %q within %s in:\n%s", text, timeout, s.String())
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// inEmptyDir runs the test in a fresh working directory, so that no
// config.yaml around it is read.
func inEmptyDir(t *testing.T) string {
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

// start runs the command line in the background and returns a function
// that stops it (as SIGINT would) and returns its exit status.
func start(t *testing.T, args ...string) (stdout, stderr *syncBuffer, stop func() int) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- execute(ctx, args, stdout, stderr) }()
	stopped := false
	var code int
	stop = func() int {
		if stopped {
			return code
		}
		stopped = true
		cancel()
		select {
		case code = <-done:
		case <-time.After(wait):
			t.Fatalf("%v did not stop; stderr:\n%s", args, stderr)
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return stdout, stderr, stop
}

func TestDemoShowsTheWholeLoop(t *testing.T) {
	inEmptyDir(t)
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	rec := mqtttest.NewRecorder(t, url, base+"/#")
	mqtttest.NewClearingRecorder(t, url, base+"-ha/#")
	t.Setenv("CLOUD2MQTT_MQTT_DISCOVERY_PREFIX", base+"-ha")
	t.Setenv("CLOUD2MQTT_WEB_LISTEN", "127.0.0.1:0")
	stdout, stderr, stop := start(t, "demo", "--mqtt-url", url, "--base-topic", base,
		"--sensor-interval", "100ms", "--log-level", "debug")

	rec.WaitTopic(t, wait, base+"/bridge/state", []byte(`{"state":"online"}`))
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/wink/bedroom_lamp" && strings.Contains(string(m.Payload), `"state":"OFF"`)
	})
	// A command goes to the simulated cloud and comes back as state.
	mqtttest.Publish(t, url, base+"/wink/bedroom_lamp/set", []byte(`{"state":"ON","brightness":128}`), false)
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/wink/bedroom_lamp" && strings.Contains(string(m.Payload), `"brightness":128`) &&
			strings.Contains(string(m.Payload), `"state":"ON"`)
	})
	// Sensors change by themselves.
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/wink/hallway_motion" && strings.Contains(string(m.Payload), `"motion":true`)
	})
	// bridge/info tells when the Homey session ends, and shows the
	// configuration keyed as in config.yaml.
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/bridge/info" && strings.Contains(string(m.Payload), `"token_expiry"`) &&
			strings.Contains(string(m.Payload), `"base_topic":"`+base+`"`) && strings.Contains(string(m.Payload), `"discovery_prefix"`)
	})
	// The Homey's devices are there side by side, and obey too.
	rec.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == base+"/homey/ceiling_light" })
	mqtttest.Publish(t, url, base+"/homey/ceiling_light/set", []byte(`{"state":"ON","brightness":51}`), false)
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/homey/ceiling_light" && strings.Contains(string(m.Payload), `"brightness":51`) &&
			strings.Contains(string(m.Payload), `"state":"ON"`)
	})
	for _, want := range []string{"mosquitto_sub", "mosquitto_pub", base + "/wink/bedroom_lamp/set"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("demo exited %d; stderr:\n%s", code, stderr)
	}
	// Home Assistant reads the bridge's state and, in the device's state,
	// the cloud's word on the device.
	rec.WaitTopic(t, wait, base+"/bridge/state", []byte(`{"state":"offline"}`))
	if m, ok := rec.Last(base + "/wink/bedroom_lamp"); !ok || !strings.Contains(string(m.Payload), `"availability":"online"`) {
		t.Errorf("bedroom lamp's state %s lacks its availability", m.Payload)
	}
	for _, secret := range []string{demoClientSecret} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("the log shows the client secret")
		}
	}
}

func TestEmulateSnippetDrivesTheDevicesCommand(t *testing.T) {
	dir := inEmptyDir(t)
	stdout, _, _ := start(t, "emulate")
	stdout.waitFor(t, "pubnub_origin:", wait)
	cfg := "state_dir: " + filepath.Join(dir, "state") + "\n" + stdout.String()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut syncBuffer
	if code := execute(context.Background(), []string{"devices"}, &out, &errOut); code != 0 {
		t.Fatalf("devices exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"ACCOUNT", "light_bulb-2194253", "Bedroom lamp", "lock-109898", "Front door",
		"homey ", "homey-local", "Ceiling light", "Coffee machine"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("devices output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunExplainsMissingConfiguration(t *testing.T) {
	inEmptyDir(t)
	var out, errOut syncBuffer
	if code := execute(context.Background(), []string{"run"}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "mqtt.url is not set") {
		t.Errorf("run without a broker: exit %d, %q", code, errOut.String())
	}
	if code := execute(context.Background(), []string{"run", "--mqtt-url", "tcp://127.0.0.1:1"}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "no accounts configured") {
		t.Errorf("run without accounts: exit %d, %q", code, errOut.String())
	}
	if code := execute(context.Background(), []string{"version"}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "cloud2mqtt ") {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
}

func TestRunWaitsForABrokerThatStartsLate(t *testing.T) {
	dir := inEmptyDir(t)
	addr := freeAddr(t)
	emulatedConfig(t, dir, "mqtt:\n  url: tcp://"+addr+"\nweb:\n  listen: \"off\"\n")
	_, stderr, stop := start(t, "run")
	stderr.waitFor(t, "cannot connect to the MQTT broker; trying again", wait)
	mqtttest.StartBrokerAt(t, addr)
	rec := mqtttest.NewRecorder(t, "tcp://"+addr, "cloud2mqtt/bridge/state")
	rec.WaitTopic(t, wait, "cloud2mqtt/bridge/state", []byte(`{"state":"online"}`))
	if code := stop(); code != 0 {
		t.Errorf("run exited %d:\n%s", code, stderr)
	}
}
