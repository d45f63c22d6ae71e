package emulator_test

// End-to-end billing scenarios: products, prices, customers and
// subscriptions on test clocks, driven with stripe-go as a user would, with
// the amounts, times and statuses a user would check. The proration figures
// are the engine's golden ones (testdata/engine/*.golden.json), cross-checked
// here against Stripe's formula with prorated below.

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

const hour int64 = 3600

// billingEnv is a server and a stripe-go client for billing scenarios.
type billingEnv struct {
	*env
	sc *stripe.Client
}

func startBilling(t *testing.T, cfg emulator.Config) *billingEnv {
	t.Helper()
	e := start(t, cfg)
	return &billingEnv{env: e, sc: e.client(testKey)}
}

// clockAt creates a clock frozen at frozen.
func (b *billingEnv) clockAt(frozen int64) *stripe.TestHelpersTestClock {
	b.t.Helper()
	c, err := b.sc.V1TestHelpersTestClocks.Create(b.t.Context(), &stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(frozen)})
	require.NoError(b.t, err)
	return c
}

// advance moves a clock to frozen and waits until it is ready there.
func (b *billingEnv) advance(clock string, frozen int64) {
	b.t.Helper()
	_, err := b.sc.V1TestHelpersTestClocks.Advance(b.t.Context(), clock, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen)})
	require.NoError(b.t, err)
	c := waitReady(b.t, b.sc, clock)
	require.Equal(b.t, stripe.TestHelpersTestClockStatusReady, c.Status)
	require.Equal(b.t, frozen, c.FrozenTime)
}

// price creates a product named product and a usd price of it; interval ""
// makes a one-time price.
func (b *billingEnv) price(product string, amount int64, interval stripe.PriceRecurringInterval) *stripe.Price {
	b.t.Helper()
	prod, err := b.sc.V1Products.Create(b.t.Context(), &stripe.ProductCreateParams{Name: stripe.String(product)})
	require.NoError(b.t, err)
	p := &stripe.PriceCreateParams{Product: stripe.String(prod.ID), Currency: stripe.String("usd"), UnitAmount: stripe.Int64(amount)}
	if interval != "" {
		p.Recurring = &stripe.PriceCreateRecurringParams{Interval: stripe.String(string(interval))}
	}
	price, err := b.sc.V1Prices.Create(b.t.Context(), p)
	require.NoError(b.t, err)
	return price
}

// customer creates a customer paying with pm_card_visa, on clock unless
// clock is "".
func (b *billingEnv) customer(clock string) *stripe.Customer {
	b.t.Helper()
	p := &stripe.CustomerCreateParams{Email: stripe.String("jenny@example.com"), PaymentMethod: stripe.String("pm_card_visa")}
	if clock != "" {
		p.TestClock = stripe.String(clock)
	}
	c, err := b.sc.V1Customers.Create(b.t.Context(), p)
	require.NoError(b.t, err)
	return c
}

// bareCustomer creates a customer with no payment method, on clock unless
// clock is "".
func (b *billingEnv) bareCustomer(clock string) *stripe.Customer {
	b.t.Helper()
	p := &stripe.CustomerCreateParams{Email: stripe.String("payer@example.com")}
	if clock != "" {
		p.TestClock = stripe.String(clock)
	}
	c, err := b.sc.V1Customers.Create(b.t.Context(), p)
	require.NoError(b.t, err)
	return c
}

// subscribe subscribes customer to qty × price; edit, if not nil, adds to
// the parameters.
func (b *billingEnv) subscribe(customer, price string, qty int64, edit func(*stripe.SubscriptionCreateParams)) *stripe.Subscription {
	b.t.Helper()
	p := &stripe.SubscriptionCreateParams{Customer: stripe.String(customer),
		Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(qty)}}}
	if edit != nil {
		edit(p)
	}
	sub, err := b.sc.V1Subscriptions.Create(b.t.Context(), p)
	require.NoError(b.t, err)
	return sub
}

func (b *billingEnv) subscription(id string) *stripe.Subscription {
	b.t.Helper()
	sub, err := b.sc.V1Subscriptions.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return sub
}

func (b *billingEnv) invoice(id string) *stripe.Invoice {
	b.t.Helper()
	inv, err := b.sc.V1Invoices.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return inv
}

// latestInvoice is the subscription's latest invoice, as it is now.
func (b *billingEnv) latestInvoice(sub string) *stripe.Invoice {
	b.t.Helper()
	s := b.subscription(sub)
	require.NotNil(b.t, s.LatestInvoice, "subscription %s has no latest invoice", sub)
	return b.invoice(s.LatestInvoice.ID)
}

// invoices lists invoices with the auto-pager, newest first.
func (b *billingEnv) invoices(p *stripe.InvoiceListParams) []*stripe.Invoice {
	b.t.Helper()
	var out []*stripe.Invoice
	for inv, err := range b.sc.V1Invoices.List(b.t.Context(), p).All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, inv)
	}
	return out
}

// pendingItems lists the customer's invoice items on no invoice yet,
// newest first.
func (b *billingEnv) pendingItems(customer string) []*stripe.InvoiceItem {
	b.t.Helper()
	var out []*stripe.InvoiceItem
	list := b.sc.V1InvoiceItems.List(b.t.Context(), &stripe.InvoiceItemListParams{Customer: stripe.String(customer), Pending: stripe.Bool(true)})
	for ii, err := range list.All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, ii)
	}
	return out
}

// events lists every event of the account, oldest first.
func (b *billingEnv) events(p *stripe.EventListParams) []*stripe.Event {
	b.t.Helper()
	return reversed(eventsOf(b.t, b.sc, p))
}

// line is what a user reads off an invoice line or invoice item.
type line struct {
	Desc       string
	Amount     int64
	Start, End int64
	Proration  bool
}

func invoiceLines(t *testing.T, inv *stripe.Invoice) []line {
	t.Helper()
	require.NotNil(t, inv.Lines)
	var out []line
	for _, l := range inv.Lines.Data {
		require.NotNil(t, l.Parent, "line %s", l.ID)
		require.NotNil(t, l.Parent.SubscriptionItemDetails, "line %s", l.ID)
		out = append(out, line{Desc: l.Description, Amount: l.Amount, Start: l.Period.Start, End: l.Period.End,
			Proration: l.Parent.SubscriptionItemDetails.Proration})
	}
	return out
}

func itemLines(items []*stripe.InvoiceItem) []line {
	var out []line
	for _, ii := range items {
		out = append(out, line{Desc: ii.Description, Amount: ii.Amount, Start: ii.Period.Start, End: ii.Period.End, Proration: ii.Proration})
	}
	return out
}

// prorated is Stripe's seconds-based proration of amount for what is left
// of [start, end) after t, rounded half away from zero: an implementation
// independent of the engine's, to cross-check its figures.
func prorated(amount, start, end, t int64) int64 {
	return int64(math.Round(float64(amount) * float64(end-t) / float64(end-start)))
}

func TestBillingSeatsOverThreePeriods(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	const (
		jan31 int64 = 1706698800 // 2024-01-31 11:00:00 UTC
		feb10 int64 = 1707562800 // 2024-02-10 11:00:00 UTC
		feb29 int64 = 1709204400 // 2024-02-29 11:00:00 UTC: no Feb 31st
		mar11 int64 = 1710154800 // 2024-03-11 11:00:00 UTC
		mar31 int64 = 1711882800 // 2024-03-31 11:00:00 UTC: back to the 31st
		apr30 int64 = 1714474800 // 2024-04-30 11:00:00 UTC
		may31 int64 = 1717153200 // 2024-05-31 11:00:00 UTC
	)
	// The figures below are the engine's golden ones; they must follow
	// from Stripe's formula.
	require.Equal(t, int64(2948), prorated(3*1500, jan31, feb29, feb10))
	require.Equal(t, int64(4914), prorated(5*1500, jan31, feb29, feb10))
	require.Equal(t, int64(4839), prorated(5*1500, feb29, mar31, mar11))
	require.Equal(t, int64(1935), prorated(2*1500, feb29, mar31, mar11))
	require.Equal(t, 9466, -2948+4914+5*1500)
	require.Equal(t, 96, -4839+1935+2*1500)

	clock := b.clockAt(jan31)
	price := b.price("Seats", 1500, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	assert.Equal(t, jan31, cust.Created, "a customer on a clock lives in the clock's time")
	require.NotNil(t, cust.TestClock)
	assert.Equal(t, clock.ID, cust.TestClock.ID)
	// pm_card_visa attached a new payment method, the customer's default.
	require.NotNil(t, cust.InvoiceSettings.DefaultPaymentMethod)
	assert.Regexp(t, `^pm_[0-9A-Za-z]{24}$`, cust.InvoiceSettings.DefaultPaymentMethod.ID)

	sub := b.subscribe(cust.ID, price.ID, 3, nil)
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	assert.Equal(t, jan31, sub.Created)
	assert.Equal(t, jan31, sub.StartDate)
	assert.Equal(t, jan31, sub.BillingCycleAnchor)
	require.NotNil(t, sub.TestClock)
	assert.Equal(t, clock.ID, sub.TestClock.ID)
	require.Len(t, sub.Items.Data, 1)
	item := sub.Items.Data[0]
	assert.Equal(t, int64(3), item.Quantity)
	assert.Equal(t, price.ID, item.Price.ID)
	assert.Equal(t, jan31, item.CurrentPeriodStart)
	assert.Equal(t, feb29, item.CurrentPeriodEnd, "monthly from the 31st ends on the last day of February")

	first := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCreate, first.BillingReason)
	assert.Equal(t, stripe.InvoiceStatusPaid, first.Status, "a subscription's first invoice is paid at once")
	assert.Equal(t, jan31, first.Created)
	assert.Equal(t, jan31, first.StatusTransitions.PaidAt)
	assert.Equal(t, int64(4500), first.Total)
	assert.Equal(t, int64(4500), first.AmountPaid)
	assert.Equal(t, int64(0), first.AmountRemaining)
	assert.Equal(t, cust.ID, first.Customer.ID)
	assert.Equal(t, clock.ID, first.TestClock.ID)
	require.NotNil(t, first.Parent)
	assert.Equal(t, sub.ID, first.Parent.SubscriptionDetails.Subscription.ID)
	assert.Equal(t, []line{{Desc: "3 × Seats (at $15.00 / month)", Amount: 4500, Start: jan31, End: feb29}}, invoiceLines(t, first))
	assert.Equal(t, item.ID, first.Lines.Data[0].Parent.SubscriptionItemDetails.SubscriptionItem)

	// Ten days in, up to 5 seats: a credit for the 3 seats' unused time
	// and a charge for 5 seats' remaining time, both pending.
	b.advance(clock.ID, feb10)
	sub, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Items: []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(item.ID), Quantity: stripe.Int64(5)}},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(5), sub.Items.Data[0].Quantity)
	assert.Equal(t, first.ID, sub.LatestInvoice.ID, "prorations wait for the next invoice")
	pending := b.pendingItems(cust.ID)
	assert.Equal(t, []line{
		{Desc: "Remaining time on 5 × Seats after 10 Feb 2024", Amount: 4914, Start: feb10, End: feb29, Proration: true},
		{Desc: "Unused time on 3 × Seats after 10 Feb 2024", Amount: -2948, Start: feb10, End: feb29, Proration: true},
	}, itemLines(pending), "newest first")
	for _, ii := range pending {
		assert.Equal(t, feb10, ii.Date)
		assert.Nil(t, ii.Invoice)
		assert.Equal(t, clock.ID, ii.TestClock.ID)
		require.NotNil(t, ii.Parent)
		assert.Equal(t, sub.ID, ii.Parent.SubscriptionDetails.Subscription)
		assert.Equal(t, item.ID, ii.Parent.SubscriptionDetails.SubscriptionItem)
	}
	assert.Equal(t, []int64{5, 3}, []int64{pending[0].Quantity, pending[1].Quantity})

	// Exactly at the boundary the renewal is a draft that sweeps them up.
	b.advance(clock.ID, feb29)
	renewal := b.latestInvoice(sub.ID)
	assert.NotEqual(t, first.ID, renewal.ID)
	assert.Equal(t, stripe.InvoiceStatusDraft, renewal.Status)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, renewal.BillingReason)
	assert.True(t, renewal.AutoAdvance)
	assert.Equal(t, feb29+hour, renewal.AutomaticallyFinalizesAt)
	assert.Equal(t, feb29, renewal.Created)
	assert.Equal(t, "", renewal.Number, "a draft has no number yet")
	assert.Equal(t, int64(9466), renewal.Total)
	assert.Equal(t, int64(0), renewal.AmountPaid)
	assert.Equal(t, []line{
		{Desc: "Unused time on 3 × Seats after 10 Feb 2024", Amount: -2948, Start: feb10, End: feb29, Proration: true},
		{Desc: "Remaining time on 5 × Seats after 10 Feb 2024", Amount: 4914, Start: feb10, End: feb29, Proration: true},
		{Desc: "5 × Seats (at $15.00 / month)", Amount: 7500, Start: feb29, End: mar31},
	}, invoiceLines(t, renewal))
	assert.Empty(t, b.pendingItems(cust.ID), "the renewal took the pending items")
	item = b.subscription(sub.ID).Items.Data[0]
	assert.Equal(t, feb29, item.CurrentPeriodStart)
	assert.Equal(t, mar31, item.CurrentPeriodEnd, "back to the 31st")

	// An hour later it is finalized and paid.
	b.advance(clock.ID, feb29+hour)
	renewal = b.invoice(renewal.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, renewal.Status)
	assert.Equal(t, int64(9466), renewal.AmountPaid)
	assert.Equal(t, feb29+hour, renewal.StatusTransitions.FinalizedAt)
	assert.Equal(t, feb29+hour, renewal.StatusTransitions.PaidAt)
	assert.Equal(t, int64(0), renewal.AutomaticallyFinalizesAt)
	assert.NotEmpty(t, renewal.Number)

	// Down to 2 seats through the subscription item endpoint.
	b.advance(clock.ID, mar11)
	it, err := b.sc.V1SubscriptionItems.Update(ctx, item.ID, &stripe.SubscriptionItemUpdateParams{Quantity: stripe.Int64(2)})
	require.NoError(t, err)
	assert.Equal(t, int64(2), it.Quantity)
	assert.Equal(t, feb29, it.CurrentPeriodStart)
	assert.Equal(t, mar31, it.CurrentPeriodEnd)
	assert.Equal(t, []line{
		{Desc: "Remaining time on 2 × Seats after 11 Mar 2024", Amount: 1935, Start: mar11, End: mar31, Proration: true},
		{Desc: "Unused time on 5 × Seats after 11 Mar 2024", Amount: -4839, Start: mar11, End: mar31, Proration: true},
	}, itemLines(b.pendingItems(cust.ID)))

	b.advance(clock.ID, mar31+hour)
	third := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, third.Status)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, third.BillingReason)
	assert.Equal(t, mar31, third.Created)
	assert.Equal(t, mar31+hour, third.StatusTransitions.PaidAt)
	assert.Equal(t, int64(96), third.Total)
	assert.Equal(t, int64(96), third.AmountPaid)
	assert.Equal(t, []line{
		{Desc: "Unused time on 5 × Seats after 11 Mar 2024", Amount: -4839, Start: mar11, End: mar31, Proration: true},
		{Desc: "Remaining time on 2 × Seats after 11 Mar 2024", Amount: 1935, Start: mar11, End: mar31, Proration: true},
		{Desc: "2 × Seats (at $15.00 / month)", Amount: 3000, Start: mar31, End: apr30},
	}, invoiceLines(t, third))

	b.advance(clock.ID, apr30+hour)
	fourth := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, fourth.Status)
	assert.Equal(t, apr30, fourth.Created)
	assert.Equal(t, int64(3000), fourth.Total)
	assert.Equal(t, []line{{Desc: "2 × Seats (at $15.00 / month)", Amount: 3000, Start: apr30, End: may31}}, invoiceLines(t, fourth))
	item = b.subscription(sub.ID).Items.Data[0]
	assert.Equal(t, apr30, item.CurrentPeriodStart)
	assert.Equal(t, may31, item.CurrentPeriodEnd)

	var totals []int64
	for _, inv := range b.invoices(&stripe.InvoiceListParams{Subscription: stripe.String(sub.ID)}) {
		totals = append(totals, inv.Total)
		assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	}
	assert.Equal(t, []int64{3000, 96, 9466, 4500}, totals, "newest first")
}

func TestBillingStripeDocsProrationExample(t *testing.T) {
	t.Parallel()
	// https://docs.stripe.com/billing/subscriptions/prorations: a switch
	// from a 10.00 to a 32.52 monthly price at 1598982148.
	const (
		start   int64 = 1596749288
		change  int64 = 1598982148
		renewal int64 = 1599427688
	)
	require.Equal(t, int64(166), prorated(1000, start, renewal, change))
	require.Equal(t, int64(541), prorated(3252, start, renewal, change))

	for _, how := range []string{"clock at the change", "proration_date"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			b := startBilling(t, emulator.Config{})
			clock := b.clockAt(start)
			basic := b.price("Basic", 1000, stripe.PriceRecurringIntervalMonth)
			pro := b.price("Pro", 3252, stripe.PriceRecurringIntervalMonth)
			cust := b.customer(clock.ID)
			sub := b.subscribe(cust.ID, basic.ID, 1, nil)
			assert.Equal(t, renewal, sub.Items.Data[0].CurrentPeriodEnd)

			p := &stripe.SubscriptionUpdateParams{Items: []*stripe.SubscriptionUpdateItemParams{
				{ID: stripe.String(sub.Items.Data[0].ID), Price: stripe.String(pro.ID)},
			}}
			if how == "proration_date" {
				// The change is made a day later, prorated as of the docs' second.
				b.advance(clock.ID, change+86400)
				p.ProrationDate = stripe.Int64(change)
			} else {
				b.advance(clock.ID, change)
			}
			sub, err := b.sc.V1Subscriptions.Update(t.Context(), sub.ID, p)
			require.NoError(t, err)
			assert.Equal(t, pro.ID, sub.Items.Data[0].Price.ID)
			assert.Equal(t, []line{
				{Desc: "Remaining time on 1 × Pro after 01 Sep 2020", Amount: 541, Start: change, End: renewal, Proration: true},
				{Desc: "Unused time on 1 × Basic after 01 Sep 2020", Amount: -166, Start: change, End: renewal, Proration: true},
			}, itemLines(b.pendingItems(cust.ID)))

			b.advance(clock.ID, renewal+hour)
			inv := b.latestInvoice(sub.ID)
			assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
			assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, inv.BillingReason)
			assert.Equal(t, int64(3627), inv.Total)
			assert.Equal(t, int64(3627), inv.AmountPaid)
			lines := invoiceLines(t, inv)
			require.Len(t, lines, 3)
			assert.Equal(t, []int64{-166, 541, 3252}, []int64{lines[0].Amount, lines[1].Amount, lines[2].Amount})
			assert.Equal(t, "1 × Pro (at $32.52 / month)", lines[2].Desc)
		})
	}
}

func TestBillingTrialToPaid(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	const trialEnd = frozen0 + 14*86400 // 2024-12-07 00:00:00 UTC
	const paidUntil int64 = 1736208000  // 2025-01-07 00:00:00 UTC
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
		p.TrialPeriodDays = stripe.Int64(14)
	})
	assert.Equal(t, stripe.SubscriptionStatusTrialing, sub.Status)
	assert.Equal(t, frozen0, sub.TrialStart)
	assert.Equal(t, trialEnd, sub.TrialEnd)
	assert.Equal(t, trialEnd, sub.BillingCycleAnchor, "the cycle is anchored at the trial's end")
	assert.Equal(t, frozen0, sub.Items.Data[0].CurrentPeriodStart)
	assert.Equal(t, trialEnd, sub.Items.Data[0].CurrentPeriodEnd)

	trial := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, trial.Status)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCreate, trial.BillingReason)
	assert.Equal(t, int64(0), trial.Total)
	assert.Equal(t, int64(0), trial.AmountPaid)
	assert.Equal(t, []line{{Desc: "Trial period for Pro", Amount: 0, Start: frozen0, End: trialEnd}}, invoiceLines(t, trial))

	willEnd := &stripe.EventListParams{Type: stripe.String("customer.subscription.trial_will_end")}
	b.advance(clock.ID, trialEnd-3*86400-1)
	assert.Empty(t, b.events(willEnd), "not yet three days before the end")
	b.advance(clock.ID, trialEnd-3*86400+60)
	evs := b.events(willEnd)
	require.Len(t, evs, 1)
	assert.Equal(t, trialEnd-3*86400, evs[0].Created, "announced three days before the trial ends")
	assert.Equal(t, sub.ID, evs[0].Data.Object["id"])
	assert.Equal(t, "trialing", evs[0].Data.Object["status"])
	assert.Equal(t, stripe.SubscriptionStatusTrialing, b.subscription(sub.ID).Status)

	b.advance(clock.ID, trialEnd+hour)
	sub = b.subscription(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	assert.Equal(t, trialEnd, sub.Items.Data[0].CurrentPeriodStart)
	assert.Equal(t, paidUntil, sub.Items.Data[0].CurrentPeriodEnd)
	paid := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, paid.BillingReason)
	assert.Equal(t, trialEnd, paid.Created)
	assert.Equal(t, trialEnd+hour, paid.StatusTransitions.PaidAt)
	assert.Equal(t, int64(2000), paid.Total)
	assert.Equal(t, int64(2000), paid.AmountPaid)
	assert.Equal(t, []line{{Desc: "1 × Pro (at $20.00 / month)", Amount: 2000, Start: trialEnd, End: paidUntil}}, invoiceLines(t, paid))
	assert.Len(t, b.events(willEnd), 1, "announced once")
}

func TestBillingCancelAtPeriodEnd(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	const periodEnd = frozen0 + 30*86400 // 2024-12-23 00:00:00 UTC
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 1, nil)
	require.Equal(t, periodEnd, sub.Items.Data[0].CurrentPeriodEnd)

	b.advance(clock.ID, frozen0+5*86400)
	sub, err := b.sc.V1Subscriptions.Update(t.Context(), sub.ID, &stripe.SubscriptionUpdateParams{CancelAtPeriodEnd: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	assert.True(t, sub.CancelAtPeriodEnd)
	assert.Equal(t, periodEnd, sub.CancelAt)
	assert.Equal(t, frozen0+5*86400, sub.CanceledAt)
	assert.Equal(t, int64(0), sub.EndedAt)
	assert.Empty(t, b.pendingItems(cust.ID), "scheduling a cancellation prorates nothing")

	b.advance(clock.ID, periodEnd-1)
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)

	b.advance(clock.ID, periodEnd)
	sub = b.subscription(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusCanceled, sub.Status)
	assert.Equal(t, periodEnd, sub.EndedAt)
	evs := b.events(&stripe.EventListParams{Type: stripe.String("customer.subscription.deleted")})
	require.Len(t, evs, 1)
	assert.Equal(t, periodEnd, evs[0].Created)
	assert.Equal(t, sub.ID, evs[0].Data.Object["id"])
	assert.Equal(t, "canceled", evs[0].Data.Object["status"])

	invoices := b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(cust.ID)})
	require.Len(t, invoices, 1, "no renewal for a subscription that ended")
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCreate, invoices[0].BillingReason)

	b.advance(clock.ID, periodEnd+45*86400)
	assert.Len(t, b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(cust.ID)}), 1, "nor later")
	assert.Len(t, b.events(&stripe.EventListParams{Type: stripe.String("customer.subscription.deleted")}), 1)
	assert.Equal(t, stripe.SubscriptionStatusCanceled, b.subscription(sub.ID).Status)
}

func TestBillingProrationBehaviors(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	const (
		change    = frozen0 + 10*86400 // 2024-12-03
		periodEnd = frozen0 + 30*86400 // 2024-12-23
	)
	clock := b.clockAt(frozen0)
	price := b.price("Seats", 1000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 3, nil)
	first := sub.LatestInvoice.ID
	itemID := sub.Items.Data[0].ID
	b.advance(clock.ID, change)

	// always_invoice: the prorations are invoiced and paid at once.
	sub, err := b.sc.V1Subscriptions.Update(t.Context(), sub.ID, &stripe.SubscriptionUpdateParams{
		ProrationBehavior: stripe.String("always_invoice"),
		Items:             []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(itemID), Quantity: stripe.Int64(5)}},
	})
	require.NoError(t, err)
	require.NotEqual(t, first, sub.LatestInvoice.ID)
	inv := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionUpdate, inv.BillingReason)
	assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	assert.Equal(t, change, inv.Created)
	assert.Equal(t, change, inv.StatusTransitions.PaidAt)
	assert.Equal(t, []line{
		{Desc: "Unused time on 3 × Seats after 03 Dec 2024", Amount: -prorated(3000, frozen0, periodEnd, change), Start: change, End: periodEnd, Proration: true},
		{Desc: "Remaining time on 5 × Seats after 03 Dec 2024", Amount: prorated(5000, frozen0, periodEnd, change), Start: change, End: periodEnd, Proration: true},
	}, invoiceLines(t, inv))
	assert.Equal(t, int64(-2000+3333), inv.Total)
	assert.Equal(t, int64(1333), inv.AmountPaid)
	assert.Empty(t, b.pendingItems(cust.ID))

	// none: the change takes effect with no invoice items at all.
	sub, err = b.sc.V1Subscriptions.Update(t.Context(), sub.ID, &stripe.SubscriptionUpdateParams{
		ProrationBehavior: stripe.String("none"),
		Items:             []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(itemID), Quantity: stripe.Int64(7)}},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(7), sub.Items.Data[0].Quantity)
	assert.Equal(t, inv.ID, sub.LatestInvoice.ID)
	assert.Empty(t, b.pendingItems(cust.ID))
	var all []*stripe.InvoiceItem
	for ii, err := range b.sc.V1InvoiceItems.List(t.Context(), &stripe.InvoiceItemListParams{Customer: stripe.String(cust.ID)}).All(t.Context()) {
		require.NoError(t, err)
		all = append(all, ii)
	}
	assert.Len(t, all, 2, "only the always_invoice prorations exist")
	for _, ii := range all {
		require.NotNil(t, ii.Invoice)
		assert.Equal(t, inv.ID, ii.Invoice.ID)
	}
	assert.Len(t, b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(cust.ID)}), 2)

	// The renewal bills the 7 seats, with nothing carried over.
	b.advance(clock.ID, periodEnd)
	renewal := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceStatusDraft, renewal.Status)
	assert.Equal(t, int64(7000), renewal.Total)
	assert.Len(t, renewal.Lines.Data, 1)
}

func TestBillingEventOrderInOneAdvance(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	const boundary = frozen0 + 30*86400
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 1, nil)

	// One advance across the renewal and its finalization an hour later.
	b.advance(clock.ID, boundary+2*hour)
	renewal := b.latestInvoice(sub.ID)
	require.NotEqual(t, sub.LatestInvoice.ID, renewal.ID)

	evs := b.events(nil)
	var types []string
	for _, ev := range evs {
		types = append(types, string(ev.Type))
	}
	adv := -1
	for i, ev := range evs {
		if ev.Type == "test_helpers.test_clock.advancing" {
			adv = i
		}
	}
	require.GreaterOrEqual(t, adv, 0, "events: %v", types)
	// The renewal is paid through a PaymentIntent and a Charge.
	require.Equal(t, []string{
		"test_helpers.test_clock.advancing",
		"invoice.upcoming",
		"customer.subscription.updated",
		"invoice.created",
		"invoice.finalized",
		"payment_intent.created",
		"charge.succeeded",
		"payment_intent.succeeded",
		"invoice.paid",
		"invoice.payment_succeeded",
		"invoice_payment.paid",
		"test_helpers.test_clock.ready",
	}, types[adv:])
	billingEvs := evs[adv+1 : len(evs)-1]
	var created []int64
	for _, ev := range billingEvs {
		created = append(created, ev.Created)
	}
	at := boundary + hour
	assert.Equal(t, []int64{boundary - 3*86400, boundary, boundary, at, at, at, at, at, at, at}, created,
		"billing events carry the simulated time they happened at")
	// The upcoming invoice, three days ahead, is the renewal to come.
	upcoming := billingEvs[0].Data.Object
	assert.Regexp(t, `^upcoming_in_`, upcoming["id"])
	assert.Equal(t, "draft", upcoming["status"])
	assert.EqualValues(t, 2000, upcoming["amount_due"])
	assert.EqualValues(t, boundary, upcoming["created"])
	assert.Equal(t, sub.ID, billingEvs[1].Data.Object["id"])
	for i, status := range map[int]string{2: "draft", 3: "open", 7: "paid", 8: "paid"} {
		ev := billingEvs[i]
		assert.Equal(t, renewal.ID, ev.Data.Object["id"], ev.Type)
		assert.Equal(t, status, ev.Data.Object["status"], ev.Type)
	}
	assert.Equal(t, "requires_payment_method", billingEvs[4].Data.Object["status"])
	assert.Equal(t, "succeeded", billingEvs[5].Data.Object["status"])
	assert.Equal(t, "succeeded", billingEvs[6].Data.Object["status"])
	assert.Equal(t, billingEvs[4].Data.Object["id"], billingEvs[6].Data.Object["id"])
	assert.Equal(t, billingEvs[4].Data.Object["id"], billingEvs[5].Data.Object["payment_intent"])
	assert.Equal(t, "paid", billingEvs[9].Data.Object["status"])
	assert.Equal(t, renewal.ID, billingEvs[9].Data.Object["invoice"])
	for _, ev := range []*stripe.Event{evs[adv], evs[len(evs)-1]} {
		assert.Equal(t, clock.ID, ev.Data.Object["id"], ev.Type)
		assert.InDelta(t, time.Now().Unix(), ev.Created, 60, "%s is stamped with wall time", ev.Type)
	}

	// Creating the subscription: its events, at the clock's time.
	var before []string
	for _, ev := range evs[:adv] {
		if ev.Created == frozen0 {
			before = append(before, string(ev.Type))
		}
	}
	assert.Equal(t, []string{"customer.created", "payment_method.attached", "customer.subscription.created", "invoice.created",
		"invoice.finalized", "payment_intent.created", "charge.succeeded", "payment_intent.succeeded",
		"invoice.paid", "invoice.payment_succeeded", "invoice_payment.paid"}, before)
}

func TestBillingExpand(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)

	sub := b.subscribe(cust.ID, price.ID, 2, func(p *stripe.SubscriptionCreateParams) {
		p.AddExpand("latest_invoice")
	})
	raw := rawJSON(t, sub.LastResponse)
	inv, ok := raw["latest_invoice"].(map[string]any)
	require.True(t, ok, "latest_invoice is expanded: %v", raw["latest_invoice"])
	assert.Equal(t, "invoice", inv["object"])
	assert.Equal(t, "paid", inv["status"])
	assert.Equal(t, float64(4000), inv["total"])
	require.NotNil(t, sub.LatestInvoice)
	assert.Equal(t, int64(4000), sub.LatestInvoice.Total)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCreate, sub.LatestInvoice.BillingReason)
	assert.IsType(t, "", raw["customer"], "only what was asked is expanded")

	got, err := b.sc.V1Subscriptions.Retrieve(t.Context(), sub.ID, &stripe.SubscriptionRetrieveParams{
		Expand: []*string{stripe.String("customer"), stripe.String("latest_invoice")},
	})
	require.NoError(t, err)
	assert.Equal(t, "jenny@example.com", got.Customer.Email)
	assert.Equal(t, int64(4000), got.LatestInvoice.Total)
	assert.IsType(t, "", rawJSON(t, b.subscription(sub.ID).LastResponse)["latest_invoice"], "an id unless expanded")

	p := &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID)}}}
	p.AddExpand("x")
	_, err = b.sc.V1Subscriptions.Create(t.Context(), p)
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, "This property cannot be expanded (x).", se.Msg)
	assert.Len(t, b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(cust.ID)}), 1, "the refused create made nothing")

	ae := b.raw(t, rawRequest{Method: http.MethodGet, Key: testKey, Path: "/v1/subscriptions/" + sub.ID + "?expand[]=latest_invoice.nope"}).
		apiError(t, http.StatusBadRequest)
	assert.Equal(t, "This property cannot be expanded (latest_invoice.nope).", ae.Message)
}

func TestBillingProrationsStayWithTheirSubscription(t *testing.T) {
	t.Parallel()
	// Stripe's spec for invoice items: "When set, scheduled invoices for
	// subscriptions other than the specified subscription will ignore the
	// invoice item." Prorations are set to their subscription.
	b := startBilling(t, emulator.Config{})
	const (
		dec3  = frozen0 + 10*86400 // 2024-12-03
		dec13 = frozen0 + 20*86400
		dec23 = frozen0 + 30*86400
		jan3  = dec3 + 31*86400 // 2025-01-03
	)
	clock := b.clockAt(frozen0)
	price := b.price("Seats", 3100, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	early := b.subscribe(cust.ID, price.ID, 1, nil)
	b.advance(clock.ID, dec3)
	late := b.subscribe(cust.ID, price.ID, 1, nil)
	b.advance(clock.ID, dec13)
	_, err := b.sc.V1Subscriptions.Update(t.Context(), late.ID, &stripe.SubscriptionUpdateParams{
		Items: []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(late.Items.Data[0].ID), Quantity: stripe.Int64(2)}}})
	require.NoError(t, err)
	require.Len(t, b.pendingItems(cust.ID), 2)

	// A third subscription's first invoice leaves them alone too.
	third := b.subscribe(cust.ID, price.ID, 1, nil)
	assert.Equal(t, int64(3100), b.invoice(third.LatestInvoice.ID).Total)

	b.advance(clock.ID, dec23)
	renewal := b.latestInvoice(early.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, renewal.BillingReason)
	assert.Equal(t, int64(3100), renewal.Total, "the other subscription's prorations are not billed here")
	assert.Len(t, b.pendingItems(cust.ID), 2)

	b.advance(clock.ID, jan3)
	renewal = b.latestInvoice(late.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, renewal.BillingReason)
	lines := invoiceLines(t, renewal)
	assert.Equal(t, []line{
		{Desc: "Unused time on 1 × Seats after 13 Dec 2024", Amount: -prorated(3100, dec3, jan3, dec13), Start: dec13, End: jan3, Proration: true},
		{Desc: "Remaining time on 2 × Seats after 13 Dec 2024", Amount: prorated(6200, dec3, jan3, dec13), Start: dec13, End: jan3, Proration: true},
		{Desc: "2 × Seats (at $31.00 / month)", Amount: 6200, Start: jan3, End: jan3 + 31*86400},
	}, lines)
	assert.Equal(t, int64(-2100+4200+6200), renewal.Total)
	assert.Empty(t, b.pendingItems(cust.ID))
}
