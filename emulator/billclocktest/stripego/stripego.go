// Package stripego points stripe-go (github.com/stripe/stripe-go/v86) at a
// billclocktest server. It is apart from billclocktest so that tests that
// only want the server's URL do not build stripe-go.
package stripego

import (
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator/billclocktest"
)

// BackendConfig is stripe-go's configuration for srv's API: its URL, and
// no automatic retries, so that a test sees every answer the server gives
// (set MaxNetworkRetries to test retries).
func BackendConfig(srv *billclocktest.Server) *stripe.BackendConfig {
	return &stripe.BackendConfig{URL: stripe.String(srv.URL), MaxNetworkRetries: stripe.Int64(0)}
}

// Backends are stripe-go's backends for srv's API (see BackendConfig).
func Backends(srv *billclocktest.Server) *stripe.Backends {
	return stripe.NewBackendsWithConfig(BackendConfig(srv))
}

// Client is a stripe-go client of srv for its StripeKey.
func Client(srv *billclocktest.Server) *stripe.Client {
	return ClientFor(srv, srv.StripeKey)
}

// ClientFor is a stripe-go client of srv for key (from srv.NewStripeKey,
// say).
func ClientFor(srv *billclocktest.Server, key string) *stripe.Client {
	return stripe.NewClient(key, stripe.WithBackends(Backends(srv)))
}
