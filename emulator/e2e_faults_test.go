package emulator_test

// Storage faults: the store's BeforeCommit seam fails commits as a full
// disk would, while the background workers run.

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// logBuffer collects a server's log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger logs everything, debug included, into b.
func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// disk is a storage fault for emulator.Config.BeforeCommit: after fill, it
// lets a number of commits through, then refuses some (or all until free)
// as a full disk would.
type disk struct {
	mu     sync.Mutex
	pass   int // commits still let through before failing
	fail   int // commits still to fail: 0 none, -1 every one until free
	failed int // commits refused so far
}

// fill lets pass commits through, then fails fail commits (-1: every
// commit until free).
func (d *disk) fill(pass, fail int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pass, d.fail = pass, fail
}

func (d *disk) free() { d.fill(0, 0) }

// refused counts the commits refused so far.
func (d *disk) refused() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failed
}

func (d *disk) beforeCommit() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail == 0 {
		return nil
	}
	if d.pass > 0 {
		d.pass--
		return nil
	}
	if d.fail > 0 {
		d.fail--
	}
	d.failed++
	return &os.PathError{Op: "write", Path: "billclock.db", Err: syscall.ENOSPC}
}

// TestWebhookDiskFullWhileRecordingADelivery: when the outcome of a
// delivery cannot be stored, the event is not sent again and again: the
// deliverer retries storing the outcome, with backoff, and once the disk
// has room the queue goes on, with the event delivered once.
func TestWebhookDiskFullWhileRecordingADelivery(t *testing.T) {
	t.Parallel()
	var d disk
	var logs logBuffer
	b := startBilling(t, emulator.Config{BeforeCommit: d.beforeCommit, Logger: logs.logger()})
	var fill sync.Once
	rc := newReceiver(t, func(context.Context, *stripe.Event, int) int {
		fill.Do(func() { d.fill(0, -1) }) // the disk fills while the first event is being taken
		return 200
	})
	we := b.endpoint(rc, "*")
	cust := b.bareCustomer("")
	rc.waitFor(liveness, "the customer.created event", func(got []arrival) bool { return len(got) >= 1 })

	// The disk stays full for a while: storing the outcome is retried,
	// with backoff, and the event is not sent again.
	const fullFor = 1500 * time.Millisecond
	time.Sleep(fullFor)
	eventually(t, liveness, "storing the outcome to be retried", func() bool { return d.refused() >= 2 })
	assert.Len(t, rc.got(), 1, "the event was sent again while its outcome could not be stored")
	// Backoff from 100 ms, doubling, allows a handful of tries in the
	// seconds this takes even on a loaded machine; without it there were
	// thousands.
	failed := d.refused()
	assert.Less(t, failed, 30, "retries do not back off")
	assert.Less(t, strings.Count(logs.String(), "level=ERROR"), 30, "one error line per retry at most:\n%s", logs.String())

	d.free()
	_, err := b.sc.V1Customers.Update(t.Context(), cust.ID, &stripe.CustomerUpdateParams{Name: stripe.String("after")})
	require.NoError(t, err)
	evs := b.delivered(30 * time.Second)
	require.Len(t, evs, 2)
	assert.Equal(t, eventIDs(evs), rc.ids(), "each event once, in order")
	atts := b.attempts(t, we.ID)
	require.Len(t, atts, 2)
	for i, att := range atts {
		assert.Equal(t, evs[i].ID, att.Event)
		assert.Equal(t, "succeeded", att.Outcome)
		assert.Equal(t, 1, att.Attempt)
	}
}

// advanceScenario is a clock with subscriptions of several seat counts, to
// be advanced over a renewal.
type advanceScenario struct {
	*billingEnv
	clock string
	subs  []string
}

// The scenario's clock goes from frozen0 over the first monthly renewal,
// an hour past it, so the renewals are finalized and paid.
const faultTarget = frozen0 + 30*86400 + 2*hour

func newAdvanceScenario(t *testing.T, cfg emulator.Config) *advanceScenario {
	t.Helper()
	b := startBilling(t, cfg)
	sc := &advanceScenario{billingEnv: b, clock: b.clockAt(frozen0).ID}
	price := b.price("Seats", 1500, stripe.PriceRecurringIntervalMonth)
	for i := range 12 {
		cust := b.customer(sc.clock)
		sc.subs = append(sc.subs, b.subscribe(cust.ID, price.ID, int64(i+1), nil).ID)
	}
	return sc
}

// startAdvance asks for the advance to faultTarget, without waiting.
func (sc *advanceScenario) startAdvance() {
	sc.t.Helper()
	_, err := sc.sc.V1TestHelpersTestClocks.Advance(sc.t.Context(), sc.clock,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(faultTarget)})
	require.NoError(sc.t, err)
}

func (sc *advanceScenario) status() stripe.TestHelpersTestClockStatus {
	sc.t.Helper()
	c, err := sc.sc.V1TestHelpersTestClocks.Retrieve(sc.t.Context(), sc.clock, nil)
	require.NoError(sc.t, err)
	return c.Status
}

// staysAdvancing checks the clock's status for a while.
func (sc *advanceScenario) staysAdvancing(d time.Duration) {
	sc.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		require.Equal(sc.t, stripe.TestHelpersTestClockStatusAdvancing, sc.status())
	}
}

// billed is what a user reads off one invoice.
type billed struct {
	Reason stripe.InvoiceBillingReason
	Status stripe.InvoiceStatus
	Paid   int64
	Lines  []line
}

// invoicesBySubscription lists each subscription's invoices, oldest first.
func (sc *advanceScenario) invoicesBySubscription() [][]billed {
	sc.t.Helper()
	var out [][]billed
	for _, sub := range sc.subs {
		var bs []billed
		for _, inv := range reversed(sc.invoices(&stripe.InvoiceListParams{Subscription: stripe.String(sub)})) {
			bs = append(bs, billed{Reason: inv.BillingReason, Status: inv.Status, Paid: inv.AmountPaid, Lines: invoiceLines(sc.t, inv)})
		}
		out = append(out, bs)
	}
	return out
}

// TestAdvanceSurvivesStorageFaults: a storage error during an advance is
// retried, with backoff, from the last chunk that committed: the clock
// stays advancing while the fault lasts (across a restart too), then
// becomes ready with exactly the invoices an advance without faults makes.
func TestAdvanceSurvivesStorageFaults(t *testing.T) {
	t.Parallel()
	clean := newAdvanceScenario(t, emulator.Config{})
	clean.startAdvance()
	require.Equal(t, stripe.TestHelpersTestClockStatusReady, waitReady(t, clean.sc, clean.clock).Status)
	want := clean.invoicesBySubscription()
	for _, invs := range want {
		require.Len(t, invs, 2, "the first invoice and one renewal")
		assert.Equal(t, stripe.InvoiceStatusPaid, invs[1].Status)
	}

	t.Run("disk full across a restart", func(t *testing.T) {
		t.Parallel()
		var d disk
		sc := newAdvanceScenario(t, emulator.Config{BeforeCommit: d.beforeCommit})
		d.fill(1, -1) // the advance request commits; nothing after it does
		sc.startAdvance()
		sc.staysAdvancing(1500 * time.Millisecond)
		// The advance is retried (how soon depends on the machine's load)
		// and the clock stays advancing meanwhile.
		eventually(t, liveness, "the advance to be retried", func() bool { return d.refused() >= 2 })
		require.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, sc.status())
		// Backoff from 100 ms, doubling, allows a handful of tries in the
		// seconds this takes even on a loaded machine; without it there
		// were thousands.
		assert.Less(t, d.refused(), 30, "retries do not back off")

		sc.srv.Restart()
		sc.sc = sc.client(testKey) // the port changed
		sc.staysAdvancing(500 * time.Millisecond)
		d.free()
		c := waitReady(t, sc.sc, sc.clock)
		require.Equal(t, stripe.TestHelpersTestClockStatusReady, c.Status)
		assert.Equal(t, faultTarget, c.FrozenTime)
		assert.Equal(t, want, sc.invoicesBySubscription())
	})

	t.Run("one write error", func(t *testing.T) {
		t.Parallel()
		var d disk
		sc := newAdvanceScenario(t, emulator.Config{BeforeCommit: d.beforeCommit})
		d.fill(1, 1) // the advance request commits, the advance's first write fails
		sc.startAdvance()
		c := waitReady(t, sc.sc, sc.clock)
		require.Equal(t, stripe.TestHelpersTestClockStatusReady, c.Status)
		assert.Equal(t, 1, d.refused())
		assert.Equal(t, want, sc.invoicesBySubscription())
		assert.Empty(t, sc.events(&stripe.EventListParams{Type: stripe.String("test_helpers.test_clock.internal_failure")}))
	})
}
