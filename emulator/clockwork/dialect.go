package clockwork

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/billing"
)

// Dialect is one provider's API over the runtime: its wire format, routes,
// error envelope, id scheme and event shapes. The runtime calls it to
// serve control routes for its keys, to name new objects, to render the
// engine's events and to format their webhook deliveries. A dialect may
// also implement PendingCounter, TaskObserver and TaskRunner.
type Dialect interface {
	// Name names the dialect ("stripe"). It is recorded on every account
	// the dialect writes to, so it must never change.
	Name() string
	// Routes adds the dialect's API routes to r.
	Routes(r *mux.Router)
	// Claims reports whether r carries this dialect's credentials (by the
	// shape of its key), so that a control route or a 404 goes to it.
	Claims(r *http.Request) bool
	// Control returns the dialect's handler of a control route: it
	// authenticates the key, reads the parameters, calls the runtime (see
	// ControlRoute) and answers in the dialect's envelope.
	Control(route ControlRoute) http.Handler

	// NewID returns a fresh id for a new object of the given kind: the
	// engine's prefixes ("cus_", "sub_", "in_", "il_", ...) and the
	// dialect's own ("clock_", "evt_"). NewID builds time-sorted ids.
	NewID(kind string) string
	// DefaultPolicy is the dunning policy of an account that set none.
	DefaultPolicy() billing.DunningPolicy
	// ClockLifetime is how long after its creation (in wall time) a clock
	// is deleted by the janitor; 0 means clocks never expire.
	ClockLifetime() time.Duration

	// NewRecorder returns the renderer of the engine's events for one
	// ledger (one account in one transaction); it may keep state, such
	// as a cache of what it rendered last, for the transaction.
	NewRecorder(l *Ledger) Recorder
	// EventHead reads the type and created time of an event as stored.
	EventHead(stored []byte) (typ string, created int64, err error)
	// FormatDelivery makes the request body and headers that deliver a
	// stored event to ep, sent at sent (the webhook signature's time).
	FormatDelivery(ep *Endpoint, stored []byte, sent time.Time) (body []byte, header http.Header, err error)
}

// Recorder renders the engine's events in a dialect's shape.
type Recorder interface {
	// Render turns an engine event into the event to store, or ok=false
	// for one the dialect does not record.
	Render(ev billing.Event) (e *Event, ok bool, err error)
}

// Event is an engine event as a dialect renders it: what the runtime
// stores, lists by type and queues for the endpoints that want it.
type Event struct {
	ID string
	// Type is the dialect's name of the event, which endpoints subscribe
	// to and lists filter by.
	Type string
	// Created is when it happened: simulated time for objects on a clock.
	Created int64
	// Encode returns the event as stored (and delivered), given how many
	// endpoints it was queued for (Stripe's pending_webhooks).
	Encode func(pending int) ([]byte, error)
}

// PendingCounter is a Dialect whose stored events count the endpoints
// they are still to be delivered to (Stripe's pending_webhooks): the
// runtime calls it as deliveries end or are queued again.
type PendingCounter interface {
	// AdjustPending returns the stored event with its count changed by
	// delta (never below zero).
	AdjustPending(stored []byte, delta int) ([]byte, error)
}

// TaskObserver is a Dialect that sees every task an advance applies, one
// at a time (Commet's run items: billing cycles and dunning retries with
// their outcome). Without it an advance applies its tasks in chunks
// without stopping between them.
type TaskObserver interface {
	// ObserveTask is called in the transaction that applied t, with the
	// engine events the task caused; the slice is the runtime's again
	// once ObserveTask returns.
	ObserveTask(l *Ledger, t billing.Task, events []billing.Event) error
}

// ControlRoute names one of the runtime's control routes, served outside
// every dialect's API for the keys of any dialect.
type ControlRoute string

// The control routes. The runtime serves each for the dialect that claims
// the request's key (Dialect.Claims), through Dialect.Control. What each
// does with the runtime:
const (
	// GET /_billclock/settings: Ledger.Policy (and the dialect's own
	// settings, see Ledger.Setting).
	GetSettings ControlRoute = "get_settings"
	// POST /_billclock/settings: Ledger.PutPolicy.
	UpdateSettings ControlRoute = "update_settings"
	// GET /_billclock/webhook_attempts: Ledger.ListAttempts.
	WebhookAttempts ControlRoute = "webhook_attempts"
	// GET /_billclock/test_clocks/{id}/progress: Ledger.Progress.
	ClockProgress ControlRoute = "clock_progress"
	// POST /_billclock/test_clocks/{id}/fail_next_advance:
	// Ledger.ArmAdvanceFailure.
	FailNextAdvance ControlRoute = "fail_next_advance"
	// NotFound answers a request no route takes.
	NotFound ControlRoute = "not_found"
)

// controlRoutes are the paths of the control routes.
var controlRoutes = []struct {
	method, path string
	route        ControlRoute
}{
	{http.MethodGet, "/_billclock/webhook_attempts", WebhookAttempts},
	{http.MethodGet, "/_billclock/settings", GetSettings},
	{http.MethodPost, "/_billclock/settings", UpdateSettings},
	{http.MethodPost, "/_billclock/test_clocks/{id}/fail_next_advance", FailNextAdvance},
	{http.MethodGet, "/_billclock/test_clocks/{id}/progress", ClockProgress},
}

// dialect returns the registered dialect named name.
func (rt *Runtime) dialect(name string) Dialect {
	for _, d := range rt.dialects {
		if d.Name() == name {
			return d
		}
	}
	return nil
}
