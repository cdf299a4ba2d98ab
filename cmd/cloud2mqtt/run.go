package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	neturl "net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/config"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

func (a *app) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the bridge with the configured accounts and broker",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := a.load()
			if err != nil {
				return err
			}
			if cfg.MQTT.URL == "" {
				return errors.New("mqtt.url is not set: put the broker's URL in config.yaml (mqtt: url: tcp://host:1883), " +
					"CLOUD2MQTT_MQTT_URL or --mqtt-url; or try `cloud2mqtt demo`")
			}
			if len(cfg.Accounts) == 0 {
				return errors.New("no accounts configured: add one under accounts: in config.yaml (see README), or try `cloud2mqtt demo`")
			}
			store, err := tokenstore.Open(cfg.StateDir)
			if err != nil {
				return fmt.Errorf("state_dir: %w", err)
			}
			obs, err := newObservability()
			if err != nil {
				return err
			}
			providers, err := newProvidersWith(cfg, a.clouds, store, log, obs.httpClient)
			if err != nil {
				return err
			}
			started := settleMemory
			if a.afterStart != nil {
				started = func() { a.afterStart(); settleMemory() }
			}
			return serve(cmd.Context(), cfg, cfg.MQTT.URL, providers, store, obs, log, a.level, started)
		},
	}
}

// newProviders builds one provider per configured account, with the token
// store in state_dir.
func newProviders(cfg *config.Config, clouds *cloud.Registry, log *slog.Logger) ([]cloud.Provider, error) {
	store, err := tokenstore.Open(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	return newProvidersWith(cfg, clouds, store, log, nil)
}

// newProvidersWith builds one provider per configured account, each by its
// cloud's registration; httpClient, when not nil, gives each cloud's HTTP
// client.
func newProvidersWith(cfg *config.Config, clouds *cloud.Registry, store *tokenstore.Store, log *slog.Logger,
	httpClient func(cloud string) *http.Client) ([]cloud.Provider, error) {
	if httpClient == nil {
		httpClient = func(string) *http.Client { return nil }
	}
	var providers []cloud.Provider
	for i, acc := range cfg.Accounts {
		reg, ok := clouds.Lookup(acc.Cloud)
		if !ok {
			return nil, clouds.UnknownError(fmt.Sprintf("accounts[%d]", i), acc.Cloud)
		}
		p, err := reg.New(acc.Settings, cloud.Env{Account: acc.Name, Tokens: store, Logger: log, HTTPClient: httpClient(acc.Cloud)})
		if err != nil {
			return nil, fmt.Errorf("accounts[%d] (%s): %w", i, acc.Name, err)
		}
		providers = append(providers, p)
	}
	return providers, nil
}

// serve connects to the broker and runs the bridge until ctx ends, then
// publishes offline and disconnects; started is called once the bridge's
// start is published. The bridge starts at once: its
// accounts log in and list their devices while the broker is being
// connected, so that once the bridge is online it goes straight to
// publishing.
func serve(ctx context.Context, cfg *config.Config, url string, providers []cloud.Provider, store *tokenstore.Store,
	obs *observability, log *slog.Logger, level *slog.LevelVar, started func()) error {
	topics := bridge.Topics{Base: cfg.MQTT.BaseTopic, DiscoveryPrefix: cfg.MQTT.DiscoveryPrefix}
	tlsConfig, err := cfg.MQTT.TLSConfig()
	if err != nil {
		return err
	}
	opts := bridgeOptions(cfg, topics, log, level)
	opts.TokenExpiry = credentialExpiry(providers)
	opts.OnCommand = obs.onCommand
	opts.Started = started
	broker := newLateBroker()
	b, err := bridge.New(broker, providers, opts)
	if err != nil {
		return err
	}

	connectCtx, stopConnecting := context.WithCancel(ctx)
	defer stopConnecting()
	connected := make(chan *mqtt.Client, 1) // nil when it never connected
	go func() {
		var connects atomic.Int64
		client, err := connectBroker(connectCtx, mqtt.Options{
			URL: url, Username: cfg.MQTT.Username, Password: cfg.MQTT.Password, ClientID: mqttClientID(cfg),
			TLS:       tlsConfig,
			WillTopic: topics.BridgeState(), WillPayload: []byte(`{"state":"offline"}`),
			BirthPayload: []byte(`{"state":"online"}`),
			// After a reconnect everything is published again; the
			// first connection has published nothing yet.
			OnConnect: func(context.Context) {
				if connects.Add(1) > 1 {
					b.Republish()
				}
			},
			Logger:    log.With("component", "mqtt"),
			OnMessage: obs.metrics.MQTTMessage,
		}, log)
		if err != nil {
			broker.fail(err)
			connected <- nil
			return
		}
		obs.broker.Store(client)
		broker.set(bridge.NotifyingBroker(client, obs.changes))
		log.Info("cloud2mqtt started", "version", version, "broker", redactedURL(url),
			"base_topic", topics.Base, "accounts", len(providers))
		connected <- client
	}()
	disconnect := func() {
		stopConnecting()
		client := <-connected
		if client == nil {
			return
		}
		closeCtx, cancelClose := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancelClose()
		if err := client.Close(closeCtx); err != nil {
			log.Warn("disconnect from broker", "error", err)
		}
	}
	if err := startPage(ctx, cfg, b, providers, store, obs, log); err != nil {
		disconnect()
		return err
	}
	runErr := b.Run(ctx)
	disconnect()
	log.Info("cloud2mqtt stopped")
	return runErr
}

// redactedURL is a broker URL fit for a log: any password masked.
func redactedURL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// bridgeOptions turns the configuration into the bridge's options.
func bridgeOptions(cfg *config.Config, topics bridge.Topics, log *slog.Logger, level *slog.LevelVar) bridge.Options {
	devices := map[string]bridge.DeviceOptions{}
	for _, d := range cfg.Devices {
		devices[d.Account+"/"+d.ID] = bridge.DeviceOptions{Exclude: d.Exclude, Topic: d.Topic, Optimistic: d.Optimistic}
	}
	return bridge.Options{
		Topics: topics, Version: version, Logger: log.With("component", "bridge"), LogLevel: level,
		Output:          bridge.OutputMode(cfg.Output),
		Availability:    bridge.AvailabilityMode(cfg.Availability),
		Discovery:       bridge.DiscoveryMode(cfg.HomeAssistant.Discovery),
		HABirthDelay:    cfg.HomeAssistant.BirthDelay,
		CommandLifetime: cfg.Commands.Lifetime,
		MaxRate:         cfg.Commands.MaxRate,
		ConfirmAfter:    confirmAfter(cfg.Commands.ConfirmAfter),
		Devices:         devices,
		Config:          newConfigView(cfg, log),
	}
}

// confirmAfter is the bridge's ConfirmAfter for commands.confirm_after,
// where 0 means never.
func confirmAfter(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// configView is the configuration without secrets, keyed as in
// config.yaml, for bridge/info.
func configView(cfg *config.Config, log *slog.Logger) any {
	y, err := cfg.YAML()
	if err == nil {
		var m map[string]any
		if err = yaml.Unmarshal(y, &m); err == nil {
			return m
		}
	}
	log.Warn("configuration not shown in bridge/info", "error", err)
	return nil
}

// lateJSON is a value made when it is first encoded as JSON.
type lateJSON struct{ value func() any }

// newConfigView returns the configuration view for bridge/info as
// lateJSON, made when bridge/info is first published: once every account
// has listed at start, so that its milliseconds of CPU are not taken from
// the start's devices.
func newConfigView(cfg *config.Config, log *slog.Logger) lateJSON {
	return lateJSON{value: sync.OnceValue(func() any { return configView(cfg, log) })}
}

// MarshalJSON encodes the value once it is made.
func (l lateJSON) MarshalJSON() ([]byte, error) { return json.Marshal(l.value()) }

// connectBroker connects to the broker, trying again with backoff while it
// cannot be reached (a broker that starts after the bridge, as in
// docker compose), until ctx ends.
func connectBroker(ctx context.Context, o mqtt.Options, log *slog.Logger) (*mqtt.Client, error) {
	wait := time.Second
	for {
		attempt, cancel := context.WithTimeout(ctx, 30*time.Second)
		client, err := mqtt.Connect(attempt, o)
		cancel()
		if err == nil {
			return client, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		log.Warn("cannot connect to the MQTT broker; trying again", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}
