package main

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// newClockFailNextAdvanceCommand is `billclock test_helpers test_clocks
// fail-next-advance ID`: billclock's failure injection (no Stripe CLI
// equivalent). The clock's next advance ends in internal_failure, as
// Stripe's clocks sometimes do.
func newClockFailNextAdvanceCommand(client clientFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "fail-next-advance ID",
		Short: "Make a test clock's next advance end in internal_failure (billclock only)",
		Long: "Make the clock's next advance fail as Stripe's clocks sometimes do: the advance is accepted,\n" +
			"then the clock ends in internal_failure without moving, test_helpers.test_clock.internal_failure\n" +
			"is sent, and every later advance is refused. Retrieve and delete still work.",
		Example: "  billclock test_helpers test_clocks fail-next-advance clock_123\n" +
			"  billclock test_helpers test_clocks advance clock_123 --frozen-time 2025-01-23T00:00:00Z --wait",
		Args: clockIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(cmd, client(cmd), http.MethodPost, failNextAdvancePath(args[0]), nil)
		},
	}
}

// failNextAdvancePath is the control route that arms a clock's failure.
func failNextAdvancePath(clock string) string {
	return "/_billclock/test_clocks/" + url.PathEscape(clock) + "/fail_next_advance"
}
