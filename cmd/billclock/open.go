package main

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/billclock/billclock/emulator/dashboard"
)

// openOptions are the flags of `billclock open`.
type openOptions struct {
	clientOptions
	// Print prints the URL instead of opening it.
	Print bool
}

// newOpenCommand is `billclock open CLOCK_ID`: the dashboard's page of a
// clock (a Stripe test clock, Chargebee's delorean, Commet's
// org_test_clock) in the user's browser. The page is open without a key
// on loopback; elsewhere the browser asks for one.
func newOpenCommand(getenv getenvFunc) *cobra.Command {
	var o openOptions
	cmd := &cobra.Command{
		Use:   "open CLOCK_ID",
		Short: "Open the dashboard's timeline of a clock in your browser",
		Long: "Opens the page of the clock on billclock's dashboard (--api-base" + dashboard.Prefix + "): its subscriptions,\n" +
			"invoices, payment attempts, events and advances over simulated time. --print prints the URL instead.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return errors.New("open takes one clock ID, such as clock_..., delorean (a Chargebee site) or org_test_clock (Commet)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := o.clientOptions.resolve(cmd.Flags().Changed, getenv)
			u, err := clockPageURL(opts, args[0])
			if err != nil {
				return err
			}
			if o.Print {
				fmt.Fprintln(cmd.OutOrStdout(), u)
				return nil
			}
			if err := openInBrowser(u); err != nil {
				return fmt.Errorf("could not open a browser (%w): open %s yourself", err, u)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "opened", u)
			return nil
		},
	}
	o.addAPIBaseFlag(cmd.Flags())
	cmd.Flags().BoolVar(&o.Print, "print", false, "print the page's URL instead of opening it")
	return cmd
}

// clockPageURL is the address of clock's page on the dashboard of the
// server at opts.APIBase.
func clockPageURL(opts clientOptions, clock string) (string, error) {
	if err := opts.checkAPIBase(); err != nil {
		return "", err
	}
	if clock == "" {
		return "", errors.New("open takes one clock ID: this one is empty")
	}
	return opts.APIBase + dashboard.ClockPath(clock), nil
}

// openInBrowser hands u to the system's opener of URLs, without waiting
// for the browser.
func openInBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
