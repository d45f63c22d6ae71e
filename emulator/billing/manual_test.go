package billing

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventsSince lists the types of the events recorded after the first n.
func (s *scenario) eventsSince(n int) []EventType {
	var out []EventType
	for _, ev := range s.l.events[n:] {
		out = append(out, ev.Type)
	}
	return out
}

func (s *scenario) oneTime(id, product string, amount int64) {
	require.NoError(s.t, s.l.put(id, &Price{ID: id, Product: product, Currency: "usd", UnitAmount: amount, Active: true}))
}

func TestManualInvoiceFromPendingItems(t *testing.T) {
	s := newScenario(t, paymentStart)
	s.product("prod_setup", "Setup fee")
	s.oneTime("price_setup", "prod_setup", 2500)
	fee, err := s.e.CreateInvoiceItem(NewInvoiceItem{Customer: "cus_0001", Price: "price_setup", Quantity: qty(2)}, s.now)
	require.NoError(t, err)
	assert.Equal(t, int64(5000), fee.Amount)
	assert.Equal(t, Billed{Kind: LineOneTime, ProductName: "Setup fee", UnitAmount: 2500}, fee.Billed)
	credit, err := s.e.CreateInvoiceItem(NewInvoiceItem{Customer: "cus_0001", Amount: -700, Currency: "usd",
		Description: "Goodwill"}, s.now)
	require.NoError(t, err)
	assert.False(t, credit.Discountable, "a credit is not discountable by default")
	assert.True(t, fee.Discountable)

	// Without include, the invoice takes nothing.
	empty, err := s.e.CreateInvoice(NewInvoice{Customer: "cus_0001", DefaultCurrency: "usd"}, s.now)
	require.NoError(t, err)
	assert.Empty(t, empty.Lines)

	mark := len(s.l.events)
	inv, err := s.e.CreateInvoice(NewInvoice{Customer: "cus_0001", IncludePending: true, DefaultCurrency: "usd",
		CollectionMethod: CollectBySending, DaysUntilDue: qty(7), Description: "Onboarding"}, s.now)
	require.NoError(t, err)
	assert.Equal(t, []EventType{EventInvoiceCreated}, s.eventsSince(mark))
	assert.Equal(t, ReasonManual, inv.BillingReason)
	assert.False(t, inv.AutoAdvance)
	assert.Equal(t, int64(4300), inv.Total())
	assert.Equal(t, paymentStart+7*day, inv.DueDate)
	require.Len(t, inv.Lines, 2)
	assert.Equal(t, fee.ID, inv.Lines[0].InvoiceItem)
	pending, err := s.l.PendingInvoiceItems("cus_0001")
	require.NoError(t, err)
	assert.Empty(t, pending, "the invoice took the pending items")

	// Sent by hand, a draft is finalized, numbered and sent; nothing is
	// charged.
	mark = len(s.l.events)
	require.NoError(t, s.e.SendInvoice(inv, s.now))
	assert.Equal(t, []EventType{EventInvoiceFinalized, EventPaymentCreated, EventInvoiceSent}, s.eventsSince(mark))
	inv = s.invoice(inv.ID)
	assert.Equal(t, InvoiceOpen, inv.Status)
	assert.Equal(t, "TESTPFX-0001", inv.Number)
	assert.Equal(t, paymentStart, inv.SentAt)
	assert.Zero(t, inv.AttemptCount)

	// Still open at its due date: overdue.
	mark = len(s.l.events)
	s.advance(paymentStart + 7*day - 1)
	assert.Empty(t, s.eventsSince(mark))
	s.advance(paymentStart + 7*day)
	assert.Equal(t, []EventType{EventInvoiceOverdue}, s.eventsSince(mark))
	require.NoError(t, s.e.Pay(inv, PayOptions{OutOfBand: true}, s.now))
	assert.Equal(t, InvoicePaid, s.invoice(inv.ID).Status)
}

func TestManualInvoiceDueDateRules(t *testing.T) {
	s := newScenario(t, paymentStart)
	for _, tc := range []struct {
		name string
		in   NewInvoice
		code Code
		prm  string
	}{
		{"sending needs a due date", NewInvoice{CollectionMethod: CollectBySending}, CodeDueDateRequired, "days_until_due"},
		{"charging takes none", NewInvoice{DaysUntilDue: qty(3)}, CodeDueDateNotSending, "days_until_due"},
		{"due date in the past", NewInvoice{CollectionMethod: CollectBySending, DueDate: paymentStart}, CodeDueDateNotFuture, "due_date"},
		{"days out of range", NewInvoice{CollectionMethod: CollectBySending, DaysUntilDue: qty(MaxDaysUntilDue + 1)},
			CodeDaysUntilDueRange, "days_until_due"},
		{"finalization in the past", NewInvoice{AutoAdvance: true, AutomaticallyFinalizesAt: paymentStart},
			CodeFinalizeAtNotFuture, "automatically_finalizes_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Customer, tc.in.DefaultCurrency = "cus_0001", "usd"
			_, err := s.e.CreateInvoice(tc.in, s.now)
			var be *Error
			require.ErrorAs(t, err, &be)
			assert.Equal(t, tc.code, be.Code)
			assert.Equal(t, tc.prm, be.Param)
		})
	}
}

func TestDraftFollowsItsItems(t *testing.T) {
	s := newScenario(t, paymentStart)
	inv, err := s.e.CreateInvoice(NewInvoice{Customer: "cus_0001", DefaultCurrency: "usd"}, s.now)
	require.NoError(t, err)
	a, err := s.e.CreateInvoiceItem(NewInvoiceItem{Customer: "cus_0001", Amount: 1000, Currency: "usd", Invoice: inv.ID}, s.now)
	require.NoError(t, err)
	assert.Equal(t, inv.ID, a.Invoice)
	b, err := s.e.CreateInvoiceItem(NewInvoiceItem{Amount: 250, Currency: "usd", Invoice: inv.ID}, s.now)
	require.NoError(t, err, "the customer is the invoice's")
	assert.Equal(t, int64(1250), s.invoice(inv.ID).Total())

	_, err = s.e.UpdateInvoiceItem(a.ID, InvoiceItemChange{Amount: qty(1500), Description: ptr("Consulting")}, s.now)
	require.NoError(t, err)
	got := s.invoice(inv.ID)
	assert.Equal(t, int64(1750), got.Total())
	assert.Equal(t, "Consulting", got.Lines[0].Description)

	_, err = s.e.DeleteInvoiceItem(b.ID, s.now)
	require.NoError(t, err)
	assert.Equal(t, int64(1500), s.invoice(inv.ID).Total())
	_, err = s.l.InvoiceItem(b.ID)
	assert.Error(t, err, "deleted")

	// add_lines: a pending item and a new one; remove_lines: one
	// unassigned (pending again), one deleted.
	pend, err := s.e.CreateInvoiceItem(NewInvoiceItem{Customer: "cus_0001", Amount: 300, Currency: "usd"}, s.now)
	require.NoError(t, err)
	inv = s.invoice(inv.ID)
	require.NoError(t, s.e.AddLines(inv, []NewLine{{InvoiceItem: pend.ID, Param: "lines[0]"},
		{Item: NewInvoiceItem{Amount: 40, Description: "Stamp"}, Param: "lines[1]"}}, map[string]string{"batch": "1"}, s.now))
	inv = s.invoice(inv.ID)
	require.Len(t, inv.Lines, 3)
	assert.Equal(t, int64(1840), inv.Total())
	assert.Equal(t, "1", inv.Metadata["batch"])
	require.NoError(t, s.e.RemoveLines(inv, []LineRemoval{{Line: inv.Lines[1].ID}, {Line: inv.Lines[2].ID, Delete: true}}, nil, s.now))
	inv = s.invoice(inv.ID)
	assert.Equal(t, int64(1500), inv.Total())
	pending, err := s.l.PendingInvoiceItems("cus_0001")
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, pend.ID, pending[0].ID)

	// Once finalized, neither the invoice's money nor its items change.
	require.NoError(t, s.e.Finalize(inv, s.now))
	_, err = s.e.UpdateInvoiceItem(a.ID, InvoiceItemChange{Amount: qty(1)}, s.now)
	assertCode(t, err, CodeInvoiceItemLocked)
	_, err = s.e.UpdateInvoice(inv.ID, InvoiceChange{DueDate: qty(paymentStart + day)}, s.now)
	assertCode(t, err, CodeInvoiceNotEditable)
	_, err = s.e.DeleteInvoice(inv.ID, s.now)
	assertCode(t, err, CodeInvoiceNotDeletable)
	_, err = s.e.UpdateInvoice(inv.ID, InvoiceChange{Footer: ptr("Thanks")}, s.now)
	require.NoError(t, err, "texts can change on an open invoice")
	require.NoError(t, s.e.MarkUncollectible(inv, s.now))
	assert.Equal(t, InvoiceUncollectible, s.invoice(inv.ID).Status)
	assertCode(t, s.e.MarkUncollectible(s.invoice(inv.ID), s.now), CodeInvoiceNotOpen)
}

func TestDeleteDraftDeletesItsItems(t *testing.T) {
	s := newScenario(t, paymentStart)
	ii, err := s.e.CreateInvoiceItem(NewInvoiceItem{Customer: "cus_0001", Amount: 900, Currency: "usd"}, s.now)
	require.NoError(t, err)
	inv, err := s.e.CreateInvoice(NewInvoice{Customer: "cus_0001", IncludePending: true, DefaultCurrency: "usd"}, s.now)
	require.NoError(t, err)
	mark := len(s.l.events)
	_, err = s.e.DeleteInvoice(inv.ID, s.now)
	require.NoError(t, err)
	assert.Equal(t, []EventType{EventInvoiceItemDeleted, EventInvoiceDeleted}, s.eventsSince(mark))
	_, err = s.l.Invoice(inv.ID)
	assert.Error(t, err)
	_, err = s.l.InvoiceItem(ii.ID)
	assert.Error(t, err)

	// A subscription's draft cannot be deleted.
	s.monthly(1, nil)
	s.advance(renewal)
	draft := s.l.invoices()[len(s.l.invoices())-1]
	require.Equal(t, InvoiceDraft, draft.Status)
	_, err = s.e.DeleteInvoice(draft.ID, s.now)
	assertCode(t, err, CodeInvoiceNotDeletable)
}

func TestAutoAdvancingDraftFinalizesAfterTheDelay(t *testing.T) {
	s := newScenario(t, paymentStart)
	_, err := s.e.CreateInvoiceItem(NewInvoiceItem{Customer: "cus_0001", Amount: 1000, Currency: "usd"}, s.now)
	require.NoError(t, err)
	inv, err := s.e.CreateInvoice(NewInvoice{Customer: "cus_0001", IncludePending: true, AutoAdvance: true,
		DefaultCurrency: "usd"}, s.now)
	require.NoError(t, err)
	assert.Equal(t, paymentStart+FinalizeDelay, inv.AutomaticallyFinalizesAt)
	// Moved an hour later, the first plan does nothing.
	_, err = s.e.UpdateInvoice(inv.ID, InvoiceChange{AutomaticallyFinalizesAt: qty(paymentStart + 2*FinalizeDelay)}, s.now)
	require.NoError(t, err)
	s.advance(paymentStart + FinalizeDelay)
	assert.Equal(t, InvoiceDraft, s.invoice(inv.ID).Status)
	s.advance(paymentStart + 2*FinalizeDelay)
	got := s.invoice(inv.ID)
	assert.Equal(t, InvoicePaid, got.Status, "finalized and charged to the default card")
	assert.Equal(t, int64(1000), got.AmountPaid)
}

func TestSubscriptionSendsItsInvoices(t *testing.T) {
	s := newScenario(t, paymentStart)
	s.useCard("") // nothing to charge: sending needs nothing
	sub := s.monthly(2, func(in *NewSubscription) {
		in.CollectionMethod, in.DaysUntilDue = CollectBySending, qty(10)
	})
	assert.Equal(t, StatusActive, sub.Status, "active at once, though unpaid")
	first := s.invoice(sub.LatestInvoice)
	assert.Equal(t, InvoiceOpen, first.Status)
	assert.Equal(t, paymentStart+10*day, first.DueDate)
	assert.Equal(t, paymentStart, first.SentAt)
	assert.Zero(t, first.AttemptCount, "never charged")
	require.NoError(t, s.e.Pay(first, PayOptions{OutOfBand: true}, s.now))

	// The renewal is made as a draft, finalized an hour later and sent.
	mark := len(s.l.events)
	s.advance(renewal + FinalizeDelay)
	sub, err := s.l.Subscription(sub.ID)
	require.NoError(t, err)
	second := s.invoice(sub.LatestInvoice)
	assert.Equal(t, InvoiceOpen, second.Status)
	assert.Equal(t, renewal+10*day, second.DueDate)
	assert.Contains(t, s.eventsSince(mark), EventInvoiceSent)
	assert.NotContains(t, s.eventsSince(mark), EventInvoicePaymentFailed)

	// Unpaid at its due date: overdue, and the subscription past due
	// until it is paid.
	s.advance(renewal + 10*day)
	sub, err = s.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusPastDue, sub.Status)
	require.NoError(t, s.e.Pay(s.invoice(second.ID), PayOptions{OutOfBand: true}, s.now))
	sub, err = s.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusActive, sub.Status)

	// Back to charging: days until due go; sending again needs them.
	auto := CollectAutomatically
	sub, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{CollectionMethod: &auto}, s.now)
	require.NoError(t, err)
	assert.Zero(t, sub.DaysUntilDue)
	send := CollectBySending
	_, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{CollectionMethod: &send}, s.now)
	assertCode(t, err, CodeDueDateRequired)
}

func TestSetBalance(t *testing.T) {
	s := newScenario(t, paymentStart)
	cust, err := s.l.Customer("cus_0001")
	require.NoError(t, err)
	require.NoError(t, s.e.SetBalance(cust, -500, "usd", BalanceInitial, s.now))
	require.NoError(t, s.e.SetBalance(cust, -200, "eur", BalanceAdjustment, s.now))
	got, err := s.l.Customer("cus_0001")
	require.NoError(t, err)
	assert.Equal(t, int64(-200), got.Balance)
	assert.Equal(t, "usd", got.BalanceCurrency, "the balance keeps its currency")
	var amounts []int64
	var kinds []BalanceTransactionType
	require.NoError(t, eachOf(s.l, "cbtxn_", func(bt *BalanceTransaction) error {
		amounts, kinds = append(amounts, bt.Amount), append(kinds, bt.Type)
		return nil
	}))
	assert.Equal(t, []int64{-500, 300}, amounts)
	assert.Equal(t, []BalanceTransactionType{BalanceInitial, BalanceAdjustment}, kinds)
}

func TestPreviewsChangeNothing(t *testing.T) {
	s := newScenario(t, paymentStart)
	s.l.policy.UpcomingNotice = 3 * day
	sub := s.monthly(3, nil)
	s.price("price_pro", "prod_seats", 3000, Month, 1)
	s.advance(paymentStart + 10*day)
	_, err := s.e.CreateInvoiceItem(NewInvoiceItem{Customer: "cus_0001", Amount: 100, Currency: "usd"}, s.now)
	require.NoError(t, err)

	objects, events, tasks := maps.Clone(s.l.objects), len(s.l.events), len(s.l.tasks)
	unchanged := func() {
		t.Helper()
		assert.Equal(t, objects, s.l.objects)
		assert.Len(t, s.l.events, events)
		assert.Len(t, s.l.tasks, tasks)
	}
	renewalPreview, err := s.e.PreviewRenewal(sub.ID)
	require.NoError(t, err)
	unchanged()
	assert.True(t, renewalPreview.Preview)
	assert.Equal(t, int64(3*1200+100), renewalPreview.Total())

	item := sub.Items[0].ID
	change := SubscriptionChange{Items: []ItemSpec{{ID: item, Price: "price_pro", Param: "items[0]"}}}
	next, err := s.e.PreviewUpdate(sub.ID, change, s.now)
	require.NoError(t, err)
	unchanged()
	change.ProrationBehavior = ProrateAlways
	now, err := s.e.PreviewUpdate(sub.ID, change, s.now)
	require.NoError(t, err)
	unchanged()
	assert.Equal(t, ReasonSubscriptionUpdate, now.BillingReason)
	assert.Equal(t, ReasonSubscriptionCycle, next.BillingReason)

	created, err := s.e.PreviewCreate(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_pro"}}}, s.now)
	require.NoError(t, err)
	unchanged()
	assert.Equal(t, int64(3000+100), created.Total(), "a first invoice takes the pending item too")
	assert.Empty(t, created.Subscription)

	// The change made for real, the renewal is what was previewed.
	change.ProrationBehavior = ""
	_, err = s.e.UpdateSubscription(sub.ID, change, s.now)
	require.NoError(t, err)
	s.advance(renewal)
	made := s.l.invoices()[len(s.l.invoices())-1]
	require.Equal(t, ReasonSubscriptionCycle, made.BillingReason)
	assert.Equal(t, lineFigures(next), lineFigures(made))
	assert.Equal(t, next.Total(), made.Total())
	assert.Equal(t, next.Created, made.Created)
	assert.Equal(t, [2]int64{next.PeriodStart, next.PeriodEnd}, [2]int64{made.PeriodStart, made.PeriodEnd})
}

// lineFigures is what each line of inv bills and for how much.
func lineFigures(inv *Invoice) []InvoiceLine {
	out := make([]InvoiceLine, len(inv.Lines))
	for i, l := range inv.Lines {
		l.ID, l.InvoiceItem = "", ""
		out[i] = l
	}
	return out
}

func TestUpcomingNotice(t *testing.T) {
	s := newScenario(t, paymentStart)
	s.l.policy.UpcomingNotice = 3 * day
	sub := s.monthly(2, nil)
	mark := len(s.l.events)
	s.advance(renewal - 3*day - 1)
	assert.NotContains(t, s.eventsSince(mark), EventInvoiceUpcoming)
	s.advance(renewal - 3*day)
	require.Equal(t, []EventType{EventInvoiceUpcoming}, s.eventsSince(mark))
	ev := s.l.events[mark]
	assert.Equal(t, renewal-3*day, ev.Time)
	upcoming := ev.Object.(*Invoice)
	assert.True(t, upcoming.Preview)
	assert.Equal(t, int64(2400), upcoming.Total())
	assert.Equal(t, renewal, upcoming.Created)

	// Each period has its notice; a subscription set to cancel has none.
	mark = len(s.l.events)
	s.advance(renewal + 25*day)
	assert.Contains(t, s.eventsSince(mark), EventInvoiceUpcoming)
	end := true
	_, err := s.e.UpdateSubscription(sub.ID, SubscriptionChange{CancelAtPeriodEnd: &end}, s.now)
	require.NoError(t, err)
	mark = len(s.l.events)
	s.advance(utc("2025-03-01T00:00:00Z") - 1)
	assert.NotContains(t, s.eventsSince(mark), EventInvoiceUpcoming)
}

func assertCode(t *testing.T, err error, code Code) {
	t.Helper()
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, code, be.Code)
}

func ptr[T any](v T) *T { return &v }

// TestAddLinesNamesTheLine: a refusal of a new line's own parameter names
// it within the line (lines[1][quantity]), as its price and discounts are.
func TestAddLinesNamesTheLine(t *testing.T) {
	s := newScenario(t, paymentStart)
	inv, err := s.e.CreateInvoice(NewInvoice{Customer: "cus_0001", DefaultCurrency: "usd"}, s.now)
	require.NoError(t, err)
	for _, tc := range []struct {
		line  NewInvoiceItem
		param string
	}{
		{NewInvoiceItem{Amount: 100, Quantity: qty(2)}, "lines[1][quantity]"},
		{NewInvoiceItem{Amount: MaxAmount + 1}, "lines[1][amount]"},
		{NewInvoiceItem{Amount: 100, TaxRates: []string{"txr_nope"}}, "lines[1][tax_rates][0]"},
		{NewInvoiceItem{Amount: 100, Discounts: []DiscountSpec{{Coupon: "NOPE", Param: "lines[1][discounts][0]"}}},
			"lines[1][discounts][0][coupon]"},
	} {
		err := s.e.AddLines(s.invoice(inv.ID), []NewLine{{Item: NewInvoiceItem{Amount: 5}, Param: "lines[0]"},
			{Item: tc.line, Param: "lines[1]"}}, nil, s.now)
		be, ok := err.(*Error)
		require.True(t, ok, "%v", err)
		assert.Equal(t, tc.param, be.Param)
	}
}
