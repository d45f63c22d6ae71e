package billing

// This file is pausing. Two different things pause a subscription:
//
//   - Paused collection (Subscription.PauseCollection): the subscription
//     stays as it is (active) and renews, but its renewal invoices are not
//     collected. With PauseKeepAsDraft each stays a draft that is never
//     finalized automatically; with PauseMarkUncollectible it is finalized
//     and marked uncollectible at once; with PauseVoid finalized and voided
//     at once. Nothing is attempted. Collection resumes when the pause is
//     cleared, or by itself at ResumesAt (a clock task).
//   - The paused status: a trial that ended with nothing to charge under
//     MissingPaymentMethodPause. Such a subscription makes no invoices
//     until ResumeSubscription brings it back.

// PauseBehavior is what happens to the invoices of a subscription whose
// collection is paused.
type PauseBehavior string

// Pause behaviours.
const (
	PauseKeepAsDraft       PauseBehavior = "keep_as_draft"
	PauseMarkUncollectible PauseBehavior = "mark_uncollectible"
	PauseVoid              PauseBehavior = "void"
)

// PauseCollection pauses the collection of a subscription's invoices.
type PauseCollection struct {
	Behavior PauseBehavior `json:"behavior"`
	// ResumesAt, if not zero, is when collection resumes by itself.
	ResumesAt int64 `json:"resumes_at,omitempty"`
}

// TaskResumeCollection ends a subscription's paused collection at its
// ResumesAt (Expect: that time).
const TaskResumeCollection TaskKind = "resume_collection"

// EventSubscriptionResumed: a paused subscription was resumed.
const EventSubscriptionResumed EventType = "subscription.resumed"

// Pausing refusals.
const (
	// CodePauseResumesAtNotFuture: a ResumesAt that is not after now.
	CodePauseResumesAtNotFuture Code = "pause_resumes_at_not_future"
	// CodeNotPaused: the subscription ID, in Status, is not paused and
	// cannot be resumed.
	CodeNotPaused Code = "not_paused"
	// CodePaused: the subscription ID is paused; it must be resumed
	// before its billing cycle can be reset.
	CodePaused Code = "subscription_paused"
)

// setPauseCollection pauses (p.Behavior set) or resumes (p zero) the
// collection of sub's invoices at now.
func (e *Engine) setPauseCollection(sub *Subscription, p PauseCollection, now int64) error {
	if p.Behavior == "" {
		sub.PauseCollection = nil
		return nil
	}
	if p.ResumesAt != 0 && p.ResumesAt <= now {
		return invalid(CodePauseResumesAtNotFuture, "pause_collection[resumes_at]")
	}
	sub.PauseCollection = &p
	if p.ResumesAt == 0 {
		return nil
	}
	return e.L.Schedule(Task{Clock: sub.Clock, At: p.ResumesAt, Kind: TaskResumeCollection, Subject: sub.ID, Expect: p.ResumesAt})
}

// collectionPaused is sub's paused collection in force at at, or nil.
func collectionPaused(sub *Subscription, at int64) *PauseCollection {
	p := sub.PauseCollection
	if p == nil || p.ResumesAt != 0 && p.ResumesAt <= at {
		return nil
	}
	return p
}

// holdPausedRenewal keeps a renewal draft of sub, made at at, from being
// finalized when its collection is paused to keep drafts.
func holdPausedRenewal(inv *Invoice, sub *Subscription, at int64) {
	if p := collectionPaused(sub, at); p != nil && p.Behavior == PauseKeepAsDraft {
		inv.AutoAdvance, inv.AutomaticallyFinalizesAt = false, 0
	}
}

// settlePausedRenewal finalizes a renewal invoice of sub, just made at at,
// and voids it or marks it uncollectible when sub's collection is paused
// so.
func (e *Engine) settlePausedRenewal(inv *Invoice, sub *Subscription, cust *Customer, at int64) error {
	p := collectionPaused(sub, at)
	if p == nil || p.Behavior == PauseKeepAsDraft {
		return nil
	}
	if err := e.finalize(inv, cust, at); err != nil {
		return err
	}
	if p.Behavior == PauseVoid {
		return e.Void(inv, at)
	}
	before := snapshotInvoice(inv)
	inv.Status, inv.MarkedUncollectibleAt, inv.NextPaymentAttempt = InvoiceUncollectible, at, 0
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	snap := snapshotInvoice(inv)
	if err := e.emit(EventInvoiceMarkedUncollectible, at, snap); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventInvoiceUpdated, Time: at, Object: snap, Before: before})
}

// resumeCollection is the task that ends a paused collection at its
// ResumesAt.
func (e *Engine) resumeCollection(sub *Subscription, t *Task) error {
	if sub.PauseCollection == nil || sub.PauseCollection.ResumesAt != t.Expect {
		return nil
	}
	before := snapshotSub(sub)
	sub.PauseCollection = nil
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	return e.emitUpdated(before, sub, t.At)
}

// ResumeOptions say how ResumeSubscription restarts a paused subscription.
type ResumeOptions struct {
	// KeepAnchor keeps the billing cycle anchor: the subscription resumes
	// within the period of its old cycle that holds now, prorated as
	// ProrationBehavior says. Otherwise a new cycle starts now, invoiced
	// at once in full.
	KeepAnchor bool
	// ProrationBehavior is one of the Prorate* constants; empty means
	// create_prorations.
	ProrationBehavior string
	// ProrationDate, if not zero, is the time prorations are computed
	// for (KeepAnchor only).
	ProrationDate int64
}

// ResumeSubscription brings back, at now, a subscription paused when its
// trial ended with nothing to charge. A new cycle (the default) is
// invoiced and collected at once: paid, the subscription is active; not,
// it is past due. Keeping the anchor bills the rest of the current period
// as a proration (pending until the next renewal, invoiced at once with
// ProrateAlways, or not at all with ProrateNone) and makes it active.
func (e *Engine) ResumeSubscription(id string, opts ResumeOptions, now int64) (*Subscription, error) {
	sub, err := e.L.Subscription(id)
	if err != nil {
		return nil, err
	}
	if sub.Status != StatusPaused {
		e := sub.refusal(CodeNotPaused, "")
		e.Status = string(sub.Status)
		return nil, e
	}
	cust, err := e.L.Customer(sub.Customer)
	if err != nil {
		return nil, err
	}
	before := snapshotSub(sub)
	sub.Status = StatusActive
	behavior := opts.ProrationBehavior
	if behavior == "" {
		behavior = ProrateCreate
	}
	if !opts.KeepAnchor {
		if err := e.startCycle(sub, cust, AllowIncomplete, now); err != nil {
			return nil, err
		}
	} else if err := e.resumeInCycle(sub, cust, behavior, opts.ProrationDate, now); err != nil {
		return nil, err
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return nil, err
	}
	if err := e.emitUpdated(before, sub, now); err != nil {
		return nil, err
	}
	return sub, e.emit(EventSubscriptionResumed, now, snapshotSub(sub))
}

// resumeInCycle resumes sub at now in the period of its cycle that holds
// now, billing what is left of it as behavior says (prorated for t, the
// proration date, or now).
func (e *Engine) resumeInCycle(sub *Subscription, cust *Customer, behavior string, t, now int64) error {
	k := sub.PeriodIndex
	for sub.Interval.Nth(sub.BillingCycleAnchor, k+1) <= now {
		k++
	}
	start, end := sub.Interval.Nth(sub.BillingCycleAnchor, k), sub.Interval.Nth(sub.BillingCycleAnchor, k+1)
	sub.PeriodIndex, sub.PeriodStart, sub.PeriodEnd = k+1, start, end
	if t == 0 {
		t = now
	}
	if t < start || t > end {
		e := sub.refusal(CodeProrationDateOutsidePeriod, "proration_date")
		e.Min, e.Max = start, end
		return e
	}
	if behavior != ProrateNone && t < end {
		for _, it := range sub.Items {
			if it.Units != nil {
				continue
			}
			rp, err := e.recurringPrice(it.Price, "", nil)
			if err != nil {
				return err
			}
			amount, err := proratedLine(rp.UnitAmount, it.Quantity, 1, start, end, t)
			if err != nil {
				return err
			}
			ii := &InvoiceItem{ID: e.L.NewID("ii_"), Customer: sub.Customer, Clock: sub.Clock, Date: now,
				Amount: amount, Currency: sub.Currency, Proration: true, Price: rp.ID, Quantity: it.Quantity,
				Subscription: sub.ID, SubscriptionItem: it.ID, PeriodStart: t, PeriodEnd: end,
				Billed: rp.billed(LineProrationDebit)}
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
		if behavior == ProrateAlways {
			inv := e.newInvoice(cust, sub, ReasonSubscriptionUpdate, now)
			if err := e.sweepPending(inv, func(ii *InvoiceItem) bool { return ii.Subscription == sub.ID }); err != nil {
				return err
			}
			if len(inv.Lines) > 0 {
				sub.LatestInvoice = inv.ID
				if err := e.invoiceChange(inv, sub, cust, AllowIncomplete, now); err != nil {
					return err
				}
			}
		}
	}
	return e.L.Schedule(Task{Clock: sub.Clock, At: sub.PeriodEnd, Kind: TaskPeriodEnd, Subject: sub.ID, Expect: sub.PeriodEnd})
}
