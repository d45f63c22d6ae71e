package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newHealthCommand checks that a server answers /healthz; it suits a
// container HEALTHCHECK.
func newHealthCommand(getenv getenvFunc) *cobra.Command {
	var flags clientOptions
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Exit 0 if the server at --api-base is ready to serve",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := flags.resolve(cmd.Flags().Changed, getenv)
			if err := o.checkAPIBase(); err != nil {
				return err
			}
			hc := &http.Client{Timeout: 3 * time.Second}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, o.APIBase+"/healthz", nil)
			if err != nil {
				return fmt.Errorf("not healthy: %w", err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				return fmt.Errorf("not healthy: %w", unreachable(o.APIBase, err))
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("not healthy: /healthz answered %s", resp.Status)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}
	flags.addAPIBaseFlag(cmd.Flags())
	return cmd
}
