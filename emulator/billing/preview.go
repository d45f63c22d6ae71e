package billing

// This file is previews: the invoice a subscription's next renewal, a
// change to it or a new subscription would make, computed by the engine's
// own work run on a scratch copy of the ledger (scratch.go), so that the
// preview is what the work will really make and nothing is stored. The
// invoice is the one the work made, as it was when announced made (a
// draft, priced), marked Preview. The upcoming-invoice notice announces a
// subscription's next renewal invoice some time before it (the dunning
// policy's UpcomingNotice).

// EventInvoiceUpcoming announces a subscription's next renewal invoice
// ahead of it; its object is the preview of that invoice.
const EventInvoiceUpcoming EventType = "invoice.upcoming"

// CodeNoUpcomingInvoice: the subscription ID (Resource "subscription") of
// the customer Value will make no invoice: it ends, or is paused, before
// its period does.
const CodeNoUpcomingInvoice Code = "no_upcoming_invoice"

// preview runs work on a scratch copy of e's ledger and returns the first
// invoice it announced made, marked Preview, or nil if it made none.
// Invoice items the work made are not referred to by the preview's
// lines: they exist only in the scratch.
func (e *Engine) preview(work func(pe *Engine, s *scratch) error) (*Invoice, error) {
	s := newScratch(e.L)
	if err := work(&Engine{L: s}, s); err != nil {
		return nil, err
	}
	return previewOf(s), nil
}

// previewOf is the first invoice announced made in s, as a preview.
func previewOf(s *scratch) *Invoice {
	for _, ev := range s.events {
		made, ok := ev.Object.(*Invoice)
		if ev.Type != EventInvoiceCreated || !ok {
			continue
		}
		inv := snapshotInvoice(made)
		inv.Preview = true
		for i := range inv.Lines {
			if id := inv.Lines[i].InvoiceItem; id != "" {
				if _, err := s.base.InvoiceItem(id); err != nil {
					inv.Lines[i].InvoiceItem = ""
				}
			}
		}
		return inv
	}
	return nil
}

// noUpcoming refuses a preview of sub, which makes no invoice.
func noUpcoming(sub *Subscription) *Error {
	e := sub.refusal(CodeNoUpcomingInvoice, "")
	e.Value = sub.Customer
	return e
}

// renews reports whether sub will renew at the end of its period: it
// lives, is not paused, waits for no payment that would end it first, and
// is not set to end by then.
func (s *Subscription) renews() bool {
	switch {
	case s.Ended(), s.Status == StatusPaused, s.Status == StatusIncomplete && !s.IncompleteUntilPaid:
		return false
	case s.CancelAtPeriodEnd, s.CancelAt != 0 && s.CancelAt <= s.PeriodEnd:
		return false
	}
	return true
}

// renewIn makes, in pe's scratch, sub's next renewal invoice (or its first
// invoice after a trial).
func renewIn(pe *Engine, id string) error {
	sub, err := pe.L.Subscription(id)
	if err != nil {
		return err
	}
	if !sub.renews() {
		return nil
	}
	// A schedule's phase ending at the renewal is entered first, as when
	// the clock gets there: the renewal bills the phase to come.
	if moved, err := pe.phaseEndsFirst(sub, sub.PeriodEnd); err != nil || moved {
		return err
	}
	return pe.endPeriod(sub, sub.PeriodEnd)
}

// PreviewRenewal returns the invoice subscription id's next renewal will
// make, at the end of its current period (or trial), with the pending
// items it will take. A subscription that will not renew has none
// (CodeNoUpcomingInvoice).
func (e *Engine) PreviewRenewal(id string) (*Invoice, error) {
	inv, err := e.preview(func(pe *Engine, _ *scratch) error { return renewIn(pe, id) })
	if err != nil || inv != nil {
		return inv, err
	}
	sub, err := e.L.Subscription(id)
	if err != nil {
		return nil, err
	}
	return nil, noUpcoming(sub)
}

// PreviewUpdate returns the invoice that UpdateSubscription(id, ch, now)
// would make: the one it makes at once (prorations invoiced at once, a
// trial ended now), or else the next renewal's after it, which takes the
// prorations it leaves pending. A decline refuses nothing in a preview.
func (e *Engine) PreviewUpdate(id string, ch SubscriptionChange, now int64) (*Invoice, error) {
	ch.PaymentBehavior = AllowIncomplete
	var sub *Subscription
	inv, err := e.preview(func(pe *Engine, s *scratch) error {
		var err error
		if sub, err = pe.UpdateSubscription(id, ch, now); err != nil {
			return err
		}
		if previewOf(s) != nil {
			return nil
		}
		return renewIn(pe, id)
	})
	if err != nil || inv != nil {
		return inv, err
	}
	return nil, noUpcoming(sub)
}

// PreviewCreate returns the first invoice CreateSubscription(in, now)
// would make. The subscription does not exist: the preview names none.
func (e *Engine) PreviewCreate(in NewSubscription, now int64) (*Invoice, error) {
	in.PaymentBehavior = AllowIncomplete
	inv, err := e.preview(func(pe *Engine, _ *scratch) error {
		_, err := pe.CreateSubscription(in, now)
		return err
	})
	if inv != nil {
		inv.Subscription = ""
	}
	return inv, err
}

// scheduleUpcoming plans the upcoming-invoice notice of sub's current
// period, the policy's UpcomingNotice before its end, unless that is not
// after now (a period shorter than the notice gets none).
func (e *Engine) scheduleUpcoming(sub *Subscription, now int64) error {
	if sub.Ended() {
		return nil
	}
	policy, err := e.L.Policy()
	if err != nil || policy.UpcomingNotice <= 0 {
		return err
	}
	at := sub.PeriodEnd - policy.UpcomingNotice
	if at <= now {
		return nil
	}
	return e.L.Schedule(Task{Clock: sub.Clock, At: at, Kind: TaskUpcoming, Subject: sub.ID, Expect: sub.PeriodEnd})
}

// announceUpcoming announces, at at, the invoice sub's renewal will make,
// unless it will not renew or the account no longer gives the notice.
func (e *Engine) announceUpcoming(sub *Subscription, at int64) error {
	policy, err := e.L.Policy()
	if err != nil || policy.UpcomingNotice <= 0 || !sub.renews() {
		return err
	}
	inv, err := e.PreviewRenewal(sub.ID)
	if err != nil {
		if be, ok := err.(*Error); ok && be.Code == CodeNoUpcomingInvoice {
			return nil
		}
		return err
	}
	return e.emit(EventInvoiceUpcoming, at, inv)
}
