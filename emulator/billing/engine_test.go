package billing

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestProrate(t *testing.T) {
	cases := []struct {
		name                         string
		amount, start, end, at, want int64
	}{
		// Stripe's worked example: a 1000 price replaced by a 3252 one.
		{"docs credit", 1000, 1596749288, 1599427688, 1598982148, 166}, // 166.35
		{"docs debit", 3252, 1596749288, 1599427688, 1598982148, 541},  // 540.96
		{"half rounds up", 1, 0, 2, 1, 1},                              // 0.5
		{"negative half rounds away", -1, 0, 2, 1, -1},                 // -0.5
		{"just under half", 49, 0, 100, 0, 49},                         // whole period
		{"at start is whole", 3000, 100, 200, 100, 3000},               // nothing used
		{"at end is nothing", 3000, 100, 200, 200, 0},                  // nothing left
		{"big amounts exact", 99999999, 0, 2678400, 1339200, 50000000}, // 49999999.5
		{"thirds", 1000, 0, 3, 1, 667},                                 // 666.67
		{"empty period", 1000, 5, 5, 5, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Prorate(tc.amount, tc.start, tc.end, tc.at)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// scenario drives the engine over a memLedger on one clock.
type scenario struct {
	t     *testing.T
	l     *memLedger
	e     *Engine
	clock string
	now   int64
	// step, if not zero, advances in steps of at most this many seconds.
	step int64
}

func newScenario(t *testing.T, start int64) *scenario {
	l := newMemLedger()
	s := &scenario{t: t, l: l, e: &Engine{L: l}, clock: "clock_1", now: start}
	l.policy = testPolicy()
	// The customer pays with a card that always succeeds.
	require.NoError(t, l.PutPaymentMethod(&PaymentMethod{ID: "pm_visa", Created: start, Customer: "cus_0001", Clock: s.clock,
		Type: "card", Card: Card{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034, Funding: "credit"}}))
	require.NoError(t, l.PutCustomer(&Customer{ID: "cus_0001", Created: start, Clock: s.clock, InvoicePrefix: "TESTPFX",
		DefaultPaymentMethod: "pm_visa"}))
	return s
}

func (s *scenario) product(id, name string) {
	require.NoError(s.t, s.l.put(id, &Product{ID: id, Name: name, Active: true}))
}

func (s *scenario) price(id, product string, amount int64, unit IntervalUnit, count int) {
	require.NoError(s.t, s.l.put(id, &Price{ID: id, Product: product, Currency: "usd", UnitAmount: amount,
		Recurring: &Interval{Unit: unit, Count: count}, Active: true}))
}

func (s *scenario) advance(to int64) {
	s.t.Helper()
	require.Greater(s.t, to, s.now)
	for s.now < to {
		next := to
		if s.step > 0 && s.now+s.step < to {
			next = s.now + s.step
		}
		done, err := s.e.Run(s.clock, next, 0)
		require.NoError(s.t, err)
		require.True(s.t, done)
		s.now = next
	}
}

func qty(n int64) *int64 { return &n }

// goldenView is what a scenario's golden file records.
type goldenView struct {
	Invoices []goldenInvoice `json:"invoices"`
	Events   []string        `json:"events"`
}

type goldenInvoice struct {
	ID              string        `json:"id"`
	Reason          BillingReason `json:"billing_reason"`
	Status          InvoiceStatus `json:"status"`
	Number          string        `json:"number,omitempty"`
	Created         string        `json:"created"`
	FinalizesAt     string        `json:"automatically_finalizes_at,omitempty"`
	PaidAt          string        `json:"paid_at,omitempty"`
	Total           int64         `json:"total"`
	AmountDue       int64         `json:"amount_due"`
	AmountPaid      int64         `json:"amount_paid"`
	StartingBalance int64         `json:"starting_balance,omitempty"`
	EndingBalance   int64         `json:"ending_balance,omitempty"`
	AttemptCount    int           `json:"attempt_count,omitempty"`
	NextAttempt     string        `json:"next_payment_attempt,omitempty"`
	Lines           []goldenLine  `json:"lines"`
}

// goldenLine records what a line bills, not how a surface words it.
type goldenLine struct {
	Kind        LineKind `json:"kind,omitempty"`
	Quantity    int64    `json:"quantity"`
	Product     string   `json:"product,omitempty"`
	UnitAmount  int64    `json:"unit_amount,omitempty"`
	Interval    string   `json:"interval,omitempty"`
	Description string   `json:"description,omitempty"`
	Amount      int64    `json:"amount"`
	Period      string   `json:"period"`
	Proration   bool     `json:"proration,omitempty"`
}

func formatUTC(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02 15:04:05 UTC") }

func ts(t int64) string {
	if t == 0 {
		return ""
	}
	return fmt.Sprintf("%d (%s)", t, formatUTC(t))
}

func (s *scenario) view() goldenView {
	var v goldenView
	for _, inv := range s.l.invoices() {
		g := goldenInvoice{ID: inv.ID, Reason: inv.BillingReason, Status: inv.Status, Number: inv.Number,
			Created: ts(inv.Created), FinalizesAt: ts(inv.AutomaticallyFinalizesAt), PaidAt: ts(inv.PaidAt),
			Total: inv.Total(), AmountDue: inv.AmountDue(), AmountPaid: inv.AmountPaid,
			StartingBalance: inv.StartingBalance, EndingBalance: inv.EndingBalance,
			AttemptCount: inv.AttemptCount, NextAttempt: ts(inv.NextPaymentAttempt)}
		for _, l := range inv.Lines {
			gl := goldenLine{Kind: l.Kind, Quantity: l.Quantity, Product: l.ProductName, UnitAmount: l.UnitAmount,
				Description: l.Description, Amount: l.Amount, Proration: l.Proration,
				Period: fmt.Sprintf("%s – %s", formatUTC(l.PeriodStart), formatUTC(l.PeriodEnd))}
			if l.Interval != nil {
				gl.Interval = fmt.Sprintf("%d %s", l.Interval.Count, l.Interval.Unit)
			}
			g.Lines = append(g.Lines, gl)
		}
		v.Invoices = append(v.Invoices, g)
	}
	for _, ev := range s.l.events {
		subject := ""
		switch o := ev.Object.(type) {
		case *Subscription:
			subject = fmt.Sprintf("%s %s", o.ID, o.Status)
			if b, ok := ev.Before.(*Subscription); ok && b.Status != o.Status {
				subject += fmt.Sprintf(" (was %s)", b.Status)
			}
		case *Invoice:
			subject = fmt.Sprintf("%s %s %d", o.ID, o.Status, o.Total())
		case *InvoiceItem:
			subject = fmt.Sprintf("%s %d", o.ID, o.Amount)
		case *Payment:
			subject = fmt.Sprintf("%s %s %d", o.ID, o.Status, o.Amount)
			if o.PaymentMethod != "" {
				subject += " " + o.PaymentMethod
			}
		case *Charge:
			subject = fmt.Sprintf("%s %s %s", o.ID, o.Status, o.PaymentMethod)
			if o.Failure != "" {
				subject += " " + string(o.Failure)
			}
		case *InvoicePayment:
			subject = fmt.Sprintf("%s %s %d", o.ID, o.Status, o.AmountPaid)
		case *BalanceTransaction:
			subject = fmt.Sprintf("%s %s %d → %d", o.ID, o.Type, o.Amount, o.EndingBalance)
		case *Customer:
			subject = fmt.Sprintf("%s balance %d", o.ID, o.Balance)
		}
		v.Events = append(v.Events, fmt.Sprintf("%s %s %s", formatUTC(ev.Time), ev.Type, subject))
	}
	return v
}

func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("..", "..", "testdata", "engine", name+".golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./emulator/billing -update to create golden files")
	assert.Equal(t, string(want), string(got))
}

// scenarios are whole stories, each a function of the scenario so that
// they can be replayed with different advance step sizes.
var scenarios = map[string]func(s *scenario){
	// Stripe's documented proration example must total 3627.
	"stripe_docs_upgrade": func(s *scenario) {
		s.product("prod_basic", "Basic")
		s.product("prod_pro", "Pro")
		s.price("price_1000", "prod_basic", 1000, Month, 1)
		s.price("price_3252", "prod_pro", 3252, Month, 1)
		sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_1000"}}}, s.now)
		require.NoError(s.t, err)
		s.advance(1598982148)
		_, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{Items: []ItemSpec{{ID: sub.Items[0].ID, Price: "price_3252"}}}, s.now)
		require.NoError(s.t, err)
		s.advance(1599427688 + FinalizeDelay)
	},
	// Seats on a subscription anchored on the 31st: up mid-period, down in
	// the next, over three periods.
	"seats_month_end": func(s *scenario) {
		s.product("prod_seats", "Seats")
		s.price("price_seat", "prod_seats", 1500, Month, 1)
		sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001",
			Items: []ItemSpec{{Price: "price_seat", Quantity: qty(3)}}}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 10*86400)
		_, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{Items: []ItemSpec{{ID: sub.Items[0].ID, Quantity: qty(5)}}}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 30*86400)
		_, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{Items: []ItemSpec{{ID: sub.Items[0].ID, Quantity: qty(2)}}}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 60*86400)
	},
	"trial_to_paid": func(s *scenario) {
		s.product("prod_pro", "Pro")
		s.price("price_pro", "prod_pro", 2000, Month, 1)
		_, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_pro"}},
			TrialEnd: s.now + 14*86400}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 14*86400 + 2*3600)
	},
	"cancel_at_period_end": func(s *scenario) {
		s.product("prod_pro", "Pro")
		s.price("price_pro", "prod_pro", 2000, Week, 2)
		sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_pro"}}}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 20*86400)
		yes := true
		_, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{CancelAtPeriodEnd: &yes}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 30*86400)
	},
	"always_invoice_and_new_item": func(s *scenario) {
		s.product("prod_seats", "Seats")
		s.product("prod_addon", "Addon")
		s.price("price_seat", "prod_seats", 1000, Year, 1)
		s.price("price_addon", "prod_addon", 12000, Year, 1)
		sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001",
			Items: []ItemSpec{{Price: "price_seat", Quantity: qty(10)}}}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 100*86400)
		_, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{ProrationBehavior: ProrateAlways,
			Items: []ItemSpec{{ID: sub.Items[0].ID, Quantity: qty(12)}, {Price: "price_addon", Param: "items[1]"}}}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 200*86400)
		_, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{ProrationBehavior: ProrateNone,
			Items: []ItemSpec{{ID: sub.Items[0].ID, Quantity: qty(1)}}}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 100*86400)
	},
	"anchor_and_cancel_at": func(s *scenario) {
		s.product("prod_pro", "Pro")
		s.price("price_pro", "prod_pro", 3100, Month, 1)
		_, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_pro"}},
			BillingCycleAnchor: s.now + 10*86400, CancelAt: s.now + 75*86400}, s.now)
		require.NoError(s.t, err)
		s.advance(s.now + 100*86400)
	},
}

var scenarioStarts = map[string]int64{
	"stripe_docs_upgrade":         1596749288,
	"seats_month_end":             1706698800, // 2024-01-31 11:00:00 UTC
	"trial_to_paid":               1732320000, // 2024-11-23
	"cancel_at_period_end":        1732320000,
	"always_invoice_and_new_item": 1709251200, // 2024-03-01
	"anchor_and_cancel_at":        1735689600, // 2025-01-01
}

// allScenarios are the scenarios above and the payment ones
// (dunning_test.go), with their start times.
func allScenarios() map[string]func(s *scenario) {
	all := map[string]func(s *scenario){}
	for name, run := range scenarios {
		all[name] = run
	}
	for name, run := range paymentScenarios {
		all[name] = run
	}
	return all
}

func scenarioStart(name string) int64 {
	if t, ok := scenarioStarts[name]; ok {
		return t
	}
	return paymentStart
}

func TestScenarios(t *testing.T) {
	for name, run := range allScenarios() {
		t.Run(name, func(t *testing.T) {
			s := newScenario(t, scenarioStart(name))
			run(s)
			checkGolden(t, name, s.view())
		})
	}
}

func TestStripeDocsExampleTotals3627(t *testing.T) {
	s := newScenario(t, scenarioStarts["stripe_docs_upgrade"])
	scenarios["stripe_docs_upgrade"](s)
	invs := s.l.invoices()
	require.Len(t, invs, 2)
	renewal := invs[1]
	assert.Equal(t, ReasonSubscriptionCycle, renewal.BillingReason)
	assert.EqualValues(t, 3627, renewal.Total())
	assert.Equal(t, InvoicePaid, renewal.Status)
	var amounts []int64
	for _, l := range renewal.Lines {
		amounts = append(amounts, l.Amount)
	}
	assert.ElementsMatch(t, []int64{-166, 541, 3252}, amounts)
}

// Advancing in one step or in many small ones must give the same
// invoices and events.
func TestAdvanceStepSizeDoesNotMatter(t *testing.T) {
	for name, run := range allScenarios() {
		t.Run(name, func(t *testing.T) {
			whole := newScenario(t, scenarioStart(name))
			run(whole)
			for _, step := range []int64{3600, 86400 - 1, 7 * 86400} {
				steps := newScenario(t, scenarioStart(name))
				steps.step = step
				run(steps)
				assert.Equal(t, whole.view(), steps.view(), "step %d", step)
			}
		})
	}
}

func TestAdvanceLimitFollowsShortestSubscription(t *testing.T) {
	s := newScenario(t, utc("2024-11-23T00:00:00Z"))
	s.product("prod", "P")
	s.price("price_y", "prod", 100, Year, 1)
	s.price("price_m", "prod", 100, Month, 1)
	limit, err := s.e.ClockAdvanceLimit(s.clock, s.now)
	require.NoError(t, err)
	assert.Equal(t, utc("2026-11-23T00:00:00Z"), limit)
	_, err = s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_y"}}}, s.now)
	require.NoError(t, err)
	_, err = s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_m"}}}, s.now)
	require.NoError(t, err)
	limit, err = s.e.ClockAdvanceLimit(s.clock, s.now)
	require.NoError(t, err)
	assert.Equal(t, utc("2025-01-23T00:00:00Z"), limit)
}

func TestDeleteClockObjects(t *testing.T) {
	s := newScenario(t, utc("2024-11-23T00:00:00Z"))
	s.product("prod", "P")
	s.price("price_m", "prod", 100, Month, 1)
	sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_m"}}}, s.now)
	require.NoError(t, err)
	require.NoError(t, s.e.DeleteClockObjects(s.clock, s.now+10))
	got, err := s.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusCanceled, got.Status)
	_, err = s.l.Customer("cus_0001")
	assert.Error(t, err)
	s.advance(s.now + 60*86400)
	assert.Len(t, s.l.invoices(), 1, "no renewal after the clock's objects are gone")
}

// TestEngineRefusals: each refusal of a subscription request carries its
// code, the parameter at fault and the values a surface words it with.
func TestEngineRefusals(t *testing.T) {
	s := newScenario(t, utc("2024-11-23T00:00:00Z"))
	s.product("prod", "P")
	s.price("price_m", "prod", 100, Month, 1)
	s.price("price_y", "prod", 100, Year, 1)
	require.NoError(t, s.l.put("price_once", &Price{ID: "price_once", Product: "prod", Currency: "usd", UnitAmount: 5}))
	require.NoError(t, s.l.put("price_eur", &Price{ID: "price_eur", Product: "prod", Currency: "eur", UnitAmount: 5,
		Recurring: &Interval{Unit: Month, Count: 1}}))
	create := func(in NewSubscription) error {
		in.Customer = "cus_0001"
		_, err := s.e.CreateSubscription(in, s.now)
		return err
	}
	items := func(specs ...ItemSpec) []ItemSpec { return specs }
	assert.Equal(t, &Error{Kind: Invalid, Code: CodePriceNotRecurring, Param: "items[0][price]", Resource: "price", ID: "price_once"},
		create(NewSubscription{Items: items(ItemSpec{Price: "price_once"})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeCurrencyMismatch, Param: "items[1][price]", Resource: "price", ID: "price_eur",
		Value: "eur", Want: "usd"},
		create(NewSubscription{Items: items(ItemSpec{Price: "price_m"}, ItemSpec{Price: "price_eur"})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeIntervalMismatch, Param: "items[1][price]", Resource: "price", ID: "price_y",
		Interval: Interval{Unit: Year, Count: 1}, WantInterval: Interval{Unit: Month, Count: 1}},
		create(NewSubscription{Items: items(ItemSpec{Price: "price_m"}, ItemSpec{Price: "price_y"})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeMissingParam, Param: "items"}, create(NewSubscription{}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeMissingParam, Param: "items[0][price]"},
		create(NewSubscription{Items: items(ItemSpec{Quantity: qty(2)})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeNegativeQuantity, Param: "items[0][quantity]"},
		create(NewSubscription{Items: items(ItemSpec{Price: "price_m", Quantity: qty(-1)})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeAnchorAfterNaturalDate, Param: "billing_cycle_anchor",
		Max: utc("2024-12-23T00:00:00Z")},
		create(NewSubscription{Items: items(ItemSpec{Price: "price_m"}), BillingCycleAnchor: utc("2024-12-23T00:00:01Z")}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeCancelAtNotFuture, Param: "cancel_at"},
		create(NewSubscription{Items: items(ItemSpec{Price: "price_m"}), CancelAt: s.now}))
	var be *Error
	_, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_nope", Items: items(ItemSpec{Price: "price_m"})}, s.now)
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, "customer", be.Param)
	assert.Equal(t, "customer", be.Resource)
	assert.Equal(t, "cus_nope", be.ID)

	sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: items(ItemSpec{Price: "price_m"})}, s.now)
	require.NoError(t, err)
	update := func(ch SubscriptionChange) error {
		_, err := s.e.UpdateSubscription(sub.ID, ch, s.now)
		return err
	}
	item := sub.Items[0].ID
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeIntervalMismatch, Param: "items[0][price]", Resource: "price", ID: "price_y",
		Interval: Interval{Unit: Year, Count: 1}, WantInterval: Interval{Unit: Month, Count: 1}},
		update(SubscriptionChange{Items: items(ItemSpec{Price: "price_y", Param: "items[0]"})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeProrationDateOutsidePeriod, Param: "proration_date",
		Resource: "subscription", ID: sub.ID, Min: sub.PeriodStart, Max: sub.PeriodEnd},
		update(SubscriptionChange{ProrationDate: s.now - 1}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeLastItem, Param: "items[0]", Resource: "subscription", ID: sub.ID},
		update(SubscriptionChange{Items: items(ItemSpec{ID: item, Deleted: true, Param: "items[0]"})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeMissingParam, Param: "items[1][price]"},
		update(SubscriptionChange{Items: items(ItemSpec{Param: "items[1]"})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeNegativeQuantity, Param: "items[0][quantity]"},
		update(SubscriptionChange{Items: items(ItemSpec{ID: item, Quantity: qty(-1), Param: "items[0]"})}))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeCancelAtNotFuture, Param: "cancel_at"},
		update(SubscriptionChange{CancelAt: &s.now}))
	later := s.now + 86400
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeTrialNotMovable, Param: "trial_end", Resource: "subscription", ID: sub.ID,
		Status: "active"},
		update(SubscriptionChange{TrialEnd: &later}))
	require.ErrorAs(t, update(SubscriptionChange{Items: items(ItemSpec{ID: "si_nope", Param: "items[0]"})}), &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, "si_nope", be.ID)

	_, err = s.e.CancelSubscription(sub.ID, false, false, s.now)
	require.NoError(t, err)
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeSubscriptionCanceled, Resource: "subscription", ID: sub.ID},
		update(SubscriptionChange{Metadata: map[string]string{"a": "b"}}))
	_, err = s.e.CancelSubscription(sub.ID, false, false, s.now)
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, sub.ID, be.ID)
}

// TestInvoiceRefusals: paying, voiding or finalizing an invoice in the
// wrong status is refused with the invoice and its status.
func TestInvoiceRefusals(t *testing.T) {
	s := newScenario(t, utc("2024-11-23T00:00:00Z"))
	s.product("prod", "P")
	s.price("price_m", "prod", 100, Month, 1)
	_, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_m"}}}, s.now)
	require.NoError(t, err)
	s.advance(utc("2024-12-23T00:00:00Z"))
	invs := s.l.invoices()
	require.Len(t, invs, 2)
	paid, draft := invs[0], invs[1]
	require.Equal(t, InvoicePaid, paid.Status)
	require.Equal(t, InvoiceDraft, draft.Status)
	refusal := func(code Code, inv *Invoice) *Error {
		return &Error{Kind: Invalid, Code: code, Resource: "invoice", ID: inv.ID}
	}
	assert.Equal(t, refusal(CodeInvoicePaid, paid), s.e.Pay(paid, PayOptions{}, s.now))
	assert.Equal(t, refusal(CodeInvoiceDraft, draft), s.e.Pay(draft, PayOptions{}, s.now))
	assert.Equal(t, refusal(CodeInvoiceNotDraft, paid), s.e.Finalize(paid, s.now))
	notVoidable := refusal(CodeInvoiceNotVoidable, draft)
	notVoidable.Status = "draft"
	assert.Equal(t, notVoidable, s.e.Void(draft, s.now))
	require.NoError(t, s.e.Finalize(draft, s.now))
	require.NoError(t, s.e.Void(draft, s.now))
	assert.Equal(t, refusal(CodeInvoiceVoid, draft), s.e.Pay(draft, PayOptions{}, s.now))
}

// A customer deleted while a renewal is still a draft leaves the draft
// alone: the advance goes on instead of failing.
func TestDraftOfDeletedCustomerIsLeftAlone(t *testing.T) {
	s := newScenario(t, utc("2025-01-01T00:00:00Z"))
	s.product("prod", "P")
	s.price("price_m", "prod", 100, Month, 1)
	sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_m"}}}, s.now)
	require.NoError(t, err)
	s.advance(utc("2025-02-01T00:00:00Z"))
	_, err = s.e.CancelSubscription(sub.ID, false, false, s.now)
	require.NoError(t, err)
	require.NoError(t, s.l.DeleteCustomer("cus_0001"))
	s.advance(utc("2025-02-01T02:00:00Z"))
	invs := s.l.invoices()
	require.Len(t, invs, 2)
	assert.Equal(t, InvoiceDraft, invs[1].Status)
}

// TestSubscriptionIDGiven: a subscription may be given its id (Chargebee
// takes one from the request); without one it gets a fresh one.
func TestSubscriptionIDGiven(t *testing.T) {
	s := newScenario(t, 1704067200)
	s.product("prod_seats", "Seats")
	s.price("price_seat", "prod_seats", 1000, Month, 1)
	named, err := s.e.CreateSubscription(NewSubscription{ID: "my-sub", Customer: "cus_0001", Items: []ItemSpec{{Price: "price_seat"}}}, s.now)
	require.NoError(t, err)
	assert.Equal(t, "my-sub", named.ID)
	stored, err := s.l.Subscription("my-sub")
	require.NoError(t, err)
	assert.Equal(t, "my-sub", s.l.invoices()[0].Subscription)
	assert.Equal(t, StatusActive, stored.Status)
	fresh, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_seat"}}}, s.now)
	require.NoError(t, err)
	assert.NotEqual(t, "my-sub", fresh.ID)
	assert.NotEmpty(t, fresh.ID)
}
