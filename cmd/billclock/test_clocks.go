package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newTestHelpersCommand is `billclock test_helpers`, the Stripe CLI's
// resource command tree for test helpers.
func newTestHelpersCommand(getenv getenvFunc) *cobra.Command {
	var flags clientOptions
	cmd := &cobra.Command{
		Use:   "test_helpers",
		Short: "Call Stripe's test helper endpoints on a running billclock",
		RunE:  runGroup,
	}
	flags.AddFlags(cmd.PersistentFlags())
	client := func(cmd *cobra.Command) *apiClient {
		return flags.resolve(cmd.Flags().Changed, getenv).client()
	}
	clocks := &cobra.Command{Use: "test_clocks", Short: "Create, inspect and advance test clocks", RunE: runGroup}
	clocks.AddCommand(
		newClockCreateCommand(client),
		newClockRetrieveCommand(client),
		newClockListCommand(client),
		newClockDeleteCommand(client),
		newClockAdvanceCommand(client),
		newClockFailNextAdvanceCommand(client),
	)
	cmd.AddCommand(clocks)
	return cmd
}

const clocksPath = "/v1/test_helpers/test_clocks"

// clientFunc gives a command its API client, once flags are parsed.
type clientFunc func(*cobra.Command) *apiClient

func newClockCreateCommand(client clientFunc) *cobra.Command {
	var frozen, name string
	var data []string
	cmd := &cobra.Command{
		Use:   "create --frozen-time T [--name N]",
		Short: "Create a test clock (T: Unix seconds or RFC 3339)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params := url.Values{}
			if err := setTimestamp(params, "frozen_time", frozen); err != nil {
				return err
			}
			if name != "" {
				params.Set("name", name)
			}
			if err := addDataParams(params, data); err != nil {
				return err
			}
			return callAndPrint(cmd, client(cmd), http.MethodPost, clocksPath, params)
		},
	}
	cmd.Flags().StringVar(&frozen, "frozen-time", "", "the clock's initial time (Unix seconds or RFC 3339)")
	cmd.Flags().StringVar(&name, "name", "", "a name for the clock")
	addDataFlag(cmd, &data)
	return cmd
}

func newClockRetrieveCommand(client clientFunc) *cobra.Command {
	return newClockCallCommand(client, "retrieve ID", "Show a test clock", http.MethodGet)
}

// newClockCallCommand is a command that sends method, with the -d
// parameters, to the clock its argument names, and prints the answer.
func newClockCallCommand(client clientFunc, use, short, method string) *cobra.Command {
	var data []string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  clockIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			params := url.Values{}
			if err := addDataParams(params, data); err != nil {
				return err
			}
			return callAndPrint(cmd, client(cmd), method, clocksPath+"/"+url.PathEscape(args[0]), params)
		},
	}
	addDataFlag(cmd, &data)
	return cmd
}

func newClockListCommand(client clientFunc) *cobra.Command {
	var page pageOptions
	var output listOutput
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List test clocks, newest first (a table on a terminal, JSON otherwise)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := page.params(cmd)
			if err != nil {
				return err
			}
			raw, err := client(cmd).do(cmd.Context(), http.MethodGet, clocksPath, params)
			if err != nil {
				return err
			}
			return output.print(cmd, raw, clockTable())
		},
	}
	page.AddFlags(cmd, "clocks")
	output.AddFlags(cmd)
	return cmd
}

func newClockDeleteCommand(client clientFunc) *cobra.Command {
	return newClockCallCommand(client, "delete ID", "Delete a test clock, with its customers", http.MethodDelete)
}

func newClockAdvanceCommand(client clientFunc) *cobra.Command {
	var frozen string
	var wait bool
	var timeout time.Duration
	var data []string
	cmd := &cobra.Command{
		Use:   "advance ID --frozen-time T [--wait]",
		Short: "Advance a test clock; --wait polls until it is ready",
		Args:  clockIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			params := url.Values{}
			if err := setTimestamp(params, "frozen_time", frozen); err != nil {
				return err
			}
			if err := addDataParams(params, data); err != nil {
				return err
			}
			c := client(cmd)
			path := clocksPath + "/" + url.PathEscape(args[0])
			raw, err := c.do(cmd.Context(), http.MethodPost, path+"/advance", params)
			if err != nil {
				return err
			}
			if wait {
				if raw, err = waitReady(cmd.Context(), c, args[0], timeout, progressWriter(cmd.ErrOrStderr())); err != nil {
					return err
				}
			}
			return printJSON(cmd.OutOrStdout(), raw)
		},
	}
	cmd.Flags().StringVar(&frozen, "frozen-time", "", "the time to advance to (Unix seconds or RFC 3339)")
	cmd.Flags().BoolVar(&wait, "wait", false, "poll until the clock is ready, then print it")
	cmd.Flags().DurationVar(&timeout, "wait-timeout", 5*time.Minute, "give up waiting after this long")
	addDataFlag(cmd, &data)
	return cmd
}

// runGroup runs a command that only groups others: it shows help, or fails
// on an unknown subcommand (cobra would show help and exit 0).
func runGroup(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return errors.New(msg)
}

// clockIDArg wants exactly one argument, the clock's id.
func clockIDArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s takes one clock ID (e.g. clock_123), got %d arguments", cmd.CommandPath(), len(args))
	}
	return nil
}

func addDataFlag(cmd *cobra.Command, data *[]string) {
	cmd.Flags().StringArrayVarP(data, "data", "d", nil, "extra parameter as key=value; repeatable")
}

func callAndPrint(cmd *cobra.Command, c *apiClient, method, path string, params url.Values) error {
	raw, err := c.do(cmd.Context(), method, path, params)
	if err != nil {
		return err
	}
	return printJSON(cmd.OutOrStdout(), raw)
}

// progressWriter returns w if it is a terminal, else nil: progress is for
// people, not for logs or pipes.
func progressWriter(w io.Writer) io.Writer {
	if !isTerminal(w) {
		return nil
	}
	return w
}

// clockProgress is billclock's report on a clock's advance, from the
// control route GET /_billclock/test_clocks/{id}/progress.
type clockProgress struct {
	Clock            string `json:"clock"`
	Status           string `json:"status"`
	ReachedTime      int64  `json:"reached_time"`
	TargetFrozenTime int64  `json:"target_frozen_time"`
	TasksDone        int    `json:"tasks_done"`
}

// line is the progress shown on a terminal while waiting.
func (p clockProgress) line(elapsed time.Duration) string {
	utc := func(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }
	tasks, took := plural(p.TasksDone, "task")+" done", elapsed.Round(100*time.Millisecond)
	if p.Status == "advancing" {
		return fmt.Sprintf("%s: advancing, reached %s of %s, %s (%s)", p.Clock, utc(p.ReachedTime), utc(p.TargetFrozenTime), tasks, took)
	}
	return fmt.Sprintf("%s: %s at %s, %s (%s)", p.Clock, p.Status, utc(p.ReachedTime), tasks, took)
}

// waitReady polls the clock's progress until it leaves "advancing",
// showing it on progress (if not nil) on one line rewritten in place, and
// returns the clock as it then is. It polls often at first, since an
// emulated advance is usually quick, then backs off.
func waitReady(ctx context.Context, c *apiClient, clockID string, timeout time.Duration, progress io.Writer) ([]byte, error) {
	shown := 0 // characters of the line on screen, to blank out
	show := func(line string) {
		if progress == nil {
			return
		}
		n := len([]rune(line))
		fmt.Fprint(progress, "\r"+line+strings.Repeat(" ", max(shown-n, 0)))
		shown = max(shown, n)
	}
	if progress != nil {
		defer fmt.Fprintln(progress)
	}
	progressPath := "/_billclock/test_clocks/" + url.PathEscape(clockID) + "/progress"
	start := time.Now()
	interval := 25 * time.Millisecond
	for {
		raw, err := c.do(ctx, http.MethodGet, progressPath, nil)
		if err != nil {
			return nil, err
		}
		var p clockProgress
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("decode the progress of clock %s: %w", clockID, err)
		}
		elapsed := time.Since(start)
		show(p.line(elapsed))
		switch p.Status {
		case "advancing":
		case "internal_failure":
			return nil, fmt.Errorf("clock %s failed to advance (status internal_failure)", p.Clock)
		default:
			return c.do(ctx, http.MethodGet, clocksPath+"/"+url.PathEscape(clockID), nil)
		}
		if elapsed > timeout {
			return nil, fmt.Errorf("clock %s still advancing after %s", p.Clock, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting for clock %s (still advancing): %w", p.Clock, ctx.Err())
		case <-time.After(interval):
		}
		interval = min(2*interval, 500*time.Millisecond)
	}
}
