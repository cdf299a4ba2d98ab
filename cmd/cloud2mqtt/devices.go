package main

import (
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) devicesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "devices",
		Short: "List the configured accounts' devices",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, _, providers, err := a.loadProviders()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ACCOUNT\tID\tNAME\tCLASS\tTYPE\tAVAILABLE")
			failed := 0
			for _, p := range providers {
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				devices, err := p.Devices(ctx)
				cancel()
				if err != nil {
					fmt.Fprintf(a.stderr, "%s: %v\n", p.Account(), err)
					failed++
					continue
				}
				sort.Slice(devices, func(i, j int) bool { return devices[i].Name < devices[j].Name })
				for _, d := range devices {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%v\n", p.Account(), d.ID, d.Name, d.Class, d.Type, d.Available)
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				return exitError(1)
			}
			return nil
		},
	}
}
