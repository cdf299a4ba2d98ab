package metrics

import "github.com/prometheus/client_golang/prometheus"

var (
	statusDesc = prometheus.NewDesc("cloud2mqtt_account_status",
		"1 for the account's current status (connected, connecting, auth_required, error), 0 for the others.",
		[]string{"account", "cloud", "status"}, nil)
	pushDesc = prometheus.NewDesc("cloud2mqtt_account_push_state",
		"1 for how the account learns about changes (live: a push channel, polling), 0 for the other.",
		[]string{"account", "cloud", "state"}, nil)
	expiryDesc = prometheus.NewDesc("cloud2mqtt_account_token_expiry_timestamp_seconds",
		"When the account's token or session ends (Unix time); absent when unknown.",
		[]string{"account", "cloud"}, nil)
	devicesDesc = prometheus.NewDesc("cloud2mqtt_account_devices",
		"Devices the account publishes.", []string{"account", "cloud"}, nil)
	connectedDesc = prometheus.NewDesc("cloud2mqtt_mqtt_connected",
		"1 while the MQTT broker is connected.", nil, nil)
)

// The values the enum-like gauges always show, so that a query can rely
// on every one being present.
var (
	statuses   = []string{"connected", "connecting", "auth_required", "error"}
	pushStates = []string{"live", "polling"}
)

// accountCollector reads the accounts at scrape time.
type accountCollector struct{ o Options }

func (c *accountCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{statusDesc, pushDesc, expiryDesc, devicesDesc, connectedDesc} {
		ch <- d
	}
}

func (c *accountCollector) Collect(ch chan<- prometheus.Metric) {
	if c.o.BrokerConnected != nil {
		ch <- prometheus.MustNewConstMetric(connectedDesc, prometheus.GaugeValue, boolValue(c.o.BrokerConnected()))
	}
	if c.o.Accounts == nil {
		return
	}
	for _, a := range c.o.Accounts() {
		enum(ch, statusDesc, a, statuses, a.Status)
		enum(ch, pushDesc, a, pushStates, a.Push)
		ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, float64(a.Devices), a.Name, a.Cloud)
		if !a.TokenExpiry.IsZero() {
			ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue,
				float64(a.TokenExpiry.UnixMilli())/1000, a.Name, a.Cloud)
		}
	}
}

// enum emits 1 for current and 0 for every other known value (and current
// itself when it is not a known one).
func enum(ch chan<- prometheus.Metric, d *prometheus.Desc, a Account, known []string, current string) {
	seen := false
	for _, v := range known {
		seen = seen || v == current
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, boolValue(v == current), a.Name, a.Cloud, v)
	}
	if !seen && current != "" {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1, a.Name, a.Cloud, current)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
