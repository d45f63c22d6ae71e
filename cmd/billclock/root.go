package main

import "github.com/spf13/cobra"

// getenvFunc reads an environment variable; tests pass their own.
type getenvFunc func(string) string

// newRootCommand builds the whole command tree. getenv supplies environment
// defaults so that tests never depend on the real environment.
func newRootCommand(getenv getenvFunc) *cobra.Command {
	root := &cobra.Command{
		Use:   "billclock",
		Short: "A local emulator of billing providers' test clocks",
		Long: "billclock emulates Stripe's test clocks (and the billing that follows them) locally.\n" +
			"Run `billclock serve`, then point stripe-go, stripe-node, the Stripe CLI or curl at it.",
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		newServeCommand(getenv),
		newHealthCommand(getenv),
		newTestHelpersCommand(getenv),
		newListenCommand(getenv),
		newTriggerCommand(getenv),
		newEventsCommand(getenv),
		newFixturesCommand(getenv),
		newDBCommand(),
		newSettingsCommand(getenv),
		newChargebeeCommand(getenv),
		newCommetCommand(getenv),
		newVersionCommand(),
	)
	return root
}
