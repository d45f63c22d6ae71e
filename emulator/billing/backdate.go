package billing

// This file is backdating: a subscription created now that started
// earlier (NewSubscription.BackdateStart). Its start date is the backdated
// one, and its first invoice bills the time since then, as Stripe's
// flexible billing mode does: one line per natural billing cycle of the
// backdated time, cycles counted from the backdated start, each at the
// whole price but the last, which is cut short and prorated against its
// whole cycle. Without a billing cycle anchor the backdated time ends now
// and the first regular period starts now, billed in full beside it; with
// a future anchor the backdated time runs to the anchor and is the first
// period. proration_behavior=none bills no backdated time. A trial started
// by a backdated subscription begins now: only the start date moves.

// MaxBackdateLines is the most lines the backdated time of one
// subscription may bill (Stripe's limit of an invoice's lines).
const MaxBackdateLines = 250

// Backdating refusals.
const (
	// CodeBackdateNotPast: a backdated start that is not before now (Max).
	CodeBackdateNotPast Code = "backdate_not_past"
	// CodeBackdateTooManyLines: the backdated time would need more than
	// Max invoice lines.
	CodeBackdateTooManyLines Code = "backdate_too_many_lines"
)

// backdate moves the start of sub, just set up at now, to in.BackdateStart.
// A first period cut short by a billing cycle anchor then starts there.
func backdate(sub *Subscription, in NewSubscription, now int64) error {
	if in.BackdateStart == 0 {
		return nil
	}
	if in.BackdateStart >= now {
		e := invalid(CodeBackdateNotPast, "backdate_start_date")
		e.Max = now
		return e
	}
	sub.StartDate = in.BackdateStart
	if sub.Status != StatusTrialing && sub.PeriodIndex == 0 {
		sub.PeriodStart = in.BackdateStart
	}
	return nil
}

// backdatedLines bills the backdated time of sub, created at now, for each
// of its items (prices holds their prices): see the file comment. It
// returns no lines when nothing is backdated or billed.
func (e *Engine) backdatedLines(sub *Subscription, prices map[string]*resolvedPrice, in NewSubscription, now int64) ([]InvoiceLine, error) {
	if in.BackdateStart == 0 || in.ProrationBehavior == ProrateNone || sub.Status == StatusTrialing {
		return nil, nil
	}
	end := now
	if sub.PeriodIndex == 0 {
		end = sub.PeriodEnd // the anchor
	}
	var lines []InvoiceLine
	for _, it := range sub.Items {
		if it.Units != nil {
			continue // units are billed from now on
		}
		rp := prices[it.Price]
		whole, err := mulAmount(rp.UnitAmount, it.Quantity)
		if err != nil {
			return nil, err
		}
		for k := 0; ; k++ {
			start, next := sub.Interval.Nth(in.BackdateStart, k), sub.Interval.Nth(in.BackdateStart, k+1)
			if start >= end {
				break
			}
			if len(lines) == MaxBackdateLines {
				e := invalid(CodeBackdateTooManyLines, "backdate_start_date")
				e.Max = MaxBackdateLines
				return nil, e
			}
			line := InvoiceLine{ID: e.L.NewID("il_"), Quantity: it.Quantity, Price: it.Price, SubscriptionItem: it.ID,
				PeriodStart: start, PeriodEnd: min(next, end), Amount: whole, Billed: rp.billed(LinePeriod)}
			if next > end {
				// Prorate gives the share of [start, next) after t: the time
				// billed, [start, end), is what lies after t = start+next-end.
				if line.Amount, err = Prorate(whole, start, next, start+next-end); err != nil {
					return nil, err
				}
				line.Proration, line.Billed = true, rp.billed(LineProrationDebit)
			}
			lines = append(lines, line)
		}
	}
	return lines, nil
}
