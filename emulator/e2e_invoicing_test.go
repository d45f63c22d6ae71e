package emulator_test

// Invoicing by hand, driven with stripe-go as test suites do it: invoice
// items priced every way, a draft made from the pending ones, changed,
// given and losing lines, finalized with the customer's prefix and
// sequence, sent, gone overdue on a clock, marked uncollectible, deleted;
// subscriptions whose invoices are sent rather than charged.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// item creates an invoice item with p, for customer.
func (b *billingEnv) item(customer string, p *stripe.InvoiceItemCreateParams) *stripe.InvoiceItem {
	b.t.Helper()
	p.Customer = stripe.String(customer)
	ii, err := b.sc.V1InvoiceItems.Create(b.t.Context(), p)
	require.NoError(b.t, err)
	return ii
}

// typesSince lists the types of the events after the first n, oldest
// first.
func (b *billingEnv) typesSince(n int) []string {
	b.t.Helper()
	return eventTypes(b.events(nil)[n:])
}

// manualLine is what a user reads off a line of an invoice made by hand.
type manualLine struct {
	Desc     string
	Amount   int64
	Quantity int64
	Item     string
}

func manualLines(t *testing.T, inv *stripe.Invoice) []manualLine {
	t.Helper()
	var out []manualLine
	for _, l := range inv.Lines.Data {
		ml := manualLine{Desc: l.Description, Amount: l.Amount, Quantity: l.Quantity}
		if l.Parent != nil && l.Parent.InvoiceItemDetails != nil {
			ml.Item = l.Parent.InvoiceItemDetails.InvoiceItem
		}
		out = append(out, ml)
	}
	return out
}

func TestManualInvoiceFromItemsToPaid(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	cust, err := b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String("billing@acme.test"),
		PaymentMethod: stripe.String("pm_card_visa"), InvoicePrefix: stripe.String("ACME"), NextInvoiceSequence: stripe.Int64(7)})
	require.NoError(t, err)
	setup := b.price("Setup fee", 1500, "")
	prod, err := b.sc.V1Products.Create(ctx, &stripe.ProductCreateParams{Name: stripe.String("Stickers")})
	require.NoError(t, err)

	consulting := b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(2000), Currency: stripe.String("usd"),
		Description: stripe.String("Consulting")})
	assert.EqualValues(t, 2000, consulting.Amount)
	assert.True(t, consulting.Discountable)
	assert.Nil(t, consulting.Invoice, "pending")
	fee := b.item(cust.ID, &stripe.InvoiceItemCreateParams{Pricing: &stripe.InvoiceItemCreatePricingParams{Price: stripe.String(setup.ID)},
		Quantity: stripe.Int64(2)})
	assert.EqualValues(t, 3000, fee.Amount)
	assert.Equal(t, "Setup fee", fee.Description)
	assert.Equal(t, setup.ID, fee.Pricing.PriceDetails.Price.ID)
	stickers := b.item(cust.ID, &stripe.InvoiceItemCreateParams{PriceData: &stripe.InvoiceItemCreatePriceDataParams{
		Currency: stripe.String("usd"), Product: stripe.String(prod.ID), UnitAmount: stripe.Int64(250)},
		Period: &stripe.InvoiceItemCreatePeriodParams{Start: stripe.Int64(1735689600), End: stripe.Int64(1738368000)}})
	assert.EqualValues(t, 250, stickers.Amount)
	assert.Equal(t, "Stickers", stickers.Description)
	assert.Equal(t, &stripe.Period{Start: 1735689600, End: 1738368000}, stickers.Period)
	credit := b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(-100), Currency: stripe.String("usd")})
	assert.False(t, credit.Discountable, "a credit is not discountable by default")

	// A recurring price is refused, as at Stripe.
	monthly := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	_, err = b.sc.V1InvoiceItems.Create(ctx, &stripe.InvoiceItemCreateParams{Customer: stripe.String(cust.ID),
		Pricing: &stripe.InvoiceItemCreatePricingParams{Price: stripe.String(monthly.ID)}})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "pricing[price]", se.Param)
	assert.Equal(t, "The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`.", se.Msg)

	mark := len(b.events(nil))
	inv, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		PendingInvoiceItemsBehavior: stripe.String("include"), Description: stripe.String("January"),
		Footer: stripe.String("Thanks"), Metadata: map[string]string{"order": "42"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"invoice.created"}, b.typesSince(mark))
	assert.Equal(t, stripe.InvoiceStatusDraft, inv.Status)
	assert.Equal(t, stripe.InvoiceBillingReasonManual, inv.BillingReason)
	assert.Equal(t, stripe.InvoiceCollectionMethodChargeAutomatically, inv.CollectionMethod)
	assert.False(t, inv.AutoAdvance, "invoices made through the API do not advance by themselves")
	assert.Equal(t, "", inv.Number)
	assert.Equal(t, "January", inv.Description)
	assert.Equal(t, "Thanks", inv.Footer)
	assert.Equal(t, []manualLine{{"Consulting", 2000, 1, consulting.ID}, {"Setup fee", 3000, 2, fee.ID},
		{"Stickers", 250, 1, stickers.ID}, {"", -100, 1, credit.ID}}, manualLines(t, inv))
	assert.EqualValues(t, 5150, inv.Total)
	assert.EqualValues(t, 5150, inv.AmountDue)
	assert.Empty(t, b.pendingItems(cust.ID), "the invoice took every pending item")

	// The draft follows its items, and takes and loses lines.
	_, err = b.sc.V1InvoiceItems.Update(ctx, consulting.ID, &stripe.InvoiceItemUpdateParams{Amount: stripe.Int64(2600)})
	require.NoError(t, err)
	_, err = b.sc.V1InvoiceItems.Delete(ctx, credit.ID, nil)
	require.NoError(t, err)
	_, err = b.sc.V1InvoiceItems.Retrieve(ctx, credit.ID, nil)
	stripeError(t, err, http.StatusNotFound)
	later := b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(400), Currency: stripe.String("usd"),
		Description: stripe.String("Later")})
	inv, err = b.sc.V1Invoices.AddLines(ctx, inv.ID, &stripe.InvoiceAddLinesParams{Lines: []*stripe.InvoiceAddLinesLineParams{
		{InvoiceItem: stripe.String(later.ID)},
		{Amount: stripe.Int64(75), Description: stripe.String("Postage")},
	}, InvoiceMetadata: map[string]string{"lines": "added"}})
	require.NoError(t, err)
	assert.EqualValues(t, 2600+3000+250+400+75, inv.Total)
	assert.Equal(t, "added", inv.Metadata["lines"])
	require.Len(t, inv.Lines.Data, 5)
	postage := inv.Lines.Data[4]
	assert.Equal(t, "Postage", postage.Description)
	inv, err = b.sc.V1Invoices.RemoveLines(ctx, inv.ID, &stripe.InvoiceRemoveLinesParams{Lines: []*stripe.InvoiceRemoveLinesLineParams{
		{ID: stripe.String(inv.Lines.Data[3].ID), Behavior: stripe.String("unassign")},
		{ID: stripe.String(postage.ID), Behavior: stripe.String("delete")},
	}})
	require.NoError(t, err)
	assert.EqualValues(t, 5850, inv.Total)
	pending := b.pendingItems(cust.ID)
	require.Len(t, pending, 1)
	assert.Equal(t, later.ID, pending[0].ID, "unassigned: pending again")
	_, err = b.sc.V1InvoiceItems.Retrieve(ctx, postage.Parent.InvoiceItemDetails.InvoiceItem, nil)
	stripeError(t, err, http.StatusNotFound)
	inv, err = b.sc.V1Invoices.Update(ctx, inv.ID, &stripe.InvoiceUpdateParams{Description: stripe.String("January, revised")})
	require.NoError(t, err)
	assert.Equal(t, "January, revised", inv.Description)

	// Finalized with the customer's prefix and sequence, then paid.
	inv, err = b.sc.V1Invoices.FinalizeInvoice(ctx, inv.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.InvoiceStatusOpen, inv.Status)
	assert.Equal(t, "ACME-0007", inv.Number)
	inv, err = b.sc.V1Invoices.Pay(ctx, inv.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	assert.EqualValues(t, 5850, inv.AmountPaid)
	c, err := b.sc.V1Customers.Retrieve(ctx, cust.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 8, c.NextInvoiceSequence)

	// A finalized invoice keeps its items and money.
	_, err = b.sc.V1InvoiceItems.Update(ctx, consulting.ID, &stripe.InvoiceItemUpdateParams{Amount: stripe.Int64(1)})
	assert.Contains(t, stripeError(t, err, http.StatusBadRequest).Msg, "which is finalized")
	_, err = b.sc.V1Invoices.Update(ctx, inv.ID, &stripe.InvoiceUpdateParams{CollectionMethod: stripe.String("send_invoice")})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "Only draft invoices can change collection_method; this invoice is paid.", se.Msg)

	// The next invoice takes the next number.
	second, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		PendingInvoiceItemsBehavior: stripe.String("include")})
	require.NoError(t, err)
	assert.EqualValues(t, 400, second.Total)
	second, err = b.sc.V1Invoices.FinalizeInvoice(ctx, second.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "ACME-0008", second.Number)
}

func TestManualInvoiceDeleteAndUncollectible(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	cust := b.bareCustomer("")
	draft, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	onIt := b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(900), Currency: stripe.String("usd"),
		Invoice: stripe.String(draft.ID)})
	assert.Equal(t, draft.ID, onIt.Invoice.ID)
	mark := len(b.events(nil))
	del, err := b.sc.V1Invoices.Delete(ctx, draft.ID, nil)
	require.NoError(t, err)
	assert.True(t, del.Deleted)
	assert.Equal(t, []string{"invoiceitem.deleted", "invoice.deleted"}, b.typesSince(mark))
	_, err = b.sc.V1Invoices.Retrieve(ctx, draft.ID, nil)
	assert.Equal(t, "No such invoice: '"+draft.ID+"'", stripeError(t, err, http.StatusNotFound).Msg)
	_, err = b.sc.V1InvoiceItems.Retrieve(ctx, onIt.ID, nil)
	stripeError(t, err, http.StatusNotFound)

	open, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(300), Currency: stripe.String("usd"),
		Invoice: stripe.String(open.ID)})
	open, err = b.sc.V1Invoices.FinalizeInvoice(ctx, open.ID, nil)
	require.NoError(t, err)
	_, err = b.sc.V1Invoices.Delete(ctx, open.ID, nil)
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "You can only delete draft invoices; this invoice is open. Void the invoice instead.", se.Msg)

	mark = len(b.events(nil))
	open, err = b.sc.V1Invoices.MarkUncollectible(ctx, open.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.InvoiceStatusUncollectible, open.Status)
	assert.NotZero(t, open.StatusTransitions.MarkedUncollectibleAt)
	assert.False(t, open.AutoAdvance)
	assert.Equal(t, []string{"invoice.marked_uncollectible", "invoice.updated"}, b.typesSince(mark))
	_, err = b.sc.V1Invoices.MarkUncollectible(ctx, open.ID, nil)
	assert.Equal(t, "You can only mark open invoices as uncollectible; this invoice is uncollectible.",
		stripeError(t, err, http.StatusBadRequest).Msg)
	paid, err := b.sc.V1Invoices.Pay(ctx, open.ID, &stripe.InvoicePayParams{PaidOutOfBand: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status, "an uncollectible invoice can still be paid")

	// A subscription's draft is voided, not deleted.
	clock := b.clockAt(frozen0)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(b.customer(clock.ID).ID, price.ID, 1, nil)
	b.advance(clock.ID, frozen0+30*day)
	renewal := b.latestInvoice(sub.ID)
	require.Equal(t, stripe.InvoiceStatusDraft, renewal.Status)
	_, err = b.sc.V1Invoices.Delete(ctx, renewal.ID, nil)
	assert.Equal(t, "You can't delete invoices created by subscriptions. Void the invoice instead.",
		stripeError(t, err, http.StatusBadRequest).Msg)
}

func TestAutoAdvancingManualInvoice(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.customer(clock.ID)
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(4200), Currency: stripe.String("usd")})
	inv, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		PendingInvoiceItemsBehavior: stripe.String("include"), AutoAdvance: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, frozen0, inv.Created, "in the clock's time")
	assert.Equal(t, frozen0+hour, inv.AutomaticallyFinalizesAt, "finalized an hour after it is made")

	b.advance(clock.ID, frozen0+hour-1)
	assert.Equal(t, stripe.InvoiceStatusDraft, b.invoice(inv.ID).Status)
	b.advance(clock.ID, frozen0+hour)
	got := b.invoice(inv.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, got.Status, "finalized and charged to the default card")
	assert.EqualValues(t, 4200, got.AmountPaid)
	assert.Equal(t, frozen0+hour, got.StatusTransitions.FinalizedAt)

	// A draft told when to finalize advances by itself then.
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(100), Currency: stripe.String("usd")})
	at := frozen0 + 3*day
	later, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		PendingInvoiceItemsBehavior: stripe.String("include"), AutomaticallyFinalizesAt: stripe.Int64(at)})
	require.NoError(t, err)
	assert.True(t, later.AutoAdvance)
	b.advance(clock.ID, at)
	assert.Equal(t, stripe.InvoiceStatusPaid, b.invoice(later.ID).Status)
}

func TestSendInvoiceGoesOverdue(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID)
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(2000), Currency: stripe.String("usd"),
		Description: stripe.String("Audit")})
	inv, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		PendingInvoiceItemsBehavior: stripe.String("include"), CollectionMethod: stripe.String("send_invoice"),
		DaysUntilDue: stripe.Int64(7)})
	require.NoError(t, err)
	due := frozen0 + 7*day
	assert.Equal(t, stripe.InvoiceCollectionMethodSendInvoice, inv.CollectionMethod)
	assert.Equal(t, due, inv.DueDate, "due seven days after it is made, in the clock's time")

	mark := len(b.events(nil))
	inv, err = b.sc.V1Invoices.SendInvoice(ctx, inv.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"invoice.finalized", "payment_intent.created", "invoice.sent"}, b.typesSince(mark))
	assert.Equal(t, stripe.InvoiceStatusOpen, inv.Status, "a draft is finalized to be sent")
	assert.EqualValues(t, 0, inv.AttemptCount, "never charged")
	assert.False(t, inv.Attempted)
	assert.Zero(t, inv.NextPaymentAttempt)
	assert.EqualValues(t, 2000, inv.AmountDue)

	mark = len(b.events(nil))
	b.advance(clock.ID, due-hour)
	assert.NotContains(t, b.typesSince(mark), "invoice.overdue")
	b.advance(clock.ID, due+hour)
	evs := b.events(nil)[mark:]
	i := -1
	for j, ev := range evs {
		if ev.Type == "invoice.overdue" {
			i = j
		}
	}
	require.GreaterOrEqual(t, i, 0, "events: %v", eventTypes(evs))
	assert.Equal(t, due, evs[i].Created, "at the due date, in the clock's time")
	assert.Equal(t, inv.ID, evs[i].Data.Object["id"])
	assert.Equal(t, "open", evs[i].Data.Object["status"])

	paid, err := b.sc.V1Invoices.Pay(ctx, inv.ID, &stripe.InvoicePayParams{PaidOutOfBand: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status)
	assert.EqualValues(t, 2000, paid.AmountPaidOffStripe)

	// Collection by sending needs a due date; charging takes none.
	_, err = b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		CollectionMethod: stripe.String("send_invoice")})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "days_until_due", se.Param)
	_, err = b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		DueDate: stripe.Int64(due)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "due_date is only valid when collection_method is send_invoice.", se.Msg)
}

func TestSubscriptionSendsInvoicesInsteadOfCharging(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID) // nothing to charge, and nothing needed
	price := b.price("Licence", 5000, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(cust.ID, price.ID, 2, func(p *stripe.SubscriptionCreateParams) {
		p.CollectionMethod = stripe.String("send_invoice")
		p.DaysUntilDue = stripe.Int64(14)
	})
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status, "active at once")
	assert.Equal(t, stripe.SubscriptionCollectionMethodSendInvoice, sub.CollectionMethod)
	assert.EqualValues(t, 14, sub.DaysUntilDue)
	first := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceStatusOpen, first.Status)
	assert.Equal(t, stripe.InvoiceCollectionMethodSendInvoice, first.CollectionMethod)
	assert.Equal(t, frozen0+14*day, first.DueDate)
	assert.EqualValues(t, 10000, first.AmountDue)
	assert.EqualValues(t, 0, first.AttemptCount)
	_, err := b.sc.V1Invoices.Pay(ctx, first.ID, &stripe.InvoicePayParams{PaidOutOfBand: stripe.Bool(true)})
	require.NoError(t, err)

	// The renewal is sent an hour after it is made, never charged.
	renewalAt := frozen0 + 30*day // 2024-12-23
	mark := len(b.events(nil))
	b.advance(clock.ID, renewalAt+hour)
	renewal := b.latestInvoice(sub.ID)
	assert.NotEqual(t, first.ID, renewal.ID)
	assert.Equal(t, stripe.InvoiceStatusOpen, renewal.Status)
	assert.Equal(t, renewalAt+14*day, renewal.DueDate)
	assert.EqualValues(t, 10000, renewal.AmountDue)
	assert.Equal(t, []string{"invoice.upcoming", "customer.subscription.updated", "invoice.created", "invoice.finalized",
		"payment_intent.created", "invoice.sent"}, billingTypes(b.events(nil)[mark:]))

	// Unpaid at its due date: overdue, and the subscription past due
	// until it is paid.
	b.advance(clock.ID, renewalAt+14*day)
	assert.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(sub.ID).Status)
	_, err = b.sc.V1Invoices.Pay(ctx, renewal.ID, &stripe.InvoicePayParams{PaidOutOfBand: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)

	// Back to charging automatically: days_until_due goes.
	up, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		CollectionMethod: stripe.String("charge_automatically")})
	require.NoError(t, err)
	assert.Equal(t, stripe.SubscriptionCollectionMethodChargeAutomatically, up.CollectionMethod)
	assert.Zero(t, up.DaysUntilDue)
	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{CollectionMethod: stripe.String("send_invoice")})
	assert.Equal(t, "days_until_due", stripeError(t, err, http.StatusBadRequest).Param)
}
