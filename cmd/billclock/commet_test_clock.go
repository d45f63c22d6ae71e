package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newCommetTestClockCommand is `billclock commet test-clock`: read and
// advance the organization's test clock.
func newCommetTestClockCommand(client commetClientFunc) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "test-clock",
		Short: "Show or advance the organization's test clock",
		RunE:  runGroup,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "get",
		Short: "Show the test clock and its latest run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return commetCallAndPrint(cmd, client(cmd), http.MethodGet, "/test-clock", nil)
		},
	}, newCommetAdvanceCommand(client))
	return cmd
}

// commetAdvanceOptions are the flags of `billclock commet test-clock
// advance`.
type commetAdvanceOptions struct {
	days   int
	frozen string
	wait   bool
	poll   time.Duration
}

// AddFlags registers the advance's flags on cmd.
func (o *commetAdvanceOptions) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.IntVar(&o.days, "days", 0, "advance by this many days (at least 1)")
	fs.StringVar(&o.frozen, "frozen-time", "", "advance to this instant (RFC 3339 or Unix seconds)")
	fs.BoolVar(&o.wait, "wait", false, "wait until the clock run has ended, then print the clock")
	fs.DurationVar(&o.poll, "poll", 200*time.Millisecond, "how often --wait looks")
	cmd.MarkFlagsMutuallyExclusive("days", "frozen-time")
}

// body is the advance's request body.
func (o *commetAdvanceOptions) body(cmd *cobra.Command) (map[string]any, error) {
	switch {
	case cmd.Flags().Changed("days"):
		if o.days < 1 {
			return nil, errors.New("--days must be at least 1")
		}
		return map[string]any{"advanceDays": o.days}, nil
	case o.frozen != "":
		t, err := parseTimestamp(o.frozen)
		if err != nil {
			return nil, err
		}
		return map[string]any{"frozenTime": time.Unix(t, 0).UTC().Format(time.RFC3339)}, nil
	}
	return nil, errors.New("give --days N or --frozen-time T")
}

func newCommetAdvanceCommand(client commetClientFunc) *cobra.Command {
	var o commetAdvanceOptions
	cmd := &cobra.Command{
		Use:   "advance --days N | --frozen-time T [--wait]",
		Short: "Advance the test clock: a clock run through every billing deadline up to the target",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := o.body(cmd)
			if err != nil {
				return err
			}
			c := client(cmd)
			raw, err := c.do(cmd.Context(), http.MethodPost, "/test-clock", body)
			if err != nil {
				return err
			}
			if !o.wait {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			var run struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(raw, &run); err != nil {
				return err
			}
			return waitCommetRun(cmd, c, run.ID, o.poll)
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// waitCommetRun polls the clock until run id has ended and prints the
// clock; a failed run is an error.
func waitCommetRun(cmd *cobra.Command, c *commetClient, id string, poll time.Duration) error {
	for {
		raw, err := c.do(cmd.Context(), http.MethodGet, "/test-clock", nil)
		if err != nil {
			return err
		}
		var clock struct {
			LatestRun *struct {
				ID     string  `json:"id"`
				Status string  `json:"status"`
				Error  *string `json:"error"`
			} `json:"latestRun"`
		}
		if err := json.Unmarshal(raw, &clock); err != nil {
			return err
		}
		if r := clock.LatestRun; r != nil && r.ID == id && (r.Status == "completed" || r.Status == "failed") {
			if err := printJSON(cmd.OutOrStdout(), raw); err != nil {
				return err
			}
			if r.Status == "failed" {
				msg := "the clock run failed"
				if r.Error != nil {
					msg += ": " + *r.Error
				}
				return fmt.Errorf("%s", msg)
			}
			return nil
		}
		select {
		case <-cmd.Context().Done():
			return cmd.Context().Err()
		case <-time.After(poll):
		}
	}
}
