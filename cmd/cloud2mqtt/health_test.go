package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

var pageAddrRE = regexp.MustCompile(`status page listening.*addr=(127\.0\.0\.1:\d+)`)

// pageAddress waits for the status page's address in a running command's log.
func pageAddress(t *testing.T, stderr *syncBuffer) string {
	t.Helper()
	stderr.waitFor(t, "status page listening", wait)
	m := pageAddrRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no page address in the log:\n%s", stderr)
	}
	return m[1]
}

func TestHealthAndMetricsOfARunningBridge(t *testing.T) {
	inEmptyDir(t)
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	rec := mqtttest.NewRecorder(t, url, base+"/#")
	mqtttest.NewClearingRecorder(t, url, base+"-ha/#")
	t.Setenv("CLOUD2MQTT_MQTT_DISCOVERY_PREFIX", base+"-ha")
	t.Setenv("CLOUD2MQTT_WEB_LISTEN", "127.0.0.1:0")
	_, stderr, _ := start(t, "demo", "--mqtt-url", url, "--base-topic", base, "--sensor-interval", "0")
	addr := pageAddress(t, stderr)
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/wink/bedroom_lamp" && strings.Contains(string(m.Payload), `"state":"OFF"`)
	})

	var out, errOut bytes.Buffer
	if code := execute(context.Background(), []string{"health", "--url", "http://" + addr + "/healthz"}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "healthy") {
		t.Fatalf("health of a running bridge: exit %d, %q %q", code, out.String(), errOut.String())
	}

	mqtttest.Publish(t, url, base+"/wink/bedroom_lamp/set", []byte(`{"state":"ON"}`), false)
	mqtttest.Publish(t, url, base+"/wink/bedroom_lamp/set", []byte(`{"state":"PURPLE"}`), false)
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/wink/bedroom_lamp" && strings.Contains(string(m.Payload), `"state":"ON"`)
	})
	rec.Wait(t, wait, func(m mqtt.Message) bool {
		return m.Topic == base+"/bridge/event" && strings.Contains(string(m.Payload), "command_rejected")
	})

	// The command's count is taken when the cloud's answer to it is read,
	// which may come after its pushed state: /metrics is read again until
	// it shows every figure (or the wait ends).
	want := []wantedMetric{
		{"cloud2mqtt_commands_total", map[string]string{"account": "wink", "result": "ok"}},
		{"cloud2mqtt_commands_total", map[string]string{"account": "wink", "result": "rejected"}},
		{"cloud2mqtt_mqtt_messages_total", map[string]string{"direction": "in"}},
		{"cloud2mqtt_mqtt_messages_total", map[string]string{"direction": "out", "result": "ok"}},
		{"cloud2mqtt_cloud_requests_total", map[string]string{"cloud": "wink", "status": "200"}},
		{"cloud2mqtt_cloud_requests_total", map[string]string{"cloud": "homey", "status": "200"}},
		{"cloud2mqtt_cloud_request_duration_seconds", map[string]string{"cloud": "wink"}},
		{"cloud2mqtt_account_devices", map[string]string{"account": "wink"}},
		{"cloud2mqtt_account_push_state", map[string]string{"account": "wink", "state": "live"}},
		{"cloud2mqtt_account_token_expiry_timestamp_seconds", map[string]string{"account": "homey"}},
		{"cloud2mqtt_mqtt_connected", nil},
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		missing := missingMetrics(t, "http://"+addr+"/metrics", want)
		if len(missing) == 0 {
			return
		}
		if waitTick(ctx, 20*time.Millisecond) != nil {
			for _, m := range missing {
				t.Error(m)
			}
			return
		}
	}
}

// wantedMetric is a metric family and the labels its series must match.
type wantedMetric struct {
	name   string
	labels map[string]string
}

// missingMetrics reads the Prometheus text at url and says which of want
// sum to 0 or less.
func missingMetrics(t *testing.T, url string, want []wantedMetric) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	sum := func(name string, want map[string]string) float64 {
		var total float64
	next:
		for _, m := range families[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
		return total
	}
	var missing []string
	for _, c := range want {
		if v := sum(c.name, c.labels); v <= 0 {
			missing = append(missing, fmt.Sprintf("%s%v = %v, want more than 0", c.name, c.labels, v))
		}
	}
	return missing
}

func TestHealthSaysWhyAndExitsOne(t *testing.T) {
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unhealthy","broker":"disconnected","problems":["the MQTT broker is not connected"]}`))
	}))
	defer sick.Close()
	var out, errOut bytes.Buffer
	if code := execute(context.Background(), []string{"health", "--url", sick.URL + "/healthz"}, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), "unhealthy: the MQTT broker is not connected") {
		t.Errorf("unhealthy bridge: exit %d, %q", code, out.String())
	}
	sick.Close()
	out.Reset()
	if code := execute(context.Background(), []string{"health", "--url", sick.URL + "/healthz"}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "is cloud2mqtt running") {
		t.Errorf("nothing listening: exit %d, %q", code, errOut.String())
	}
	if got := healthURL("0.0.0.0:8099"); got != "http://127.0.0.1:8099/healthz" {
		t.Errorf("healthURL: %s", got)
	}
}
