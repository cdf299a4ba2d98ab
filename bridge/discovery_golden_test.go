package bridge_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the tests see")

// goldenDir holds one file per discovery mode and device: the device's
// discovery configs, topic → payload, with the test's topics written as the
// defaults (cloud2mqtt, homeassistant).
const goldenDir = "testdata/discovery"

// TestDiscoveryGolden pins the full Home Assistant discovery payload of every
// device of both furnished emulators, in both discovery modes. After an
// intended change, regenerate with
//
//	go test ./bridge -run TestDiscoveryGolden -update
//
// and review the diff of testdata/discovery.
func TestDiscoveryGolden(t *testing.T) {
	for _, mode := range []bridge.DiscoveryMode{bridge.DiscoveryDevice, bridge.DiscoveryComponent} {
		t.Run(string(mode), func(t *testing.T) {
			got := publishedDiscovery(t, mode)
			dir := filepath.Join(goldenDir, string(mode))
			if *update {
				writeGolden(t, dir, got)
				return
			}
			compareGolden(t, dir, got)
		})
	}
}

// publishedDiscovery runs a bridge over both furnished emulators and returns
// the discovery it publishes, by device: file name → pretty-printed JSON.
func publishedDiscovery(t *testing.T, mode bridge.DiscoveryMode) map[string][]byte {
	t.Helper()
	h := newBaseHarness(t)
	h.configure = func(o *bridge.Options) { o.Discovery = mode }
	h.start(t, newWinkClient(t, furnishedWink(t), "wink", nil), newHomeyClient(t, furnishedHomey(t), "homey"))

	// Every account has listed (bridge/info said connected after publishing
	// each device), so a marker published now arrives after all of it.
	marker := h.topics.DiscoveryPrefix + "/golden_marker"
	mqtttest.Publish(t, h.url, marker, []byte("x"), false)
	h.disc.Wait(t, wait, onTopic(marker))

	configs := map[string]map[string]json.RawMessage{} // device → topic → payload
	for _, m := range h.disc.Messages() {
		if !strings.HasSuffix(m.Topic, "/config") {
			continue
		}
		id := discoveryDevice(t, h.topics, mode, m.Topic)
		if configs[id] == nil {
			configs[id] = map[string]json.RawMessage{}
		}
		topic := normalise(h.topics, m.Topic)
		if len(m.Payload) == 0 {
			delete(configs[id], topic)
			continue
		}
		haView(t, h.topics.DiscoveryPrefix, m.Topic, m.Payload) // fails on what Home Assistant would not take
		configs[id][topic] = json.RawMessage(normalise(h.topics, string(m.Payload)))
	}
	out := map[string][]byte{}
	for id, byTopic := range configs {
		if len(byTopic) > 0 {
			out[id+".json"] = pretty(t, byTopic)
		}
	}
	if len(h.bridge.Devices()) != len(out) {
		t.Errorf("%d devices listed but %d have discovery", len(h.bridge.Devices()), len(out))
	}
	return out
}

// discoveryDevice returns the discovery id (cloud2mqtt_<account>_<id>) in a
// config topic.
func discoveryDevice(t *testing.T, topics bridge.Topics, mode bridge.DiscoveryMode, topic string) string {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(topic, topics.DiscoveryPrefix+"/"), "/")
	// device: device/<id>/config; component: <platform>/<id>/<key>/config
	if len(parts) < 3 || (mode == bridge.DiscoveryDevice) != (parts[0] == "device") {
		t.Fatalf("discovery topic %s does not have the %s form", topic, mode)
	}
	return parts[1]
}

// normalise writes the test's base topic and discovery prefix as the
// defaults, so that the files do not depend on the test's random topics.
func normalise(topics bridge.Topics, s string) string {
	s = strings.ReplaceAll(s, topics.DiscoveryPrefix, "homeassistant")
	return strings.ReplaceAll(s, topics.Base, "cloud2mqtt")
}

// pretty prints v as indented JSON with sorted keys, numbers as they came
// and no HTML escaping.
func pretty(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tree); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeGolden(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d files to %s", len(files), dir)
}

func compareGolden(t *testing.T, dir string, got map[string][]byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v: run go test ./bridge -run TestDiscoveryGolden -update to write the golden files", err)
	}
	want := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		want[e.Name()] = b
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range want {
			if !yield(n) {
				return
			}
		}
		for n := range got {
			if _, ok := want[n]; !ok && !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		w, inWant := want[name]
		g, inGot := got[name]
		switch {
		case !inGot:
			t.Errorf("%s/%s: the bridge published no discovery for this device", dir, name)
		case !inWant:
			t.Errorf("%s/%s: new device, not in the golden files:\n%s", dir, name, g)
		case !bytes.Equal(w, g):
			t.Errorf("%s/%s differs (- golden, + published); if intended, rerun with -update:\n%s", dir, name, lineDiff(string(w), string(g)))
		}
	}
}

// lineDiff returns the lines of a and b that differ, - for a and + for b,
// with the unchanged lines around them (a longest-common-subsequence diff;
// the files are small).
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j] is the common subsequence length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		mark byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines = append(lines, line{' ', x[i]})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', x[i]})
			i++
		default:
			lines = append(lines, line{'+', y[j]})
			j++
		}
	}
	const around = 2
	var out strings.Builder
	last := -1
	for k, l := range lines {
		near := false
		for d := max(0, k-around); d <= min(len(lines)-1, k+around); d++ {
			near = near || lines[d].mark != ' '
		}
		if !near {
			continue
		}
		if last >= 0 && k > last+1 {
			out.WriteString("  …\n")
		}
		fmt.Fprintf(&out, "%c %s\n", l.mark, l.text)
		last = k
	}
	return out.String()
}

// TestDeviceTypesAgreeInEveryDiscoveryMode checks that bridge/devices gives
// every device of both furnished emulators the same type whether the type
// is read off the discovery just built (device and component discovery) or
// worked out for the list alone (discovery off).
func TestDeviceTypesAgreeInEveryDiscoveryMode(t *testing.T) {
	types := func(mode bridge.DiscoveryMode) map[string]string {
		h := newBaseHarness(t)
		h.configure = func(o *bridge.Options) { o.Discovery = mode }
		h.start(t, newWinkClient(t, furnishedWink(t), "wink", nil), newHomeyClient(t, furnishedHomey(t), "homey"))
		out := map[string]string{}
		for _, d := range h.bridge.Devices() {
			out[d.Account+"/"+d.ID] = d.Type
		}
		h.stop()
		return out
	}
	want := types(bridge.DiscoveryOff)
	if len(want) < 30 {
		t.Fatalf("only %d devices listed with discovery off", len(want))
	}
	for _, mode := range []bridge.DiscoveryMode{bridge.DiscoveryDevice, bridge.DiscoveryComponent} {
		got := types(mode)
		for id, typ := range want {
			if got[id] != typ {
				t.Errorf("%s discovery: bridge/devices type of %s = %q, with discovery off %q", mode, id, got[id], typ)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s discovery lists %d devices, discovery off %d", mode, len(got), len(want))
		}
	}
}
