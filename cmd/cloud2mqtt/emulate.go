package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

func (a *app) emulateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "emulate",
		Short: "Run the cloud emulators alone and print an accounts: snippet that points at them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, log, err := a.load()
			if err != nil {
				return err
			}
			home := startDemoHome(log)
			defer home.Close()
			homeyHome := startDemoHomey(log)
			defer homeyHome.Close()
			fmt.Fprint(a.stdout, emulatorSnippet(home, homeyHome))
			fmt.Fprintln(a.stderr, "emulators running; press Ctrl-C to stop")
			<-cmd.Context().Done()
			return nil
		},
	}
}

// emulatorSnippet is a ready-to-use accounts: block for the emulators.
func emulatorSnippet(w *winktest.Server, h *homeytest.Server) string {
	_, winkRefresh := w.IssueTokens()
	_, homeyRefresh := h.IssueTokens()
	return fmt.Sprintf(`# cloud2mqtt emulators: Wink REST/OAuth at %[1]s, PubNub at %[2]s;
# Athom cloud at %[8]s, a Homey at %[9]s.
# Demo credentials (the password grant also takes %[5]s / %[6]s).
accounts:
  - name: wink
    cloud: wink
    client_id: %[3]s
    client_secret: %[4]s
    refresh_token: %[7]s
    api_url: %[1]s
    pubnub_origin: %[2]s
  - name: homey
    cloud: homey
    client_id: %[3]s
    client_secret: %[4]s
    refresh_token: %[10]s
    cloud_url: %[8]s
  - name: homey-local
    cloud: homey
    address: %[9]s
    api_key: %[11]s
`, w.URL, w.PubNubOrigin, demoClientID, demoClientSecret, winktestEmail, winktestPassword, winkRefresh,
		h.CloudURL, h.HomeyURL, homeyRefresh, h.NewAPIKey("homey"))
}

// The emulator's default password-grant user.
const (
	winktestEmail    = "demo@example.com"
	winktestPassword = "demo-password"
)
