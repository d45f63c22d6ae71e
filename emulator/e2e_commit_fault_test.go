package emulator_test

// Crash-safe idempotency: a write and the idempotency record of its answer
// must commit together. The server's BeforeCommit seam fails chosen commits
// as a failing disk would (an aborted commit is what a kill before the
// commit leaves behind); after each fault the test retries the request with
// the same key, as a user would, and counts what exists.

import (
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// faultyDisk is a server's BeforeCommit hook: once armed, it fails the
// commits it is told to.
type faultyDisk struct {
	mu      sync.Mutex
	armed   bool
	seen    int  // commits since armed
	failAt  int  // the first commit to fail, from 1
	failAll bool // fail every commit from failAt on, not only that one
	failed  int
}

func (d *faultyDisk) beforeCommit() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.armed {
		return nil
	}
	d.seen++
	if d.seen == d.failAt || d.failAll && d.seen > d.failAt {
		d.failed++
		return fmt.Errorf("injected disk fault: %w", syscall.EIO)
	}
	return nil
}

func (d *faultyDisk) arm(at int, all bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armed, d.seen, d.failAt, d.failAll, d.failed = true, 0, at, all, 0
}

// disarm stops the faults and says how many commits failed.
func (d *faultyDisk) disarm() (failed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armed = false
	return d.failed
}

// faultCase is an idempotent request and what exactly one execution of it
// leaves behind.
type faultCase struct {
	name string
	// prepare makes what the request needs (without faults) and returns
	// the request; n makes its objects unique.
	prepare func(t *testing.T, sc *stripe.Client, n int) (path, body string)
	// check asserts that the request took effect exactly once; obj is the
	// object it answered with.
	check func(t *testing.T, sc *stripe.Client, obj map[string]any)
}

// one asserts that ids holds exactly the id want.
func one(t *testing.T, what string, want any, ids []string) {
	t.Helper()
	assert.Equal(t, []string{fmt.Sprint(want)}, ids, "exactly one %s, the one answered", what)
}

func faultCases() []faultCase {
	recurring := func(t *testing.T, sc *stripe.Client) string {
		p, err := sc.V1Prices.Create(t.Context(), &stripe.PriceCreateParams{Currency: stripe.String("usd"),
			UnitAmount: stripe.Int64(1000), ProductData: &stripe.PriceCreateProductDataParams{Name: stripe.String("Seats")},
			Recurring: &stripe.PriceCreateRecurringParams{Interval: stripe.String("month")}})
		require.NoError(t, err)
		return p.ID
	}
	customer := func(t *testing.T, sc *stripe.Client) string {
		c, err := sc.V1Customers.Create(t.Context(), &stripe.CustomerCreateParams{PaymentMethod: stripe.String("pm_card_visa")})
		require.NoError(t, err)
		return c.ID
	}
	eventsAbout := func(t *testing.T, sc *stripe.Client, typ, id string) []string {
		var out []string
		for _, ev := range eventsOf(t, sc, &stripe.EventListParams{Type: stripe.String(typ)}) {
			if ev.Data.Object["id"] == id {
				out = append(out, ev.ID)
			}
		}
		return out
	}
	invoicesOf := func(t *testing.T, sc *stripe.Client, customer string) []*stripe.Invoice {
		var out []*stripe.Invoice
		for inv, err := range sc.V1Invoices.List(t.Context(), &stripe.InvoiceListParams{Customer: stripe.String(customer)}).All(t.Context()) {
			require.NoError(t, err)
			out = append(out, inv)
		}
		return out
	}
	return []faultCase{{
		name: "create customer",
		prepare: func(t *testing.T, sc *stripe.Client, n int) (string, string) {
			return "/v1/customers", fmt.Sprintf("email=fault-%d%%40example.com&name=Jenny", n)
		},
		check: func(t *testing.T, sc *stripe.Client, obj map[string]any) {
			var ids []string
			for c, err := range sc.V1Customers.List(t.Context(), &stripe.CustomerListParams{Email: stripe.String(obj["email"].(string))}).All(t.Context()) {
				require.NoError(t, err)
				ids = append(ids, c.ID)
			}
			one(t, "customer", obj["id"], ids)
			assert.Len(t, eventsAbout(t, sc, "customer.created", obj["id"].(string)), 1)
		},
	}, {
		name: "create subscription with its invoice",
		prepare: func(t *testing.T, sc *stripe.Client, n int) (string, string) {
			return "/v1/subscriptions", "customer=" + customer(t, sc) + "&items[0][price]=" + recurring(t, sc) + "&items[0][quantity]=2"
		},
		check: func(t *testing.T, sc *stripe.Client, obj map[string]any) {
			cus := obj["customer"].(string)
			var ids []string
			for s, err := range sc.V1Subscriptions.List(t.Context(), &stripe.SubscriptionListParams{Customer: stripe.String(cus),
				Status: stripe.String("all")}).All(t.Context()) {
				require.NoError(t, err)
				ids = append(ids, s.ID)
			}
			one(t, "subscription", obj["id"], ids)
			invs := invoicesOf(t, sc, cus)
			require.Len(t, invs, 1, "exactly one first invoice")
			assert.Equal(t, obj["latest_invoice"], invs[0].ID)
			assert.Equal(t, stripe.InvoiceStatusPaid, invs[0].Status)
			assert.Len(t, eventsAbout(t, sc, "customer.subscription.created", obj["id"].(string)), 1)
			assert.Len(t, eventsAbout(t, sc, "invoice.paid", invs[0].ID), 1)
		},
	}, {
		name: "add an item and invoice the proration at once",
		prepare: func(t *testing.T, sc *stripe.Client, n int) (string, string) {
			sub, err := sc.V1Subscriptions.Create(t.Context(), &stripe.SubscriptionCreateParams{Customer: stripe.String(customer(t, sc)),
				Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(recurring(t, sc)), Quantity: stripe.Int64(1)}}})
			require.NoError(t, err)
			return "/v1/subscription_items", "subscription=" + sub.ID + "&price=" + recurring(t, sc) + "&quantity=2&proration_behavior=always_invoice"
		},
		check: func(t *testing.T, sc *stripe.Client, obj map[string]any) {
			sub, err := sc.V1Subscriptions.Retrieve(t.Context(), obj["subscription"].(string), nil)
			require.NoError(t, err)
			require.Len(t, sub.Items.Data, 2, "exactly one item added")
			assert.Equal(t, obj["id"], sub.Items.Data[1].ID)
			invs := invoicesOf(t, sc, sub.Customer.ID)
			require.Len(t, invs, 2, "the first invoice and exactly one proration invoice")
			assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionUpdate, invs[0].BillingReason)
			assert.Equal(t, sub.LatestInvoice.ID, invs[0].ID)
			assert.Len(t, eventsAbout(t, sc, "invoice.created", invs[0].ID), 1)
		},
	}, {
		name: "advance a clock",
		prepare: func(t *testing.T, sc *stripe.Client, n int) (string, string) {
			return "/v1/test_helpers/test_clocks/" + createClock(t, sc, "").ID + "/advance", fmt.Sprintf("frozen_time=%d", frozen0+86400)
		},
		check: func(t *testing.T, sc *stripe.Client, obj map[string]any) {
			c, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), obj["id"].(string), nil)
			require.NoError(t, err)
			assert.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, c.Status)
			assert.Equal(t, frozen0+86400, c.StatusDetails.Advancing.TargetFrozenTime)
			assert.Len(t, eventsAbout(t, sc, "test_helpers.test_clock.advancing", c.ID), 1)
		},
	}}
}

// TestIdempotencyCrashSafe fails the k-th commit of an idempotent request,
// for every k the request performs, alone (a transient fault) or with every
// later one (a disk that stays broken until the answer is sent); retries
// with the same key then answer with exactly one object, replayed ever
// after. A replay whose own commit fails still answers with it.
func TestIdempotencyCrashSafe(t *testing.T) {
	t.Parallel()
	disk := &faultyDisk{}
	// Clock advances stay queued: the advance worker's own commits are
	// not the request's.
	e := start(t, emulator.Config{NoSync: true, BeforeCommit: disk.beforeCommit, AdvanceDelay: time.Hour})
	sc := e.client(testKey)
	n := 0
	for _, fc := range faultCases() {
		for _, failAll := range []bool{false, true} {
			mode := "one commit fails"
			if failAll {
				mode = "every commit fails from the k-th"
			}
			t.Run(fc.name+"/"+mode, func(t *testing.T) {
				for k := 1; ; k++ {
					n++
					path, body := fc.prepare(t, sc, n)
					key := fmt.Sprintf("crash-%d", n)
					send := func() rawResponse {
						return e.raw(t, rawRequest{Method: http.MethodPost, Path: path, Body: body, Key: testKey,
							Header: map[string]string{"Idempotency-Key": key}})
					}
					what := fmt.Sprintf("commit %d failed", k)

					disk.arm(k, failAll)
					first := send()
					if disk.disarm() == 0 {
						// The request performs fewer than k commits.
						require.Greater(t, k, 1, "the first commit of a request can be failed")
						t.Logf("the request commits %d time(s); each commit was failed in turn", k-1)
						require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
						fc.check(t, sc, first.object(t))
						return
					}
					ae := first.apiError(t, http.StatusInternalServerError)
					assert.Equal(t, "api_error", ae.Type, what)

					retry := send()
					require.Equal(t, http.StatusOK, retry.Status, "%s, then the retry: %s", what, retry.Body)
					obj := retry.object(t)
					fc.check(t, sc, obj)

					disk.arm(1, failAll)
					hiccup := send()
					disk.disarm()
					assert.Equal(t, http.StatusOK, hiccup.Status, "%s: a replay during a disk fault: %s", what, hiccup.Body)
					assert.Equal(t, "true", hiccup.Header.Get("Idempotent-Replayed"), what)
					assert.Equal(t, string(retry.Body), string(hiccup.Body), what)

					replay := send()
					require.Equal(t, http.StatusOK, replay.Status, "%s: %s", what, replay.Body)
					assert.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"), what)
					assert.Equal(t, retry.Header.Get("Request-Id"), replay.Header.Get("Original-Request"), what)
					assert.Equal(t, string(retry.Body), string(replay.Body), what)
					fc.check(t, sc, obj)
				}
			})
		}
	}
}

// TestIdempotencyReplaySurvivesDiskFault sends a request again while one
// commit fails: the stored answer must neither be lost nor replaced by the
// fault's 500.
func TestIdempotencyReplaySurvivesDiskFault(t *testing.T) {
	t.Parallel()
	disk := &faultyDisk{}
	e := start(t, emulator.Config{NoSync: true, BeforeCommit: disk.beforeCommit})
	send := func() rawResponse {
		return e.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/customers", Body: "email=replay%40example.com",
			Key: testKey, Header: map[string]string{"Idempotency-Key": "replay-under-fault"}})
	}
	first := send()
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)

	disk.arm(1, false)
	during := send()
	require.Equal(t, 1, disk.disarm(), "the replay's commit was failed")
	assert.Equal(t, http.StatusOK, during.Status, "%s", during.Body)
	assert.Equal(t, string(first.Body), string(during.Body))

	after := send()
	require.Equal(t, http.StatusOK, after.Status, "the stored answer is still the customer: %s", after.Body)
	assert.Equal(t, "true", after.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, first.Header.Get("Request-Id"), after.Header.Get("Original-Request"))
	assert.Equal(t, string(first.Body), string(after.Body))
}
