package main

import (
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// newTimeMachineTravelForwardCommand is `billclock chargebee time-machine
// travel-forward --destination-time T [--wait]`: everything due until T
// happens, in time order.
func newTimeMachineTravelForwardCommand(client func(*cobra.Command) *chargebeeClient) *cobra.Command {
	var dest string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "travel-forward --destination-time T [--wait]",
		Short: "Travel the site to T (after its destination time, not after now); --wait polls until it has succeeded",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dest == "" {
				return errors.New("travel-forward needs --destination-time (Unix seconds or RFC 3339)")
			}
			t, err := parseTimestamp(dest)
			if err != nil {
				return err
			}
			params := url.Values{"destination_time": {strconv.FormatInt(t, 10)}}
			return runTravel(cmd, client(cmd), timeMachinePath+"/travel_forward", params, wait, timeout)
		},
	}
	cmd.Flags().StringVar(&dest, "destination-time", "", "the time to travel to (Unix seconds or RFC 3339)")
	cmd.Flags().BoolVar(&wait, "wait", false, "poll until the time machine has succeeded, then print it")
	cmd.Flags().DurationVar(&timeout, "wait-timeout", 5*time.Minute, "give up waiting after this long")
	return cmd
}
