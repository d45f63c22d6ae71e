// Package commet is billclock's Commet dialect: Commet's sandbox API under
// /api/v1 (JSON bodies, x-api-key auth, the {success, data} envelope of
// API version 2026-07-11 and the bare objects and lists of 2026-07-31,
// Commet's error envelope and codes, idempotency keys), its organization
// test clock with persisted clock runs, customers, features, plans,
// subscriptions with a billclock-served checkout, seats, invoices and
// webhooks signed with X-Commet-Signature, over the billing engine and the
// provider-neutral runtime (emulator/clockwork).
package commet

import (
	"log/slog"
	"sync"
	"time"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// API versions. A request names its version in the commet-version header;
// without one, or with one billclock does not know, it gets
// CurrentVersion.
const (
	// LegacyVersion is what @commet/node 7.x sends: every answer in the
	// {success, data} envelope.
	LegacyVersion = "2026-07-11"
	// bareVersion is the first version of bare objects and list objects.
	bareVersion = "2026-07-24"
	// CurrentVersion is Commet's newest: clock advances as runs.
	CurrentVersion = "2026-07-31"
)

// orgClockID is the id of the organization's one test clock in the
// runtime; Commet's clock has no id of its own.
const orgClockID = "org_test_clock"

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// Surface serves Commet's API over a runtime. Create it with New and
// register it with the runtime (clockwork.Runtime.Register).
type Surface struct {
	rt  *clockwork.Runtime
	db  *store.DB
	now func() time.Time
	log *slog.Logger
	// tallies holds the counts of the process-billing requests under way,
	// by the ledger they run on (see ObserveTask).
	tallies sync.Map // *clockwork.Ledger -> *billingTally
}

var _ clockwork.Dialect = (*Surface)(nil)
var _ clockwork.TaskObserver = (*Surface)(nil)

// New returns the Commet dialect over rt.
func New(rt *clockwork.Runtime) *Surface {
	return &Surface{rt: rt, db: rt.DB(), now: rt.Now, log: rt.Logger()}
}
