package billing

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
)

// This file is subscription schedules: a plan of phases, each a set of
// items (prices and quantities) for a stretch of time, that the engine
// applies to one subscription as the clock passes the phase boundaries.
//
//   - A schedule starts at its start: at once (its subscription is
//     created from its first phase, backdated when the start is past) or
//     later (not started until then, a clock task).
//   - At the end of each phase the next one is entered (a clock task, run
//     in time order with the rest; a renewal due at the same time runs
//     after it, so that it bills the new phase). Entering a phase replaces
//     the subscription's items: prices held before and after keep their
//     item. Within a billing period the changes are prorated as the
//     phase's proration behaviour says. A phase whose interval differs
//     from the subscription's, or anchored at its start, starts a new
//     billing cycle (the unused time credited unless prorations are off);
//     a phase with a trial puts the subscription in trial until its end.
//   - After the last phase the schedule is completed: its subscription is
//     released (goes on alone) or canceled, as its end behaviour says.
//     Seven days before that it is expiring.
//   - Canceling a schedule cancels its subscription; releasing it leaves
//     the subscription alone, without a schedule. A subscription of a
//     schedule that ends otherwise (canceled directly, or by dunning)
//     cancels the schedule too (aborted, for dunning).
//
// Schedules are kept by a Ledger that also implements ScheduleLedger.

// ScheduleStatus is where a schedule is in its life.
type ScheduleStatus string

// Schedule statuses.
const (
	ScheduleNotStarted ScheduleStatus = "not_started"
	ScheduleActive     ScheduleStatus = "active"
	ScheduleCompleted  ScheduleStatus = "completed"
	ScheduleReleased   ScheduleStatus = "released"
	ScheduleCanceled   ScheduleStatus = "canceled"
)

// What happens to a schedule's subscription after its last phase.
const (
	EndBehaviorRelease = "release"
	EndBehaviorCancel  = "cancel"
)

// AnchorPhaseStart anchors a phase's billing cycle at the phase's start
// (Phase.BillingCycleAnchor); the default keeps the subscription's.
const AnchorPhaseStart = "phase_start"

// ExpiringNotice is how long before its last phase ends a schedule is
// announced as expiring; one that ends sooner is announced at once.
const ExpiringNotice = 7 * 24 * 3600

// Task kinds of schedules; their Subject is the schedule.
const (
	// TaskScheduleStart starts a schedule (Expect: its start).
	TaskScheduleStart TaskKind = "schedule_start"
	// TaskSchedulePhaseEnd ends the phase in force (Expect: its end).
	TaskSchedulePhaseEnd TaskKind = "schedule_phase_end"
	// TaskScheduleExpiring announces the end of the last phase (Expect:
	// that end).
	TaskScheduleExpiring TaskKind = "schedule_expiring"
)

// Events of schedules.
const (
	EventScheduleCreated   EventType = "schedule.created"
	EventScheduleUpdated   EventType = "schedule.updated"
	EventScheduleReleased  EventType = "schedule.released"
	EventScheduleCanceled  EventType = "schedule.canceled"
	EventScheduleCompleted EventType = "schedule.completed"
	// EventScheduleAborted: the schedule was canceled because its
	// subscription was, by dunning or before it started.
	EventScheduleAborted  EventType = "schedule.aborted"
	EventScheduleExpiring EventType = "schedule.expiring"
)

// Schedule refusals.
const (
	// CodePhaseNoEnd: the phase in Param, not the last, says neither when
	// it ends nor how long it lasts.
	CodePhaseNoEnd Code = "phase_no_end"
	// CodePhaseEndNotAfterStart: the phase in Param ends (Max) at or
	// before it starts (Min).
	CodePhaseEndNotAfterStart Code = "phase_end_not_after_start"
	// CodePhaseStartMismatch: the phase in Param starts at Value, not
	// where the phase before it ends (Min).
	CodePhaseStartMismatch Code = "phase_start_mismatch"
	// CodePhaseTrialOutside: the trial end in Param is not within its
	// phase, (Min, Max].
	CodePhaseTrialOutside Code = "phase_trial_outside"
	// CodePhaseEnded: the first phase ends (Max) before now.
	CodePhaseEnded Code = "phase_ended"
	// CodeScheduleStatus: the schedule ID, in Status, cannot be
	// changed as Value (update, cancel or release) asks.
	CodeScheduleStatus Code = "schedule_status"
	// CodeHasSchedule: the subscription ID is managed by a schedule
	// already.
	CodeHasSchedule Code = "has_schedule"
)

// SubscriptionSchedule plans the phases of a subscription.
type SubscriptionSchedule struct {
	ID       string         `json:"id"`
	Customer string         `json:"customer"`
	Clock    string         `json:"clock,omitempty"`
	Created  int64          `json:"created"`
	Status   ScheduleStatus `json:"status"`
	// EndBehavior is EndBehaviorRelease or EndBehaviorCancel.
	EndBehavior string  `json:"end_behavior"`
	Phases      []Phase `json:"phases"`
	// Current is the index of the phase in force while active.
	Current int `json:"current"`
	// Subscription is the subscription the schedule manages (or managed,
	// once completed or canceled); ReleasedSubscription the one it let go.
	Subscription         string            `json:"subscription,omitempty"`
	ReleasedSubscription string            `json:"released_subscription,omitempty"`
	CanceledAt           int64             `json:"canceled_at,omitempty"`
	CompletedAt          int64             `json:"completed_at,omitempty"`
	ReleasedAt           int64             `json:"released_at,omitempty"`
	Metadata             map[string]string `json:"metadata,omitempty"`
	// Defaults of the phases that say nothing of these.
	DefaultAnchor        string `json:"default_anchor,omitempty"`
	DefaultPaymentMethod string `json:"default_payment_method,omitempty"`
	Description          string `json:"description,omitempty"`
}

// End is when the schedule's last phase ends.
func (s *SubscriptionSchedule) End() int64 { return s.Phases[len(s.Phases)-1].End }

// live reports whether the schedule still applies phases, or will.
func (s *SubscriptionSchedule) live() bool {
	return s.Status == ScheduleNotStarted || s.Status == ScheduleActive
}

// Phase is one stretch of a schedule, [Start, End).
type Phase struct {
	Start int64       `json:"start"`
	End   int64       `json:"end"`
	Items []PhaseItem `json:"items"`
	// Currency and Interval are those of the phase's prices.
	Currency string   `json:"currency"`
	Interval Interval `json:"interval"`
	// TrialEnd, if not zero, is when a trial that starts with the phase
	// ends; Trial says the whole phase is one.
	TrialEnd int64 `json:"trial_end,omitempty"`
	Trial    bool  `json:"trial,omitempty"`
	// ProrationBehavior is how entering the phase prorates (Prorate*).
	ProrationBehavior string `json:"proration_behavior"`
	// BillingCycleAnchor is AnchorPhaseStart or "" (automatic).
	BillingCycleAnchor   string            `json:"billing_cycle_anchor,omitempty"`
	Metadata             map[string]string `json:"metadata,omitempty"`
	DefaultPaymentMethod string            `json:"default_payment_method,omitempty"`
	Description          string            `json:"description,omitempty"`
	// AddInvoiceItems are charged on the first invoice of the phase.
	AddInvoiceItems []PhaseInvoiceItem `json:"add_invoice_items,omitempty"`
}

// PhaseItem is one price, times a quantity, of a phase.
type PhaseItem struct {
	Price    string            `json:"price"`
	Quantity int64             `json:"quantity"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// PhaseInvoiceItem is a one-time charge of a phase, with the terms of an
// invoice item (see InvoiceItemSpec): its discounts are redeemed when the
// phase begins.
type PhaseInvoiceItem struct {
	Price        string            `json:"price"`
	Quantity     int64             `json:"quantity"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Discountable *bool             `json:"discountable,omitempty"`
	Discounts    []DiscountSpec    `json:"discounts,omitempty"`
	TaxRates     []string          `json:"tax_rates,omitempty"`
	Period       *ItemPeriod       `json:"period,omitempty"`
}

// invoiceItemSpecs are the one-time charges p makes as it begins, a
// phase's period rules turned into its times.
func (p *Phase) invoiceItemSpecs() []InvoiceItemSpec {
	var out []InvoiceItemSpec
	for _, ii := range p.AddInvoiceItems {
		q := ii.Quantity
		spec := InvoiceItemSpec{Price: ii.Price, Quantity: &q, Metadata: maps.Clone(ii.Metadata), Discountable: ii.Discountable,
			Discounts: slices.Clone(ii.Discounts), TaxRates: slices.Clone(ii.TaxRates)}
		if ii.Period != nil {
			spec.Period = &ItemPeriod{Start: ii.Period.Start.inPhase(p), End: ii.Period.End.inPhase(p)}
		}
		out = append(out, spec)
	}
	return out
}

// ScheduleLedger keeps subscription schedules. A Ledger that also
// implements it lets the engine use schedules. Getters return a NotFound
// *Error for a missing schedule.
type ScheduleLedger interface {
	SubscriptionSchedule(id string) (*SubscriptionSchedule, error)
	PutSubscriptionSchedule(*SubscriptionSchedule) error
	// SchedulesOnClock calls fn for every schedule on clock.
	SchedulesOnClock(clock string, fn func(*SubscriptionSchedule) error) error
}

func (e *Engine) schedules() (ScheduleLedger, error) {
	if l, ok := e.L.(ScheduleLedger); ok {
		return l, nil
	}
	return nil, &Error{Kind: Invalid, Message: "this ledger keeps no subscription schedules"}
}

// PhaseSpec describes one phase of a schedule create or update.
type PhaseSpec struct {
	Items []ItemSpec
	// Start, if not zero, is when the phase starts: it must be where the
	// phase before ends (or, for the first, the schedule's start).
	Start int64
	// The end: End, or Duration, or Iterations of the phase's interval; a
	// last phase with none lasts one interval.
	End        int64
	Duration   *Interval
	Iterations int
	// TrialEnd, if not zero, ends a trial that starts with the phase;
	// Trial makes the whole phase one.
	TrialEnd             int64
	Trial                bool
	ProrationBehavior    string
	BillingCycleAnchor   string
	Metadata             map[string]string
	DefaultPaymentMethod string
	Description          string
	AddInvoiceItems      []InvoiceItemSpec
	// Param is the request parameter of the phase ("phases[0]").
	Param string
}

// NewSchedule is a request to create a schedule: for a customer with its
// phases, or from a subscription (then nothing else is given).
type NewSchedule struct {
	Customer string
	// Start is when the first phase starts; 0 or at most now starts it
	// now (a past start backdates it).
	Start       int64
	EndBehavior string
	Phases      []PhaseSpec
	Metadata    map[string]string
	// FromSubscription makes a schedule of one phase, the subscription's
	// current period with its items, that releases it at the end.
	FromSubscription     string
	DefaultAnchor        string
	DefaultPaymentMethod string
	Description          string
}

// resolvePhases checks specs and turns them into phases from start on;
// currency, if set, is the one every phase must be in.
func (e *Engine) resolvePhases(specs []PhaseSpec, start int64, currency string) ([]Phase, error) {
	if len(specs) == 0 {
		return nil, invalid(CodeMissingParam, "phases")
	}
	phases := make([]Phase, 0, len(specs))
	for i, spec := range specs {
		param := spec.Param
		if param == "" {
			param = fmt.Sprintf("phases[%d]", i)
		}
		if spec.Start != 0 && spec.Start != start {
			e := invalid(CodePhaseStartMismatch, param+"[start_date]")
			e.Min, e.Value = start, fmt.Sprint(spec.Start)
			return nil, e
		}
		if len(spec.Items) == 0 {
			return nil, invalid(CodeMissingParam, param+"[items]")
		}
		p := Phase{Start: start, Currency: currency, ProrationBehavior: spec.ProrationBehavior, Trial: spec.Trial,
			BillingCycleAnchor: spec.BillingCycleAnchor, Metadata: spec.Metadata,
			DefaultPaymentMethod: spec.DefaultPaymentMethod, Description: spec.Description}
		if p.ProrationBehavior == "" {
			p.ProrationBehavior = ProrateCreate
		}
		probe := &Subscription{Currency: currency}
		for j, it := range spec.Items {
			itParam := fmt.Sprintf("%s[items][%d]", param, j)
			if it.Price == "" {
				return nil, invalid(CodeMissingParam, itParam+"[price]")
			}
			rp, err := e.recurringPrice(it.Price, itParam+"[price]", probe)
			if err != nil {
				return nil, err
			}
			probe.Currency, probe.Interval = rp.Currency, *rp.Recurring
			qty := int64(1)
			if it.Quantity != nil {
				qty = *it.Quantity
			}
			if qty < 0 {
				return nil, invalid(CodeNegativeQuantity, itParam+"[quantity]")
			}
			p.Items = append(p.Items, PhaseItem{Price: rp.ID, Quantity: qty, Metadata: it.Metadata})
		}
		p.Currency, p.Interval, currency = probe.Currency, probe.Interval, probe.Currency
		switch {
		case spec.End != 0:
			p.End = spec.End
		case spec.Duration != nil:
			p.End = spec.Duration.Nth(start, 1)
		case spec.Iterations > 0:
			p.End = p.Interval.Nth(start, spec.Iterations)
		case i == len(specs)-1:
			p.End = p.Interval.Nth(start, 1)
		default:
			return nil, invalid(CodePhaseNoEnd, param)
		}
		if p.End <= start {
			e := invalid(CodePhaseEndNotAfterStart, param+"[end_date]")
			e.Min, e.Max = start, p.End
			return nil, e
		}
		if err := CheckTimestamp(param+"[end_date]", p.End); err != nil {
			return nil, err
		}
		for j, ii := range spec.AddInvoiceItems {
			pi, err := e.phaseInvoiceItem(&p, ii, fmt.Sprintf("%s[add_invoice_items][%d]", param, j))
			if err != nil {
				return nil, err
			}
			p.AddInvoiceItems = append(p.AddInvoiceItems, pi)
		}
		p.TrialEnd = spec.TrialEnd
		if spec.Trial && p.TrialEnd == 0 {
			p.TrialEnd = p.End
		}
		if p.TrialEnd != 0 && (p.TrialEnd <= start || p.TrialEnd > p.End || spec.Trial && p.TrialEnd != p.End) {
			e := invalid(CodePhaseTrialOutside, param+"[trial_end]")
			e.Min, e.Max = start, p.End
			return nil, e
		}
		phases = append(phases, p)
		start = p.End
	}
	return phases, nil
}

// phaseInvoiceItem checks spec, a one-time charge of phase p given in
// param, as far as it can before p begins (its discounts are redeemed
// then), and returns it as p keeps it.
func (e *Engine) phaseInvoiceItem(p *Phase, spec InvoiceItemSpec, param string) (PhaseInvoiceItem, error) {
	pi := PhaseInvoiceItem{Price: spec.Price, Quantity: 1, Metadata: spec.Metadata, Discountable: spec.Discountable,
		Discounts: nestDiscounts(spec.Discounts, param), Period: spec.Period}
	if spec.Price == "" {
		return pi, invalid(CodeMissingParam, param+"[price]")
	}
	pr, err := e.L.Price(spec.Price)
	if err != nil {
		return pi, withParam(err, param+"[price]")
	}
	switch {
	case pr.Deleted:
		return pi, NotFoundError("price", pr.ID, param+"[price]")
	case pr.Recurring != nil:
		return pi, priceRefusal(CodePriceNotOneTime, param+"[price]", pr)
	}
	if spec.Quantity != nil {
		if *spec.Quantity < 0 {
			return pi, invalid(CodeNegativeQuantity, param+"[quantity]")
		}
		pi.Quantity = *spec.Quantity
	}
	if pi.TaxRates, err = e.checkTaxRates(spec.TaxRates, nil, param+"[tax_rates]"); err != nil {
		return pi, err
	}
	for _, d := range pi.Discounts {
		if err := e.checkDiscountSpec(d); err != nil {
			return pi, err
		}
	}
	if spec.Period != nil {
		start, end := spec.Period.Start.inPhase(p), spec.Period.End.inPhase(p)
		if start.Type == BoundTimestamp && end.Type == BoundTimestamp && end.Timestamp < start.Timestamp {
			e := invalid(CodeItemPeriodReversed, param+"[period][end]")
			e.Min, e.Max = start.Timestamp, end.Timestamp
			return pi, e
		}
	}
	return pi, nil
}

// CreateSchedule creates a schedule at now, and starts it if its start has
// come.
func (e *Engine) CreateSchedule(in NewSchedule, now int64) (*SubscriptionSchedule, error) {
	sl, err := e.schedules()
	if err != nil {
		return nil, err
	}
	if in.FromSubscription != "" {
		return e.scheduleFromSubscription(sl, in, now)
	}
	cust, err := e.L.Customer(in.Customer)
	if err != nil {
		return nil, withParam(err, "customer")
	}
	start := in.Start
	if start == 0 {
		start = now
	}
	phases, err := e.resolvePhases(in.Phases, start, "")
	if err != nil {
		return nil, err
	}
	if start <= now && phases[0].End <= now {
		e := invalid(CodePhaseEnded, "phases[0][end_date]")
		e.Max = phases[0].End
		return nil, e
	}
	sched := &SubscriptionSchedule{ID: e.L.NewID("sub_sched_"), Customer: cust.ID, Clock: cust.Clock, Created: now,
		Status: ScheduleNotStarted, EndBehavior: in.EndBehavior, Phases: phases, Metadata: in.Metadata,
		DefaultAnchor: in.DefaultAnchor, DefaultPaymentMethod: in.DefaultPaymentMethod, Description: in.Description}
	if sched.EndBehavior == "" {
		sched.EndBehavior = EndBehaviorRelease
	}
	if err := e.scheduleExpiring(sched, now); err != nil {
		return nil, err
	}
	if start > now {
		if err := e.L.Schedule(Task{Clock: sched.Clock, At: start, Kind: TaskScheduleStart, Subject: sched.ID, Expect: start}); err != nil {
			return nil, err
		}
		if err := sl.PutSubscriptionSchedule(sched); err != nil {
			return nil, err
		}
		return sched, e.emitSchedule(EventScheduleCreated, sched, nil, now)
	}
	if err := e.startSchedule(sl, sched, now); err != nil {
		return nil, err
	}
	if err := e.emitSchedule(EventScheduleCreated, sched, nil, now); err != nil {
		return nil, err
	}
	return sched, e.announceExpiring(sched, now)
}

// phaseSettings are the settings of phase p, with the schedule's defaults
// for what it does not say.
func (s *SubscriptionSchedule) phaseSettings(p Phase) (anchor, defaultPM string) {
	anchor, defaultPM = p.BillingCycleAnchor, p.DefaultPaymentMethod
	if anchor == "" {
		anchor = s.DefaultAnchor
	}
	if defaultPM == "" {
		defaultPM = s.DefaultPaymentMethod
	}
	return anchor, defaultPM
}

// startSchedule starts sched at now: its subscription is created from its
// first phase (backdated to the phase's start when that is past).
func (e *Engine) startSchedule(sl ScheduleLedger, sched *SubscriptionSchedule, now int64) error {
	p := sched.Phases[0]
	_, defaultPM := sched.phaseSettings(p)
	in := NewSubscription{Customer: sched.Customer, Metadata: maps.Clone(p.Metadata), ProrationBehavior: p.ProrationBehavior,
		DefaultPaymentMethod: defaultPM, Schedule: sched.ID, Currency: p.Currency}
	for _, it := range p.Items {
		q := it.Quantity
		in.Items = append(in.Items, ItemSpec{Price: it.Price, Quantity: &q, Metadata: maps.Clone(it.Metadata)})
	}
	in.AddInvoiceItems = p.invoiceItemSpecs()
	if p.Start < now {
		in.BackdateStart = p.Start
	}
	if p.TrialEnd > now {
		in.TrialEnd = p.TrialEnd
	}
	if sched.EndBehavior == EndBehaviorCancel {
		in.CancelAt = sched.End()
	}
	sched.Status, sched.Current = ScheduleActive, 0
	// The phase's end is scheduled before the subscription's renewal, so
	// that at a shared boundary it comes first.
	if err := e.schedulePhaseEnd(sched); err != nil {
		return err
	}
	sub, err := e.CreateSubscription(in, now)
	if err != nil {
		return err
	}
	sched.Subscription = sub.ID
	return sl.PutSubscriptionSchedule(sched)
}

func (e *Engine) schedulePhaseEnd(sched *SubscriptionSchedule) error {
	end := sched.Phases[sched.Current].End
	return e.L.Schedule(Task{Clock: sched.Clock, At: end, Kind: TaskSchedulePhaseEnd, Subject: sched.ID, Expect: end})
}

// scheduleExpiring schedules the expiring notice of sched, ExpiringNotice
// before its end, when that lies after now (see announceExpiring).
func (e *Engine) scheduleExpiring(sched *SubscriptionSchedule, now int64) error {
	at := sched.End() - ExpiringNotice
	if at <= now {
		return nil
	}
	return e.L.Schedule(Task{Clock: sched.Clock, At: at, Kind: TaskScheduleExpiring, Subject: sched.ID, Expect: sched.End()})
}

// announceExpiring sends the expiring notice of a live schedule that ends
// within ExpiringNotice of now.
func (e *Engine) announceExpiring(sched *SubscriptionSchedule, now int64) error {
	if !sched.live() || sched.End()-ExpiringNotice > now {
		return nil
	}
	return e.emitSchedule(EventScheduleExpiring, sched, nil, now)
}

func (e *Engine) emitSchedule(typ EventType, sched, before *SubscriptionSchedule, at int64) error {
	ev := Event{Type: typ, Time: at, Object: snapshotSchedule(sched)}
	if before != nil {
		ev.Before = before
	}
	return e.L.Emit(ev)
}

func snapshotSchedule(s *SubscriptionSchedule) *SubscriptionSchedule {
	c := *s
	c.Phases = slices.Clone(s.Phases)
	c.Metadata = maps.Clone(s.Metadata)
	return &c
}

// scheduleFromSubscription makes a schedule of one phase from a
// subscription: its current period and items, released at the end.
func (e *Engine) scheduleFromSubscription(sl ScheduleLedger, in NewSchedule, now int64) (*SubscriptionSchedule, error) {
	sub, err := e.L.Subscription(in.FromSubscription)
	if err != nil {
		return nil, withParam(err, "from_subscription")
	}
	if sub.Ended() {
		return nil, sub.refusal(CodeSubscriptionCanceled, "from_subscription")
	}
	if sub.Schedule != "" {
		return nil, sub.refusal(CodeHasSchedule, "from_subscription")
	}
	p := Phase{Start: sub.PeriodStart, End: sub.PeriodEnd, Currency: sub.Currency, Interval: sub.Interval,
		ProrationBehavior: ProrateCreate, DefaultPaymentMethod: sub.DefaultPaymentMethod}
	if sub.Status == StatusTrialing {
		p.TrialEnd = sub.TrialEnd
	}
	for _, it := range sub.Items {
		p.Items = append(p.Items, PhaseItem{Price: it.Price, Quantity: it.Quantity, Metadata: maps.Clone(it.Metadata)})
	}
	sched := &SubscriptionSchedule{ID: e.L.NewID("sub_sched_"), Customer: sub.Customer, Clock: sub.Clock, Created: now,
		Status: ScheduleActive, EndBehavior: EndBehaviorRelease, Phases: []Phase{p}, Subscription: sub.ID,
		Metadata: in.Metadata}
	if err := e.schedulePhaseEnd(sched); err != nil {
		return nil, err
	}
	if err := e.scheduleExpiring(sched, now); err != nil {
		return nil, err
	}
	if err := sl.PutSubscriptionSchedule(sched); err != nil {
		return nil, err
	}
	before := snapshotSub(sub)
	sub.Schedule = sched.ID
	if err := e.L.PutSubscription(sub); err != nil {
		return nil, err
	}
	if err := e.emitUpdated(before, sub, now); err != nil {
		return nil, err
	}
	if err := e.emitSchedule(EventScheduleCreated, sched, nil, now); err != nil {
		return nil, err
	}
	return sched, e.announceExpiring(sched, now)
}

// applyScheduleTask runs a schedule's clock task.
func (e *Engine) applyScheduleTask(t *Task) error {
	sl, err := e.schedules()
	if err != nil {
		return err
	}
	sched, err := sl.SubscriptionSchedule(t.Subject)
	if err != nil {
		return ignoreNotFound(err)
	}
	switch t.Kind {
	case TaskScheduleStart:
		if sched.Status != ScheduleNotStarted || sched.Phases[0].Start != t.Expect {
			return nil
		}
		if _, err := e.L.Customer(sched.Customer); err != nil {
			return ignoreNotFound(err)
		}
		before := snapshotSchedule(sched)
		if err := e.startSchedule(sl, sched, t.At); err != nil {
			return err
		}
		return e.emitSchedule(EventScheduleUpdated, sched, before, t.At)
	case TaskScheduleExpiring:
		if !sched.live() || sched.End() != t.Expect {
			return nil
		}
		return e.emitSchedule(EventScheduleExpiring, sched, nil, t.At)
	}
	if sched.Status != ScheduleActive || sched.Phases[sched.Current].End != t.Expect {
		return nil
	}
	return e.endPhase(sl, sched, t.At)
}

// phaseEndsFirst runs the end of the phase of sub's schedule due at at,
// before sub's renewal at the same time; the renewal then follows, if
// still due. It reports whether it ran.
func (e *Engine) phaseEndsFirst(sub *Subscription, at int64) (bool, error) {
	if sub.Schedule == "" {
		return false, nil
	}
	sl, ok := e.L.(ScheduleLedger)
	if !ok {
		return false, nil
	}
	sched, err := sl.SubscriptionSchedule(sub.Schedule)
	if err != nil {
		return false, ignoreNotFound(err)
	}
	if sched.Status != ScheduleActive || sched.Subscription != sub.ID || sched.Phases[sched.Current].End > at {
		return false, nil
	}
	if err := e.endPhase(sl, sched, at); err != nil {
		return true, err
	}
	fresh, err := e.L.Subscription(sub.ID)
	if err != nil || fresh.Ended() || fresh.PeriodEnd != at {
		return true, err
	}
	return true, e.endPeriod(fresh, at)
}

// endPhase ends the phase of sched in force at at: the next one begins,
// or after the last the schedule completes.
func (e *Engine) endPhase(sl ScheduleLedger, sched *SubscriptionSchedule, at int64) error {
	before := snapshotSchedule(sched)
	sub, err := e.L.Subscription(sched.Subscription)
	if err != nil {
		return err
	}
	if sched.Current == len(sched.Phases)-1 {
		sched.Status, sched.CompletedAt = ScheduleCompleted, at
		if err := sl.PutSubscriptionSchedule(sched); err != nil {
			return err
		}
		if !sub.Ended() {
			if sched.EndBehavior == EndBehaviorCancel {
				if err := e.end(sub, at); err != nil {
					return err
				}
			} else if err := e.detach(sub, false, sched.End(), at); err != nil {
				return err
			}
		}
		return e.emitSchedule(EventScheduleCompleted, sched, nil, at)
	}
	sched.Current++
	if err := e.schedulePhaseEnd(sched); err != nil {
		return err
	}
	if err := sl.PutSubscriptionSchedule(sched); err != nil {
		return err
	}
	if !sub.Ended() {
		anchor, defaultPM := sched.phaseSettings(sched.Phases[sched.Current])
		if err := e.applyPhase(sub, sched.Phases[sched.Current], anchor, defaultPM, "", at); err != nil {
			return err
		}
	}
	return e.emitSchedule(EventScheduleUpdated, sched, before, at)
}

// detach lets sub go from its schedule at at; unless keepCancel, the
// cancellation the schedule set for its end (scheduleEnd) is dropped.
func (e *Engine) detach(sub *Subscription, keepCancel bool, scheduleEnd, at int64) error {
	before := snapshotSub(sub)
	sub.Schedule = ""
	if !keepCancel && sub.CancelAt == scheduleEnd {
		sub.CancelAt = 0
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	return e.emitUpdated(before, sub, at)
}

// applyPhase makes sub, at at, what phase p says: its items, trial,
// metadata and default payment method. behavior, if set, overrides the
// phase's proration behaviour (a schedule update's).
func (e *Engine) applyPhase(sub *Subscription, p Phase, anchor, defaultPM, behavior string, at int64) error {
	cust, err := e.L.Customer(sub.Customer)
	if err != nil {
		return err
	}
	before := snapshotSub(sub)
	if behavior == "" {
		behavior = p.ProrationBehavior
	}
	trial := p.TrialEnd > at
	restart := anchor == AnchorPhaseStart && p.Start == at || p.Interval != sub.Interval
	paid := sub.billsSeats() && at < sub.PeriodEnd
	prorate := paid && behavior != ProrateNone

	// Match the phase's items to the subscription's by price: an item
	// whose price stays keeps its id. Each change is a credit of what an
	// item held or a debit of what it holds now.
	type change struct {
		item, price string
		qty         int64
	}
	var credits, debits []change
	used := make([]bool, len(sub.Items))
	items := make([]SubscriptionItem, 0, len(p.Items))
	for _, pi := range p.Items {
		k := -1
		for i, it := range sub.Items {
			if !used[i] && it.Price == pi.Price {
				k = i
				break
			}
		}
		if k < 0 {
			it := SubscriptionItem{ID: e.L.NewID("si_"), Created: at, Price: pi.Price, Quantity: pi.Quantity,
				Metadata: maps.Clone(pi.Metadata)}
			items = append(items, it)
			debits = append(debits, change{it.ID, pi.Price, pi.Quantity})
			continue
		}
		used[k] = true
		it := sub.Items[k]
		if restart || trial || it.Quantity != pi.Quantity {
			credits = append(credits, change{it.ID, it.Price, it.Quantity})
			debits = append(debits, change{it.ID, pi.Price, pi.Quantity})
		}
		it.Quantity = pi.Quantity
		it.Metadata = MergeMetadata(maps.Clone(it.Metadata), pi.Metadata)
		items = append(items, it)
	}
	for k, it := range sub.Items {
		if !used[k] {
			credits = append(credits, change{it.ID, it.Price, it.Quantity})
		}
	}
	if prorate {
		if restart || trial {
			debits = nil // the new cycle, or the trial, bills what comes
		}
		for _, l := range []struct {
			list []change
			sign int64
			kind LineKind
		}{{credits, -1, LineProrationCredit}, {debits, 1, LineProrationDebit}} {
			for _, c := range l.list {
				rp, err := e.recurringPrice(c.price, "", nil)
				if err != nil {
					return err
				}
				amount, err := proratedLine(rp.UnitAmount, c.qty, l.sign, sub.PeriodStart, sub.PeriodEnd, at)
				if err != nil {
					return err
				}
				ii := &InvoiceItem{ID: e.L.NewID("ii_"), Customer: sub.Customer, Clock: sub.Clock, Date: at,
					Amount: amount, Currency: sub.Currency, Proration: true, Price: rp.ID, Quantity: c.qty,
					Subscription: sub.ID, SubscriptionItem: c.item, PeriodStart: at, PeriodEnd: sub.PeriodEnd,
					Billed: rp.billed(l.kind)}
				if err := e.prorationTerms(ii, sub, before, at); err != nil {
					return err
				}
				if err := e.L.PutInvoiceItem(ii); err != nil {
					return err
				}
				if err := e.emit(EventInvoiceItemCreated, at, snapshotInvoiceItem(ii)); err != nil {
					return err
				}
			}
		}
	}
	sub.Items, sub.Interval, sub.Currency = items, p.Interval, p.Currency
	sub.Metadata = MergeMetadata(sub.Metadata, p.Metadata)
	if defaultPM != "" {
		sub.DefaultPaymentMethod = defaultPM
	}
	if err := e.addInvoiceItems(cust, sub, p.invoiceItemSpecs(), at); err != nil {
		return err
	}
	switch {
	case trial:
		sub.Status, sub.TrialStart, sub.TrialEnd = StatusTrialing, at, p.TrialEnd
		sub.BillingCycleAnchor, sub.PeriodIndex, sub.PeriodStart, sub.PeriodEnd = p.TrialEnd, 0, at, p.TrialEnd
		if err := e.scheduleSubscription(sub, at); err != nil {
			return err
		}
		if err := e.announceShortTrial(sub, at); err != nil {
			return err
		}
	case restart && (paid || sub.PeriodEnd <= at):
		if sub.Status == StatusTrialing {
			sub.Status = StatusActive
		}
		if err := e.startCycle(sub, cust, AllowIncomplete, at); err != nil {
			return err
		}
	case behavior == ProrateAlways && prorate:
		inv := e.newInvoice(cust, sub, ReasonSubscriptionUpdate, at)
		if err := e.sweepPending(inv, func(ii *InvoiceItem) bool { return ii.Subscription == sub.ID }); err != nil {
			return err
		}
		if len(inv.Lines) > 0 {
			inv.PeriodStart, inv.PeriodEnd = at, at
			sub.LatestInvoice = inv.ID
			if err := e.invoiceChange(inv, sub, cust, AllowIncomplete, at); err != nil {
				return err
			}
		}
	}
	if sub.Ended() || reflect.DeepEqual(before, sub) {
		return nil
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	return e.emitUpdated(before, sub, at)
}

// ScheduleChange is an update to a schedule.
type ScheduleChange struct {
	// Phases, if not nil, replace the phase in force and those after it
	// (or, before the start, all of them).
	Phases      []PhaseSpec
	EndBehavior string
	Metadata    map[string]string
	// ProrationBehavior prorates changes to the phase in force.
	ProrationBehavior    string
	DefaultAnchor        *string
	DefaultPaymentMethod *string
	Description          *string
}

// scheduleRefusal is a CodeScheduleStatus refusal of action on sched.
func scheduleRefusal(sched *SubscriptionSchedule, action string) *Error {
	e := invalid(CodeScheduleStatus, "")
	e.Resource, e.ID, e.Status, e.Value = "subscription_schedule", sched.ID, string(sched.Status), action
	return e
}

// UpdateSchedule changes schedule id at now. New phases from the one in
// force on take effect at once: the subscription is changed to the phase
// in force, prorated as ch.ProrationBehavior (or the phase) says.
func (e *Engine) UpdateSchedule(id string, ch ScheduleChange, now int64) (*SubscriptionSchedule, error) {
	sl, err := e.schedules()
	if err != nil {
		return nil, err
	}
	sched, err := sl.SubscriptionSchedule(id)
	if err != nil {
		return nil, err
	}
	if !sched.live() {
		return nil, scheduleRefusal(sched, "update")
	}
	before := snapshotSchedule(sched)
	sched.Metadata = MergeMetadata(sched.Metadata, ch.Metadata)
	if ch.EndBehavior != "" {
		sched.EndBehavior = ch.EndBehavior
	}
	if ch.DefaultAnchor != nil {
		sched.DefaultAnchor = *ch.DefaultAnchor
	}
	if ch.DefaultPaymentMethod != nil {
		sched.DefaultPaymentMethod = *ch.DefaultPaymentMethod
	}
	if ch.Description != nil {
		sched.Description = *ch.Description
	}
	oldEnd := sched.End()
	var sub *Subscription
	if sched.Status == ScheduleActive {
		if sub, err = e.L.Subscription(sched.Subscription); err != nil {
			return nil, err
		}
	}
	if ch.Phases != nil {
		kept := sched.Phases[:0:0]
		start, currency := sched.Phases[0].Start, ""
		if sched.Status == ScheduleActive {
			kept = slices.Clone(sched.Phases[:sched.Current])
			start, currency = sched.Phases[sched.Current].Start, sched.Phases[sched.Current].Currency
		} else if ch.Phases[0].Start != 0 {
			start = ch.Phases[0].Start
		}
		if ch.Phases[0].Start == 0 {
			ch.Phases[0].Start = start
		}
		phases, err := e.resolvePhases(ch.Phases, start, currency)
		if err != nil {
			return nil, err
		}
		if phases[0].End <= now {
			e := invalid(CodePhaseEnded, "phases[0][end_date]")
			e.Max = phases[0].End
			return nil, e
		}
		sched.Phases = append(kept, phases...)
		if sched.Status == ScheduleActive {
			if err := e.schedulePhaseEnd(sched); err != nil {
				return nil, err
			}
		} else if start != before.Phases[0].Start {
			if start <= now {
				return nil, invalid(CodePhaseEnded, "phases[0][start_date]")
			}
			if err := e.L.Schedule(Task{Clock: sched.Clock, At: start, Kind: TaskScheduleStart, Subject: sched.ID, Expect: start}); err != nil {
				return nil, err
			}
		}
	}
	if sched.End() != oldEnd {
		if err := e.scheduleExpiring(sched, now); err != nil {
			return nil, err
		}
	}
	if err := sl.PutSubscriptionSchedule(sched); err != nil {
		return nil, err
	}
	if sub != nil && !sub.Ended() {
		if ch.Phases != nil {
			p := sched.Phases[sched.Current]
			anchor, defaultPM := sched.phaseSettings(p)
			if p.Start != now {
				anchor = "" // the phase in force has begun: its anchor is in the past
			}
			if err := e.applyPhase(sub, p, anchor, defaultPM, ch.ProrationBehavior, now); err != nil {
				return nil, err
			}
			if sub, err = e.L.Subscription(sub.ID); err != nil {
				return nil, err
			}
		}
		if err := e.cancelAtScheduleEnd(sub, sched, oldEnd, now); err != nil {
			return nil, err
		}
	}
	if err := e.emitSchedule(EventScheduleUpdated, sched, before, now); err != nil {
		return nil, err
	}
	if sched.End() != oldEnd {
		return sched, e.announceExpiring(sched, now)
	}
	return sched, nil
}

// cancelAtScheduleEnd keeps the cancellation a schedule sets on its
// subscription in step with its end behaviour and end (oldEnd: the end it
// had).
func (e *Engine) cancelAtScheduleEnd(sub *Subscription, sched *SubscriptionSchedule, oldEnd, now int64) error {
	want := int64(0)
	if sched.EndBehavior == EndBehaviorCancel {
		want = sched.End()
	}
	if sub.CancelAt == want || sub.CancelAt != 0 && sub.CancelAt != oldEnd {
		return nil // unchanged, or set by the user
	}
	before := snapshotSub(sub)
	sub.CancelAt = want
	if err := e.scheduleCancel(sub); err != nil {
		return err
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	return e.emitUpdated(before, sub, now)
}

// CancelSchedule cancels schedule id at now, and its subscription, as
// CancelSubscription does with invoiceNow and prorate. A schedule not
// started is aborted.
func (e *Engine) CancelSchedule(id string, invoiceNow, prorate bool, now int64) (*SubscriptionSchedule, error) {
	sl, err := e.schedules()
	if err != nil {
		return nil, err
	}
	sched, err := sl.SubscriptionSchedule(id)
	if err != nil {
		return nil, err
	}
	if !sched.live() {
		return nil, scheduleRefusal(sched, "cancel")
	}
	started := sched.Status == ScheduleActive
	sched.Status, sched.CanceledAt = ScheduleCanceled, now
	if err := sl.PutSubscriptionSchedule(sched); err != nil {
		return nil, err
	}
	if started {
		sub, err := e.L.Subscription(sched.Subscription)
		if err != nil {
			return nil, err
		}
		if !sub.Ended() {
			if _, err := e.CancelSubscription(sub.ID, invoiceNow, prorate, now); err != nil {
				return nil, err
			}
		}
	}
	if err := e.emitSchedule(EventScheduleCanceled, sched, nil, now); err != nil {
		return nil, err
	}
	if !started {
		return sched, e.emitSchedule(EventScheduleAborted, sched, nil, now)
	}
	return sched, nil
}

// ReleaseSchedule releases schedule id at now: its subscription goes on
// without it (keeping the cancellation the schedule set, with
// preserveCancel).
func (e *Engine) ReleaseSchedule(id string, preserveCancel bool, now int64) (*SubscriptionSchedule, error) {
	sl, err := e.schedules()
	if err != nil {
		return nil, err
	}
	sched, err := sl.SubscriptionSchedule(id)
	if err != nil {
		return nil, err
	}
	if !sched.live() {
		return nil, scheduleRefusal(sched, "release")
	}
	started := sched.Status == ScheduleActive
	sched.Status, sched.ReleasedAt = ScheduleReleased, now
	if started {
		sched.ReleasedSubscription, sched.Subscription = sched.Subscription, ""
	}
	if err := sl.PutSubscriptionSchedule(sched); err != nil {
		return nil, err
	}
	if started {
		sub, err := e.L.Subscription(sched.ReleasedSubscription)
		if err != nil {
			return nil, err
		}
		if !sub.Ended() {
			if err := e.detach(sub, preserveCancel, sched.End(), now); err != nil {
				return nil, err
			}
		}
	}
	return sched, e.emitSchedule(EventScheduleReleased, sched, nil, now)
}

// subscriptionEnded cancels the live schedule of sub, which ended at at by
// other means than the schedule: aborted when dunning ended it.
func (e *Engine) subscriptionEnded(sub *Subscription, at int64) error {
	if sub.Schedule == "" {
		return nil
	}
	sl, ok := e.L.(ScheduleLedger)
	if !ok {
		return nil
	}
	sched, err := sl.SubscriptionSchedule(sub.Schedule)
	if err != nil {
		return ignoreNotFound(err)
	}
	if sched.Status != ScheduleActive || sched.Subscription != sub.ID {
		return nil
	}
	if sched.EndBehavior == EndBehaviorCancel && at >= sched.End() {
		// The cancellation the schedule set for its end came first: the
		// schedule is done, not canceled.
		sched.Status, sched.CompletedAt = ScheduleCompleted, at
		if err := sl.PutSubscriptionSchedule(sched); err != nil {
			return err
		}
		return e.emitSchedule(EventScheduleCompleted, sched, nil, at)
	}
	sched.Status, sched.CanceledAt = ScheduleCanceled, at
	if err := sl.PutSubscriptionSchedule(sched); err != nil {
		return err
	}
	typ := EventScheduleCanceled
	if sub.CancellationReason == CancelPaymentFailed {
		typ = EventScheduleAborted
	}
	return e.emitSchedule(typ, sched, nil, at)
}

// scheduleIntervals adds to intervals the interval of the first phase of
// each schedule on clock not started yet (a started one counts by its
// subscription).
func (e *Engine) scheduleIntervals(clock string, add func(Interval)) error {
	sl, ok := e.L.(ScheduleLedger)
	if !ok {
		return nil
	}
	return sl.SchedulesOnClock(clock, func(s *SubscriptionSchedule) error {
		if s.Status == ScheduleNotStarted {
			add(s.Phases[0].Interval)
		}
		return nil
	})
}

// cancelClockSchedules cancels the schedules on clock that have not
// started, as deleting the clock does (the started ones went with their
// subscriptions).
func (e *Engine) cancelClockSchedules(clock string, now int64) error {
	sl, ok := e.L.(ScheduleLedger)
	if !ok {
		return nil
	}
	var waiting []*SubscriptionSchedule
	if err := sl.SchedulesOnClock(clock, func(s *SubscriptionSchedule) error {
		if s.Status == ScheduleNotStarted {
			waiting = append(waiting, s)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, s := range waiting {
		s.Status, s.CanceledAt = ScheduleCanceled, now
		if err := sl.PutSubscriptionSchedule(s); err != nil {
			return err
		}
		if err := e.emitSchedule(EventScheduleCanceled, s, nil, now); err != nil {
			return err
		}
	}
	return nil
}
