// Package metrics exposes cloud2mqtt's Prometheus metrics: MQTT messages in
// and out, commands by result, cloud requests by cloud and status with their
// latency, and per account its status, push state, token expiry and device
// count. It registers on the registry it is given (never the global
// default) and is fed through small hooks: MQTTMessage for the MQTT
// client's OnMessage, Command for the bridge's OnCommand, Transport around
// each cloud client's HTTP transport, and an Accounts function read at
// every scrape.
package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Account is one account as the metrics show it.
type Account struct {
	Name, Cloud string
	Status      string // connected, connecting, auth_required, error
	Push        string // live, polling
	Devices     int
	TokenExpiry time.Time // zero when unknown
}

// Options configures the metrics.
type Options struct {
	// Accounts is read at every scrape; nil shows no account metrics.
	Accounts func() []Account
	// BrokerConnected is read at every scrape; nil leaves out
	// cloud2mqtt_mqtt_connected.
	BrokerConnected func() bool
}

// Metrics holds the counters fed by the hooks. Its methods are safe for
// concurrent use.
type Metrics struct {
	mqtt     *prometheus.CounterVec
	commands *prometheus.CounterVec
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New registers cloud2mqtt's metrics on reg.
func New(reg prometheus.Registerer, o Options) (*Metrics, error) {
	m := &Metrics{
		mqtt: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloud2mqtt_mqtt_messages_total",
			Help: "MQTT messages received (direction in) and published (direction out, result ok or error).",
		}, []string{"direction", "result"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloud2mqtt_commands_total",
			Help: "Commands received on /set topics, by account and result (ok, rejected, failed).",
		}, []string{"account", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloud2mqtt_cloud_requests_total",
			Help: "HTTP requests to the clouds, by cloud and status code (error: no response).",
		}, []string{"cloud", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cloud2mqtt_cloud_request_duration_seconds",
			Help:    "Time until a cloud's HTTP response headers arrived, by cloud.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"cloud"}),
	}
	for _, c := range []prometheus.Collector{m.mqtt, m.commands, m.requests, m.latency, &accountCollector{o: o}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return m, nil
}

// Handler serves the metrics of g in the Prometheus text format.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// MQTTMessage counts one MQTT message; it fits mqtt.Options.OnMessage.
func (m *Metrics) MQTTMessage(in bool, err error) {
	switch {
	case in:
		m.mqtt.WithLabelValues("in", "ok").Inc()
	case err != nil:
		m.mqtt.WithLabelValues("out", "error").Inc()
	default:
		m.mqtt.WithLabelValues("out", "ok").Inc()
	}
}

// Command counts one command's result.
func (m *Metrics) Command(account, result string) {
	m.commands.WithLabelValues(account, result).Inc()
}

// Transport wraps next (nil: http.DefaultTransport) so that every request
// to the cloud is counted and timed.
func (m *Metrics) Transport(cloud string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{m: m, cloud: cloud, next: next}
}

type transport struct {
	m     *Metrics
	cloud string
	next  http.RoundTripper
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	t.m.latency.WithLabelValues(t.cloud).Observe(time.Since(start).Seconds())
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	t.m.requests.WithLabelValues(t.cloud, status).Inc()
	return resp, err
}
