package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/config"
)

func (a *app) authCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Log in to a cloud account through the browser, or check the stored credentials",
	}
	cmd.AddCommand(a.authLoginCommand(), a.authCheckCommand())
	return cmd
}

func (a *app) authLoginCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "login <account>",
		Short: "Log in through the browser; the tokens are stored in state_dir",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, log, providers, err := a.loadProviders()
			if err != nil {
				return err
			}
			p, err := findAccount(cfg, providers, args[0])
			if err != nil {
				return err
			}
			loginer, ok := p.(cloud.Loginer)
			if !ok {
				return fmt.Errorf("account %s does not log in through the browser", args[0])
			}
			acc := accountConfig(cfg, args[0])
			redirect := cfg.Auth.RedirectURI
			if acc.RedirectURI != "" {
				redirect = acc.RedirectURI
			}
			err = auth.Login(cmd.Context(), loginer, auth.LoginOptions{
				Listen: cfg.Auth.CallbackListen, RedirectURI: redirect,
				Out: a.stdout, Logger: log, OpenBrowser: browserOpener(),
			})
			if err != nil {
				return exitError(1) // Login has told the cause and the fix
			}
			return nil
		},
	}
}

func (a *app) authCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check [account]",
		Short: "Check every account's credentials and name the cause of a failure",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, providers, err := a.loadProviders()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				p, err := findAccount(cfg, providers, args[0])
				if err != nil {
					return err
				}
				providers = []cloud.Provider{p}
			}
			var reports []auth.Report
			for _, p := range providers {
				ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
				reports = append(reports, checkAccount(ctx, p))
				cancel()
			}
			auth.WriteReports(a.stdout, reports)
			if auth.Failed(reports) {
				return exitError(1)
			}
			return nil
		},
	}
}

// checkAccount runs the cloud's own credential check.
func checkAccount(ctx context.Context, p cloud.Provider) auth.Report {
	if c, ok := p.(cloud.CredentialChecker); ok {
		return c.Check(ctx)
	}
	return auth.Report{Account: p.Account(), Cloud: p.Cloud(), Cause: "this cloud has no credential check"}
}

// findAccount returns the provider of the named account.
func findAccount(cfg *config.Config, providers []cloud.Provider, name string) (cloud.Provider, error) {
	for _, p := range providers {
		if p.Account() == name {
			return p, nil
		}
	}
	names := make([]string, 0, len(cfg.Accounts))
	for _, acc := range cfg.Accounts {
		names = append(names, acc.Name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no account %q: no accounts are configured (accounts: in config.yaml)", name)
	}
	return nil, fmt.Errorf("no account %q: configured accounts are %s", name, strings.Join(names, ", "))
}

// accountConfig returns the configuration of the named account.
func accountConfig(cfg *config.Config, name string) config.Account {
	for _, acc := range cfg.Accounts {
		if acc.Name == name {
			return acc
		}
	}
	return config.Account{}
}

// browserOpener returns a function that opens a URL in the desktop's
// browser, or nil when no desktop browser is at hand (the URL is printed
// either way).
func browserOpener() func(string) error {
	var opener string
	switch runtime.GOOS {
	case "darwin":
		opener = "open"
	case "windows":
		opener = "rundll32"
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return nil
		}
		opener = "xdg-open"
	}
	path, err := exec.LookPath(opener)
	if err != nil {
		return nil
	}
	return func(url string) error {
		args := []string{url}
		if opener == "rundll32" {
			args = []string{"url.dll,FileProtocolHandler", url}
		}
		return exec.Command(path, args...).Start()
	}
}
