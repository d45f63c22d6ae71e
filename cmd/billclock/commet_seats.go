package main

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// newCommetSeatsCommand is `billclock commet seats`: a customer's seat
// balances and changes.
func newCommetSeatsCommand(client commetClientFunc) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seats",
		Short: "Show and change a customer's seats",
		Long: "CUSTOMER is Commet's customer id, or the customer's own or external id. Changes are billed at the\n" +
			"subscription's next renewal; removals take effect at the end of the period.",
		RunE: runGroup,
	}
	cmd.AddCommand(newCommetSeatsBalanceCommand(client))
	for _, op := range []struct{ use, short, method, path string }{
		{"add", "Add seats", http.MethodPost, "/seats"},
		{"remove", "Remove seats", http.MethodPost, "/seats/remove"},
		{"set", "Set the seats to a count", http.MethodPut, "/seats"},
	} {
		cmd.AddCommand(newCommetSeatsChangeCommand(client, op.use, op.short, op.method, op.path))
	}
	return cmd
}

// commetSeatsOptions are the flags of the seats commands.
type commetSeatsOptions struct {
	customer, feature string
	count             int64
}

// AddFlags registers the flags; withCount adds --count.
func (o *commetSeatsOptions) AddFlags(cmd *cobra.Command, withCount bool) {
	fs := cmd.Flags()
	fs.StringVar(&o.customer, "customer", "", "the customer (required)")
	fs.StringVar(&o.feature, "feature", "", "the seats feature's code")
	cmd.MarkFlagRequired("customer")
	if withCount {
		fs.Int64Var(&o.count, "count", 0, "how many seats")
		cmd.MarkFlagRequired("feature")
		cmd.MarkFlagRequired("count")
	}
}

func newCommetSeatsBalanceCommand(client commetClientFunc) *cobra.Command {
	var o commetSeatsOptions
	cmd := &cobra.Command{
		Use:   "balance --customer CUSTOMER [--feature CODE]",
		Short: "Show the seats a customer holds of a feature, or of every feature",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"customerId": {o.customer}}
			path := "/seats/balances?"
			if o.feature != "" {
				q.Set("featureCode", o.feature)
				path = "/seats/balance?"
			}
			return commetCallAndPrint(cmd, client(cmd), http.MethodGet, path+q.Encode(), nil)
		},
	}
	o.AddFlags(cmd, false)
	return cmd
}

func newCommetSeatsChangeCommand(client commetClientFunc, use, short, method, path string) *cobra.Command {
	var o commetSeatsOptions
	cmd := &cobra.Command{
		Use:   use + " --customer CUSTOMER --feature CODE --count N",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return commetCallAndPrint(cmd, client(cmd), method, path,
				map[string]any{"customerId": o.customer, "featureCode": o.feature, "count": o.count})
		},
	}
	o.AddFlags(cmd, true)
	return cmd
}
