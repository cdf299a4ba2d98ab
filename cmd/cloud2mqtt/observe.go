package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/metrics"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// observability is what /metrics and /healthz read: a registry of this
// process's own, the counters fed by the hooks, and the running bridge
// and broker connection once they exist.
type observability struct {
	registry *prometheus.Registry
	metrics  *metrics.Metrics
	changes  *bridge.Changes
	source   atomic.Pointer[pageSource]
	broker   atomic.Pointer[mqtt.Client]
}

// newObservability registers the metrics on a new registry, with the Go
// runtime's and the process's.
func newObservability() (*observability, error) {
	o := &observability{registry: prometheus.NewRegistry(), changes: &bridge.Changes{}}
	if err := o.registry.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := o.registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m, err := metrics.New(o.registry, metrics.Options{Accounts: o.accounts, BrokerConnected: o.brokerConnected})
	if err != nil {
		return nil, err
	}
	o.metrics = m
	return o, nil
}

// httpClient is the HTTP client of one cloud's provider, its requests
// counted and timed.
func (o *observability) httpClient(cloud string) *http.Client {
	return &http.Client{Timeout: 15 * time.Second, Transport: o.metrics.Transport(cloud, nil)}
}

// brokerConnected reports whether the MQTT connection is up.
func (o *observability) brokerConnected() bool {
	c := o.broker.Load()
	return c != nil && c.Connected()
}

// onCommand counts a command's result; it fits bridge.Options.OnCommand.
func (o *observability) onCommand(account string, result bridge.CommandResult) {
	o.metrics.Command(account, string(result))
}

// accounts are the accounts as the page shows them (with their token
// expiry) and their device counts.
func (o *observability) accounts() []metrics.Account {
	src := o.source.Load()
	if src == nil {
		return nil
	}
	devices := map[string]int{}
	for _, a := range src.bridge.Accounts() {
		devices[a.Name] = a.Devices
	}
	var out []metrics.Account
	for _, a := range src.Accounts() {
		out = append(out, metrics.Account{Name: a.Name, Cloud: a.Cloud, Status: a.Status, Push: a.Push,
			Devices: devices[a.Name], TokenExpiry: a.TokenExpiry})
	}
	return out
}

// SubscribeChanges implements web.Changes: the page updates itself when
// the bridge publishes.
func (s pageSource) SubscribeChanges() (<-chan struct{}, func()) {
	return s.changes.SubscribeChanges()
}
