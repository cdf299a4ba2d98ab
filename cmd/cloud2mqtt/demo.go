package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/broker"
)

func (a *app) demoCommand() *cobra.Command {
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the bridge against a simulated Wink and Homey home, with an embedded broker unless mqtt.url is set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := a.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			home := startDemoHome(log)
			defer home.Close()

			url := cfg.MQTT.URL
			if url == "" {
				b, err := startDemoBroker(log)
				if err != nil {
					return err
				}
				defer b.Close()
				url = b.URL()
			}
			stateDir, err := os.MkdirTemp("", "cloud2mqtt-demo-")
			if err != nil {
				return fmt.Errorf("demo: state directory: %w", err)
			}
			defer os.RemoveAll(stateDir)
			homeyHome := startDemoHomey(log)
			defer homeyHome.Close()
			store, err := tokenstore.Open(stateDir)
			if err != nil {
				return err
			}
			obs, err := newObservability()
			if err != nil {
				return err
			}
			providers, err := demoProviders(home, homeyHome, store, obs.httpClient, log)
			if err != nil {
				return err
			}
			printDemoHelp(a.stdout, url, cfg.MQTT.BaseTopic)
			if interval > 0 {
				go home.Animate(ctx, interval)
				go homeyHome.Animate(ctx, interval)
			}
			return serve(ctx, cfg, url, providers, store, obs, log, a.level)
		},
	}
	cmd.Flags().DurationVar(&interval, "sensor-interval", 20*time.Second, "how often a simulated sensor changes (0: never)")
	return cmd
}

// The demo's OAuth client, known to the emulator; not a real credential.
const (
	demoClientID     = "cloud2mqtt-demo"
	demoClientSecret = "cloud2mqtt-demo-secret"
)

// startDemoHome starts the Wink emulator furnished with a demo home.
func startDemoHome(log *slog.Logger) *winktest.Server {
	srv := winktest.NewServer(winktest.Options{ClientID: demoClientID, ClientSecret: demoClientSecret,
		Logger: log.With("component", "winktest")})
	srv.Furnish()
	return srv
}

// startDemoHomey starts the Homey emulator furnished with a demo home.
func startDemoHomey(log *slog.Logger) *homeytest.Server {
	srv := homeytest.NewServer(homeytest.Options{ClientID: demoClientID, ClientSecret: demoClientSecret,
		Logger: log.With("component", "homeytest")})
	srv.Furnish()
	return srv
}

// demoProviders are a Wink and a Homey client for the emulators, logged in
// with fresh refresh tokens.
func demoProviders(w *winktest.Server, h *homeytest.Server, store *tokenstore.Store,
	httpClient func(cloud string) *http.Client, log *slog.Logger) ([]cloud.Provider, error) {
	_, winkRefresh := w.IssueTokens()
	winkClient, err := wink.New(wink.Config{
		Account: "wink", ClientID: demoClientID, ClientSecret: demoClientSecret, RefreshToken: winkRefresh,
		APIURL: w.URL, PubNubOrigin: w.PubNubOrigin, Tokens: store,
		SubscribeTimeout: 30 * time.Second,
		HTTPClient:       httpClient("wink"),
		Logger:           log,
	})
	if err != nil {
		return nil, err
	}
	_, homeyRefresh := h.IssueTokens()
	homeyClient, err := homey.New(homey.Config{
		Account: "homey", ClientID: demoClientID, ClientSecret: demoClientSecret, RefreshToken: homeyRefresh,
		CloudURL: h.CloudURL, Tokens: store, HTTPClient: httpClient("homey"), Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return []cloud.Provider{winkClient, homeyClient}, nil
}

// startDemoBroker starts the embedded broker on 127.0.0.1:1883, or on a free
// port when that one is taken.
func startDemoBroker(log *slog.Logger) (*broker.Broker, error) {
	b, err := broker.Start("127.0.0.1:1883", log)
	if err == nil {
		return b, nil
	}
	b, err2 := broker.Start("127.0.0.1:0", log)
	if err2 != nil {
		return nil, fmt.Errorf("demo: start the embedded broker: %w", err2)
	}
	log.Info("port 1883 is taken; the embedded broker listens elsewhere", "url", b.URL(), "reason", err)
	return b, nil
}

func printDemoHelp(w io.Writer, url, base string) {
	host, port := "127.0.0.1", "1883"
	if h, p, err := net.SplitHostPort(trimScheme(url)); err == nil {
		host, port = h, p
	}
	fmt.Fprintf(w, `cloud2mqtt demo: a simulated Wink home and Homey are bridged to the broker at %s

Watch everything:
  mosquitto_sub -h %s -p %s -t '%s/#' -v

Turn the bedroom lamp on at half brightness, then off:
  mosquitto_pub -h %s -p %s -t '%s/wink/bedroom_lamp/set' -m '{"state":"ON","brightness":128}'
  mosquitto_pub -h %s -p %s -t '%s/wink/bedroom_lamp/set' -m OFF

Lock the front door, open the office shade half way, dim the Homey's ceiling light:
  mosquitto_pub -h %s -p %s -t '%s/wink/front_door/set' -m LOCK
  mosquitto_pub -h %s -p %s -t '%s/wink/office_shade/set/position' -m 50
  mosquitto_pub -h %s -p %s -t '%s/homey/ceiling_light/set' -m '{"state":"ON","brightness":60}'

List the devices (with their topics):
  mosquitto_sub -h %s -p %s -t '%s/bridge/devices' -C 1

Point Home Assistant's MQTT integration at the same broker: the devices appear by themselves.
Press Ctrl-C to stop.

`, url, host, port, base, host, port, base, host, port, base, host, port, base, host, port, base, host, port, base, host, port, base)
}

func trimScheme(url string) string {
	for _, p := range []string{"tcp://", "mqtt://", "ssl://", "mqtts://", "tls://", "ws://", "wss://"} {
		if len(url) > len(p) && url[:len(p)] == p {
			return url[len(p):]
		}
	}
	return url
}
