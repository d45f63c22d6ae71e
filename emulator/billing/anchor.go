package billing

// This file is the reset of a subscription's billing cycle to now
// (Stripe's billing_cycle_anchor=now): the unused time of the current
// period is credited, unless prorations are off, and a new cycle starts
// now, its first period invoiced and collected at once with the
// subscription's pending items (the credits among them). A trialing
// subscription ends its trial now instead, as trial_end=now does.

// resetCycle resets sub's billing cycle to now; behavior says whether the
// unused time is credited, pay how the invoice is collected.
func (e *Engine) resetCycle(sub *Subscription, cust *Customer, behavior string, pay PaymentBehavior, now int64) error {
	switch sub.Status {
	case StatusTrialing:
		return e.endTrialNow(sub, cust, pay, now)
	case StatusPaused:
		return sub.refusal(CodePaused, "billing_cycle_anchor")
	}
	if behavior != ProrateNone && sub.billsSeats() && now < sub.PeriodEnd {
		for _, it := range sub.Items {
			if it.Units != nil {
				continue // units are never refunded
			}
			rp, err := e.recurringPrice(it.Price, "", nil)
			if err != nil {
				return err
			}
			credit, err := proratedLine(rp.UnitAmount, it.Quantity, -1, sub.PeriodStart, sub.PeriodEnd, now)
			if err != nil {
				return err
			}
			ii := &InvoiceItem{ID: e.L.NewID("ii_"), Customer: sub.Customer, Clock: sub.Clock, Date: now,
				Amount: credit, Currency: sub.Currency, Proration: true, Price: rp.ID, Quantity: it.Quantity,
				Subscription: sub.ID, SubscriptionItem: it.ID, PeriodStart: now, PeriodEnd: sub.PeriodEnd,
				Billed: rp.billed(LineProrationCredit)}
			if err := e.prorationTerms(ii, sub, nil, now); err != nil {
				return err
			}
			if err := e.L.PutInvoiceItem(ii); err != nil {
				return err
			}
			if err := e.emit(EventInvoiceItemCreated, now, snapshotInvoiceItem(ii)); err != nil {
				return err
			}
		}
	}
	return e.startCycle(sub, cust, pay, now)
}

// startCycle starts a new billing cycle of sub at now: anchored at now,
// its first period is invoiced at once, with the pending items it sweeps,
// and collected as pay says (the subscription's new status is left for
// the caller to save and announce).
func (e *Engine) startCycle(sub *Subscription, cust *Customer, pay PaymentBehavior, now int64) error {
	sub.BillingCycleAnchor, sub.PeriodIndex = now, 1
	sub.PeriodStart, sub.PeriodEnd = now, sub.Interval.Nth(now, 1)
	inv := e.newInvoice(cust, sub, ReasonSubscriptionUpdate, now)
	if err := e.sweepPending(inv, sweptBy(sub)); err != nil {
		return err
	}
	if err := e.periodLines(inv, sub); err != nil {
		return err
	}
	inv.PeriodStart, inv.PeriodEnd = now, now
	sub.LatestInvoice = inv.ID
	if err := e.invoiceChange(inv, sub, cust, pay, now); err != nil {
		return err
	}
	return e.scheduleSubscription(sub, now)
}
