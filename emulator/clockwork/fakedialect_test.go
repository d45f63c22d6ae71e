package clockwork

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// fakeDialect is the smallest dialect the runtime can serve, for the
// runtime's own tests: keys are Bearer prefix+anything, events are stored
// as {"id", "type", "created", "object"} with the engine's event names,
// deliveries carry the stored event signed in X-Fake-Signature (hex
// HMAC-SHA256 of the body), and its control routes answer plain JSON.
type fakeDialect struct {
	name, prefix string
	rt           *Runtime
	// lifetime is ClockLifetime.
	lifetime time.Duration
}

// newFake returns a fake dialect named name, whose keys start with prefix.
func newFake(rt *Runtime, name, prefix string) *fakeDialect {
	return &fakeDialect{name: name, prefix: prefix, rt: rt}
}

func (d *fakeDialect) Name() string         { return d.name }
func (d *fakeDialect) Routes(r *mux.Router) {}
func (d *fakeDialect) Claims(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "+d.prefix)
}
func (d *fakeDialect) NewID(kind string) string     { return NewID(kind, 20) }
func (d *fakeDialect) ClockLifetime() time.Duration { return d.lifetime }
func (d *fakeDialect) DefaultPolicy() billing.DunningPolicy {
	return billing.DunningPolicy{SubscriptionAction: billing.FinalCancel, InvoiceAction: billing.InvoiceLeaveOpen,
		FinalizeDelay: billing.FinalizeDelay}
}

// fakeEvent is a fake dialect's stored event.
type fakeEvent struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	// Dialect names the dialect that rendered it.
	Dialect string `json:"dialect"`
	Object  string `json:"object"`
}

func (d *fakeDialect) NewRecorder(l *Ledger) Recorder { return fakeRecorder{d} }

type fakeRecorder struct{ d *fakeDialect }

func (r fakeRecorder) Render(ev billing.Event) (*Event, bool, error) {
	var obj string
	switch o := ev.Object.(type) {
	case *billing.Clock:
		obj = o.ID
	case *billing.Subscription:
		obj = o.ID
	case *billing.Invoice:
		obj = o.ID
	case *billing.Customer:
		obj = o.ID
	}
	e := fakeEvent{ID: r.d.NewID("evt_"), Type: string(ev.Type), Created: ev.Time, Dialect: r.d.name, Object: obj}
	return &Event{ID: e.ID, Type: e.Type, Created: e.Created, Encode: func(int) ([]byte, error) { return json.Marshal(e) }},
		true, nil
}

func (d *fakeDialect) EventHead(stored []byte) (string, int64, error) {
	var e fakeEvent
	err := json.Unmarshal(stored, &e)
	return e.Type, e.Created, err
}

func (d *fakeDialect) FormatDelivery(ep *Endpoint, stored []byte, _ time.Time) ([]byte, http.Header, error) {
	mac := hmac.New(sha256.New, []byte(ep.Secret))
	mac.Write(stored)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Fake-Signature", hex.EncodeToString(mac.Sum(nil)))
	if ep.Username != "" {
		r := http.Request{Header: h}
		r.SetBasicAuth(ep.Username, ep.Password)
	}
	return stored, h, nil
}

// Control answers the control routes in plain JSON: the runtime's objects,
// or {"error": message} with 401, 404 or 400.
func (d *fakeDialect) Control(route ControlRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(v)
		}
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !strings.HasPrefix(key, d.prefix) {
			answer(http.StatusUnauthorized, map[string]string{"error": "no " + d.name + " key", "dialect": d.name})
			return
		}
		req := &Request{ID: NewID("req_", 10), Time: d.rt.Now()}
		var out any
		op := func(tx *store.Tx) error {
			l, err := d.rt.Ledger(tx, d, key, req)
			if err != nil {
				return err
			}
			switch route {
			case ClockProgress:
				out, err = l.Progress(mux.Vars(r)["id"])
			case FailNextAdvance:
				out, err = l.ArmAdvanceFailure(mux.Vars(r)["id"])
			case GetSettings:
				out, err = l.Policy()
			case WebhookAttempts:
				var list []json.RawMessage
				_, err = l.ListAttempts(AttemptFilter{}, store.Page{Limit: 100}, func(raw []byte) error {
					list = append(list, append(json.RawMessage(nil), raw...))
					return nil
				})
				out = list
			default:
				err = billing.NotFoundError("route", r.URL.Path, "")
			}
			return err
		}
		var err error
		if r.Method == http.MethodGet {
			err = d.rt.DB().View(op)
		} else {
			err = d.rt.DB().Update(op)
		}
		var be *billing.Error
		switch {
		case errors.As(err, &be) && be.Kind == billing.NotFound:
			answer(http.StatusNotFound, map[string]string{"error": be.Message, "dialect": d.name})
		case errors.As(err, &be):
			answer(http.StatusBadRequest, map[string]string{"error": be.Message, "dialect": d.name})
		case err != nil:
			answer(http.StatusInternalServerError, map[string]string{"error": "internal", "dialect": d.name})
		default:
			answer(http.StatusOK, out)
		}
	})
}

// observingFake is a fake dialect that sees every task an advance
// applies (a TaskObserver).
type observingFake struct {
	*fakeDialect
	tasks *[]observedTask
}

// observedTask is what observingFake saw of one task.
type observedTask struct {
	Kind    billing.TaskKind
	At      int64
	Subject string
	Events  []billing.EventType
}

func (d observingFake) NewRecorder(l *Ledger) Recorder { return fakeRecorder{d.fakeDialect} }

func (d observingFake) ObserveTask(l *Ledger, t billing.Task, events []billing.Event) error {
	o := observedTask{Kind: t.Kind, At: t.At, Subject: t.Subject}
	for _, ev := range events {
		o.Events = append(o.Events, ev.Type)
	}
	*d.tasks = append(*d.tasks, o)
	return nil
}

// newTestRuntime returns a runtime with opts over a fresh database (unless
// opts names one), with no dialect registered.
func newTestRuntime(t testing.TB, opts Options) *Runtime {
	t.Helper()
	if opts.DB == nil {
		db, err := store.Open(filepath.Join(t.TempDir(), "t.db"), &store.Options{NoSync: true})
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		opts.DB = db
	}
	return New(opts)
}

// update runs fn over the ledger of account, of dialect d, in a write
// transaction, as a request of d at the runtime's wall time would, then
// the work to do after its commit that fn returns (if any).
func update(t testing.TB, rt *Runtime, d Dialect, account string, fn func(l *Ledger) (after func(), err error)) {
	t.Helper()
	var after func()
	require.NoError(t, rt.DB().Update(func(tx *store.Tx) error {
		l, err := rt.Ledger(tx, d, account, &Request{ID: NewID("req_", 10), Time: rt.Now()})
		if err != nil {
			return err
		}
		after, err = fn(l)
		return err
	}))
	if after != nil {
		after()
	}
	rt.WakeDeliverer()
}

// view runs fn over the ledger of account in a read transaction.
func view(t testing.TB, rt *Runtime, d Dialect, account string, fn func(l *Ledger) error) {
	t.Helper()
	require.NoError(t, rt.DB().View(func(tx *store.Tx) error {
		l, err := rt.Ledger(tx, d, account, nil)
		if err != nil {
			return err
		}
		return fn(l)
	}))
}

// newClock stores a ready clock frozen at frozen and records its created
// event.
func newClock(l *Ledger, frozen int64) (*billing.Clock, error) {
	c, err := billing.NewClock(l.NewID("clock_"), "", frozen, l.Wall())
	if err != nil {
		return nil, err
	}
	if err := l.PutClock(&c); err != nil {
		return nil, err
	}
	return &c, l.Record(billing.Event{Type: billing.EventClockCreated, Time: c.Created, Object: &c})
}

// advance starts moving clock id to target, as a dialect's advance route
// does.
func advance(l *Ledger, id string, target int64) (func(), error) {
	c, err := l.Clock(id)
	if err != nil {
		return nil, err
	}
	limit, err := l.Engine().ClockAdvanceLimit(c.ID, c.FrozenTime)
	if err != nil {
		return nil, err
	}
	if err := c.BeginAdvance(target, limit); err != nil {
		return nil, err
	}
	start, err := l.QueueAdvance(c)
	if err != nil {
		return nil, err
	}
	return start, l.Record(billing.Event{Type: billing.EventClockAdvancing, Time: l.Wall(), Object: c})
}

// subscribe puts n customers on clock, each paying with a card that
// succeeds and subscribed to a monthly price of 10.00 made for them.
func subscribe(l *Ledger, clock string, now int64, n int) error {
	prod := &billing.Product{ID: l.NewID("prod_"), Name: "Seats", Active: true, Created: now}
	if err := l.PutProduct(prod); err != nil {
		return err
	}
	price := &billing.Price{ID: l.NewID("price_"), Product: prod.ID, Currency: "usd", UnitAmount: 1000,
		Recurring: &billing.Interval{Unit: billing.Month, Count: 1}, Active: true, Created: now}
	if err := l.PutPrice(price); err != nil {
		return err
	}
	for range n {
		cus := &billing.Customer{ID: l.NewID("cus_"), Created: now, Clock: clock, InvoicePrefix: "FAKE"}
		pm := &billing.PaymentMethod{ID: l.NewID("pm_"), Created: now, Customer: cus.ID, Clock: clock, Type: "card",
			Card: billing.Card{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034, Funding: "credit"}}
		cus.DefaultPaymentMethod = pm.ID
		if err := l.PutPaymentMethod(pm); err != nil {
			return err
		}
		if err := l.PutCustomer(cus); err != nil {
			return err
		}
		if _, err := l.Engine().CreateSubscription(billing.NewSubscription{Customer: cus.ID,
			Items: []billing.ItemSpec{{Price: price.ID}}}, now); err != nil {
			return err
		}
	}
	return nil
}

// eventsOf lists the account's stored events, oldest first.
func eventsOf(t testing.TB, rt *Runtime, d Dialect, account string, types ...string) []fakeEvent {
	t.Helper()
	var out []fakeEvent
	view(t, rt, d, account, func(l *Ledger) error {
		_, err := l.ListEvents(EventFilter{Types: types}, store.Page{Limit: 100}, func(raw []byte) error {
			var e fakeEvent
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			out = append([]fakeEvent{e}, out...)
			return nil
		})
		return err
	})
	return out
}

// waitFor polls cond until it holds, for at most 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "still waiting for %s", what)
		time.Sleep(10 * time.Millisecond)
	}
}

// runRuntime runs rt's background work until the test ends.
func runRuntime(t testing.TB, rt *Runtime) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// fakeClock is a settable wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}
