// Command cloud2mqtt bridges home-automation clouds (Wink, Homey) to an MQTT
// broker, with Home Assistant discovery.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	tuneMemory()
	afterStart := tuneScheduler(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := executeWith(ctx, os.Args[1:], os.Stdout, os.Stderr, clouds(), afterStart)
	stop()
	os.Exit(code)
}

// execute runs the command line and returns the exit status.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return executeWith(ctx, args, stdout, stderr, clouds(), nil)
}

// executeWith runs the command line with the clouds of registry; the run
// command calls afterStart (when not nil) once the bridge's start is
// published.
func executeWith(ctx context.Context, args []string, stdout, stderr io.Writer, registry *cloud.Registry, afterStart func()) int {
	root := newRootCommand(stdout, stderr, registry, afterStart)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			return int(exit)
		}
		fmt.Fprintln(stderr, "cloud2mqtt:", err)
		return 1
	}
	return 0
}

// exitError ends the program with a status and no further message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// app holds what every subcommand shares: output streams and the flags.
type app struct {
	stdout, stderr io.Writer
	configPath     string
	root           *cobra.Command
	level          *slog.LevelVar  // the log level, changeable at run time
	clouds         *cloud.Registry // the clouds accounts may name
	afterStart     func()          // for run, once the start is published (may be nil)
}

func newRootCommand(stdout, stderr io.Writer, registry *cloud.Registry, afterStart func()) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr, level: new(slog.LevelVar), clouds: registry, afterStart: afterStart}
	root := &cobra.Command{
		Use:           "cloud2mqtt",
		Short:         "Bridge Wink and Homey clouds to MQTT and Home Assistant",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	a.root = root
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "configuration file (default ./config.yaml when present)")
	pf.String("mqtt-url", "", "MQTT broker URL, e.g. tcp://127.0.0.1:1883 (mqtt.url)")
	pf.String("base-topic", "", "MQTT base topic (mqtt.base_topic)")
	pf.String("log-level", "", "debug, info, warn or error (log_level)")
	pf.String("state-dir", "", "where tokens are kept (state_dir)")
	root.AddCommand(a.runCommand(), a.demoCommand(), a.emulateCommand(), a.benchCommand(), a.devicesCommand(), a.authCommand(), a.healthCommand(), a.versionCommand())
	return root
}

// load reads the configuration and makes the logger it asks for.
func (a *app) load() (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(a.configPath, a.root.PersistentFlags(), a.clouds)
	if err != nil {
		return nil, nil, err
	}
	level, err := config.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, nil, err
	}
	a.level.Set(level)
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: a.level}))
	return cfg, log, nil
}

// loadProviders reads the configuration and builds every account's
// provider, with the token store in state_dir.
func (a *app) loadProviders() (*config.Config, *slog.Logger, []cloud.Provider, error) {
	cfg, log, err := a.load()
	if err != nil {
		return nil, nil, nil, err
	}
	providers, err := newProviders(cfg, a.clouds, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, log, providers, nil
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.stdout, "cloud2mqtt", version)
			return nil
		},
	}
}
