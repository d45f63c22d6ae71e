package dashboard

import (
	"cmp"
	"slices"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// A clock's timeline, derived from what the runtime stores: the clock and
// its moves (clockwork's advance log), its subscriptions, the invoices,
// payment attempts (charges) and scheduled retries on it, and the events
// about its objects, in the order they were recorded. Times are the
// clock's simulated time, Unix seconds.

// maxRows bounds the subscriptions drawn, and maxEvents the events listed
// (the latest ones): the dashboard is for looking at a clock, not for
// listing a large one.
const (
	maxRows   = 200
	maxEvents = 2000
)

// span is a stretch of simulated time, [Start, End).
type span struct {
	Start, End int64
	// Kind is period, trial, past_due, unpaid, incomplete or canceled.
	Kind string
}

// invoiceMark is an invoice on the timeline, at its creation.
type invoiceMark struct {
	ID, Number, Status string
	At                 int64
	// Amount is its total, Due what is left to pay.
	Amount, Due int64
	Currency    string
	// NextAttempt is when the next automatic payment retry is due (0:
	// none).
	NextAttempt int64
}

// attemptMark is a payment attempt: a charge.
type attemptMark struct {
	ID, Invoice, Payment string
	Status, Failure      string
	At, Amount           int64
	Currency             string
	// N counts the attempts at the same invoice or payment: 1 for the
	// first, 2 for the first retry...
	N int
}

// subRow is a subscription and what was billed for it.
type subRow struct {
	ID, Customer, Status string
	Created              int64
	Periods, Stretches   []span
	// CancelAt is when a scheduled cancellation falls (0: none).
	CancelAt int64
	Invoices []invoiceMark
	Attempts []attemptMark
}

// eventMark is an event about the clock's objects.
type eventMark struct {
	ID, Type string
	At       int64
}

// typeCount is an event type and how many events of it the clock has.
type typeCount struct {
	Type  string
	Count int
}

// timeline is everything a clock's page shows.
type timeline struct {
	Clock *billing.Clock
	Moves []clockwork.ClockMove
	Subs  []subRow
	// MoreSubs counts the subscriptions beyond maxRows.
	MoreSubs int
	// Loose are the invoices and attempts of no subscription.
	Loose  subRow
	Events []eventMark
	Types  []typeCount
	Start  int64
	End    int64
}

// buildTimeline reads clock's timeline from l.
func buildTimeline(l *clockwork.Ledger, clock *billing.Clock) (*timeline, error) {
	tl := &timeline{Clock: clock}
	var err error
	if tl.Moves, err = l.ClockMoves(clock.ID); err != nil {
		return nil, err
	}
	// ids are the clock's objects, by which its events are found.
	ids := map[string]bool{clock.ID: true}
	if err := l.CustomersOnClock(clock.ID, func(c *billing.Customer) error {
		ids[c.ID] = true
		return nil
	}); err != nil {
		return nil, err
	}
	var subs []*billing.Subscription
	if err := l.SubscriptionsOnClock(clock.ID, func(s *billing.Subscription) error {
		ids[s.ID] = true
		subs = append(subs, s)
		return nil
	}); err != nil {
		return nil, err
	}
	var invoices []*billing.Invoice
	if err := l.InvoicesOnClock(clock.ID, func(inv *billing.Invoice) error {
		ids[inv.ID] = true
		invoices = append(invoices, inv)
		return nil
	}); err != nil {
		return nil, err
	}
	var payments []*billing.Payment
	if err := l.PaymentsOnClock(clock.ID, func(p *billing.Payment) error {
		ids[p.ID] = true
		payments = append(payments, p)
		return nil
	}); err != nil {
		return nil, err
	}
	var charges []*billing.Charge
	if err := l.ChargesOnClock(clock.ID, func(ch *billing.Charge) error {
		ids[ch.ID] = true
		charges = append(charges, ch)
		return nil
	}); err != nil {
		return nil, err
	}
	now := clock.FrozenTime

	slices.SortFunc(subs, func(a, b *billing.Subscription) int { return cmp.Compare(a.Created, b.Created) })
	if len(subs) > maxRows {
		tl.MoreSubs = len(subs) - maxRows
	}
	tl.Subs = make([]subRow, 0, min(len(subs), maxRows)) // rows points into it: it must not grow
	rows := map[string]*subRow{}
	for _, s := range subs[:min(len(subs), maxRows)] {
		tl.Subs = append(tl.Subs, subRow{ID: s.ID, Customer: s.Customer, Status: string(s.Status), Created: s.Created})
		rows[s.ID] = &tl.Subs[len(tl.Subs)-1]
	}
	bySub := map[string][]*billing.Invoice{}
	invoiceSub := map[string]string{}
	for _, inv := range invoices {
		bySub[inv.Subscription] = append(bySub[inv.Subscription], inv)
		invoiceSub[inv.ID] = inv.Subscription
	}
	for _, s := range subs {
		row := rows[s.ID]
		if row == nil {
			continue
		}
		row.Periods = periods(s, bySub[s.ID], now)
		row.Stretches = stretches(s, bySub[s.ID], now)
		if s.Status != billing.StatusCanceled && s.Status != billing.StatusIncompleteExpired {
			if s.CancelAt > 0 {
				row.CancelAt = s.CancelAt
			} else if s.CancelAtPeriodEnd {
				row.CancelAt = s.PeriodEnd
			}
		}
	}
	rowOf := func(sub string) *subRow {
		if row := rows[sub]; row != nil {
			return row
		}
		return &tl.Loose
	}
	for _, inv := range invoices {
		m := invoiceMark{ID: inv.ID, Number: inv.Number, Status: string(inv.Status), At: inv.Created,
			Amount: inv.Total(), Due: inv.AmountDue() - inv.AmountPaid, Currency: inv.Currency}
		if inv.Status == billing.InvoiceOpen && inv.NextPaymentAttempt > 0 {
			m.NextAttempt = inv.NextPaymentAttempt
		}
		row := rowOf(inv.Subscription)
		row.Invoices = append(row.Invoices, m)
	}
	paymentInvoice := map[string]string{}
	for _, p := range payments {
		paymentInvoice[p.ID] = p.Invoice
	}
	slices.SortStableFunc(charges, func(a, b *billing.Charge) int { return cmp.Compare(a.Created, b.Created) })
	tries := map[string]int{}
	for _, ch := range charges {
		inv := ch.Invoice
		if inv == "" {
			inv = paymentInvoice[ch.Payment]
		}
		of := inv
		if of == "" {
			of = ch.Payment
		}
		tries[of]++
		m := attemptMark{ID: ch.ID, Invoice: inv, Payment: ch.Payment, Status: string(ch.Status), Failure: string(ch.Failure),
			At: ch.Created, Amount: ch.Amount, Currency: ch.Currency, N: tries[of]}
		row := rowOf(invoiceSub[inv])
		row.Attempts = append(row.Attempts, m)
	}

	if err := readEvents(l, ids, tl); err != nil {
		return nil, err
	}
	tl.frame()
	return tl, nil
}

// periods are the billing periods of s: those its invoices billed (a line
// of a whole period or of a trial), and the current one; each ends where
// the next begins (a new billing cycle anchor cuts one short) and none
// runs past the subscription's end.
func periods(s *billing.Subscription, invoices []*billing.Invoice, now int64) []span {
	seen := map[[2]int64]bool{}
	var out []span
	add := func(start, end int64) {
		if end <= start || seen[[2]int64{start, end}] {
			return
		}
		seen[[2]int64{start, end}] = true
		out = append(out, span{Start: start, End: end, Kind: "period"})
	}
	for _, inv := range invoices {
		for _, line := range inv.Lines {
			whole := line.Kind == billing.LinePeriod || line.Kind == billing.LineTrial ||
				line.Kind == "" && line.SubscriptionItem != "" && !line.Proration
			if whole {
				add(line.PeriodStart, line.PeriodEnd)
			}
		}
	}
	add(s.PeriodStart, s.PeriodEnd)
	slices.SortFunc(out, func(a, b span) int { return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End)) })
	var merged []span
	for i, p := range out {
		if i+1 < len(out) && out[i+1].Start < p.End {
			p.End = out[i+1].Start
		}
		if s.EndedAt > 0 && p.End > s.EndedAt {
			p.End = s.EndedAt
		}
		if p.End > p.Start {
			merged = append(merged, p)
		}
	}
	return merged
}

// stretches are the marked parts of s's life: its trial; each time it was
// past due, from an invoice's first failed automatic payment until the
// invoice was paid, voided or marked uncollectible (or the subscription
// ended); incomplete until its first payment; and canceled from its end.
func stretches(s *billing.Subscription, invoices []*billing.Invoice, now int64) []span {
	var out []span
	if s.TrialEnd > 0 {
		start := s.TrialStart
		if start == 0 {
			start = s.StartDate
		}
		out = append(out, span{Start: start, End: s.TrialEnd, Kind: "trial"})
	}
	for _, inv := range invoices {
		if inv.FirstFailureAt == 0 {
			continue
		}
		end := int64(0)
		for _, t := range []int64{inv.PaidAt, inv.VoidedAt, inv.MarkedUncollectibleAt} {
			if t > 0 && (end == 0 || t < end) {
				end = t
			}
		}
		kind := "past_due"
		if end == 0 {
			end = now
			if s.Status == billing.StatusUnpaid {
				kind = "unpaid"
			}
		}
		if s.EndedAt > 0 && end > s.EndedAt {
			end = s.EndedAt
		}
		out = append(out, span{Start: inv.FirstFailureAt, End: end, Kind: kind})
	}
	switch s.Status {
	case billing.StatusIncomplete:
		out = append(out, span{Start: s.Created, End: now, Kind: "incomplete"})
	case billing.StatusIncompleteExpired:
		out = append(out, span{Start: s.Created, End: s.EndedAt, Kind: "incomplete"})
	}
	if s.EndedAt > 0 {
		out = append(out, span{Start: s.EndedAt, End: max(now, s.EndedAt), Kind: "canceled"})
	}
	return out
}

// readEvents finds the events about the clock's objects: those whose
// stored form names one of ids, keeping the latest maxEvents.
func readEvents(l *clockwork.Ledger, ids map[string]bool, tl *timeline) error {
	d := l.Dialect()
	counts := map[string]int{}
	var events []eventMark
	err := l.EachEvent(func(id string, stored []byte) error {
		if !mentions(stored, ids) {
			return nil
		}
		typ, created, err := d.EventHead(stored)
		if err != nil {
			return err
		}
		counts[typ]++
		events = append(events, eventMark{ID: id, Type: typ, At: created})
		if len(events) > 2*maxEvents {
			events = append(events[:0], events[len(events)-maxEvents:]...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(events) > maxEvents {
		events = events[len(events)-maxEvents:]
	}
	tl.Events = events
	for typ, n := range counts {
		tl.Types = append(tl.Types, typeCount{Type: typ, Count: n})
	}
	slices.SortFunc(tl.Types, func(a, b typeCount) int { return strings.Compare(a.Type, b.Type) })
	return nil
}

// mentions reports whether the JSON text names one of ids as a string.
func mentions(stored []byte, ids map[string]bool) bool {
	for i := 0; i < len(stored); i++ {
		if stored[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(stored) && stored[j] != '"' && stored[j] != '\\' {
			j++
		}
		if j < len(stored) && stored[j] == '"' && ids[string(stored[i+1:j])] {
			return true
		}
		// An escaped string holds no id: skip past its escapes.
		for j < len(stored) && stored[j] != '"' {
			if stored[j] == '\\' {
				j++
			}
			j++
		}
		i = j
	}
	return false
}

// frame sets the timeline's extent: everything drawn (the clock's times
// and moves, periods, stretches, invoices, attempts and retries), with a
// margin, and at least two days.
func (tl *timeline) frame() {
	lo, hi := tl.Clock.FrozenTime, tl.Clock.FrozenTime
	see := func(ts ...int64) {
		for _, t := range ts {
			if t <= 0 {
				continue
			}
			lo, hi = min(lo, t), max(hi, t)
		}
	}
	if tl.Clock.Status == billing.ClockAdvancing {
		see(tl.Clock.TargetTime)
	}
	for _, m := range tl.Moves {
		see(m.From, m.To)
	}
	rows := append(slices.Clone(tl.Subs), tl.Loose)
	for _, r := range rows {
		see(r.Created, r.CancelAt)
		for _, p := range r.Periods {
			see(p.Start, p.End)
		}
		for _, p := range r.Stretches {
			see(p.Start, p.End)
		}
		for _, inv := range r.Invoices {
			see(inv.At, inv.NextAttempt)
		}
		for _, a := range r.Attempts {
			see(a.At)
		}
	}
	const day = 86400
	if hi-lo < 2*day {
		mid := lo + (hi-lo)/2
		lo, hi = mid-day, mid+day
	}
	margin := (hi - lo) / 25
	tl.Start, tl.End = lo-margin, hi+margin
}
