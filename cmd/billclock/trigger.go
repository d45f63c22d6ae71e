package main

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/billclock/billclock/fixtures"
)

// triggerEvents lists the event types `billclock trigger` supports: the
// fixtures embedded under fixtures/billclock.
func triggerEvents() []string {
	entries, err := fs.ReadDir(fixtures.Triggers, fixtures.TriggersDir)
	if err != nil {
		panic(err) // the directory is embedded: it exists
	}
	var events []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			events = append(events, name)
		}
	}
	slices.Sort(events)
	return events
}

// readTrigger reads the fixture behind trigger event.
func readTrigger(event string) ([]byte, error) {
	return fs.ReadFile(fixtures.Triggers, path.Join(fixtures.TriggersDir, event+".json"))
}

// newTriggerCommand is `billclock trigger EVENT`, the Stripe CLI's trigger:
// it creates the objects an event needs through the API, so that billclock
// itself records (and delivers) the event.
func newTriggerCommand(getenv getenvFunc) *cobra.Command {
	var flags clientOptions
	events := triggerEvents()
	list := "  " + strings.Join(events, "\n  ")
	cmd := &cobra.Command{
		Use:   "trigger EVENT",
		Short: "Cause a webhook event by making the API calls behind it",
		Long: "Trigger an event on a running billclock by creating the objects it needs, as `stripe trigger`\n" +
			"does (run `billclock listen` alongside to see it delivered). Supported events:\n" + list,
		Example:   "  billclock trigger invoice.paid",
		Args:      cobra.ExactArgs(1),
		ValidArgs: events,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(events, args[0]) {
				return fmt.Errorf("event %q is not supported by trigger; supported events:\n%s", args[0], list)
			}
			raw, err := readTrigger(args[0])
			if err != nil {
				return err
			}
			f, err := parseFixture(raw)
			if err != nil {
				return fmt.Errorf("trigger %s: %w", args[0], err)
			}
			r := &fixtureRunner{client: flags.resolve(cmd.Flags().Changed, getenv).client(), getenv: getenv, out: cmd.OutOrStdout()}
			if err := r.run(cmd.Context(), f); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Trigger succeeded! See its events with `billclock events list`.")
			return nil
		},
	}
	flags.AddFlags(cmd.Flags())
	return cmd
}
