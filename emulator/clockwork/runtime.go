package clockwork

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/store"
)

// Options configure a Runtime.
type Options struct {
	// DB is the open store. Required.
	DB *store.DB
	// Now is the wall clock. Nil means time.Now.
	Now func() time.Time
	// APIKeys, when not empty, are the only keys accepted, whatever their
	// dialect (see KeyAllowed).
	APIKeys []string
	// AdvanceDelay keeps a clock advancing at least this long.
	AdvanceDelay time.Duration
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
	// Webhooks configure webhook delivery.
	Webhooks WebhookOptions
	// Retention is how long events, webhook attempts and the deleted
	// stubs of customers are kept, in wall time after they were
	// recorded. Zero means DefaultRetention.
	Retention time.Duration
}

// Runtime is the machinery under every dialect: create it with New,
// Register the dialects, Prepare the database, add the routes with Routes,
// then Run the background work.
type Runtime struct {
	db        *store.DB
	now       func() time.Time
	apiKeys   map[string]bool
	delay     time.Duration
	retention time.Duration
	log       *slog.Logger
	inflight  sync.Map // account + "\x00" + idempotency key -> struct{}
	advancer  *advancer
	deliverer *deliverer
	streams   streams
	tails     tails
	// dialects in the order they were registered; the first answers
	// requests that no dialect claims, and owns accounts that recorded
	// none.
	dialects []Dialect
}

// New returns a Runtime over opts.DB with no dialect yet.
func New(opts Options) *Runtime {
	rt := &Runtime{db: opts.DB, now: opts.Now, delay: opts.AdvanceDelay, log: opts.Logger}
	if rt.now == nil {
		rt.now = time.Now
	}
	if rt.retention = opts.Retention; rt.retention <= 0 {
		rt.retention = DefaultRetention
	}
	if rt.log == nil {
		rt.log = slog.New(slog.DiscardHandler)
	}
	if len(opts.APIKeys) > 0 {
		rt.apiKeys = map[string]bool{}
		for _, k := range opts.APIKeys {
			rt.apiKeys[k] = true
		}
	}
	rt.advancer = newAdvancer(rt)
	rt.deliverer = newDeliverer(rt, opts.Webhooks)
	return rt
}

// Register adds a dialect. The first one registered is the default: it
// answers requests no dialect claims (a request without a key gets its
// 401) and owns the accounts of databases written before accounts
// recorded their dialect. Register every dialect before Prepare.
func (rt *Runtime) Register(d Dialect) {
	for _, o := range rt.dialects {
		if o.Name() == d.Name() {
			panic(fmt.Sprintf("clockwork: dialect %q registered twice", d.Name()))
		}
	}
	rt.dialects = append(rt.dialects, d)
}

// DB is the store the runtime works on; dialects run their requests'
// transactions on it.
func (rt *Runtime) DB() *store.DB { return rt.db }

// Now is the wall clock.
func (rt *Runtime) Now() time.Time { return rt.now() }

// Logger is the runtime's logger.
func (rt *Runtime) Logger() *slog.Logger { return rt.log }

// KeyAllowed reports whether the server takes key: any key when no
// APIKeys were configured, else only those. Dialects check it after the
// key's shape. A nil Runtime allows every key.
func (rt *Runtime) KeyAllowed(key string) bool {
	return rt == nil || rt.apiKeys == nil || rt.apiKeys[key]
}

// WakeDeliverer makes the webhook deliverer look at its queue now: call it
// after committing a change that queued events or changed an endpoint.
func (rt *Runtime) WakeDeliverer() { rt.deliverer.wake() }

// Prepare finishes what a database needs before the runtime serves from
// it: the one-time upgrade of a database written by an earlier billclock
// (stamping and indexing its events). Run it before serving, so that the
// janitor's later sweeps find nothing to do here.
func (rt *Runtime) Prepare() error {
	_, err := rt.upgrade()
	return err
}

// Routes adds every dialect's routes to r, then the control routes (see
// ControlRoute), each served by the dialect that claims the request's key,
// and makes every request no route takes a 404 of that dialect.
func (rt *Runtime) Routes(r *mux.Router) {
	for _, d := range rt.dialects {
		d.Routes(r)
	}
	for _, cr := range controlRoutes {
		r.Handle(cr.path, rt.control(cr.route)).Methods(cr.method)
	}
	r.NotFoundHandler = rt.control(NotFound)
	r.MethodNotAllowedHandler = rt.control(NotFound)
}

// control dispatches a control route to the dialect that claims the
// request, or to the default dialect.
func (rt *Runtime) control(route ControlRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := rt.claimant(r)
		if d == nil {
			http.NotFound(w, r)
			return
		}
		d.Control(route).ServeHTTP(w, r)
	})
}

// claimant is the dialect that claims r, else the default one.
func (rt *Runtime) claimant(r *http.Request) Dialect {
	for _, d := range rt.dialects {
		if d.Claims(r) {
			return d
		}
	}
	if len(rt.dialects) == 0 {
		return nil
	}
	return rt.dialects[0]
}

// Run does the background work of every dialect (finishing clock
// advances, delivering webhooks, sweeping what has expired) until ctx
// ends, then waits for work in progress to commit.
func (rt *Runtime) Run(ctx context.Context) error {
	// Last, after the work that records events: streams end with the
	// runtime, so that nothing reads the database after it closes.
	defer rt.streams.close()
	defer rt.tails.close()
	var wg sync.WaitGroup
	for _, work := range []func(context.Context) error{rt.deliverer.run, func(ctx context.Context) error {
		rt.janitor(ctx)
		return nil
	}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(ctx); err != nil {
				rt.log.Error("background work stopped", "err", err)
			}
		}()
	}
	err := rt.advancer.run(ctx)
	wg.Wait()
	return err
}
