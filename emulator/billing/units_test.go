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
