package emulator_test

// End-to-end billing rules: advance limits, clock deletion, list filters,
// errors and Stripe's per-clock caps.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func TestBillingAdvanceLimitFollowsShortestInterval(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	const (
		twoMonths   int64 = 1737590400 // 2025-01-23 00:00:00 UTC
		threeMonths int64 = 1740268800 // 2025-02-23 00:00:00 UTC
	)
	clock := b.clockAt(frozen0)
	monthly := b.price("Monthly", 1000, stripe.PriceRecurringIntervalMonth)
	yearly := b.price("Yearly", 10000, stripe.PriceRecurringIntervalYear)
	b.subscribe(b.customer(clock.ID).ID, yearly.ID, 1, nil)
	b.subscribe(b.customer(clock.ID).ID, monthly.ID, 1, nil)

	_, err := b.sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(threeMonths)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, "frozen_time", se.Param)
	assert.Equal(t, "The frozen time of this clock is 1732320000 (2024-11-23 00:00:00 UTC). "+
		"You can only advance it up to 1737590400 (2025-01-23 00:00:00 UTC). "+
		"You can only advance a test clock up to two intervals from the current frozen time at a time, "+
		"based on the shortest subscription interval in the test clock. For example, if a test clock has a "+
		"monthly and yearly subscription, you may only advance up to two months at a time. If the test clock "+
		"has no subscriptions or subscription schedules, you can advance up to 2 years from the current frozen time.",
		se.Msg)
	got, err := b.sc.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.TestHelpersTestClockStatusReady, got.Status, "a refused advance leaves the clock alone")
	assert.Equal(t, frozen0, got.FrozenTime)

	_, err = b.sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(twoMonths + 1)})
	stripeError(t, err, http.StatusBadRequest)

	b.advance(clock.ID, twoMonths)
	// The monthly subscription renewed twice on the way; the second renewal,
	// exactly at the target, is still a draft.
	assert.Len(t, b.invoices(&stripe.InvoiceListParams{Status: stripe.String("paid")}), 3)
	assert.Len(t, b.invoices(&stripe.InvoiceListParams{Status: stripe.String("draft")}), 1)
}

func TestBillingClockDeletion(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	const frozen = frozen0 + 86400
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	alice, bob := b.customer(clock.ID), b.customer(clock.ID)
	subA := b.subscribe(alice.ID, price.ID, 1, nil)
	subB := b.subscribe(bob.ID, price.ID, 1, nil)
	b.advance(clock.ID, frozen)

	_, err := b.sc.V1TestHelpersTestClocks.Delete(t.Context(), clock.ID, nil)
	require.NoError(t, err)

	for _, c := range []*stripe.Customer{alice, bob} {
		got, err := b.sc.V1Customers.Retrieve(t.Context(), c.ID, nil)
		require.NoError(t, err)
		assert.True(t, got.Deleted, "a deleted customer reads as its deleted stub, as at Stripe")
		_, err = b.sc.V1Customers.Update(t.Context(), c.ID, &stripe.CustomerUpdateParams{Name: stripe.String("x")})
		se := stripeError(t, err, http.StatusNotFound)
		assert.Equal(t, stripe.ErrorCode("resource_missing"), se.Code)
		assert.Equal(t, "No such customer: '"+c.ID+"'", se.Msg)
	}
	for _, s := range []*stripe.Subscription{subA, subB} {
		got := b.subscription(s.ID)
		assert.Equal(t, stripe.SubscriptionStatusCanceled, got.Status)
		assert.Equal(t, frozen, got.EndedAt, "ended in the clock's time")
		assert.Equal(t, frozen, got.CanceledAt)
	}

	evs := b.events(nil)
	var tail []string
	for _, ev := range evs[len(evs)-5:] {
		tail = append(tail, string(ev.Type))
	}
	assert.Equal(t, []string{"customer.subscription.deleted", "customer.subscription.deleted",
		"customer.deleted", "customer.deleted", "test_helpers.test_clock.deleted"}, tail)
	deleted := map[string]bool{}
	for _, ev := range evs[len(evs)-5 : len(evs)-1] {
		deleted[ev.Data.Object["id"].(string)] = true
		assert.Equal(t, frozen, ev.Created, ev.Type)
	}
	assert.Equal(t, map[string]bool{alice.ID: true, bob.ID: true, subA.ID: true, subB.ID: true}, deleted)
	assert.Empty(t, b.invoices(&stripe.InvoiceListParams{Status: stripe.String("draft")}))
}

func TestBillingListingRules(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clockA, clockB := b.clockAt(frozen0), b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	custA, custB, plain := b.customer(clockA.ID), b.customer(clockB.ID), b.customer("")
	var subsA []string
	for range 3 {
		subsA = append(subsA, b.subscribe(custA.ID, price.ID, 1, nil).ID)
	}
	subB := b.subscribe(custB.ID, price.ID, 1, nil)
	subPlain := b.subscribe(plain.ID, price.ID, 1, nil)
	assert.Nil(t, subPlain.TestClock)

	customerIDs := func(p *stripe.CustomerListParams) []string {
		var ids []string
		for c, err := range b.sc.V1Customers.List(ctx, p).All(ctx) {
			require.NoError(t, err)
			ids = append(ids, c.ID)
		}
		return ids
	}
	assert.Equal(t, []string{plain.ID}, customerIDs(&stripe.CustomerListParams{}), "customers on clocks are left out")
	assert.Equal(t, []string{custA.ID}, customerIDs(&stripe.CustomerListParams{TestClock: stripe.String(clockA.ID)}))
	assert.Equal(t, []string{custB.ID}, customerIDs(&stripe.CustomerListParams{TestClock: stripe.String(clockB.ID)}))

	subIDs := func(p *stripe.SubscriptionListParams) []string {
		var ids []string
		for s, err := range b.sc.V1Subscriptions.List(ctx, p).All(ctx) {
			require.NoError(t, err)
			ids = append(ids, s.ID)
		}
		return ids
	}
	assert.Equal(t, []string{subPlain.ID}, subIDs(&stripe.SubscriptionListParams{}), "subscriptions on clocks are left out")
	assert.Equal(t, reversed(subsA), subIDs(&stripe.SubscriptionListParams{TestClock: stripe.String(clockA.ID)}))
	assert.Equal(t, reversed(subsA), subIDs(&stripe.SubscriptionListParams{Customer: stripe.String(custA.ID)}))
	assert.Equal(t, []string{subB.ID}, subIDs(&stripe.SubscriptionListParams{Customer: stripe.String(custB.ID)}))

	// Each of A's subscriptions renews into a draft at the boundary.
	b.advance(clockA.ID, frozen0+30*86400)
	invoiceIDs := func(p *stripe.InvoiceListParams) []string {
		var ids []string
		for _, inv := range b.invoices(p) {
			ids = append(ids, inv.ID)
		}
		return ids
	}
	var paidA, draftA []string
	for _, id := range subsA {
		invs := b.invoices(&stripe.InvoiceListParams{Subscription: stripe.String(id)})
		require.Len(t, invs, 2, id)
		assert.Equal(t, []stripe.InvoiceStatus{stripe.InvoiceStatusDraft, stripe.InvoiceStatusPaid},
			[]stripe.InvoiceStatus{invs[0].Status, invs[1].Status}, id)
		draftA, paidA = append(draftA, invs[0].ID), append(paidA, invs[1].ID)
	}
	// Newest first: the drafts (created at the boundary) before the first
	// invoices, each group in reverse creation order.
	allA := append(reversed(draftA), reversed(paidA)...)
	assert.Equal(t, allA, invoiceIDs(&stripe.InvoiceListParams{Customer: stripe.String(custA.ID)}))
	paged := invoiceIDs(&stripe.InvoiceListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(2)}, Customer: stripe.String(custA.ID)})
	assert.Equal(t, allA, paged, "the auto-pager walks every page")
	assert.Equal(t, reversed(draftA), invoiceIDs(&stripe.InvoiceListParams{Customer: stripe.String(custA.ID), Status: stripe.String("draft")}))
	assert.Equal(t, reversed(paidA), invoiceIDs(&stripe.InvoiceListParams{Customer: stripe.String(custA.ID), Status: stripe.String("paid")}))
	assert.Equal(t, []string{subB.LatestInvoice.ID}, invoiceIDs(&stripe.InvoiceListParams{Subscription: stripe.String(subB.ID)}))
	assert.Len(t, invoiceIDs(&stripe.InvoiceListParams{}), 8, "invoices of every customer, on a clock or not")
	assert.Equal(t, reversed(draftA), invoiceIDs(&stripe.InvoiceListParams{Status: stripe.String("draft")}))

	ids, more := b.raw(t, rawRequest{Method: http.MethodGet, Key: testKey,
		Path: "/v1/invoices?limit=4&customer=" + custA.ID}).listIDs(t)
	assert.Equal(t, allA[:4], ids)
	assert.True(t, more)
	ids, more = b.raw(t, rawRequest{Method: http.MethodGet, Key: testKey,
		Path: "/v1/invoices?limit=4&customer=" + custA.ID + "&starting_after=" + allA[3]}).listIDs(t)
	assert.Equal(t, allA[4:], ids)
	assert.False(t, more)

	ae := b.raw(t, rawRequest{Method: http.MethodGet, Key: testKey, Path: "/v1/invoices?test_clock=" + clockA.ID}).
		apiError(t, http.StatusBadRequest)
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_unknown", Param: "test_clock",
		Message: "Received unknown parameter: test_clock"}, ae, "invoices have no test_clock filter")
}

func TestBillingErrors(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	recurring := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	oneTime := b.price("Setup fee", 5000, "")
	cust := b.customer(clock.ID)
	create := func(customer, price string) error {
		_, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(customer),
			Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price)}}})
		return err
	}

	se := stripeError(t, create("cus_nope", recurring.ID), http.StatusNotFound)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, stripe.ErrorCode("resource_missing"), se.Code)
	assert.Equal(t, "customer", se.Param)
	assert.Equal(t, "No such customer: 'cus_nope'", se.Msg)

	se = stripeError(t, create(cust.ID, "price_nope"), http.StatusNotFound)
	assert.Equal(t, stripe.ErrorCode("resource_missing"), se.Code)
	assert.Equal(t, "items[0][price]", se.Param)
	assert.Equal(t, "No such price: 'price_nope'", se.Msg)

	se = stripeError(t, create(cust.ID, oneTime.ID), http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, "items[0][price]", se.Param)
	assert.Equal(t, "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.", se.Msg)

	_, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCode("parameter_missing"), se.Code)
	assert.Equal(t, "items", se.Param)

	assert.Empty(t, b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(cust.ID)}), "refused creates bill nothing")
	assert.Empty(t, b.events(&stripe.EventListParams{Type: stripe.String("customer.subscription.created")}))
}

func TestBillingRefusesChangesWhileAdvancing(t *testing.T) {
	t.Parallel()
	// The delay holds the advance long enough to try changes during it.
	b := startBilling(t, emulator.Config{AdvanceDelay: time.Second})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	price := b.price("Seats", 1000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 3, nil)
	itemID := sub.Items.Data[0].ID

	adv, err := b.sc.V1TestHelpersTestClocks.Advance(ctx, clock.ID, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen0 + 86400)})
	require.NoError(t, err)
	require.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, adv.Status)

	refused := func(what string, err error) {
		t.Helper()
		se := stripeError(t, err, http.StatusBadRequest)
		assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type, what)
		assert.Contains(t, se.Msg, clock.ID, what)
		assert.Contains(t, se.Msg, "advancing", what)
	}
	_, err = b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{TestClock: stripe.String(clock.ID)})
	refused("customer create", err)
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{Name: stripe.String("Jenny")})
	refused("customer update", err)
	_, err = b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID)}}})
	refused("subscription create", err)
	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Items: []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(itemID), Quantity: stripe.Int64(5)}}})
	refused("subscription update", err)
	_, err = b.sc.V1SubscriptionItems.Update(ctx, itemID, &stripe.SubscriptionItemUpdateParams{Quantity: stripe.Int64(5)})
	refused("subscription item update", err)
	_, err = b.sc.V1Subscriptions.Cancel(ctx, sub.ID, nil)
	refused("subscription cancel", err)

	// Reading is fine, and nothing changed.
	got := b.subscription(sub.ID)
	assert.Equal(t, int64(3), got.Items.Data[0].Quantity)
	assert.Equal(t, stripe.SubscriptionStatusActive, got.Status)

	ready := waitReady(t, b.sc, clock.ID)
	require.Equal(t, frozen0+86400, ready.FrozenTime)
	sub, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Items: []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(itemID), Quantity: stripe.Int64(5)}}})
	require.NoError(t, err, "allowed again once the clock is ready")
	assert.Equal(t, int64(5), sub.Items.Data[0].Quantity)
	assert.Len(t, b.pendingItems(cust.ID), 2)
}

func TestBillingStripeLimits(t *testing.T) {
	t.Parallel()
	for _, limits := range []bool{true, false} {
		name := "billclock default"
		if limits {
			name = "--stripe-limits"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := startBilling(t, emulator.Config{StripeLimits: limits})
			clock := b.clockAt(frozen0)
			price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
			var custs []*stripe.Customer
			for range 3 {
				custs = append(custs, b.customer(clock.ID))
			}
			for range 3 {
				b.subscribe(custs[0].ID, price.ID, 1, nil)
			}

			_, custErr := b.sc.V1Customers.Create(t.Context(), &stripe.CustomerCreateParams{TestClock: stripe.String(clock.ID)})
			_, subErr := b.sc.V1Subscriptions.Create(t.Context(), &stripe.SubscriptionCreateParams{Customer: stripe.String(custs[0].ID),
				Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID)}}})
			custIDs := func() int {
				n := 0
				for _, err := range b.sc.V1Customers.List(t.Context(), &stripe.CustomerListParams{TestClock: stripe.String(clock.ID)}).All(t.Context()) {
					require.NoError(t, err)
					n++
				}
				return n
			}
			subs := len(b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(custs[0].ID)}))
			if !limits {
				require.NoError(t, custErr)
				require.NoError(t, subErr)
				assert.Equal(t, 4, custIDs())
				assert.Equal(t, 4, subs)
				return
			}
			se := stripeError(t, custErr, http.StatusBadRequest)
			assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
			assert.Equal(t, "test_clock", se.Param)
			assert.True(t, strings.HasPrefix(se.Msg, "Test clocks can have at most 3 customers"), se.Msg)
			se = stripeError(t, subErr, http.StatusBadRequest)
			assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
			assert.Equal(t, "customer", se.Param)
			assert.Contains(t, se.Msg, "at most 3 subscriptions")
			assert.Equal(t, 3, custIDs())
			assert.Equal(t, 3, subs)

			// Another customer on the clock may still have 3 of their own.
			for range 3 {
				b.subscribe(custs[1].ID, price.ID, 1, nil)
			}
		})
	}
}
