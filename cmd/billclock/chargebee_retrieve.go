package main

import (
	"net/http"

	"github.com/spf13/cobra"
)

// newTimeMachineRetrieveCommand is `billclock chargebee time-machine
// retrieve`: the site's time machine.
func newTimeMachineRetrieveCommand(client func(*cobra.Command) *chargebeeClient) *cobra.Command {
	return &cobra.Command{
		Use:   "retrieve",
		Short: "Show the site's time machine: its status, genesis and destination times",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := client(cmd).do(cmd.Context(), http.MethodGet, timeMachinePath, nil)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), raw)
		},
	}
}
