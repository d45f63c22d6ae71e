package billing

// This file is what a subscription's life needs beyond the statuses and
// moves the engine shares with every surface:
//
//   - waiting for a first payment without expiring: a subscription created
//     with IncompleteUntilPaid (and usually DefaultIncomplete, so that
//     nothing is charged before the customer pays) is incomplete until its
//     first invoice is paid, then active. It does not expire; its periods
//     go by without invoices (waitForFirstPayment).
//   - reactivation (ReactivateSubscription): a past-due subscription's
//     invoice collected again now; a canceled one started again.
//
// The other moves are the shared ones: active, past due and, when the
// retries are exhausted under a cancel policy, canceled with
// CancellationReason CancelPaymentFailed; cancellation at period end
// (SubscriptionChange.CancelAtPeriodEnd, reversed by setting it false) or
// now (CancelSubscription).

// ReasonSubscriptionReactivate is the billing reason of the invoice that
// starts a canceled subscription again.
const ReasonSubscriptionReactivate BillingReason = "subscription_reactivate"

// CodeInvalidStatus: the subscription's status does not allow the move.
const CodeInvalidStatus Code = "invalid_status"

// waitForFirstPayment is the end of a period of a subscription still
// waiting for its first payment: nothing is invoiced, and the next period
// starts, so that it renews as usual once paid. Its first invoice, when
// paid, stands for the period it is paid in, and so do the units it billed
// in advance.
func (e *Engine) waitForFirstPayment(sub *Subscription, at int64) error {
	before := snapshotSub(sub)
	sub.PeriodIndex++
	sub.PeriodStart, sub.PeriodEnd = at, sub.Interval.Nth(sub.BillingCycleAnchor, sub.PeriodIndex)
	days := WholeDays(at, sub.PeriodEnd)
	for i := range sub.Items {
		if u := sub.Items[i].Units; u != nil {
			next := *u
			next.Start, next.End, next.Days, next.Opening, next.Changes = sub.PeriodStart, sub.PeriodEnd, days, sub.Items[i].Quantity, nil
			sub.Items[i].Units = &next
		}
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	if err := e.emitUpdated(before, sub, at); err != nil {
		return err
	}
	return e.L.Schedule(Task{Clock: sub.Clock, At: sub.PeriodEnd, Kind: TaskPeriodEnd, Subject: sub.ID, Expect: sub.PeriodEnd})
}

// ReactivateSubscription brings subscription id back at now.
//
// A past-due (or unpaid) subscription keeps its period: its latest
// invoice, if still to be paid, is collected again at once from the
// default payment methods (a manual attempt, see Pay), and paid it makes
// the subscription active. A decline is returned as a *Declined error; the
// failed attempt is saved all the same.
//
// A canceled subscription is started again as it was: the same items and
// units, active, with a fresh period anchored at now, invoiced at once
// (the plan's price, and the advance for the extra units held; the period
// it ended in is not trued up) and collected from the default payment
// methods. A decline is returned as a *Declined error, and the
// reactivation must then not be kept (the caller discards what it did).
func (e *Engine) ReactivateSubscription(id string, now int64) (*Subscription, error) {
	sub, err := e.L.Subscription(id)
	if err != nil {
		return nil, err
	}
	switch sub.Status {
	case StatusPastDue, StatusUnpaid:
		return e.collectAgain(sub, now)
	case StatusCanceled:
		return e.restart(sub, now)
	}
	return nil, &Error{Kind: Invalid, Code: CodeInvalidStatus,
		Message: "Only a past-due or canceled subscription can be reactivated; this one is " + string(sub.Status) + "."}
}

func (e *Engine) collectAgain(sub *Subscription, now int64) (*Subscription, error) {
	if sub.LatestInvoice != "" {
		inv, err := e.L.Invoice(sub.LatestInvoice)
		if err != nil {
			return nil, err
		}
		if inv.Status == InvoiceOpen || inv.Status == InvoiceUncollectible {
			if err := e.Pay(inv, PayOptions{}, now); err != nil {
				return nil, err
			}
		}
	}
	return e.L.Subscription(sub.ID)
}

func (e *Engine) restart(sub *Subscription, now int64) (*Subscription, error) {
	cust, err := e.L.Customer(sub.Customer)
	if err != nil {
		return nil, err
	}
	before := snapshotSub(sub)
	sub.Status = StatusActive
	sub.CanceledAt, sub.EndedAt, sub.CancelAt, sub.CancelAtPeriodEnd, sub.CancellationReason = 0, 0, 0, false, ""
	sub.BillingCycleAnchor, sub.PeriodIndex = now, 1
	sub.PeriodStart, sub.PeriodEnd = now, sub.Interval.Nth(now, 1)
	for i := range sub.Items {
		if u := sub.Items[i].Units; u != nil {
			ended := *u
			ended.Free = true
			sub.Items[i].Units = &ended
		}
	}
	inv := e.newInvoice(cust, sub, ReasonSubscriptionReactivate, now)
	if err := e.sweepPending(inv, sweptBy(sub)); err != nil {
		return nil, err
	}
	if err := e.periodLines(inv, sub); err != nil {
		return nil, err
	}
	sub.LatestInvoice = inv.ID
	if err := e.invoiceChange(inv, sub, cust, ErrorIfIncomplete, now); err != nil {
		return nil, err
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return nil, err
	}
	if err := e.emitUpdated(before, sub, now); err != nil {
		return nil, err
	}
	return sub, e.scheduleSubscription(sub, now)
}
