package billing

import (
	"fmt"
	"maps"
)

// This file is collection: what happens to an invoice once it is
// finalized. The customer's balance is applied to it; what is left is due
// through a Payment, attempted at once (automatic collection), retried on
// the account's DunningPolicy as clock tasks, or paid by hand. A
// subscription's status follows its latest invoice.

// IncompleteExpiry is how long a subscription whose first invoice is not
// paid stays incomplete before it expires.
const IncompleteExpiry = 23 * 3600

// PaymentBehavior says what a subscription create or update does when the
// invoice it makes is not paid at once.
type PaymentBehavior string

// Payment behaviours.
const (
	// AllowIncomplete (the default): a new subscription starts
	// incomplete; an update goes through and the subscription follows
	// the invoice (past_due).
	AllowIncomplete PaymentBehavior = "allow_incomplete"
	// ErrorIfIncomplete refuses the create or update with the decline.
	ErrorIfIncomplete PaymentBehavior = "error_if_incomplete"
	// DefaultIncomplete does not attempt the payment: a new subscription
	// is incomplete, an updated one past_due, until the invoice is paid.
	DefaultIncomplete PaymentBehavior = "default_incomplete"
	// PendingIfIncomplete (updates only) leaves the subscription as it was
	// when the payment fails; billclock refuses the update, as with
	// ErrorIfIncomplete, instead of keeping it pending.
	PendingIfIncomplete PaymentBehavior = "pending_if_incomplete"
)

// What happens when a trial ends and there is nothing to charge.
const (
	MissingPaymentMethodCreateInvoice = "create_invoice"
	MissingPaymentMethodPause         = "pause"
	MissingPaymentMethodCancel        = "cancel"
)

// Cancellation reasons the engine sets (Subscription.CancellationReason).
const (
	CancelPaymentFailed             = "payment_failed"
	CancelTrialMissingPaymentMethod = "trial_missing_payment_method"
)

// Ended reports whether the subscription is over: canceled, or expired
// while incomplete.
func (s *Subscription) Ended() bool {
	return s.Status == StatusCanceled || s.Status == StatusIncompleteExpired
}

// balanceIn is the customer's balance that applies to an invoice in
// currency: none when the balance is in another currency.
func balanceIn(cust *Customer, currency string) int64 {
	if cust.BalanceCurrency != "" && cust.BalanceCurrency != currency {
		return 0
	}
	return cust.Balance
}

// ApplyBalance applies a customer's balance (negative: credit the customer
// has; positive: an amount owed) to an invoice total as finalization does:
// a negative total becomes credit, credit pays what it can of a positive
// total, and an amount owed is added to it. It returns what is then due
// and the balance left.
func ApplyBalance(total, balance int64) (due, ending int64) {
	switch {
	case total < 0:
		ending = balance + total
	case balance < 0:
		ending = min(balance+total, 0)
	}
	return max(total+balance-ending, 0), ending
}

// Finalize turns a draft into an open invoice with a number, applies the
// customer's balance to it and, when something is left to pay, makes the
// payment that collects it. It does not collect: see Pay.
func (e *Engine) Finalize(inv *Invoice, now int64) error {
	if inv.Status != InvoiceDraft {
		return inv.refusal(CodeInvoiceNotDraft)
	}
	cust, err := e.L.Customer(inv.Customer)
	if err != nil {
		return err
	}
	if err := e.finalize(inv, cust, now); err != nil {
		return err
	}
	// An invoice sent for payment that advances by itself is sent as it
	// is finalized.
	if inv.sentForPayment() && inv.AutoAdvance {
		return e.issue(inv, now)
	}
	return nil
}

// refusal is an Invalid error of code about inv.
func (inv *Invoice) refusal(code Code) *Error {
	e := invalid(code, "")
	e.Resource, e.ID = "invoice", inv.ID
	return e
}

func (e *Engine) finalize(inv *Invoice, cust *Customer, now int64) error {
	if inv.Status != InvoiceDraft {
		return inv.refusal(CodeInvoiceNotDraft)
	}
	total, err := inv.checkedTotal()
	if err != nil {
		return err
	}
	// The balance is applied to the total: the sum must not wrap either.
	if _, err := addAmount(total, balanceIn(cust, inv.Currency)); err != nil {
		return err
	}
	if inv.BillingReason == ReasonManual {
		if err := e.useUpInherited(inv, cust, now); err != nil {
			return err
		}
	}
	custBefore := snapshotCustomer(cust)
	if inv.Number == "" { // an invoice given its own number keeps it
		cust.NextInvoiceSequence++
		inv.Number = fmt.Sprintf("%s-%04d", cust.InvoicePrefix, cust.NextInvoiceSequence)
	}
	inv.StartingBalance = balanceIn(cust, inv.Currency)
	due, ending := ApplyBalance(total, inv.StartingBalance)
	inv.EndingBalance = ending
	var bt *BalanceTransaction
	if ending != inv.StartingBalance {
		cust.Balance, cust.BalanceCurrency = ending, inv.Currency
		bt = &BalanceTransaction{ID: e.L.NewID("cbtxn_"), Created: now, Customer: cust.ID, Clock: cust.Clock,
			Amount: ending - inv.StartingBalance, Currency: inv.Currency, EndingBalance: ending,
			Type: BalanceAppliedToInvoice, Invoice: inv.ID}
	}
	if err := e.L.PutCustomer(cust); err != nil {
		return err
	}
	inv.Status, inv.FinalizedAt, inv.AutomaticallyFinalizesAt = InvoiceOpen, now, 0
	var p *Payment
	if due > 0 {
		var err error
		if p, err = e.newPayment(inv, due, now); err != nil {
			return err
		}
	}
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	if bt != nil {
		if err := e.recordBalanceChange(bt, custBefore, cust, now); err != nil {
			return err
		}
	}
	if err := e.emit(EventInvoiceFinalized, now, snapshotInvoice(inv)); err != nil {
		return err
	}
	if err := e.scheduleOverdue(inv, now); err != nil {
		return err
	}
	if p == nil {
		return nil
	}
	return e.emit(EventPaymentCreated, now, snapshotPayment(p))
}

// newPayment makes the payment that collects amount of inv, and the
// invoice payment linking them, and sets it as inv's payment. The caller
// saves inv and announces the payment.
func (e *Engine) newPayment(inv *Invoice, amount, now int64) (*Payment, error) {
	p := &Payment{ID: e.L.NewID("pi_"), Created: now, Customer: inv.Customer, Clock: inv.Clock, Invoice: inv.ID,
		Amount: amount, Currency: inv.Currency, Status: PaymentRequiresPaymentMethod, OffSession: true}
	if err := e.L.PutPayment(p); err != nil {
		return nil, err
	}
	ip := &InvoicePayment{ID: e.L.NewID("inpay_"), Created: now, Invoice: inv.ID, Payment: p.ID, Clock: inv.Clock,
		Currency: inv.Currency, AmountRequested: amount, Status: InvoicePaymentOpen, IsDefault: true}
	if err := e.L.PutInvoicePayment(ip); err != nil {
		return nil, err
	}
	inv.Payment = p.ID
	return p, nil
}

// paymentOf returns inv's payment, making it if inv has none (an invoice
// finalized before billclock made payments).
func (e *Engine) paymentOf(inv *Invoice, at int64) (*Payment, error) {
	if inv.Payment != "" {
		return e.L.Payment(inv.Payment)
	}
	p, err := e.newPayment(inv, inv.AmountDue(), at)
	if err != nil {
		return nil, err
	}
	if err := e.L.PutInvoice(inv); err != nil {
		return nil, err
	}
	return p, e.emit(EventPaymentCreated, at, snapshotPayment(p))
}

// recordBalanceChange saves a balance transaction and announces it and
// the customer's new balance.
func (e *Engine) recordBalanceChange(bt *BalanceTransaction, before, cust *Customer, at int64) error {
	if err := e.L.PutBalanceTransaction(bt); err != nil {
		return err
	}
	c := *bt
	if err := e.emit(EventBalanceTransactionCreated, at, &c); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventCustomerUpdated, Time: at, Object: snapshotCustomer(cust), Before: before})
}

// countAttempt records an attempt to collect inv: the first attempt
// always counts; after it, only automatic ones do.
func countAttempt(inv *Invoice, automatic bool) {
	inv.Attempted = true
	if automatic || inv.AttemptCount == 0 {
		inv.AttemptCount++
	}
}

// markPaid records inv as paid at at by its payment p (nil: nothing was
// due, or it was paid out of band).
func (e *Engine) markPaid(inv *Invoice, p *Payment, at int64) error {
	inv.Status, inv.PaidAt, inv.AmountPaid, inv.NextPaymentAttempt = InvoicePaid, at, inv.AmountDue(), 0
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	var paid *InvoicePayment
	if p != nil {
		ips, err := e.L.InvoicePayments(inv.ID)
		if err != nil {
			return err
		}
		for _, ip := range ips {
			if ip.Payment == p.ID && ip.Status == InvoicePaymentOpen {
				ip.Status, ip.AmountPaid, ip.PaidAt = InvoicePaymentPaid, p.AmountReceived, at
				if err := e.L.PutInvoicePayment(ip); err != nil {
					return err
				}
				paid = ip
			}
		}
	}
	// One snapshot for both events: the surface may render it once.
	snap := snapshotInvoice(inv)
	if err := e.emit(EventInvoicePaid, at, snap); err != nil {
		return err
	}
	if inv.PaidOutOfBand {
		return nil
	}
	if err := e.emit(EventInvoicePaymentSucceeded, at, snap); err != nil {
		return err
	}
	if paid == nil {
		return nil
	}
	c := *paid
	return e.emit(EventInvoicePaymentPaid, at, &c)
}

// payNothing marks an invoice with nothing due paid, which counts as its
// first attempt.
func (e *Engine) payNothing(inv *Invoice, at int64) error {
	countAttempt(inv, false)
	return e.markPaid(inv, nil, at)
}

// attemptInvoice makes one attempt to collect inv with pm (nil: nothing to
// charge) at at, and records the outcome on inv. An automatic attempt
// counts in attempt_count; when dunning, its failure schedules the next
// retry from the account's policy or, after the last retry (exhausted),
// applies the policy's invoice action (followInvoice applies its
// subscription action). It returns the decline, if any.
func (e *Engine) attemptInvoice(inv *Invoice, pm *PaymentMethod, automatic, dunning bool, at int64) (decl *Declined, exhausted bool, err error) {
	p, err := e.paymentOf(inv, at)
	if err != nil {
		return nil, false, err
	}
	before := snapshotInvoice(inv)
	if decl, err = e.attempt(p, pm, at); err != nil {
		return nil, false, err
	}
	countAttempt(inv, automatic)
	if decl == nil {
		return nil, false, e.markPaid(inv, p, at)
	}
	if automatic && dunning {
		if exhausted, err = e.scheduleRetry(inv, at); err != nil {
			return nil, false, err
		}
	}
	if err := e.L.PutInvoice(inv); err != nil {
		return nil, false, err
	}
	typ := EventInvoicePaymentFailed
	if decl.Reason == DeclineAuthenticationRequired {
		typ = EventInvoicePaymentActionRequired
	}
	snap := snapshotInvoice(inv)
	if err := e.emit(typ, at, snap); err != nil {
		return nil, false, err
	}
	if inv.Status == InvoiceUncollectible && before.Status != InvoiceUncollectible {
		if err := e.emit(EventInvoiceMarkedUncollectible, at, snap); err != nil {
			return nil, false, err
		}
	}
	if invoiceChanged(before, inv) {
		err = e.L.Emit(Event{Type: EventInvoiceUpdated, Time: at, Object: snap, Before: before})
	}
	return decl, exhausted, err
}

// invoiceChanged reports whether an attempt changed what an invoice shows.
func invoiceChanged(a, b *Invoice) bool {
	return a.Status != b.Status || a.Attempted != b.Attempted || a.AttemptCount != b.AttemptCount ||
		a.NextPaymentAttempt != b.NextPaymentAttempt || a.AutoAdvance != b.AutoAdvance
}

// scheduleRetry plans what follows a failed automatic attempt of inv at at:
// the next retry, at RetryAfter[n] after the first failure (n retries
// done), or after the last one no retry and the policy's invoice action.
func (e *Engine) scheduleRetry(inv *Invoice, at int64) (exhausted bool, err error) {
	policy, err := e.L.Policy()
	if err != nil {
		return false, err
	}
	if inv.FirstFailureAt == 0 {
		inv.FirstFailureAt = at
	}
	if n := inv.AttemptCount - 1; n >= 0 && n < len(policy.RetryAfter) {
		// A policy changed meanwhile may put the retry in the past: it
		// is then due at once.
		next := max(inv.FirstFailureAt+policy.RetryAfter[n], at+1)
		inv.NextPaymentAttempt = next
		return false, e.L.Schedule(Task{Clock: inv.Clock, At: next, Kind: TaskRetryPayment, Subject: inv.ID, Expect: next})
	}
	inv.NextPaymentAttempt = 0
	if policy.InvoiceAction == InvoiceMarkUncollectible {
		inv.Status, inv.MarkedUncollectibleAt = InvoiceUncollectible, at
	}
	if policy.SubscriptionAction == FinalCancel && inv.Subscription != "" {
		// Canceling the subscription stops the invoice's collection.
		inv.AutoAdvance = false
	}
	return true, nil
}

// followInvoice moves sub's status after an attempt to collect inv, which
// counts only when inv is sub's latest invoice: paid makes a past_due,
// unpaid or incomplete subscription active; a failure makes an active one
// past_due (unless the policy keeps it active while retrying); the failure
// of the last retry applies the policy's subscription action. A
// cancellation is saved and announced at once; any other change only when
// announce is set (otherwise the caller saves and announces it).
func (e *Engine) followInvoice(sub *Subscription, inv *Invoice, exhausted, announce bool, at int64) error {
	if sub == nil || sub.LatestInvoice != inv.ID || sub.Ended() {
		return nil
	}
	before := snapshotSub(sub)
	switch {
	case inv.Status == InvoicePaid:
		switch sub.Status {
		case StatusPastDue, StatusUnpaid, StatusIncomplete:
			sub.Status = StatusActive
		}
	case inv.Status == InvoiceVoid:
	case exhausted:
		policy, err := e.L.Policy()
		if err != nil {
			return err
		}
		switch policy.SubscriptionAction {
		case FinalCancel:
			sub.CancellationReason = CancelPaymentFailed
			return e.end(sub, at)
		case FinalUnpaid:
			sub.Status = StatusUnpaid
		case FinalPastDue:
			sub.Status = StatusPastDue
		}
	case sub.Status == StatusActive:
		policy, err := e.L.Policy()
		if err != nil {
			return err
		}
		if !policy.StayActiveWhileRetrying {
			sub.Status = StatusPastDue
		}
	}
	if sub.Status == before.Status || !announce {
		return nil
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	return e.emitUpdated(before, sub, at)
}

// subscriptionOf is inv's subscription, or nil (none, or gone).
func (e *Engine) subscriptionOf(inv *Invoice) (*Subscription, error) {
	if inv.Subscription == "" {
		return nil, nil
	}
	sub, err := e.L.Subscription(inv.Subscription)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	return sub, nil
}

// finalizeAndCollect finalizes a draft that falls due and collects it at
// once, unless its subscription is unpaid: such invoices are made but
// never attempted.
func (e *Engine) finalizeAndCollect(inv *Invoice, cust *Customer, at int64) error {
	sub, err := e.subscriptionOf(inv)
	if err != nil {
		return err
	}
	if err := e.finalize(inv, cust, at); err != nil {
		return err
	}
	if inv.AmountDue() == 0 {
		if err := e.payNothing(inv, at); err != nil {
			return err
		}
		return e.followInvoice(sub, inv, false, true, at)
	}
	if inv.sentForPayment() {
		return e.issue(inv, at)
	}
	if sub != nil && sub.Status == StatusUnpaid {
		return nil
	}
	pm, err := e.paymentMethodFor(sub, cust)
	if err != nil {
		return err
	}
	// The first invoice of an incomplete subscription is not retried.
	_, exhausted, err := e.attemptInvoice(inv, pm, true, sub == nil || sub.Status != StatusIncomplete, at)
	if err != nil {
		return err
	}
	return e.followInvoice(sub, inv, exhausted, true, at)
}

// invoiceChange records an invoice made by a change to sub (prorations
// invoiced at once, a trial ended now, a cancellation invoiced now) and
// collects it at once as behavior says. The subscription's new status is
// left for the caller to save and announce. With ErrorIfIncomplete or
// PendingIfIncomplete a decline is returned as the error: the change must
// not be applied.
func (e *Engine) invoiceChange(inv *Invoice, sub *Subscription, cust *Customer, behavior PaymentBehavior, at int64) error {
	if err := e.priceNewInvoice(inv, sub, cust, at); err != nil {
		return err
	}
	if err := e.emit(EventInvoiceCreated, at, snapshotInvoice(inv)); err != nil {
		return err
	}
	if err := e.finalize(inv, cust, at); err != nil {
		return err
	}
	if inv.AmountDue() == 0 {
		if err := e.payNothing(inv, at); err != nil {
			return err
		}
		return e.followInvoice(sub, inv, false, false, at)
	}
	switch {
	case inv.sentForPayment():
		return e.issue(inv, at)
	case behavior == DefaultIncomplete:
		// Not attempted: the subscription waits for the invoice's payment.
		if sub.Status == StatusActive {
			sub.Status = StatusPastDue
		}
		return nil
	case sub.Status == StatusUnpaid:
		return nil
	}
	pm, err := e.paymentMethodFor(sub, cust)
	if err != nil {
		return err
	}
	decl, exhausted, err := e.attemptInvoice(inv, pm, true, true, at)
	if err != nil {
		return err
	}
	if decl != nil && (behavior == ErrorIfIncomplete || behavior == PendingIfIncomplete) {
		return decl
	}
	return e.followInvoice(sub, inv, exhausted, false, at)
}

// PayOptions say how Pay collects an invoice.
type PayOptions struct {
	// PaymentMethod, if set, is charged instead of the defaults an
	// automatic attempt would use.
	PaymentMethod *PaymentMethod
	// OutOfBand marks the invoice paid outside billclock: nothing is
	// charged and its payment is canceled.
	OutOfBand bool
}

// Pay collects an open or uncollectible invoice by hand at now. A manual
// attempt counts in attempt_count only as an invoice's first, and leaves
// the retry schedule as it is. A decline is returned as a *Declined error;
// what the attempt left (a failed charge, the invoice attempted) is saved
// all the same, and the caller keeps it.
func (e *Engine) Pay(inv *Invoice, opts PayOptions, now int64) error {
	switch inv.Status {
	case InvoicePaid:
		return inv.refusal(CodeInvoicePaid)
	case InvoiceVoid:
		return inv.refusal(CodeInvoiceVoid)
	case InvoiceDraft:
		return inv.refusal(CodeInvoiceDraft)
	}
	sub, err := e.subscriptionOf(inv)
	if err != nil {
		return err
	}
	switch {
	case opts.OutOfBand:
		inv.PaidOutOfBand = true
		if err := e.cancelPayment(inv, "", now); err != nil {
			return err
		}
		if err := e.markPaid(inv, nil, now); err != nil {
			return err
		}
		return e.followInvoice(sub, inv, false, true, now)
	case inv.AmountDue() == 0:
		if err := e.payNothing(inv, now); err != nil {
			return err
		}
		return e.followInvoice(sub, inv, false, true, now)
	}
	pm := opts.PaymentMethod
	if pm == nil {
		cust, err := e.L.Customer(inv.Customer)
		if err != nil {
			return err
		}
		if pm, err = e.paymentMethodFor(sub, cust); err != nil {
			return err
		}
	}
	decl, _, err := e.attemptInvoice(inv, pm, false, false, now)
	if err != nil {
		return err
	}
	if err := e.followInvoice(sub, inv, false, true, now); err != nil {
		return err
	}
	if decl != nil {
		return decl
	}
	return nil
}

// Void voids an open or uncollectible invoice: its payment is canceled and
// the customer balance it applied is given back.
func (e *Engine) Void(inv *Invoice, now int64) error {
	if inv.Status != InvoiceOpen && inv.Status != InvoiceUncollectible {
		e := inv.refusal(CodeInvoiceNotVoidable)
		e.Status = string(inv.Status)
		return e
	}
	before := snapshotInvoice(inv)
	inv.Status, inv.VoidedAt, inv.NextPaymentAttempt = InvoiceVoid, now, 0
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	if err := e.emit(EventInvoiceVoided, now, snapshotInvoice(inv)); err != nil {
		return err
	}
	if err := e.L.Emit(Event{Type: EventInvoiceUpdated, Time: now, Object: snapshotInvoice(inv), Before: before}); err != nil {
		return err
	}
	if err := e.cancelPayment(inv, "void_invoice", now); err != nil {
		return err
	}
	return e.unapplyBalance(inv, now)
}

// cancelPayment cancels inv's payment, if it has one still to collect, and
// its invoice payments, giving reason.
func (e *Engine) cancelPayment(inv *Invoice, reason string, now int64) error {
	if inv.Payment == "" {
		return nil
	}
	p, err := e.L.Payment(inv.Payment)
	if err != nil {
		return ignoreNotFound(err)
	}
	if p.Status == PaymentSucceeded || p.Status == PaymentCanceled {
		return nil
	}
	p.Status, p.CanceledAt, p.CancellationReason = PaymentCanceled, now, reason
	if err := e.L.PutPayment(p); err != nil {
		return err
	}
	ips, err := e.L.InvoicePayments(inv.ID)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if ip.Payment == p.ID && ip.Status == InvoicePaymentOpen {
			ip.Status, ip.CanceledAt = InvoicePaymentCanceled, now
			if err := e.L.PutInvoicePayment(ip); err != nil {
				return err
			}
		}
	}
	return e.emit(EventPaymentCanceled, now, snapshotPayment(p))
}

// unapplyBalance gives the customer back the balance a voided invoice
// applied.
func (e *Engine) unapplyBalance(inv *Invoice, now int64) error {
	amount := inv.StartingBalance - inv.EndingBalance
	if amount == 0 {
		return nil
	}
	cust, err := e.L.Customer(inv.Customer)
	if err != nil {
		return ignoreNotFound(err)
	}
	before := snapshotCustomer(cust)
	cust.Balance += amount
	cust.BalanceCurrency = inv.Currency
	if err := e.L.PutCustomer(cust); err != nil {
		return err
	}
	bt := &BalanceTransaction{ID: e.L.NewID("cbtxn_"), Created: now, Customer: cust.ID, Clock: cust.Clock,
		Amount: amount, Currency: inv.Currency, EndingBalance: cust.Balance, Type: BalanceUnappliedFromInvoice,
		Invoice: inv.ID}
	return e.recordBalanceChange(bt, before, cust, now)
}

// retry is a scheduled retry of an invoice's payment: it runs while the
// invoice is open and collected automatically and its subscription lives,
// with the payment method the defaults give now.
func (e *Engine) retry(t *Task) error {
	inv, err := e.L.Invoice(t.Subject)
	if err != nil || inv.Status != InvoiceOpen || !inv.AutoAdvance || inv.NextPaymentAttempt != t.Expect {
		return ignoreNotFound(err)
	}
	cust, err := e.L.Customer(inv.Customer)
	if err != nil {
		return ignoreNotFound(err)
	}
	sub, err := e.subscriptionOf(inv)
	if err != nil || sub != nil && sub.Ended() {
		return err
	}
	pm, err := e.paymentMethodFor(sub, cust)
	if err != nil {
		return err
	}
	_, exhausted, err := e.attemptInvoice(inv, pm, true, true, t.At)
	if err != nil {
		return err
	}
	return e.followInvoice(sub, inv, exhausted, true, t.At)
}

// expireIncomplete ends a subscription still incomplete 23 hours after it
// was created: its unpaid invoice is voided.
func (e *Engine) expireIncomplete(sub *Subscription, at int64) error {
	inv, err := e.L.Invoice(sub.LatestInvoice)
	switch {
	case err == nil && (inv.Status == InvoiceOpen || inv.Status == InvoiceUncollectible):
		if err := e.Void(inv, at); err != nil {
			return err
		}
	case ignoreNotFound(err) != nil:
		return err
	}
	sub.Status, sub.EndedAt = StatusIncompleteExpired, at
	if sub.CanceledAt == 0 {
		sub.CanceledAt = at
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	return e.emit(EventSubscriptionDeleted, at, snapshotSub(sub))
}

// stopCollection turns off the automatic collection of an open invoice.
func (e *Engine) stopCollection(invoice string, at int64) error {
	if invoice == "" {
		return nil
	}
	inv, err := e.L.Invoice(invoice)
	if err != nil || inv.Status != InvoiceOpen || !inv.AutoAdvance {
		return ignoreNotFound(err)
	}
	before := snapshotInvoice(inv)
	inv.AutoAdvance, inv.NextPaymentAttempt = false, 0
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventInvoiceUpdated, Time: at, Object: snapshotInvoice(inv), Before: before})
}

func snapshotCustomer(c *Customer) *Customer {
	s := *c
	s.Metadata = maps.Clone(c.Metadata)
	return &s
}
