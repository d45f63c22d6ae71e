// Package stripe is billclock's Stripe dialect: Stripe's wire format (form
// bodies, error envelope and wording, pagination, idempotency headers,
// auth), routes, renderers, event shapes and id scheme, over the billing
// engine and the provider-neutral runtime (emulator/clockwork).
package stripe

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// DefaultAPIVersion is the Stripe API version billclock speaks when a
// request names none.
const DefaultAPIVersion = "2026-08-26.dahlia"

// maxBodyBytes bounds a request body; Stripe's own requests are far smaller.
const maxBodyBytes = 1 << 20

// Options configure the Stripe dialect.
type Options struct {
	// StripeLimits enforces Stripe's caps on test clocks: 3 customers per
	// clock and 3 subscriptions per customer on a clock. Off by default.
	StripeLimits bool
	// PublicURL is the address the pages billclock serves are linked at
	// (a Checkout Session's url, an invoice's hosted_invoice_url): the
	// server's own, such as http://127.0.0.1:12800, or the one serve
	// --public-url gives.
	PublicURL string
}

// Surface serves Stripe's API over a runtime. Create it with New and
// register it with the runtime (clockwork.Runtime.Register), which serves
// its routes and does its background work.
type Surface struct {
	rt     *clockwork.Runtime
	db     *store.DB
	now    func() time.Time
	limits bool
	log    *slog.Logger
	// base is Options.PublicURL, without a trailing slash.
	base string
	// cli holds the Stripe CLI's listen sessions (see stripecli.go),
	// made at the first.
	cli     *cliSessions
	cliOnce sync.Once
}

var _ clockwork.Dialect = (*Surface)(nil)

// New returns the Stripe dialect over rt.
func New(rt *clockwork.Runtime, opts Options) *Surface {
	return &Surface{rt: rt, db: rt.DB(), now: rt.Now, limits: opts.StripeLimits, log: rt.Logger(),
		base: strings.TrimRight(opts.PublicURL, "/")}
}
