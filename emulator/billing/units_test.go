package billing

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seatPlan is a plan with a base price and a seats feature: Included seats
// free, each extra one at Seat per period.
type seatPlan struct {
	Unit     IntervalUnit
	Count    int
	Base     int64
	Seat     int64
	Included int64
}

// docsPlan is the docs' Plan Pro: $99 a month, 5 seats included, $25 per
// extra seat.
var docsPlan = seatPlan{Unit: Month, Count: 1, Base: 9900, Seat: 2500, Included: 5}

// subscribeSeats subscribes the customer to p holding seats, edited by
// edit.
func (s *scenario) subscribeSeats(p seatPlan, seats int64, edit func(*NewSubscription)) *Subscription {
	s.t.Helper()
	s.product("prod_plan", "Plan")
	s.product("prod_seats", "Seats")
	s.price("price_base", "prod_plan", p.Base, p.Unit, p.Count)
	s.price("price_seat", "prod_seats", p.Seat, p.Unit, p.Count)
	in := NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_base"},
		{Price: "price_seat", Quantity: &seats, Units: &UnitTerms{Feature: "seats", Included: p.Included}}}}
	if edit != nil {
		edit(&in)
	}
	sub, err := s.e.CreateSubscription(in, s.now)
	require.NoError(s.t, err)
	return sub
}

// seats applies one change to the seats of sub.
func (s *scenario) seats(sub *Subscription, op UnitOp, n int64) UnitChange {
	s.t.Helper()
	chs, err := s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "seats", Op: op, Count: n}}, s.now)
	require.NoError(s.t, err)
	require.Len(s.t, chs, 1)
	return chs[0]
}

// unitsView is what a unit scenario's golden file records: each invoice's
// lines with what they charge, and the events.
type unitsView struct {
	Invoices []unitsInvoice `json:"invoices"`
	Events   []string       `json:"events"`
}

type unitsInvoice struct {
	ID         string        `json:"id"`
	Reason     BillingReason `json:"billing_reason"`
	Status     InvoiceStatus `json:"status"`
	Created    string        `json:"created"`
	Total      int64         `json:"total"`
	AmountPaid int64         `json:"amount_paid"`
	Lines      []unitsLine   `json:"lines"`
}

type unitsLine struct {
	// Charge is "base" for an ordinary item's line.
	Charge     string `json:"charge"`
	Feature    string `json:"feature,omitempty"`
	Quantity   int64  `json:"quantity"`
	UnitAmount int64  `json:"unit_amount,omitempty"`
	Included   int64  `json:"included,omitempty"`
	Days       string `json:"days,omitempty"`
	Amount     int64  `json:"amount"`
	Period     string `json:"period"`
}

func (s *scenario) unitsView() unitsView {
	var v unitsView
	for _, inv := range s.l.invoices() {
		g := unitsInvoice{ID: inv.ID, Reason: inv.BillingReason, Status: inv.Status, Created: ts(inv.Created),
			Total: inv.Total(), AmountPaid: inv.AmountPaid}
		for _, l := range inv.Lines {
			gl := unitsLine{Charge: "base", Quantity: l.Quantity, Amount: l.Amount,
				Period: fmt.Sprintf("%s – %s", formatUTC(l.PeriodStart), formatUTC(l.PeriodEnd))}
			if u := l.Units; u != nil {
				gl.Charge, gl.Feature, gl.UnitAmount, gl.Included = string(u.Charge), u.Feature, u.UnitAmount, u.Included
				gl.Days = fmt.Sprintf("%d/%d", u.Days, u.PeriodDays)
			}
			g.Lines = append(g.Lines, gl)
		}
		v.Invoices = append(v.Invoices, g)
	}
	// The events as the other scenarios show them, with unit changes.
	v.Events = s.view().Events
	for i, ev := range s.l.events {
		if c, ok := ev.Object.(*UnitChange); ok {
			v.Events[i] = fmt.Sprintf("%s %s %s %s %s %d: %d → %d", formatUTC(ev.Time), ev.Type, c.Subscription,
				c.Feature, c.Op, c.Count, c.Previous, c.New)
		}
	}
	return v
}

// unitScenarios are stories of subscriptions billing seats; each starts at
// unitStarts[name].
var unitScenarios = map[string]func(s *scenario){
	// The docs' recurring invoice: 6 seats (one extra, paid in advance),
	// a 7th added halfway through a 30-day period. The renewal bills base
	// $99 + advance 2 × $25 + true-up 1 × $25 × 15/30 = $161.50.
	"units_docs_example": func(s *scenario) {
		sub := s.subscribeSeats(docsPlan, 6, nil)
		s.advance(utc("2025-04-16T00:00:00Z"))
		s.seats(sub, UnitsAdd, 1)
		s.advance(utc("2025-05-01T00:00:00Z") + FinalizeDelay)
	},
	// Removals take effect at the period's end: no refund, and seats
	// added back within the period cost nothing; the next advance counts
	// only the seats still held. Added again in the next period, they are
	// trued up.
	"units_removal_at_period_end": func(s *scenario) {
		sub := s.subscribeSeats(docsPlan, 8, nil)
		s.advance(utc("2025-04-11T00:00:00Z"))
		s.seats(sub, UnitsRemove, 4) // 8 → 4
		s.advance(utc("2025-04-21T00:00:00Z"))
		s.seats(sub, UnitsAdd, 2) // 4 → 6: within the 3 extra paid for
		s.advance(utc("2025-05-11T00:00:00Z"))
		s.seats(sub, UnitsSet, 9) // 6 → 9: 3 extra beyond the 1 paid for
		s.seats(sub, UnitsSet, 5)
		s.advance(utc("2025-06-01T00:00:00Z") + FinalizeDelay)
	},
	// Seats in a trial are free; the trial's end bills the advance for
	// the seats then held and no true-up.
	"units_trial": func(s *scenario) {
		sub := s.subscribeSeats(docsPlan, 6, func(in *NewSubscription) { in.TrialEnd = s.now + 14*day })
		s.advance(s.now + 3*day)
		s.seats(sub, UnitsAdd, 2)
		s.advance(utc("2025-04-15T00:00:00Z") + 10*day)
		s.seats(sub, UnitsAdd, 1)
		s.advance(utc("2025-05-15T00:00:00Z") + FinalizeDelay)
	},
	// Weekly plans bill seats weekly: a seat added at noon on the fourth
	// day is held four of the week's seven days.
	"units_weekly": func(s *scenario) {
		sub := s.subscribeSeats(seatPlan{Unit: Week, Count: 1, Base: 1000, Seat: 300, Included: 2}, 3, nil)
		s.advance(s.now + 3*day + 12*3600)
		s.seats(sub, UnitsAdd, 1)
		s.advance(s.now + 15*day)
	},
	// A calendar month: February 2025 has 28 days, so a seat added on the
	// 15th is held 14 of them.
	"units_monthly_february": func(s *scenario) {
		sub := s.subscribeSeats(docsPlan, 5, nil)
		s.advance(utc("2025-02-15T00:00:00Z"))
		s.seats(sub, UnitsAdd, 1)
		s.advance(utc("2025-03-01T00:00:00Z") + FinalizeDelay)
	},
	// Quarterly plans charge extra seats only at renewal: nothing between
	// January 1 and April 1 (90 days); a seat added February 15 is held
	// 45 of them.
	"units_quarterly": func(s *scenario) {
		sub := s.subscribeSeats(seatPlan{Unit: Month, Count: 3, Base: 30000, Seat: 7500, Included: 5}, 5, nil)
		s.advance(utc("2026-02-15T00:00:00Z"))
		s.seats(sub, UnitsAdd, 1)
		s.advance(utc("2026-04-01T00:00:00Z") + FinalizeDelay)
	},
	// Yearly: two seats added July 2, held 183 of the year's 365 days.
	"units_yearly": func(s *scenario) {
		sub := s.subscribeSeats(seatPlan{Unit: Year, Count: 1, Base: 99000, Seat: 25000, Included: 5}, 4, nil)
		s.advance(utc("2025-07-02T00:00:00Z"))
		s.seats(sub, UnitsAdd, 3)
		s.advance(utc("2026-01-01T00:00:00Z") + FinalizeDelay)
	},
}

var unitStarts = map[string]int64{
	"units_docs_example":          utc("2025-04-01T00:00:00Z"), // April: 30 days
	"units_removal_at_period_end": utc("2025-04-01T00:00:00Z"),
	"units_trial":                 utc("2025-04-01T00:00:00Z"),
	"units_weekly":                utc("2025-04-07T00:00:00Z"),
	"units_monthly_february":      utc("2025-02-01T00:00:00Z"),
	"units_quarterly":             utc("2026-01-01T00:00:00Z"),
	"units_yearly":                utc("2025-01-01T00:00:00Z"),
}

func TestUnitScenarios(t *testing.T) {
	for name, run := range unitScenarios {
		t.Run(name, func(t *testing.T) {
			s := newScenario(t, unitStarts[name])
			run(s)
			checkGolden(t, name, s.unitsView())
		})
	}
}

// Advancing in one step or in many small ones gives the same invoices and
// events.
func TestUnitScenariosStepSize(t *testing.T) {
	for name, run := range unitScenarios {
		t.Run(name, func(t *testing.T) {
			whole := newScenario(t, unitStarts[name])
			run(whole)
			for _, step := range []int64{3600, day - 1, 7 * day} {
				steps := newScenario(t, unitStarts[name])
				steps.step = step
				run(steps)
				assert.Equal(t, whole.unitsView(), steps.unitsView(), "step %d", step)
			}
		})
	}
}

// lineSummary is a line as the docs write it.
type lineSummary struct {
	Charge   string
	Quantity int64
	Days     string
	Amount   int64
}

func summarize(inv *Invoice) []lineSummary {
	var out []lineSummary
	for _, l := range inv.Lines {
		ls := lineSummary{Charge: "base", Quantity: l.Quantity, Amount: l.Amount}
		if l.Units != nil {
			ls.Charge, ls.Days = string(l.Units.Charge), fmt.Sprintf("%d/%d", l.Units.Days, l.Units.PeriodDays)
		}
		out = append(out, ls)
	}
	return out
}

func TestUnitsDocsExampleTotals16150(t *testing.T) {
	s := newScenario(t, unitStarts["units_docs_example"])
	unitScenarios["units_docs_example"](s)
	invs := s.l.invoices()
	require.Len(t, invs, 2)
	first, renewal := invs[0], invs[1]
	assert.Equal(t, []lineSummary{{"base", 1, "", 9900}, {"advance", 1, "30/30", 2500}}, summarize(first))
	assert.EqualValues(t, 12400, first.Total())
	assert.Equal(t, ReasonSubscriptionCycle, renewal.BillingReason)
	assert.Equal(t, []lineSummary{{"base", 1, "", 9900}, {"advance", 2, "31/31", 5000}, {"true_up", 1, "15/30", 1250}},
		summarize(renewal))
	assert.EqualValues(t, 16150, renewal.Total())
	assert.Equal(t, InvoicePaid, renewal.Status)
	assert.EqualValues(t, 16150, renewal.AmountPaid)
}

func TestUnitIntervalsTrueUp(t *testing.T) {
	cases := []struct {
		scenario string
		want     lineSummary
	}{
		{"units_weekly", lineSummary{"true_up", 1, "4/7", 171}},              // 300 × 4/7 = 171.43
		{"units_monthly_february", lineSummary{"true_up", 1, "14/28", 1250}}, // 2500 × 14/28
		{"units_quarterly", lineSummary{"true_up", 1, "45/90", 3750}},        // 7500 × 45/90
		{"units_yearly", lineSummary{"true_up", 2, "183/365", 25068}},        // 2 × 25000 × 183/365 = 25068.49
	}
	for _, tc := range cases {
		t.Run(tc.scenario, func(t *testing.T) {
			s := newScenario(t, unitStarts[tc.scenario])
			unitScenarios[tc.scenario](s)
			invs := s.l.invoices()
			// Only the first invoice and renewals: extra seats are never
			// invoiced between renewals.
			for _, inv := range invs[1:] {
				require.Equal(t, ReasonSubscriptionCycle, inv.BillingReason, inv.ID)
			}
			var trueUps []lineSummary
			for _, l := range summarize(invs[1]) {
				if l.Charge == "true_up" {
					trueUps = append(trueUps, l)
				}
			}
			assert.Equal(t, []lineSummary{tc.want}, trueUps)
		})
	}
}

// twoFeatures subscribes the customer to the docs' plan with editors (5
// included, at 2500) and viewers (10 included, at 500).
func (s *scenario) twoFeatures(editors, viewers int64) *Subscription {
	s.t.Helper()
	s.product("prod_plan", "Plan")
	s.product("prod_editors", "Editors")
	s.product("prod_viewers", "Viewers")
	s.price("price_base", "prod_plan", 9900, Month, 1)
	s.price("price_editor", "prod_editors", 2500, Month, 1)
	s.price("price_viewer", "prod_viewers", 500, Month, 1)
	sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_base"},
		{Price: "price_editor", Quantity: &editors, Units: &UnitTerms{Feature: "editors", Included: 5}},
		{Price: "price_viewer", Quantity: &viewers, Units: &UnitTerms{Feature: "viewers", Included: 10}}}}, s.now)
	require.NoError(s.t, err)
	return sub
}

// held is what sub holds of each feature, as stored.
func (s *scenario) held(sub *Subscription) map[string]int64 {
	s.t.Helper()
	got, err := s.l.Subscription(sub.ID)
	require.NoError(s.t, err)
	out := map[string]int64{}
	for _, it := range got.Items {
		if it.Units != nil {
			out[it.Units.Feature] = it.Quantity
		}
	}
	return out
}

func unitEvents(s *scenario) []UnitChange {
	var out []UnitChange
	for _, ev := range s.l.events {
		if c, ok := ev.Object.(*UnitChange); ok {
			out = append(out, *c)
		}
	}
	return out
}

func TestChangeUnitsAddRemoveSet(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.twoFeatures(3, 0)
	s.now += day
	chs, err := s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "editors", Op: UnitsAdd, Count: 4}}, s.now)
	require.NoError(t, err)
	assert.Equal(t, []UnitChange{{ID: "unitchg_0001", Subscription: sub.ID, Customer: "cus_0001", Feature: "editors",
		Op: UnitsAdd, Count: 4, Previous: 3, New: 7, At: s.now}}, chs)
	chs, err = s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "editors", Op: UnitsRemove, Count: 2}}, s.now)
	require.NoError(t, err)
	assert.EqualValues(t, 5, chs[0].New)
	// Set is absolute, up or down, and to the same count is still a
	// change (a seat event) that bills nothing.
	for _, n := range []int64{12, 0, 0} {
		chs, err = s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "editors", Op: UnitsSet, Count: n}}, s.now)
		require.NoError(t, err)
		assert.Equal(t, n, chs[0].New)
	}
	assert.Equal(t, map[string]int64{"editors": 0, "viewers": 0}, s.held(sub))
	var trail []string
	for _, c := range unitEvents(s) {
		trail = append(trail, fmt.Sprintf("%s %d: %d→%d", c.Op, c.Count, c.Previous, c.New))
	}
	assert.Equal(t, []string{"add 4: 3→7", "remove 2: 7→5", "set 12: 5→12", "set 0: 12→0", "set 0: 0→0"}, trail)
	got, err := s.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Len(t, got.UnitItem("editors").Units.Changes, 5, "the ledger keeps the period's changes")
}

// A bulk set changes every feature given, in the order given, or none.
func TestChangeUnitsBulkSetAllOrNone(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.twoFeatures(6, 12)
	chs, err := s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "viewers", Op: UnitsSet, Count: 20},
		{Feature: "editors", Op: UnitsSet, Count: 2}}, s.now)
	require.NoError(t, err)
	require.Len(t, chs, 2)
	assert.Equal(t, []string{"viewers", "editors"}, []string{chs[0].Feature, chs[1].Feature})
	assert.Equal(t, map[string]int64{"editors": 2, "viewers": 20}, s.held(sub))

	for name, reqs := range map[string][]UnitRequest{
		"unknown feature": {{Feature: "editors", Op: UnitsSet, Count: 9}, {Feature: "admins", Op: UnitsSet, Count: 1}},
		"negative count":  {{Feature: "editors", Op: UnitsSet, Count: 9}, {Feature: "viewers", Op: UnitsSet, Count: -1}},
		"twice":           {{Feature: "editors", Op: UnitsSet, Count: 9}, {Feature: "editors", Op: UnitsSet, Count: 3}},
		"too many":        {{Feature: "editors", Op: UnitsSet, Count: 9}, {Feature: "viewers", Op: UnitsAdd, Count: MaxQuantity}},
		"below zero":      {{Feature: "viewers", Op: UnitsSet, Count: 9}, {Feature: "editors", Op: UnitsRemove, Count: 3}},
		"none":            nil,
	} {
		t.Run(name, func(t *testing.T) {
			events := len(s.l.events)
			_, err := s.e.ChangeUnits(sub.ID, reqs, s.now)
			var be *Error
			require.ErrorAs(t, err, &be)
			assert.Equal(t, map[string]int64{"editors": 2, "viewers": 20}, s.held(sub), "nothing changed")
			assert.Len(t, s.l.events, events, "nothing announced")
		})
	}
}

func TestChangeUnitsErrors(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.twoFeatures(2, 0)
	cases := []struct {
		name  string
		req   UnitRequest
		kind  ErrorKind
		code  Code
		param string
	}{
		{"never below zero", UnitRequest{Feature: "editors", Op: UnitsRemove, Count: 3}, Invalid, CodeInsufficientUnits, "count"},
		{"none to remove", UnitRequest{Feature: "viewers", Op: UnitsRemove, Count: 1}, Invalid, CodeInsufficientUnits, "count"},
		{"add nothing", UnitRequest{Feature: "editors", Op: UnitsAdd, Count: 0}, Invalid, CodeInvalidUnits, "count"},
		{"remove nothing", UnitRequest{Feature: "editors", Op: UnitsRemove, Count: 0}, Invalid, CodeInvalidUnits, "count"},
		{"add negative", UnitRequest{Feature: "editors", Op: UnitsAdd, Count: -2}, Invalid, CodeInvalidUnits, "count"},
		{"set negative", UnitRequest{Feature: "editors", Op: UnitsSet, Count: -1}, Invalid, CodeInvalidUnits, "count"},
		{"set beyond the limit", UnitRequest{Feature: "editors", Op: UnitsSet, Count: MaxQuantity + 1}, Invalid, CodeInvalidUnits, "count"},
		{"add beyond the limit", UnitRequest{Feature: "editors", Op: UnitsAdd, Count: MaxQuantity - 1}, Invalid, CodeInvalidUnits, "count"},
		{"unknown op", UnitRequest{Feature: "editors", Op: "double", Count: 1}, Invalid, CodeInvalidUnits, "op"},
		{"unknown feature", UnitRequest{Feature: "admins", Op: UnitsAdd, Count: 1}, NotFound, "", "feature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.e.ChangeUnits(sub.ID, []UnitRequest{tc.req}, s.now)
			var be *Error
			require.ErrorAs(t, err, &be)
			assert.Equal(t, tc.kind, be.Kind)
			assert.Equal(t, tc.code, be.Code)
			assert.Equal(t, tc.param, be.Param)
			if tc.kind == NotFound {
				assert.Equal(t, "feature", be.Resource)
				assert.Equal(t, tc.req.Feature, be.ID)
			}
		})
	}
	assert.Equal(t, map[string]int64{"editors": 2, "viewers": 0}, s.held(sub))
	// The largest count is fine.
	_, err := s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "editors", Op: UnitsSet, Count: MaxQuantity}}, s.now)
	require.NoError(t, err)

	_, err = s.e.ChangeUnits("sub_nope", []UnitRequest{{Feature: "editors", Op: UnitsAdd, Count: 1}}, s.now)
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, "subscription", be.Resource)
}

// Units change only on a subscription that holds them: active, trialing
// or past due.
func TestChangeUnitsNeedsActiveSubscription(t *testing.T) {
	for _, status := range []SubscriptionStatus{StatusIncomplete, StatusCanceled, StatusIncompleteExpired, StatusUnpaid, StatusPaused} {
		t.Run(string(status), func(t *testing.T) {
			s := newScenario(t, utc("2025-04-01T00:00:00Z"))
			sub := s.subscribeSeats(docsPlan, 6, nil)
			sub.Status = status
			require.NoError(t, s.l.PutSubscription(sub))
			_, err := s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "seats", Op: UnitsAdd, Count: 1}}, s.now)
			var be *Error
			require.ErrorAs(t, err, &be)
			assert.Equal(t, CodeNoActiveSubscription, be.Code)
			assert.Equal(t, NotFound, be.Kind)
		})
	}
	for _, status := range []SubscriptionStatus{StatusActive, StatusTrialing, StatusPastDue} {
		t.Run(string(status), func(t *testing.T) {
			s := newScenario(t, utc("2025-04-01T00:00:00Z"))
			sub := s.subscribeSeats(docsPlan, 6, nil)
			sub.Status = status
			require.NoError(t, s.l.PutSubscription(sub))
			s.seats(sub, UnitsAdd, 1)
		})
	}
}

func TestUnitHolder(t *testing.T) {
	active := &Subscription{ID: "sub_a", Status: StatusActive}
	pastDue := &Subscription{ID: "sub_p", Status: StatusPastDue}
	ended := &Subscription{ID: "sub_c", Status: StatusCanceled}
	pending := &Subscription{ID: "sub_i", Status: StatusIncomplete}
	got, err := UnitHolder([]*Subscription{ended, active, pending})
	require.NoError(t, err)
	assert.Equal(t, "sub_a", got.ID)
	got, err = UnitHolder([]*Subscription{pastDue})
	require.NoError(t, err)
	assert.Equal(t, "sub_p", got.ID)
	var be *Error
	_, err = UnitHolder([]*Subscription{ended, pending})
	require.ErrorAs(t, err, &be)
	assert.Equal(t, CodeNoActiveSubscription, be.Code)
	_, err = UnitHolder(nil)
	require.ErrorAs(t, err, &be)
	assert.Equal(t, CodeNoActiveSubscription, be.Code)
	_, err = UnitHolder([]*Subscription{active, pastDue})
	require.ErrorAs(t, err, &be)
	assert.Equal(t, CodeMultipleActiveSubscriptions, be.Code)
}

func TestCreateWithUnitsErrors(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	s.product("prod_seats", "Seats")
	s.price("price_seat", "prod_seats", 2500, Month, 1)
	s.price("price_seat2", "prod_seats", 100, Month, 1)
	cases := map[string]struct {
		items []ItemSpec
		param string
	}{
		"no feature": {[]ItemSpec{{Price: "price_seat", Units: &UnitTerms{Included: 1}}}, "items[0][units][feature]"},
		"negative included": {[]ItemSpec{{Price: "price_seat", Units: &UnitTerms{Feature: "seats", Included: -1}}},
			"items[0][units][included]"},
		"too many included": {[]ItemSpec{{Price: "price_seat", Units: &UnitTerms{Feature: "seats", Included: MaxQuantity + 1}}},
			"items[0][units][included]"},
		"too many held": {[]ItemSpec{{Price: "price_seat", Quantity: qty(MaxQuantity + 1), Units: &UnitTerms{Feature: "seats"}}},
			"items[0][quantity]"},
		"feature twice": {[]ItemSpec{{Price: "price_seat", Units: &UnitTerms{Feature: "seats"}},
			{Price: "price_seat2", Units: &UnitTerms{Feature: "seats"}}}, "items[1][units][feature]"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: tc.items}, s.now)
			var be *Error
			require.ErrorAs(t, err, &be)
			assert.Equal(t, tc.param, be.Param)
		})
	}
	assert.Empty(t, s.l.invoices())
}

// An item billed by units changes only through ChangeUnits: a subscription
// update cannot change, delete or add one (its prorations would bill the
// units as an ordinary quantity).
func TestUpdateRefusesUnitItems(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.subscribeSeats(docsPlan, 6, nil)
	seatItem := sub.UnitItem("seats").ID
	for name, spec := range map[string]ItemSpec{
		"quantity": {ID: seatItem, Quantity: qty(9), Param: "items[0]"},
		"delete":   {ID: seatItem, Deleted: true, Param: "items[0]"},
		"new":      {Price: "price_seat", Units: &UnitTerms{Feature: "more"}, Param: "items[0]"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.e.UpdateSubscription(sub.ID, SubscriptionChange{Items: []ItemSpec{spec}}, s.now)
			var be *Error
			require.ErrorAs(t, err, &be)
			assert.Equal(t, Invalid, be.Kind)
		})
	}
	assert.Equal(t, map[string]int64{"seats": 6}, s.held(sub))
	// Other changes still go through.
	_, err := s.e.UpdateSubscription(sub.ID, SubscriptionChange{Metadata: map[string]string{"a": "b"}}, s.now)
	require.NoError(t, err)
}

// Canceling now with prorations credits the unused base, never units.
func TestCancelRefundsNoUnits(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.subscribeSeats(docsPlan, 8, nil)
	s.advance(utc("2025-04-16T00:00:00Z"))
	_, err := s.e.CancelSubscription(sub.ID, true, true, s.now)
	require.NoError(t, err)
	invs := s.l.invoices()
	require.Len(t, invs, 2)
	require.Len(t, invs[1].Lines, 1)
	assert.Nil(t, invs[1].Lines[0].Units)
	assert.EqualValues(t, -4950, invs[1].Lines[0].Amount, "half the base back")
}

// A unit held for part of a day is held for that day.
func TestTrueUpCountsPartialDays(t *testing.T) {
	cases := []struct {
		at   string
		want lineSummary
	}{
		{"2025-04-16T00:00:00Z", lineSummary{"true_up", 1, "15/30", 1250}},
		{"2025-04-16T23:59:59Z", lineSummary{"true_up", 1, "15/30", 1250}},
		{"2025-04-15T23:59:59Z", lineSummary{"true_up", 1, "16/30", 1333}},
		{"2025-04-30T23:59:59Z", lineSummary{"true_up", 1, "1/30", 83}},
		{"2025-04-01T00:00:01Z", lineSummary{"true_up", 1, "30/30", 2500}},
	}
	for _, tc := range cases {
		t.Run(tc.at, func(t *testing.T) {
			s := newScenario(t, utc("2025-04-01T00:00:00Z"))
			sub := s.subscribeSeats(docsPlan, 6, nil)
			s.advance(utc(tc.at))
			s.seats(sub, UnitsAdd, 1)
			s.advance(utc("2025-05-01T00:00:00Z"))
			invs := s.l.invoices()
			require.Len(t, invs, 2)
			assert.Equal(t, tc.want, summarize(invs[1])[2])
		})
	}
}

// Changes made once the period is over but before its renewal ran (the
// clock moved, billing not processed yet) are not trued up: the advance
// for the next period counts them.
func TestChangesAfterPeriodEndGoToTheAdvance(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.subscribeSeats(docsPlan, 6, nil)
	late := utc("2025-05-03T00:00:00Z")
	_, err := s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "seats", Op: UnitsAdd, Count: 3}}, late)
	require.NoError(t, err)
	s.advance(late)
	invs := s.l.invoices()
	require.Len(t, invs, 2)
	assert.Equal(t, []lineSummary{{"base", 1, "", 9900}, {"advance", 4, "31/31", 10000}}, summarize(invs[1]))
}

// A first period cut short by the billing cycle anchor bills the advance
// for its share of a whole period, or nothing when not prorated; units
// added in it are trued up against the whole period.
func TestUnitsFirstPeriodCutShort(t *testing.T) {
	anchor := utc("2025-04-21T00:00:00Z") // 20 days after the start; the whole period from March 21 has 31
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.subscribeSeats(docsPlan, 7, func(in *NewSubscription) { in.BillingCycleAnchor = anchor })
	invs := s.l.invoices()
	require.Len(t, invs, 1)
	assert.Equal(t, lineSummary{"advance", 2, "20/31", 3226}, summarize(invs[0])[1]) // 5000 × 20/31 = 3225.8
	s.advance(utc("2025-04-11T00:00:00Z"))
	s.seats(sub, UnitsAdd, 1)
	s.advance(anchor)
	invs = s.l.invoices()
	require.Len(t, invs, 2)
	assert.Equal(t, []lineSummary{{"base", 1, "", 9900}, {"advance", 3, "30/30", 7500}, {"true_up", 1, "10/31", 806}},
		summarize(invs[1])) // 2500 × 10/31 = 806.45

	s = newScenario(t, utc("2025-04-01T00:00:00Z"))
	s.subscribeSeats(docsPlan, 7, func(in *NewSubscription) {
		in.BillingCycleAnchor, in.ProrationBehavior = anchor, ProrateNone
	})
	invs = s.l.invoices()
	require.Len(t, invs, 1)
	assert.EqualValues(t, 0, invs[0].Total(), "a free first period bills no units either")
	require.Len(t, invs[0].Lines, 1)
}

// FuzzUnitChanges applies any sequence of changes during a 30-day period
// and checks the renewal against the rules: the units never go below zero,
// the true-up bills exactly the extra units beyond those paid for up to
// the most held, each for no more than a whole period, and the advance the
// extra units held at the end.
func FuzzUnitChanges(f *testing.F) {
	f.Add([]byte{15, 0, 1})                    // the docs: one seat added halfway
	f.Add([]byte{3, 1, 4, 10, 0, 2, 20, 2, 9}) // remove, add back, set
	f.Add([]byte{0, 2, 0, 29, 2, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		start := utc("2025-04-01T00:00:00Z")
		end := utc("2025-05-01T00:00:00Z")
		s := newScenario(t, start)
		sub := s.subscribeSeats(docsPlan, 6, nil)
		held, peak := int64(6), int64(6)
		var at int64
		for i := 0; i+2 < len(data); i += 3 {
			// Offsets in hours move forward only, within the period.
			at = min(at+int64(data[i])*3600, end-start-1)
			req := UnitRequest{Feature: "seats", Op: []UnitOp{UnitsAdd, UnitsRemove, UnitsSet}[data[i+1]%3],
				Count: int64(data[i+2])}
			chs, err := s.e.ChangeUnits(sub.ID, []UnitRequest{req}, start+at)
			if err != nil {
				var be *Error
				require.ErrorAs(t, err, &be)
				continue
			}
			require.GreaterOrEqual(t, chs[0].New, int64(0))
			require.Equal(t, held, chs[0].Previous)
			held = chs[0].New
			peak = max(peak, held)
		}
		require.Equal(t, map[string]int64{"seats": held}, s.held(sub))
		s.advance(end)
		invs := s.l.invoices()
		require.Len(t, invs, 2)
		var trueUp, advance int64
		for _, l := range invs[1].Lines {
			if l.Units == nil {
				continue
			}
			require.GreaterOrEqual(t, l.Amount, int64(0))
			require.LessOrEqual(t, l.Amount, l.Quantity*docsPlan.Seat)
			switch l.Units.Charge {
			case UnitTrueUp:
				trueUp += l.Quantity
			case UnitAdvance:
				advance += l.Quantity
				require.Equal(t, l.Quantity*docsPlan.Seat, l.Amount)
			}
		}
		assert.Equal(t, max(peak-docsPlan.Included, 0)-1, trueUp, "one extra seat was paid in advance")
		assert.Equal(t, max(held-docsPlan.Included, 0), advance)
	})
}
