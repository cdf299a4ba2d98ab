package main

import (
	"fmt"

	"github.com/spf13/cobra"

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
			_, refresh := home.IssueTokens()
			fmt.Fprint(a.stdout, emulatorSnippet(home, refresh))
			fmt.Fprintln(a.stderr, "emulators running; press Ctrl-C to stop")
			<-cmd.Context().Done()
			return nil
		},
	}
}

// emulatorSnippet is a ready-to-use accounts: block for the emulator.
func emulatorSnippet(home *winktest.Server, refresh string) string {
	return fmt.Sprintf(`# cloud2mqtt emulators: Wink REST/OAuth at %[1]s, PubNub at %[2]s
# Demo credentials (also valid for the password grant: %[5]s / %[6]s).
accounts:
  - name: wink
    cloud: wink
    client_id: %[3]s
    client_secret: %[4]s
    refresh_token: %[7]s
    api_url: %[1]s
    pubnub_origin: %[2]s
`, home.URL, home.PubNubOrigin, demoClientID, demoClientSecret, winktestEmail, winktestPassword, refresh)
}

// The emulator's default password-grant user.
const (
	winktestEmail    = "demo@example.com"
	winktestPassword = "demo-password"
)
