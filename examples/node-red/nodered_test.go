package nodered

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cloud2mqtt/cloud2mqtt/internal/e2e"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// nodeRED finds the node-red program: $CLOUD2MQTT_TEST_NODE_RED (CI sets
// it to the pinned install), else node-red on the PATH.
func nodeRED(t *testing.T) string {
	if p := os.Getenv("CLOUD2MQTT_TEST_NODE_RED"); p != "" {
		return p
	}
	p, err := exec.LookPath("node-red")
	if err != nil {
		t.Skip("node-red is not installed: .ci/run installs it (npm install node-red@4.1.x) and sets CLOUD2MQTT_TEST_NODE_RED")
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// status is a node's status as Node-RED's editor shows it.
type status struct {
	Text string `json:"text"`
	Fill string `json:"fill"`
}

// TestFlowInRealNodeRED imports flow.json into Node-RED, its broker from
// the environment, against `cloud2mqtt demo`: the lamp's state shows as the
// function node's status, and pressing the inject node toggles the lamp.
func TestFlowInRealNodeRED(t *testing.T) {
	red := nodeRED(t)
	b := e2e.Broker(t)
	url := b.URL()
	rec := mqtttest.NewRecorder(t, url, "cloud2mqtt/wink/bedroom_lamp/#")
	e2e.Demo(t, e2e.Binary(t), url, "--sensor-interval", "0")
	rec.Wait(t, e2e.Wait, func(m mqtt.Message) bool {
		return m.Topic == "cloud2mqtt/wink/bedroom_lamp" && strings.Contains(string(m.Payload), `"state":"OFF"`)
	})

	dir := t.TempDir()
	flow, err := os.ReadFile("flow.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flows.json"), flow, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(b.Addr())
	uiPort := freePort(t)
	p := e2e.Start(t, []string{"CLOUD2MQTT_MQTT_HOST=" + host, "CLOUD2MQTT_MQTT_PORT=" + port}, red,
		"--userDir", dir, "--port", fmt.Sprint(uiPort), "flows.json")
	p.WaitFor(t, regexp.MustCompile(`Connected to broker: .*`+regexp.QuoteMeta(host+":"+port)))
	admin := fmt.Sprintf("127.0.0.1:%d", uiPort)

	// The editor's channel carries every node's status.
	ctx, cancel := context.WithTimeout(context.Background(), e2e.Wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+admin+"/comms", nil)
	if err != nil {
		t.Fatalf("Node-RED's editor channel: %v", err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"subscribe":"status/#"}`)); err != nil {
		t.Fatal(err)
	}
	lampShows := func(want string) {
		t.Helper()
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for the lamp status %q: %v", want, err)
			}
			var msgs []struct {
				Topic string `json:"topic"`
				Data  status `json:"data"`
			}
			_ = json.Unmarshal(data, &msgs)
			for _, m := range msgs {
				if m.Topic == "status/c2m-status" && strings.HasPrefix(m.Data.Text, want) {
					t.Logf("Node-RED shows the lamp as %q", m.Data.Text)
					return
				}
			}
		}
	}
	lampShows("OFF")

	press := func() {
		t.Helper()
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+admin+"/inject/c2m-toggle", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("pressing the inject node: status %d", resp.StatusCode)
		}
		t.Logf("inject pressed at %s", start.Format(time.TimeOnly))
	}
	press()
	rec.Wait(t, e2e.Wait, func(m mqtt.Message) bool {
		return m.Topic == "cloud2mqtt/wink/bedroom_lamp/set" && string(m.Payload) == "TOGGLE"
	})
	lampShows("ON")
	press()
	lampShows("OFF")
}
