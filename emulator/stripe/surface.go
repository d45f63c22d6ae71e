// Package stripe is billclock's Stripe surface: Stripe's wire format (form
// bodies, error envelope, pagination, idempotency, auth) over the billing
// engine and the store.
package stripe

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/billclock/billclock/store"
)

// DefaultAPIVersion is the Stripe API version billclock speaks when a
// request names none.
const DefaultAPIVersion = "2026-08-26.dahlia"

// maxBodyBytes bounds a request body; Stripe's own requests are far smaller.
const maxBodyBytes = 1 << 20

// Options configure a Surface.
type Options struct {
	// DB is the open store. Required.
	DB *store.DB
	// Now is the wall clock. Nil means time.Now.
	Now func() time.Time
	// APIKeys, when not empty, are the only keys accepted.
	APIKeys []string
	// AdvanceDelay keeps a clock advancing at least this long.
	AdvanceDelay time.Duration
	// Logger receives errors and, at debug level, request lines.
	Logger *slog.Logger
	// StripeLimits enforces Stripe's caps on test clocks: 3 customers per
	// clock and 3 subscriptions per customer on a clock. Off by default.
	StripeLimits bool
	// Webhooks configure webhook delivery.
	Webhooks WebhookOptions
	// Retention is how long events, webhook attempts and the deleted
	// stubs of customers are kept, in wall time after they were
	// recorded. Zero means DefaultRetention.
	Retention time.Duration
}

// Surface serves Stripe's API. Create it with New, start its background
// work with Run.
type Surface struct {
	db        *store.DB
	now       func() time.Time
	apiKeys   map[string]bool
	delay     time.Duration
	limits    bool
	retention time.Duration
	log       *slog.Logger
	inflight  sync.Map // account + "\x00" + idempotency key -> struct{}
	advancer  *advancer
	deliverer *deliverer
}

// New returns a Surface over opts.DB.
func New(opts Options) *Surface {
	s := &Surface{db: opts.DB, now: opts.Now, delay: opts.AdvanceDelay, log: opts.Logger, limits: opts.StripeLimits}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retention = opts.Retention; s.retention <= 0 {
		s.retention = DefaultRetention
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if len(opts.APIKeys) > 0 {
		s.apiKeys = map[string]bool{}
		for _, k := range opts.APIKeys {
			s.apiKeys[k] = true
		}
	}
	s.advancer = newAdvancer(s)
	s.deliverer = newDeliverer(s, opts.Webhooks)
	return s
}

// Run does the surface's background work (finishing clock advances,
// delivering webhooks, sweeping what has expired) until
// ctx ends, then waits for work in progress to commit.
func (s *Surface) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, work := range []func(context.Context) error{s.deliverer.run, func(ctx context.Context) error {
		s.janitor(ctx)
		return nil
	}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(ctx); err != nil {
				s.log.Error("background work stopped", "err", err)
			}
		}()
	}
	err := s.advancer.run(ctx)
	wg.Wait()
	return err
}
