package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"go.yaml.in/yaml/v3"
)

func (a *app) emulateCommand() *cobra.Command {
	var o cloud.EmulateOptions
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "Run the cloud emulators alone and print an accounts: snippet that points at them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, log, err := a.load()
			if err != nil {
				return err
			}
			if o.Devices < 0 || o.Accounts < 0 || o.Port < 0 || o.Port > 65535 {
				return fmt.Errorf("emulate: --devices, --accounts and --port must be positive (--port at most 65535)")
			}
			emulators, err := startEmulators(a.clouds, log, o)
			defer emulators.Close()
			if err != nil {
				return err
			}
			snippet, err := emulators.snippet()
			if err != nil {
				return err
			}
			fmt.Fprint(a.stdout, snippet)
			fmt.Fprintln(a.stderr, "emulators running; press Ctrl-C to stop")
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Devices, "devices", 0, "generated devices per account instead of the demo home (0: the demo home)")
	cmd.Flags().IntVar(&o.Accounts, "accounts", 1, "accounts (homes) per cloud")
	cmd.Flags().IntVar(&o.Port, "port", 0, fmt.Sprintf("first fixed port: each cloud takes %d per account from here, in name order (0: random ports)", cloud.EmulatorPorts))
	return cmd
}

// snippet is a ready-to-use accounts: block for the emulators, every
// emulator's entries with fresh credentials, headed by where they listen.
func (r runningEmulators) snippet() (string, error) {
	var b strings.Builder
	b.WriteString("# cloud2mqtt emulators (demo credentials, not real ones):\n")
	accounts := &yaml.Node{Kind: yaml.SequenceNode}
	for _, n := range r.names() {
		fmt.Fprintf(&b, "#   %s: %s\n", n, r[n].Describe)
		for _, ea := range r[n].Accounts() {
			entry := &yaml.Node{Kind: yaml.MappingNode}
			add := func(k string, v any) error {
				var vn yaml.Node
				if err := vn.Encode(v); err != nil {
					return fmt.Errorf("emulate: %s account %s: key %s: %w", n, ea.Name, k, err)
				}
				entry.Content = append(entry.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &vn)
				return nil
			}
			if err := add("name", ea.Name); err != nil {
				return "", err
			}
			if err := add("cloud", n); err != nil {
				return "", err
			}
			for _, kv := range ea.Keys {
				if err := add(kv.Key, kv.Value); err != nil {
					return "", err
				}
			}
			accounts.Content = append(accounts.Content, entry)
		}
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "accounts"}, accounts}}
	var out strings.Builder
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("emulate: write the accounts snippet: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("emulate: write the accounts snippet: %w", err)
	}
	b.WriteString(out.String())
	return b.String(), nil
}
