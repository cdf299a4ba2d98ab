package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// healthCommand asks a running bridge's /healthz, for container health
// checks: exit status 0 when healthy, 1 otherwise.
func (a *app) healthCommand() *cobra.Command {
	var target string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Ask the running bridge's status page whether it is healthy (exit status 0) or not (1)",
		Long: "health asks /healthz of the status page at web.listen (or --url): healthy means the MQTT broker " +
			"is connected and no account is in error. Made for container health checks.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				cfg, _, err := a.load()
				if err != nil {
					return err
				}
				if cfg.Web.Listen == "" || cfg.Web.Listen == "off" {
					return errors.New("web.listen is off, so there is no /healthz to ask: turn the status page on, or pass --url")
				}
				target = healthURL(cfg.Web.Listen)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			healthy, text, err := checkHealth(ctx, target)
			if err != nil {
				fmt.Fprintln(a.stderr, "cloud2mqtt health:", err)
				return exitError(1)
			}
			fmt.Fprintln(a.stdout, text)
			if !healthy {
				return exitError(1)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "url", "", "the /healthz address (default: from web.listen)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	return cmd
}

// healthURL is /healthz at listen, a wildcard address asked on loopback.
func healthURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen + "/healthz"
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}

// checkHealth asks url and says in one line what it answered.
func checkHealth(ctx context.Context, url string) (bool, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, "", fmt.Errorf("--url %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, "", fmt.Errorf("ask %s: %w (is cloud2mqtt running, with its status page on?)", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var h struct {
		Status   string   `json:"status"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return false, "", fmt.Errorf("%s answered %s, not a health report", url, resp.Status)
	}
	if resp.StatusCode == http.StatusOK && h.Status == "ok" {
		return true, "healthy", nil
	}
	return false, "unhealthy: " + strings.Join(h.Problems, "; "), nil
}
