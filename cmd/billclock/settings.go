package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

// settingsPath is the control route of an account's settings.
const settingsPath = "/_billclock/settings"

// newSettingsCommand is `billclock settings`: read and change the
// account's dunning settings (Stripe keeps them in its Dashboard).
func newSettingsCommand(getenv getenvFunc) *cobra.Command {
	var flags clientOptions
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show and change the account's dunning settings on a running billclock",
		Long: "Each API key is its own account with its own settings: the retry schedule of failed invoice\n" +
			"payments and what happens after the last retry (Stripe's Billing > Revenue recovery settings).",
		RunE: runGroup,
	}
	flags.AddFlags(cmd.PersistentFlags())
	client := func(cmd *cobra.Command) *apiClient {
		return flags.resolve(cmd.Flags().Changed, getenv).client()
	}
	cmd.AddCommand(newSettingsGetCommand(client), newSettingsSetCommand(client))
	return cmd
}

func newSettingsGetCommand(client clientFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "get",
		Short: "Show the account's settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return callAndPrint(cmd, client(cmd), http.MethodGet, settingsPath, nil)
		},
	}
}

// settingsSetOptions are the flags of `billclock settings set`.
type settingsSetOptions struct {
	retryDays, subscriptionAction, invoiceAction string
	upcomingInvoiceDays                          int
	data                                         []string
}

// AddFlags registers the settings flags on cmd.
func (o *settingsSetOptions) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.retryDays, "retry-days", "",
		`retries of a failed payment, each in days after the attempt before: "1,2,2,2,2,2,3"; "none" for no retries`)
	fs.StringVar(&o.subscriptionAction, "subscription-action", "", "after the last retry: cancel, unpaid or past_due")
	fs.StringVar(&o.invoiceAction, "invoice-action", "", "after the last retry: leave_open or mark_uncollectible")
	fs.IntVar(&o.upcomingInvoiceDays, "upcoming-invoice-days", 0, "days before a renewal of the upcoming-invoice notice (0: none)")
	addDataFlag(cmd, &o.data)
}

// params returns the form of the flags the user gave.
func (o *settingsSetOptions) params(cmd *cobra.Command) (url.Values, error) {
	changed := cmd.Flags().Changed
	params := url.Values{}
	if changed("retry-days") {
		v := o.retryDays
		if v == "none" {
			v = ""
		}
		params.Set("retry_days", v)
	}
	if changed("subscription-action") {
		params.Set("subscription_action", o.subscriptionAction)
	}
	if changed("invoice-action") {
		params.Set("invoice_action", o.invoiceAction)
	}
	if changed("upcoming-invoice-days") {
		params.Set("upcoming_invoice_days", strconv.Itoa(o.upcomingInvoiceDays))
	}
	if err := addDataParams(params, o.data); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		return nil, errors.New("nothing to set: give --retry-days, --subscription-action, --invoice-action, --upcoming-invoice-days or -d")
	}
	return params, nil
}

func newSettingsSetCommand(client clientFunc) *cobra.Command {
	var opts settingsSetOptions
	cmd := &cobra.Command{
		Use:   "set [--retry-days D,D,...] [--subscription-action A] [--invoice-action A] [--upcoming-invoice-days N]",
		Short: "Change the settings given, keep the others, and show the result",
		Example: "  billclock settings set --retry-days 1,3 --subscription-action unpaid\n" +
			"  billclock settings set --retry-days none --invoice-action mark_uncollectible",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := opts.params(cmd)
			if err != nil {
				return err
			}
			return callAndPrint(cmd, client(cmd), http.MethodPost, settingsPath, params)
		},
	}
	opts.AddFlags(cmd)
	return cmd
}
