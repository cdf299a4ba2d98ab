package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cloud2mqtt/cloud2mqtt/metrics"
)

// scrape fetches the metrics as Prometheus would and parses them with
// Prometheus' own text parser.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(metrics.Handler(reg))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL, nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: status %d: %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the scrape is not valid Prometheus text: %v", err)
	}
	return families
}

// value finds the sample of family name whose labels include want.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	f, ok := families[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestScrapeShowsEveryHook(t *testing.T) {
	expiry := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{
		Accounts: func() []metrics.Account {
			return []metrics.Account{
				{Name: "wink", Cloud: "wink", Status: "connected", Push: "live", Devices: 17, TokenExpiry: expiry},
				{Name: "home", Cloud: "homey", Status: "auth_required", Push: "polling"},
			}
		},
		BrokerConnected: func() bool { return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	m.MQTTMessage(true, nil)
	m.MQTTMessage(true, nil)
	m.MQTTMessage(false, nil)
	m.MQTTMessage(false, errors.New("not connected"))
	m.Command("wink", "ok")
	m.Command("wink", "ok")
	m.Command("home", "rejected")

	cloud := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	client := &http.Client{Transport: m.Transport("wink", nil)}
	for _, path := range []string{"/ok", "/ok", "/down"} {
		resp, err := client.Get(cloud.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cloud.Close()
	if _, err := client.Get(cloud.URL + "/gone"); err == nil {
		t.Fatal("a request to a closed server succeeded")
	}

	families := scrape(t, reg)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"cloud2mqtt_mqtt_messages_total", map[string]string{"direction": "in", "result": "ok"}, 2},
		{"cloud2mqtt_mqtt_messages_total", map[string]string{"direction": "out", "result": "ok"}, 1},
		{"cloud2mqtt_mqtt_messages_total", map[string]string{"direction": "out", "result": "error"}, 1},
		{"cloud2mqtt_commands_total", map[string]string{"account": "wink", "result": "ok"}, 2},
		{"cloud2mqtt_commands_total", map[string]string{"account": "home", "result": "rejected"}, 1},
		{"cloud2mqtt_cloud_requests_total", map[string]string{"cloud": "wink", "status": "200"}, 2},
		{"cloud2mqtt_cloud_requests_total", map[string]string{"cloud": "wink", "status": "503"}, 1},
		{"cloud2mqtt_cloud_requests_total", map[string]string{"cloud": "wink", "status": "error"}, 1},
		{"cloud2mqtt_cloud_request_duration_seconds", map[string]string{"cloud": "wink"}, 4},
		{"cloud2mqtt_account_status", map[string]string{"account": "wink", "status": "connected"}, 1},
		{"cloud2mqtt_account_status", map[string]string{"account": "wink", "status": "error"}, 0},
		{"cloud2mqtt_account_status", map[string]string{"account": "home", "status": "auth_required"}, 1},
		{"cloud2mqtt_account_push_state", map[string]string{"account": "wink", "state": "live"}, 1},
		{"cloud2mqtt_account_push_state", map[string]string{"account": "home", "state": "live"}, 0},
		{"cloud2mqtt_account_push_state", map[string]string{"account": "home", "state": "polling"}, 1},
		{"cloud2mqtt_account_devices", map[string]string{"account": "wink", "cloud": "wink"}, 17},
		{"cloud2mqtt_account_token_expiry_timestamp_seconds", map[string]string{"account": "wink"}, float64(expiry.Unix())},
		{"cloud2mqtt_mqtt_connected", nil, 1},
	} {
		got, ok := value(t, families, c.name, c.labels)
		if !ok {
			t.Errorf("%s%v: missing from the scrape", c.name, c.labels)
			continue
		}
		if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if _, ok := value(t, families, "cloud2mqtt_account_token_expiry_timestamp_seconds", map[string]string{"account": "home"}); ok {
		t.Error("an unknown token expiry is shown")
	}
	if f := families["cloud2mqtt_cloud_request_duration_seconds"]; f.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("request duration is a %v, want a histogram", f.GetType())
	}
}

func TestNewTwiceOnOneRegistryFails(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg, metrics.Options{}); err == nil {
		t.Error("registering the metrics twice on one registry did not fail")
	}
}
