package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// readmeExample is one command of the README's device commands and what
// it should lead to.
type readmeExample struct {
	command string
	topic   string         // for mosquitto_pub: the state topic that must show want
	want    map[string]any // the keys the state (or the command's output) must have
	line    int
}

// readmeExamples reads the first sh block after the heading.
func readmeExamples(t *testing.T, heading string) []readmeExample {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []readmeExample
	section, inBlock := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			section = line == heading
		case section && strings.HasPrefix(line, "```sh"):
			inBlock = true
		case section && inBlock && strings.HasPrefix(line, "```"):
			return out
		case section && inBlock && strings.HasPrefix(line, "mosquitto_"):
			out = append(out, readmeExample{command: line, line: n})
		case section && inBlock && strings.HasPrefix(strings.TrimSpace(line), "#   ⇒ "):
			if len(out) == 0 {
				t.Fatalf("README line %d: an expectation without a command", n)
			}
			e := &out[len(out)-1]
			rest := strings.TrimPrefix(strings.TrimSpace(line), "#   ⇒ ")
			if !strings.HasPrefix(rest, "{") {
				e.topic, rest, _ = strings.Cut(rest, " ")
			}
			if err := json.Unmarshal([]byte(rest), &e.want); err != nil {
				t.Fatalf("README line %d: %v", n, err)
			}
		}
	}
	t.Fatalf("README has no sh block under %q", heading)
	return nil
}

// contains reports whether got has every key of want with the same value
// (numbers compared as float64, objects recursively).
func containsJSON(got, want map[string]any) bool {
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		if wm, isMap := w.(map[string]any); isMap {
			gm, _ := g.(map[string]any)
			if gm == nil || !containsJSON(gm, wm) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

func TestREADMECommandsWorkAgainstTheDemo(t *testing.T) {
	for _, tool := range []string{"mosquitto_pub", "mosquitto_sub"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: mosquitto-clients); CI installs it", tool)
		}
	}
	examples := readmeExamples(t, "## Commands for every device type")
	if len(examples) < 20 {
		t.Fatalf("only %d README examples found", len(examples))
	}
	inEmptyDir(t)
	url := mqtttest.BrokerURL(t)
	hostPort := strings.TrimPrefix(url, "tcp://")
	host, port, _ := strings.Cut(hostPort, ":")
	base := mqtttest.BaseTopic(t)
	rec := mqtttest.NewRecorder(t, url, base+"/#")
	mqtttest.NewClearingRecorder(t, url, base+"-ha/#")
	t.Setenv("CLOUD2MQTT_MQTT_DISCOVERY_PREFIX", base+"-ha")
	t.Setenv("CLOUD2MQTT_WEB_LISTEN", "off")
	_, stderr, _ := start(t, "demo", "--mqtt-url", url, "--base-topic", base, "--sensor-interval", "0")
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/bridge/info" && strings.Count(string(m.Payload), `"status":"connected"`) == 2
	})
	rec.Wait(t, wait, func(m mqtt.Message) bool { return m.Topic == base+"/homey/bedroom_fan" })

	for _, e := range examples {
		if e.want == nil {
			t.Errorf("README line %d: %s has no expectation line", e.line, e.command)
			continue
		}
		cmdline := strings.ReplaceAll(e.command, "-h 127.0.0.1", "-h "+host+" -p "+port)
		cmdline = strings.ReplaceAll(cmdline, "'cloud2mqtt/", "'"+base+"/")
		if strings.HasPrefix(cmdline, "mosquitto_sub") {
			cmdline += " -W 10"
		}
		startAt := len(rec.Messages())
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		out, err := exec.CommandContext(ctx, "bash", "-c", cmdline).Output()
		cancel()
		if err != nil {
			t.Errorf("README line %d: %s: %v", e.line, cmdline, err)
			continue
		}
		if e.topic == "" {
			var got map[string]any
			if json.Unmarshal(out, &got) != nil || !containsJSON(got, e.want) {
				t.Errorf("README line %d: %s printed %s, want %v", e.line, cmdline, out, e.want)
			}
			continue
		}
		topic := base + strings.TrimPrefix(e.topic, "cloud2mqtt")
		t.Logf("README line %d: %s ⇒ %s %v", e.line, e.command, topic, e.want)
		seen := 0
		rec.Wait(t, wait, func(m mqtt.Message) bool {
			seen++
			if seen <= startAt || m.Topic != topic {
				return false
			}
			var got map[string]any
			return json.Unmarshal(m.Payload, &got) == nil && containsJSON(got, e.want)
		})
	}
	if strings.Contains(stderr.String(), "level=ERROR") {
		t.Errorf("the demo logged errors:\n%s", stderr)
	}
}
