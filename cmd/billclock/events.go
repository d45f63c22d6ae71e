package main

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// newEventsCommand is `billclock events`: list and show events, and resend
// them to webhook endpoints.
func newEventsCommand(getenv getenvFunc) *cobra.Command {
	var flags clientOptions
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List, show and resend events on a running billclock",
		RunE:  runGroup,
	}
	flags.AddFlags(cmd.PersistentFlags())
	client := func(cmd *cobra.Command) *apiClient {
		return flags.resolve(cmd.Flags().Changed, getenv).client()
	}
	cmd.AddCommand(
		newEventResendCommand(client),
		newEventListCommand(client),
		newEventRetrieveCommand(client),
	)
	return cmd
}

func newEventResendCommand(client clientFunc) *cobra.Command {
	var endpoint string
	var data []string
	cmd := &cobra.Command{
		Use:   "resend ID [--webhook-endpoint WE]",
		Short: "Send an event again, to one webhook endpoint or to every endpoint that wants it",
		Args:  eventIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			params := url.Values{}
			if endpoint != "" {
				params.Set("webhook_endpoint", endpoint)
			}
			if err := addDataParams(params, data); err != nil {
				return err
			}
			return callAndPrint(cmd, client(cmd), http.MethodPost, "/v1/events/"+url.PathEscape(args[0])+"/retry", params)
		},
	}
	cmd.Flags().StringVar(&endpoint, "webhook-endpoint", "", "send only to this webhook endpoint (we_...)")
	addDataFlag(cmd, &data)
	return cmd
}

func newEventListCommand(client clientFunc) *cobra.Command {
	var page pageOptions
	var output listOutput
	var typ string
	cmd := &cobra.Command{
		Use:   "list [--type T] [--json]",
		Short: "List events, newest first (a table on a terminal, JSON otherwise)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := page.params(cmd)
			if err != nil {
				return err
			}
			if typ != "" {
				params.Set("type", typ)
			}
			raw, err := client(cmd).do(cmd.Context(), http.MethodGet, "/v1/events", params)
			if err != nil {
				return err
			}
			return output.print(cmd, raw, eventTable())
		},
	}
	page.AddFlags(cmd, "events")
	output.AddFlags(cmd)
	cmd.Flags().StringVar(&typ, "type", "", `only events of this type; a trailing * matches any suffix ("invoice.*")`)
	return cmd
}

func newEventRetrieveCommand(client clientFunc) *cobra.Command {
	var data []string
	cmd := &cobra.Command{
		Use:   "retrieve ID",
		Short: "Show an event",
		Args:  eventIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			params := url.Values{}
			if err := addDataParams(params, data); err != nil {
				return err
			}
			return callAndPrint(cmd, client(cmd), http.MethodGet, "/v1/events/"+url.PathEscape(args[0]), params)
		},
	}
	addDataFlag(cmd, &data)
	return cmd
}

// eventIDArg wants exactly one argument, the event's id.
func eventIDArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s takes one event ID (e.g. evt_123), got %d arguments", cmd.CommandPath(), len(args))
	}
	return nil
}
