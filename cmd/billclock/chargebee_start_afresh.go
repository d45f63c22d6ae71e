package main

import (
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// newTimeMachineStartAfreshCommand is `billclock chargebee time-machine
// start-afresh [--genesis-time T] [--wait]`: the site's customer data is
// deleted and its time goes back to T (by default six months ago).
func newTimeMachineStartAfreshCommand(client func(*cobra.Command) *chargebeeClient) *cobra.Command {
	var genesis string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "start-afresh [--genesis-time T] [--wait]",
		Short: "Delete the site's customer data and start again at T (default: six months ago)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params := url.Values{}
			if err := setTimestamp(params, "genesis_time", genesis); err != nil {
				return err
			}
			return runTravel(cmd, client(cmd), timeMachinePath+"/start_afresh", params, wait, timeout)
		},
	}
	cmd.Flags().StringVar(&genesis, "genesis-time", "", "the time to start at, in the past (Unix seconds or RFC 3339)")
	cmd.Flags().BoolVar(&wait, "wait", false, "poll until the time machine has succeeded, then print it")
	cmd.Flags().DurationVar(&timeout, "wait-timeout", 5*time.Minute, "give up waiting after this long")
	return cmd
}
