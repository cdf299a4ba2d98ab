package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/tokenstore"
	"github.com/cloud2mqtt/cloud2mqtt/config"
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
			emulators, err := startEmulators(a.clouds, log, cloud.EmulateOptions{})
			defer emulators.Close()
			if err != nil {
				return err
			}
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
			store, err := tokenstore.Open(stateDir)
			if err != nil {
				return err
			}
			if cfg.Accounts, err = emulators.demoAccounts(a.clouds); err != nil {
				return err
			}
			obs, err := newObservability()
			if err != nil {
				return err
			}
			providers, err := newProvidersWith(cfg, a.clouds, store, log, obs.httpClient)
			if err != nil {
				return err
			}
			printDemoHelp(a.stdout, url, cfg.MQTT.BaseTopic)
			if interval > 0 {
				for _, e := range emulators {
					go e.Animate(ctx, interval)
				}
			}
			return serve(ctx, cfg, url, providers, store, obs, log, a.level, settleMemory)
		},
	}
	cmd.Flags().DurationVar(&interval, "sensor-interval", 20*time.Second, "how often a simulated sensor changes (0: never)")
	return cmd
}

// The demo's OAuth client, known to the emulators; not a real credential.
const (
	demoClientID     = "cloud2mqtt-demo"
	demoClientSecret = "cloud2mqtt-demo-secret"
)

// runningEmulators are the emulators of every registered cloud that has
// one, by cloud name.
type runningEmulators map[string]*cloud.Emulator

// startEmulators starts every registered cloud's emulator, furnished as o
// says (the demo home by default) with the demo client. With o.Port set,
// the clouds take consecutive blocks of fixed ports from it, in name
// order. On error the ones started are returned for Close.
func startEmulators(clouds *cloud.Registry, log *slog.Logger, o cloud.EmulateOptions) (runningEmulators, error) {
	out := runningEmulators{}
	for _, reg := range clouds.Registrations() {
		if reg.Emulate == nil {
			continue
		}
		ro := o
		ro.ClientID, ro.ClientSecret = demoClientID, demoClientSecret
		ro.Logger = log.With("component", reg.Name+"-emulator")
		if o.Port != 0 {
			o.Port += o.AccountCount() * cloud.EmulatorPorts
		}
		e, err := reg.Emulate(ro)
		if err != nil {
			return out, fmt.Errorf("start the %s emulator: %w", reg.Name, err)
		}
		out[reg.Name] = e
	}
	return out, nil
}

// Close stops every emulator.
func (r runningEmulators) Close() {
	for _, e := range r {
		e.Close()
	}
}

// names returns the clouds in a stable order.
func (r runningEmulators) names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// demoAccounts are the accounts the demo bridges: every emulator's main
// entries, with fresh credentials.
func (r runningEmulators) demoAccounts(clouds *cloud.Registry) ([]config.Account, error) {
	var out []config.Account
	for _, n := range r.names() {
		for _, ea := range r[n].Accounts() {
			if ea.ExtraOnly {
				continue
			}
			acc, err := config.NewAccount(clouds, ea.Name, n, ea.Keys)
			if err != nil {
				return nil, fmt.Errorf("demo: the %s emulator's account: %w", n, err)
			}
			out = append(out, acc)
		}
	}
	return out, nil
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
