package billing

import "fmt"

// Ledger is the engine's access to persisted billing state, inside one
// transaction. Getters return a NotFound *Error for a missing object.
type Ledger interface {
	NewID(prefix string) string

	Customer(id string) (*Customer, error)
	PutCustomer(*Customer) error
	DeleteCustomer(id string) error
	// CustomersOnClock calls fn for every customer attached to clock.
	CustomersOnClock(clock string, fn func(*Customer) error) error

	Product(id string) (*Product, error)
	Price(id string) (*Price, error)

	Subscription(id string) (*Subscription, error)
	PutSubscription(*Subscription) error
	// SubscriptionsOnClock calls fn for every subscription on clock.
	SubscriptionsOnClock(clock string, fn func(*Subscription) error) error

	Invoice(id string) (*Invoice, error)
	PutInvoice(*Invoice) error

	PutInvoiceItem(*InvoiceItem) error
	InvoiceItem(id string) (*InvoiceItem, error)
	// DeleteInvoice deletes a draft invoice, and DeleteInvoiceItem an
	// invoice item that is pending or on a draft (manual.go).
	DeleteInvoice(id string) error
	DeleteInvoiceItem(*InvoiceItem) error
	// PendingInvoiceItems returns the customer's invoice items that are on
	// no invoice yet, oldest first.
	PendingInvoiceItems(customer string) ([]*InvoiceItem, error)

	// Schedule asks for t to run when its clock (or, for clock "", the wall
	// clock) reaches t.At.
	Schedule(t Task) error
	// NextTask removes and returns the earliest task of clock due at or
	// before until (ties in scheduling order), or nil if there is none.
	NextTask(clock string, until int64) (*Task, error)

	PaymentMethod(id string) (*PaymentMethod, error)
	PutPaymentMethod(*PaymentMethod) error
	Payment(id string) (*Payment, error)
	PutPayment(*Payment) error
	Charge(id string) (*Charge, error)
	PutCharge(*Charge) error
	// InvoicePayments returns an invoice's payments, oldest first.
	InvoicePayments(invoice string) ([]*InvoicePayment, error)
	PutInvoicePayment(*InvoicePayment) error
	PutBalanceTransaction(*BalanceTransaction) error
	// Policy is the account's dunning policy.
	Policy() (DunningPolicy, error)

	// Emit records an event.
	Emit(Event) error
}

// TaskKind is a kind of work that falls due at a point in time.
type TaskKind string

// Task kinds.
const (
	// TaskPeriodEnd ends a subscription's current period (or trial):
	// renewal, or cancellation at period end.
	TaskPeriodEnd TaskKind = "period_end"
	// TaskFinalize finalizes and pays a draft invoice.
	TaskFinalize TaskKind = "finalize"
	// TaskTrialWillEnd announces a trial's end three days ahead.
	TaskTrialWillEnd TaskKind = "trial_will_end"
	// TaskCancel cancels a subscription at its cancel_at.
	TaskCancel TaskKind = "cancel"
	// TaskRetryPayment retries the payment of an open invoice
	// (Expect: its next_payment_attempt).
	TaskRetryPayment TaskKind = "retry_payment"
	// TaskExpireIncomplete ends a subscription still incomplete
	// IncompleteExpiry after it was created (Expect: that time).
	TaskExpireIncomplete TaskKind = "expire_incomplete"
	// TaskSurface is work of a surface's own on a clock (Stripe: a
	// Checkout Session expiring at its expires_at), run in time order with
	// the engine's: the ledger hands it to its surface (SurfaceTasks).
	TaskSurface TaskKind = "surface"
	// TaskOverdue announces that an invoice sent for payment is still
	// unpaid at its due date (Expect: the due date).
	TaskOverdue TaskKind = "overdue"
	// TaskUpcoming announces a subscription's next renewal invoice
	// DunningPolicy.UpcomingNotice before its period ends (Expect: the
	// period's end).
	TaskUpcoming TaskKind = "upcoming"
)

// SurfaceTasks is a Ledger that runs the TaskSurface tasks of the surface
// it belongs to. A ledger without it drops them.
type SurfaceTasks interface {
	RunSurfaceTask(t Task) error
}

// Task is work due at a time. Tasks are never removed when plans change:
// a task whose Expect no longer matches its subject's state does nothing.
type Task struct {
	Clock   string   `json:"clock"`
	At      int64    `json:"at"`
	Kind    TaskKind `json:"kind"`
	Subject string   `json:"subject"`
	Expect  int64    `json:"expect"`
}

// TrialWillEndNotice is how long before a trial ends it is announced; a
// trial that ends sooner is announced at once.
const TrialWillEndNotice = 3 * 24 * 3600

// Event types of billing objects.
const (
	EventCustomerCreated          EventType = "customer.created"
	EventCustomerUpdated          EventType = "customer.updated"
	EventCustomerDeleted          EventType = "customer.deleted"
	EventProductCreated           EventType = "product.created"
	EventProductUpdated           EventType = "product.updated"
	EventProductDeleted           EventType = "product.deleted"
	EventPriceCreated             EventType = "price.created"
	EventPriceUpdated             EventType = "price.updated"
	EventSubscriptionCreated      EventType = "subscription.created"
	EventSubscriptionUpdated      EventType = "subscription.updated"
	EventSubscriptionDeleted      EventType = "subscription.deleted"
	EventSubscriptionTrialWillEnd EventType = "subscription.trial_will_end"
	EventSubscriptionPaused       EventType = "subscription.paused"
	EventInvoiceCreated           EventType = "invoice.created"
	EventInvoiceFinalized         EventType = "invoice.finalized"
	EventInvoicePaid              EventType = "invoice.paid"
	EventInvoicePaymentSucceeded  EventType = "invoice.payment_succeeded"
	EventInvoiceUpdated           EventType = "invoice.updated"
	EventInvoiceVoided            EventType = "invoice.voided"
	EventInvoiceItemCreated       EventType = "invoiceitem.created"
	EventInvoiceItemDeleted       EventType = "invoiceitem.deleted"
)

// Proration behaviours.
const (
	ProrateCreate = "create_prorations"
	ProrateAlways = "always_invoice"
	ProrateNone   = "none"
)

// Engine applies billing rules to the state behind a Ledger.
type Engine struct {
	L Ledger
}

func (e *Engine) emit(typ EventType, at int64, obj any) error {
	return e.L.Emit(Event{Type: typ, Time: at, Object: obj})
}

// ItemSpec describes one item in a subscription create or update: a new
// item (Price set, ID empty), a change to an item (ID set), or a removal.
type ItemSpec struct {
	ID       string
	Price    string
	Quantity *int64
	Deleted  bool
	Metadata map[string]string
	// Param is the request parameter the spec came from, for errors
	// (e.g. "items[0]").
	Param string
	// Units, for a new item, bills it by units (units.go); Quantity is
	// then the units held at the start.
	Units *UnitTerms
	// TaxRates, if not nil, are the item's tax rates (taxes.go).
	TaxRates *[]string
}

// NewSubscription is a request to subscribe a customer.
type NewSubscription struct {
	// ID, if set, is the new subscription's id (a provider that lets
	// users name their subscriptions, as Chargebee does); the caller makes
	// sure no subscription has it. Empty: a fresh id.
	ID       string
	Customer string
	Items    []ItemSpec
	// TrialEnd, if after now, puts the subscription in trial until then.
	TrialEnd int64
	// BillingCycleAnchor, if after now, makes the first period end then.
	BillingCycleAnchor int64
	CancelAtPeriodEnd  bool
	CancelAt           int64
	Metadata           map[string]string
	// ProrationBehavior ProrateNone makes a first period cut short by
	// BillingCycleAnchor free.
	ProrationBehavior string
	// DefaultPaymentMethod is charged before the customer's default.
	DefaultPaymentMethod string
	// PaymentBehavior says what happens when the first invoice is not paid
	// at once; empty means AllowIncomplete.
	PaymentBehavior PaymentBehavior
	// MissingPaymentMethodAtTrialEnd is one of the MissingPaymentMethod*
	// behaviours; empty means create an invoice.
	MissingPaymentMethodAtTrialEnd string
	// IncompleteUntilPaid makes a subscription that starts incomplete
	// wait for its first payment without expiring (lifecycle.go).
	IncompleteUntilPaid bool
	// Terms are the subscription's discounts and default tax rates.
	Terms
	// BackdateStart, if not zero, is an earlier start: the time since is
	// billed on the first invoice (backdate.go).
	BackdateStart int64
	// Currency, if set, is the subscription's currency: every price must
	// be in it.
	Currency string
	// AddInvoiceItems are one-time charges for the first invoice
	// (invoiceitems.go).
	AddInvoiceItems []InvoiceItemSpec
	// Schedule is the subscription schedule creating the subscription.
	Schedule string
	// CollectionMethod and DaysUntilDue say how its invoices are
	// collected (sendinvoice.go).
	CollectionMethod CollectionMethod
	DaysUntilDue     *int64
}

// resolvedPrice is a recurring price with its product's name.
type resolvedPrice struct {
	*Price
	productName string
}

// billed records a line of kind for the price as it is now.
func (rp *resolvedPrice) billed(kind LineKind) Billed {
	iv := *rp.Recurring
	return Billed{Kind: kind, ProductName: rp.productName, UnitAmount: rp.UnitAmount, Interval: &iv}
}

func (e *Engine) recurringPrice(id, param string, sub *Subscription) (*resolvedPrice, error) {
	p, err := e.L.Price(id)
	if err != nil {
		if be, ok := err.(*Error); ok && be.Kind == NotFound {
			be.Param = param
		}
		return nil, err
	}
	if p.Deleted && param != "" {
		return nil, NotFoundError("price", id, param) // what subscriptions hold still bills
	}
	if p.Recurring == nil {
		return nil, priceRefusal(CodePriceNotRecurring, param, p)
	}
	if sub != nil && sub.Currency != "" && p.Currency != sub.Currency {
		e := priceRefusal(CodeCurrencyMismatch, param, p)
		e.Value, e.Want = p.Currency, sub.Currency
		return nil, e
	}
	if sub != nil && sub.Interval.Unit != "" && *p.Recurring != sub.Interval {
		e := priceRefusal(CodeIntervalMismatch, param, p)
		e.Interval, e.WantInterval = *p.Recurring, sub.Interval
		return nil, e
	}
	prod, err := e.L.Product(p.Product)
	if err != nil {
		return nil, err
	}
	return &resolvedPrice{Price: p, productName: prod.Name}, nil
}

// priceRefusal is an Invalid error of code about price p, given in param.
func priceRefusal(code Code, param string, p *Price) *Error {
	e := invalid(code, param)
	e.Resource, e.ID = "price", p.ID
	return e
}

// refusal is an Invalid error of code about s, given in param.
func (s *Subscription) refusal(code Code, param string) *Error {
	e := invalid(code, param)
	e.Resource, e.ID = "subscription", s.ID
	return e
}

// CreateSubscription subscribes a customer at now: it creates the
// subscription, invoices its first period (or trial) at once and schedules
// what will follow.
func (e *Engine) CreateSubscription(in NewSubscription, now int64) (*Subscription, error) {
	cust, err := e.L.Customer(in.Customer)
	if err != nil {
		if be, ok := err.(*Error); ok {
			be.Param = "customer"
		}
		return nil, err
	}
	if len(in.Items) == 0 {
		return nil, invalid(CodeMissingParam, "items")
	}
	id := in.ID
	if id == "" {
		id = e.L.NewID("sub_")
	}
	sub := &Subscription{ID: id, Customer: cust.ID, Clock: cust.Clock, Created: now, StartDate: now,
		Status: StatusActive, Metadata: in.Metadata, CancelAtPeriodEnd: in.CancelAtPeriodEnd,
		DefaultPaymentMethod: in.DefaultPaymentMethod, MissingPaymentMethodAtTrialEnd: in.MissingPaymentMethodAtTrialEnd,
		IncompleteUntilPaid: in.IncompleteUntilPaid, Currency: in.Currency, Schedule: in.Schedule}
	prices := map[string]*resolvedPrice{}
	for i, spec := range in.Items {
		param := fmt.Sprintf("items[%d][price]", i)
		if spec.Price == "" {
			return nil, invalid(CodeMissingParam, param)
		}
		rp, err := e.recurringPrice(spec.Price, param, sub)
		if err != nil {
			return nil, err
		}
		sub.Currency, sub.Interval = rp.Currency, *rp.Recurring
		qty := int64(1)
		if spec.Quantity != nil {
			qty = *spec.Quantity
		}
		if qty < 0 {
			return nil, invalid(CodeNegativeQuantity, fmt.Sprintf("items[%d][quantity]", i))
		}
		prices[rp.ID] = rp
		it := SubscriptionItem{ID: e.L.NewID("si_"), Created: now, Price: rp.ID, Quantity: qty, Metadata: spec.Metadata}
		if spec.Units != nil {
			if err := checkUnitTerms(sub.Items, spec.Units, qty, fmt.Sprintf("items[%d]", i)); err != nil {
				return nil, err
			}
			it.Units = newUnitLedger(spec.Units)
		}
		sub.Items = append(sub.Items, it)
	}

	switch {
	case in.TrialEnd > now:
		sub.Status = StatusTrialing
		sub.TrialStart, sub.TrialEnd = now, in.TrialEnd
		sub.BillingCycleAnchor, sub.PeriodIndex = in.TrialEnd, 0
		sub.PeriodStart, sub.PeriodEnd = now, in.TrialEnd
	case in.BillingCycleAnchor > now:
		if natural := sub.Interval.Nth(now, 1); in.BillingCycleAnchor > natural {
			e := invalid(CodeAnchorAfterNaturalDate, "billing_cycle_anchor")
			e.Max = natural
			return nil, e
		}
		sub.BillingCycleAnchor, sub.PeriodIndex = in.BillingCycleAnchor, 0
		sub.PeriodStart, sub.PeriodEnd = now, in.BillingCycleAnchor
	default:
		sub.BillingCycleAnchor, sub.PeriodIndex = now, 1
		sub.PeriodStart, sub.PeriodEnd = now, sub.Interval.Nth(now, 1)
	}
	if err := backdate(sub, in, now); err != nil {
		return nil, err
	}
	if in.CancelAt != 0 {
		if in.CancelAt <= now {
			return nil, invalid(CodeCancelAtNotFuture, "cancel_at")
		}
		sub.CancelAt = in.CancelAt
	}
	if err := e.subscriptionTerms(sub, nil, cust, in.Items, in.Terms, now); err != nil {
		return nil, err
	}
	if err := e.addInvoiceItems(cust, sub, in.AddInvoiceItems, now); err != nil {
		return nil, err
	}
	if err := setCollection(sub, &in.CollectionMethod, in.DaysUntilDue); err != nil {
		return nil, err
	}

	inv := e.newInvoice(cust, sub, ReasonSubscriptionCreate, now)
	if err := e.sweepPending(inv, sweptBy(sub)); err != nil {
		return nil, err
	}
	backdated, err := e.backdatedLines(sub, prices, in, now)
	if err != nil {
		return nil, err
	}
	inv.Lines = append(inv.Lines, backdated...)
	for _, it := range sub.Items {
		if it.Units != nil {
			continue // billed by unitLines below
		}
		rp := prices[it.Price]
		line := InvoiceLine{ID: e.L.NewID("il_"), Quantity: it.Quantity, Price: it.Price, SubscriptionItem: it.ID,
			PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd}
		whole, err := mulAmount(rp.UnitAmount, it.Quantity)
		if err != nil {
			return nil, err
		}
		switch {
		case sub.Status == StatusTrialing:
			line.Billed = rp.billed(LineTrial)
		case sub.PeriodIndex == 0 && len(backdated) > 0:
			continue // the backdated lines bill the first period
		case sub.PeriodIndex == 0:
			// First period cut short by the anchor: prorated against the
			// full period that ends at the anchor, or free without
			// prorations.
			full := sub.Interval.Nth(sub.BillingCycleAnchor, -1)
			if in.ProrationBehavior != ProrateNone {
				if line.Amount, err = Prorate(whole, full, sub.PeriodEnd, now); err != nil {
					return nil, err
				}
			}
			line.Proration = true
			line.Billed = rp.billed(LineProrationDebit)
		default:
			line.Amount = whole
			line.Billed = rp.billed(LinePeriod)
		}
		inv.Lines = append(inv.Lines, line)
	}
	if err := e.unitLines(inv, sub, sub.Status == StatusTrialing || sub.PeriodIndex == 0 && in.ProrationBehavior == ProrateNone); err != nil {
		return nil, err
	}
	if err := e.priceNewInvoice(inv, sub, cust, now); err != nil {
		return nil, err
	}
	sub.LatestInvoice = inv.ID

	// The subscription starts incomplete when its first invoice will not
	// be paid at once.
	due, _ := ApplyBalance(inv.Total(), balanceIn(cust, sub.Currency))
	pm, err := e.paymentMethodFor(sub, cust)
	if err != nil {
		return nil, err
	}
	behavior := in.PaymentBehavior
	// A subscription whose invoices are sent for payment is active at once.
	if due > 0 && !sub.sendsInvoices() && (behavior == DefaultIncomplete || !chargeable(pm)) {
		sub.Status = StatusIncomplete
	}
	if err := e.emit(EventSubscriptionCreated, now, snapshotSub(sub)); err != nil {
		return nil, err
	}
	if err := e.emit(EventInvoiceCreated, now, snapshotInvoice(inv)); err != nil {
		return nil, err
	}
	if err := e.finalize(inv, cust, now); err != nil {
		return nil, err
	}
	switch {
	case inv.AmountDue() == 0:
		if err := e.payNothing(inv, now); err != nil {
			return nil, err
		}
	case inv.sentForPayment():
		if err := e.issue(inv, now); err != nil {
			return nil, err
		}
	case behavior != DefaultIncomplete:
		// The first invoice of an incomplete subscription is not retried.
		decl, _, err := e.attemptInvoice(inv, pm, true, sub.Status != StatusIncomplete, now)
		if err != nil {
			return nil, err
		}
		if decl != nil && behavior == ErrorIfIncomplete {
			return nil, decl
		}
	}
	if sub.Status == StatusIncomplete && !sub.IncompleteUntilPaid {
		at := now + IncompleteExpiry
		if err := e.L.Schedule(Task{Clock: sub.Clock, At: at, Kind: TaskExpireIncomplete, Subject: sub.ID, Expect: at}); err != nil {
			return nil, err
		}
	}
	if err := e.scheduleSubscription(sub, now); err != nil {
		return nil, err
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return nil, err
	}
	return sub, e.announceShortTrial(sub, now)
}

// announceShortTrial sends the trial's end notice at once when the trial
// ends within TrialWillEndNotice of now (a longer one is announced by a
// scheduled task).
func (e *Engine) announceShortTrial(sub *Subscription, now int64) error {
	if sub.Status != StatusTrialing || sub.TrialEnd-TrialWillEndNotice > now {
		return nil
	}
	return e.emit(EventSubscriptionTrialWillEnd, now, snapshotSub(sub))
}

// scheduleSubscription schedules the end of the current period, the trial
// notice and cancel_at, as far as they lie after now.
func (e *Engine) scheduleSubscription(sub *Subscription, now int64) error {
	tasks := []Task{{Clock: sub.Clock, At: sub.PeriodEnd, Kind: TaskPeriodEnd, Subject: sub.ID, Expect: sub.PeriodEnd}}
	if sub.Status == StatusTrialing && sub.TrialEnd-TrialWillEndNotice > now {
		tasks = append(tasks, Task{Clock: sub.Clock, At: sub.TrialEnd - TrialWillEndNotice, Kind: TaskTrialWillEnd, Subject: sub.ID, Expect: sub.TrialEnd})
	}
	for _, t := range tasks {
		if err := e.L.Schedule(t); err != nil {
			return err
		}
	}
	if err := e.scheduleUpcoming(sub, now); err != nil {
		return err
	}
	return e.scheduleCancel(sub)
}

func (e *Engine) scheduleCancel(sub *Subscription) error {
	if sub.CancelAt == 0 {
		return nil
	}
	return e.L.Schedule(Task{Clock: sub.Clock, At: sub.CancelAt, Kind: TaskCancel, Subject: sub.ID, Expect: sub.CancelAt})
}

func (e *Engine) newInvoice(cust *Customer, sub *Subscription, reason BillingReason, now int64) *Invoice {
	inv := &Invoice{ID: e.L.NewID("in_"), Customer: cust.ID, Clock: cust.Clock, Created: now, Status: InvoiceDraft,
		BillingReason: reason, Currency: "usd", PeriodStart: now, PeriodEnd: now, AutoAdvance: true}
	if sub != nil {
		inv.Subscription, inv.Currency = sub.ID, sub.Currency
		inv.CollectionMethod = sub.CollectionMethod
		if sub.sendsInvoices() {
			inv.DueDate = now + sub.DaysUntilDue*secondsPerDay
		}
	}
	return inv
}

// sweepPending moves the customer's pending invoice items that keep
// accepts onto inv.
func (e *Engine) sweepPending(inv *Invoice, keep func(*InvoiceItem) bool) error {
	items, err := e.L.PendingInvoiceItems(inv.Customer)
	if err != nil {
		return err
	}
	for _, ii := range items {
		if !keep(ii) {
			continue
		}
		ii.Invoice = inv.ID
		if err := e.L.PutInvoiceItem(ii); err != nil {
			return err
		}
		inv.Lines = append(inv.Lines, itemLine(e.L.NewID("il_"), ii))
	}
	return nil
}

// sweptBy is which pending items a scheduled invoice of sub takes: those of
// no subscription and its own. Stripe: "When set, scheduled invoices for
// subscriptions other than the specified subscription will ignore the
// invoice item."
func sweptBy(sub *Subscription) func(*InvoiceItem) bool {
	return func(ii *InvoiceItem) bool { return ii.Subscription == "" || ii.Subscription == sub.ID }
}

// SubscriptionChange is an update to a subscription.
type SubscriptionChange struct {
	Items []ItemSpec
	// ProrationBehavior is one of the Prorate* constants; empty means
	// create_prorations.
	ProrationBehavior string
	// ProrationDate, if not zero, is the time prorations are computed for.
	ProrationDate     int64
	CancelAtPeriodEnd *bool
	// CancelAt: nil leaves it, 0 clears it.
	CancelAt *int64
	Metadata map[string]string
	// DefaultPaymentMethod: nil leaves it, "" clears it.
	DefaultPaymentMethod *string
	// PaymentBehavior says what happens when an invoice the change makes
	// is not paid at once; empty means AllowIncomplete.
	PaymentBehavior PaymentBehavior
	// TrialEnd moves the end of a trial: a time at or before now ends it
	// now. nil leaves it.
	TrialEnd *int64
	// MissingPaymentMethodAtTrialEnd: nil leaves it.
	MissingPaymentMethodAtTrialEnd *string
	// Terms change the subscription's discounts and default tax rates.
	Terms
	// PauseCollection pauses the collection of the subscription's
	// invoices, or with no Behavior resumes it; nil leaves it (pause.go).
	PauseCollection *PauseCollection
	// BillingCycleAnchorNow resets the billing cycle to start now
	// (anchor.go).
	BillingCycleAnchorNow bool
	// AddInvoiceItems are one-time charges for the subscription's next
	// invoice (invoiceitems.go).
	AddInvoiceItems []InvoiceItemSpec
	// CollectionMethod and DaysUntilDue change how its invoices are
	// collected: nil leaves them.
	CollectionMethod *CollectionMethod
	DaysUntilDue     *int64
}

// UpdateSubscription changes a subscription at now: items, seats, prices
// and cancellation, with prorations for the time left in the period.
func (e *Engine) UpdateSubscription(id string, ch SubscriptionChange, now int64) (*Subscription, error) {
	sub, err := e.L.Subscription(id)
	if err != nil {
		return nil, err
	}
	if sub.Status == StatusCanceled || sub.Status == StatusIncompleteExpired {
		return nil, sub.refusal(CodeSubscriptionCanceled, "")
	}
	before := snapshotSub(sub)
	behavior := ch.ProrationBehavior
	if behavior == "" {
		behavior = ProrateCreate
	}
	t := now
	if ch.ProrationDate != 0 {
		if ch.ProrationDate < sub.PeriodStart || ch.ProrationDate > sub.PeriodEnd {
			e := sub.refusal(CodeProrationDateOutsidePeriod, "proration_date")
			e.Min, e.Max = sub.PeriodStart, sub.PeriodEnd
			return nil, e
		}
		t = ch.ProrationDate
	}
	cust, err := e.L.Customer(sub.Customer)
	if err != nil {
		return nil, err
	}
	// Each change is a (old, new) pair of price × quantity; either may be
	// absent (a new or a removed item).
	type seat struct {
		price *resolvedPrice
		qty   int64
	}
	type change struct {
		item     string
		old, new *seat
	}
	var changes []change
	for _, spec := range ch.Items {
		if err := checkUnitUpdate(sub, spec); err != nil {
			return nil, err
		}
		if spec.ID == "" {
			if spec.Price == "" {
				return nil, invalid(CodeMissingParam, spec.Param+"[price]")
			}
			rp, err := e.recurringPrice(spec.Price, spec.Param+"[price]", sub)
			if err != nil {
				return nil, err
			}
			qty := int64(1)
			if spec.Quantity != nil {
				qty = *spec.Quantity
			}
			it := SubscriptionItem{ID: e.L.NewID("si_"), Created: now, Price: rp.ID, Quantity: qty, Metadata: spec.Metadata}
			sub.Items = append(sub.Items, it)
			changes = append(changes, change{item: it.ID, new: &seat{rp, qty}})
			continue
		}
		it := sub.Item(spec.ID)
		if it == nil {
			return nil, &Error{Kind: NotFound, Resource: "subscription_item", ID: spec.ID, Param: spec.Param + "[id]",
				Message: fmt.Sprintf("No such subscription item: '%s'", spec.ID)}
		}
		oldPrice, err := e.recurringPrice(it.Price, spec.Param+"[price]", nil)
		if err != nil {
			return nil, err
		}
		old := &seat{oldPrice, it.Quantity}
		if spec.Deleted {
			if len(sub.Items) == 1 {
				return nil, sub.refusal(CodeLastItem, spec.Param)
			}
			changes = append(changes, change{item: it.ID, old: old})
			kept := sub.Items[:0]
			for _, other := range sub.Items {
				if other.ID != it.ID {
					kept = append(kept, other)
				}
			}
			sub.Items = kept
			continue
		}
		next := &seat{oldPrice, it.Quantity}
		if spec.Price != "" && spec.Price != it.Price {
			if next.price, err = e.recurringPrice(spec.Price, spec.Param+"[price]", sub); err != nil {
				return nil, err
			}
			it.Price = spec.Price
		}
		if spec.Quantity != nil {
			if *spec.Quantity < 0 {
				return nil, invalid(CodeNegativeQuantity, spec.Param+"[quantity]")
			}
			next.qty = *spec.Quantity
			it.Quantity = next.qty
		}
		it.Metadata = MergeMetadata(it.Metadata, spec.Metadata)
		if next.price.ID != old.price.ID || next.qty != old.qty {
			changes = append(changes, change{item: it.ID, old: old, new: next})
		}
	}
	if ch.CancelAtPeriodEnd != nil {
		sub.CancelAtPeriodEnd = *ch.CancelAtPeriodEnd
		if sub.CancelAtPeriodEnd {
			sub.CanceledAt = now
		} else if sub.CancelAt == 0 {
			sub.CanceledAt = 0
		}
	}
	if ch.CancelAt != nil {
		if *ch.CancelAt != 0 && *ch.CancelAt <= now {
			return nil, invalid(CodeCancelAtNotFuture, "cancel_at")
		}
		sub.CancelAt = *ch.CancelAt
		if err := e.scheduleCancel(sub); err != nil {
			return nil, err
		}
	}
	sub.Metadata = MergeMetadata(sub.Metadata, ch.Metadata)
	if ch.DefaultPaymentMethod != nil {
		sub.DefaultPaymentMethod = *ch.DefaultPaymentMethod
	}
	if ch.MissingPaymentMethodAtTrialEnd != nil {
		sub.MissingPaymentMethodAtTrialEnd = *ch.MissingPaymentMethodAtTrialEnd
	}
	if err := setCollection(sub, ch.CollectionMethod, ch.DaysUntilDue); err != nil {
		return nil, err
	}
	if ch.TrialEnd != nil && *ch.TrialEnd > now {
		if err := e.moveTrialEnd(sub, *ch.TrialEnd, now); err != nil {
			return nil, err
		}
	}

	if err := e.subscriptionTerms(sub, before, cust, ch.Items, ch.Terms, now); err != nil {
		return nil, err
	}
	if ch.PauseCollection != nil {
		if err := e.setPauseCollection(sub, *ch.PauseCollection, now); err != nil {
			return nil, err
		}
	}
	if err := e.addInvoiceItems(cust, sub, ch.AddInvoiceItems, now); err != nil {
		return nil, err
	}

	prorate := behavior != ProrateNone && sub.billsSeats() && t < sub.PeriodEnd
	var created []*InvoiceItem
	if prorate {
		for _, c := range changes {
			for _, s := range []struct {
				seat *seat
				sign int64
				kind LineKind
			}{{c.old, -1, LineProrationCredit}, {c.new, 1, LineProrationDebit}} {
				if s.seat == nil {
					continue
				}
				amount, err := proratedLine(s.seat.price.UnitAmount, s.seat.qty, s.sign, sub.PeriodStart, sub.PeriodEnd, t)
				if err != nil {
					return nil, err
				}
				ii := &InvoiceItem{ID: e.L.NewID("ii_"), Customer: sub.Customer, Clock: sub.Clock, Date: now,
					Amount: amount, Currency: sub.Currency, Proration: true, Price: s.seat.price.ID, Quantity: s.seat.qty,
					Subscription: sub.ID, SubscriptionItem: c.item, PeriodStart: t, PeriodEnd: sub.PeriodEnd,
					Billed: s.seat.price.billed(s.kind)}
				if err := e.prorationTerms(ii, sub, before, now); err != nil {
					return nil, err
				}
				if err := e.L.PutInvoiceItem(ii); err != nil {
					return nil, err
				}
				if err := e.emit(EventInvoiceItemCreated, now, snapshotInvoiceItem(ii)); err != nil {
					return nil, err
				}
				created = append(created, ii)
			}
		}
	}
	if behavior == ProrateAlways && len(created) > 0 && !ch.BillingCycleAnchorNow {
		inv := e.newInvoice(cust, sub, ReasonSubscriptionUpdate, now)
		if err := e.sweepPending(inv, func(ii *InvoiceItem) bool { return ii.Subscription == sub.ID }); err != nil {
			return nil, err
		}
		inv.PeriodStart, inv.PeriodEnd = t, t
		sub.LatestInvoice = inv.ID
		if err := e.invoiceChange(inv, sub, cust, ch.PaymentBehavior, now); err != nil {
			return nil, err
		}
	}
	if ch.BillingCycleAnchorNow {
		if err := e.resetCycle(sub, cust, behavior, ch.PaymentBehavior, now); err != nil {
			return nil, err
		}
	}
	if ch.TrialEnd != nil && *ch.TrialEnd <= now && sub.Status == StatusTrialing {
		if err := e.endTrialNow(sub, cust, ch.PaymentBehavior, now); err != nil {
			return nil, err
		}
	}
	if sub.Status == StatusCanceled {
		return sub, nil // ended by the change, and announced as ended
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return nil, err
	}
	if err := e.emitUpdated(before, sub, now); err != nil {
		return nil, err
	}
	if before.Status != StatusPaused && sub.Status == StatusPaused {
		if err := e.emit(EventSubscriptionPaused, now, snapshotSub(sub)); err != nil {
			return nil, err
		}
	}
	return sub, e.announceShortTrial(sub, now)
}

// billsSeats reports whether changes to the subscription's items are
// prorated: whether it is in a paid period.
func (s *Subscription) billsSeats() bool {
	switch s.Status {
	case StatusActive, StatusPastDue, StatusUnpaid:
		return true
	}
	return false
}

// emitUpdated announces a change to sub, with what it was before.
func (e *Engine) emitUpdated(before, sub *Subscription, at int64) error {
	return e.L.Emit(Event{Type: EventSubscriptionUpdated, Time: at, Object: snapshotSub(sub), Before: before})
}

// moveTrialEnd moves the end of sub's trial to a later time than now:
// the period, and its renewal, end then. Only a trialing subscription can
// move its trial.
func (e *Engine) moveTrialEnd(sub *Subscription, trialEnd, now int64) error {
	if sub.Status != StatusTrialing {
		e := sub.refusal(CodeTrialNotMovable, "trial_end")
		e.Status = string(sub.Status)
		return e
	}
	if trialEnd == sub.TrialEnd {
		return nil
	}
	sub.TrialEnd, sub.BillingCycleAnchor, sub.PeriodIndex, sub.PeriodEnd = trialEnd, trialEnd, 0, trialEnd
	return e.scheduleSubscription(sub, now)
}

// endTrialNow ends sub's trial at now, as trial_end=now does: the first
// paid period starts now and is invoiced and collected at once.
func (e *Engine) endTrialNow(sub *Subscription, cust *Customer, behavior PaymentBehavior, now int64) error {
	sub.TrialEnd, sub.BillingCycleAnchor, sub.PeriodIndex, sub.PeriodEnd = now, now, 0, now
	ended, err := e.trialEnds(sub, cust, now)
	if err != nil || ended {
		return err
	}
	sub.PeriodIndex = 1
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
	if err := e.invoiceChange(inv, sub, cust, behavior, now); err != nil {
		return err
	}
	return e.scheduleSubscription(sub, now)
}

// CancelSubscription cancels a subscription at now. prorate credits the
// unused time as pending invoice items; invoiceNow invoices the
// subscription's pending items at once.
func (e *Engine) CancelSubscription(id string, invoiceNow, prorate bool, now int64) (*Subscription, error) {
	sub, err := e.L.Subscription(id)
	if err != nil {
		return nil, err
	}
	if sub.Status == StatusCanceled || sub.Status == StatusIncompleteExpired {
		return nil, &Error{Kind: NotFound, Resource: "subscription", ID: id, Param: "id",
			Message: fmt.Sprintf("No such subscription: '%s'", id)}
	}
	if prorate && sub.billsSeats() && now < sub.PeriodEnd {
		for _, it := range sub.Items {
			if it.Units != nil {
				continue // units are never refunded
			}
			rp, err := e.recurringPrice(it.Price, "", nil)
			if err != nil {
				return nil, err
			}
			credit, err := proratedLine(rp.UnitAmount, it.Quantity, -1, sub.PeriodStart, sub.PeriodEnd, now)
			if err != nil {
				return nil, err
			}
			ii := &InvoiceItem{ID: e.L.NewID("ii_"), Customer: sub.Customer, Clock: sub.Clock, Date: now,
				Amount: credit, Currency: sub.Currency,
				Proration: true, Price: rp.ID, Quantity: it.Quantity, Subscription: sub.ID, SubscriptionItem: it.ID,
				PeriodStart: now, PeriodEnd: sub.PeriodEnd, Billed: rp.billed(LineProrationCredit)}
			if err := e.prorationTerms(ii, sub, nil, now); err != nil {
				return nil, err
			}
			if err := e.L.PutInvoiceItem(ii); err != nil {
				return nil, err
			}
			if err := e.emit(EventInvoiceItemCreated, now, snapshotInvoiceItem(ii)); err != nil {
				return nil, err
			}
		}
	}
	if invoiceNow {
		cust, err := e.L.Customer(sub.Customer)
		if err != nil {
			return nil, err
		}
		inv := e.newInvoice(cust, sub, ReasonSubscriptionUpdate, now)
		if err := e.sweepPending(inv, func(ii *InvoiceItem) bool { return ii.Subscription == sub.ID }); err != nil {
			return nil, err
		}
		if len(inv.Lines) > 0 {
			sub.LatestInvoice = inv.ID
			if err := e.invoiceChange(inv, sub, cust, AllowIncomplete, now); err != nil {
				return nil, err
			}
		}
	}
	return sub, e.end(sub, now)
}

// end cancels sub at the time at. As at Stripe, automatic collection of
// its latest invoice, if still open, stops.
func (e *Engine) end(sub *Subscription, at int64) error {
	sub.Status, sub.EndedAt = StatusCanceled, at
	if sub.CanceledAt == 0 {
		sub.CanceledAt = at
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	if err := e.emit(EventSubscriptionDeleted, at, snapshotSub(sub)); err != nil {
		return err
	}
	if err := e.subscriptionEnded(sub, at); err != nil {
		return err
	}
	return e.stopCollection(sub.LatestInvoice, at)
}

// Run does the work of clock that falls due up to until, in time order, at
// most budget tasks (budget ≤ 0: no limit). done reports whether nothing
// due is left.
func (e *Engine) Run(clock string, until int64, budget int) (done bool, err error) {
	for n := 0; budget <= 0 || n < budget; n++ {
		t, err := e.L.NextTask(clock, until)
		if err != nil {
			return false, err
		}
		if t == nil {
			return true, nil
		}
		if err := e.apply(t); err != nil {
			return false, fmt.Errorf("%s %s at %d: %w", t.Kind, t.Subject, t.At, err)
		}
	}
	return false, nil
}

func (e *Engine) apply(t *Task) error {
	switch t.Kind {
	case TaskFinalize:
		inv, err := e.L.Invoice(t.Subject)
		if err != nil {
			return ignoreNotFound(err)
		}
		// A draft whose finalization was moved waits for its own task.
		if inv.AutomaticallyFinalizesAt != 0 && inv.AutomaticallyFinalizesAt != t.At {
			return nil
		}
		return e.finalizeDue(inv, t.At)
	case TaskRetryPayment:
		return e.retry(t)
	case TaskSubscriptionDiscountEnd, TaskCustomerDiscountEnd:
		return e.endDiscounts(t)
	case TaskSurface:
		if st, ok := e.L.(SurfaceTasks); ok {
			return st.RunSurfaceTask(*t)
		}
		return nil
	case TaskScheduleStart, TaskSchedulePhaseEnd, TaskScheduleExpiring:
		return e.applyScheduleTask(t)
	case TaskOverdue:
		return e.overdue(t)
	}
	sub, err := e.L.Subscription(t.Subject)
	if err != nil || sub.Status == StatusCanceled || sub.Status == StatusIncompleteExpired {
		return ignoreNotFound(err)
	}
	switch t.Kind {
	case TaskExpireIncomplete:
		if sub.Status != StatusIncomplete || sub.Created+IncompleteExpiry != t.Expect {
			return nil
		}
		return e.expireIncomplete(sub, t.At)
	case TaskTrialWillEnd:
		if sub.Status != StatusTrialing || sub.TrialEnd != t.Expect {
			return nil
		}
		return e.emit(EventSubscriptionTrialWillEnd, t.At, snapshotSub(sub))
	case TaskCancel:
		if sub.CancelAt != t.Expect {
			return nil
		}
		return e.end(sub, t.At)
	case TaskPeriodEnd:
		if sub.PeriodEnd != t.Expect {
			return nil
		}
		return e.endPeriod(sub, t.At)
	case TaskResumeCollection:
		return e.resumeCollection(sub, t)
	case TaskUpcoming:
		if sub.PeriodEnd != t.Expect {
			return nil
		}
		return e.announceUpcoming(sub, t.At)
	}
	return fmt.Errorf("unknown task kind %q", t.Kind)
}

// finalizeDue finalizes and collects inv, a draft whose time to be
// finalized has come (at), unless it is no longer to be finalized
// automatically.
func (e *Engine) finalizeDue(inv *Invoice, at int64) error {
	if inv.Status != InvoiceDraft || !inv.AutoAdvance {
		return nil
	}
	cust, err := e.L.Customer(inv.Customer)
	if err != nil {
		return ignoreNotFound(err) // the customer was deleted: the draft stays a draft
	}
	return e.finalizeAndCollect(inv, cust, at)
}

func ignoreNotFound(err error) error {
	if be, ok := err.(*Error); ok && be.Kind == NotFound {
		return nil
	}
	return err
}

// endPeriod renews sub at the end of its period (or trial), or ends it if
// it was set to cancel then. A paused subscription does not renew.
func (e *Engine) endPeriod(sub *Subscription, at int64) error {
	// A schedule's phase that ends now changes the subscription first, so
	// that the renewal bills the next phase.
	if moved, err := e.phaseEndsFirst(sub, at); err != nil || moved {
		return err
	}
	if sub.CancelAtPeriodEnd || sub.CancelAt != 0 && sub.CancelAt <= at {
		return e.end(sub, at)
	}
	if sub.Status == StatusPaused {
		return nil
	}
	if sub.Status == StatusIncomplete && sub.IncompleteUntilPaid {
		return e.waitForFirstPayment(sub, at)
	}
	before := snapshotSub(sub)
	cust, err := e.L.Customer(sub.Customer)
	if err != nil {
		return err
	}
	if sub.Status == StatusTrialing {
		stop, err := e.trialEnds(sub, cust, at)
		switch {
		case err != nil:
			return err
		case stop && sub.Status == StatusPaused:
			if err := e.L.PutSubscription(sub); err != nil {
				return err
			}
			if err := e.emitUpdated(before, sub, at); err != nil {
				return err
			}
			return e.emit(EventSubscriptionPaused, at, snapshotSub(sub))
		case stop:
			return nil // canceled, and announced as such
		}
	}
	previousStart := sub.PeriodStart
	sub.PeriodIndex++
	sub.PeriodStart, sub.PeriodEnd = at, sub.Interval.Nth(sub.BillingCycleAnchor, sub.PeriodIndex)
	inv := e.newInvoice(cust, sub, ReasonSubscriptionCycle, at)
	// A renewal invoice covers the period just ended for swept items and
	// the new period for the items' lines.
	if err := e.sweepPending(inv, sweptBy(sub)); err != nil {
		return err
	}
	if err := e.periodLines(inv, sub); err != nil {
		return err
	}
	// As at Stripe, a renewal invoice's own period is the one just ended,
	// in which its swept items accrued.
	inv.PeriodStart, inv.PeriodEnd = previousStart, at
	policy, err := e.L.Policy()
	if err != nil {
		return err
	}
	inv.AutomaticallyFinalizesAt = at + policy.FinalizeDelay
	if err := e.priceNewInvoice(inv, sub, cust, at); err != nil {
		return err
	}
	if _, err := inv.checkedTotal(); err != nil {
		return err
	}
	sub.LatestInvoice = inv.ID
	holdPausedRenewal(inv, sub, at)
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	if err := e.emitUpdated(before, sub, at); err != nil {
		return err
	}
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	if err := e.emit(EventInvoiceCreated, at, snapshotInvoice(inv)); err != nil {
		return err
	}
	if err := e.settlePausedRenewal(inv, sub, cust, at); err != nil {
		return err
	}
	if inv.Status == InvoiceDraft && inv.AutoAdvance && policy.FinalizeDelay == 0 {
		// Due now: finalized and collected at once, as a finalize task at
		// this instant would, without the cost of a task of its own
		// (Chargebee's and Commet's renewals: otherwise every renewal of
		// a large advance would be two tasks).
		if err := e.scheduleUpcoming(sub, at); err != nil {
			return err
		}
		if err := e.L.Schedule(Task{Clock: sub.Clock, At: sub.PeriodEnd, Kind: TaskPeriodEnd, Subject: sub.ID, Expect: sub.PeriodEnd}); err != nil {
			return err
		}
		return e.finalizeDue(inv, at)
	}
	if inv.Status == InvoiceDraft && inv.AutoAdvance {
		if err := e.L.Schedule(Task{Clock: sub.Clock, At: inv.AutomaticallyFinalizesAt, Kind: TaskFinalize, Subject: inv.ID}); err != nil {
			return err
		}
	}
	if err := e.scheduleUpcoming(sub, at); err != nil {
		return err
	}
	return e.L.Schedule(Task{Clock: sub.Clock, At: sub.PeriodEnd, Kind: TaskPeriodEnd, Subject: sub.ID, Expect: sub.PeriodEnd})
}

// periodLines adds a whole period's line for each of sub's items to inv,
// and for items billed by units their advance and true-up (unitLines).
func (e *Engine) periodLines(inv *Invoice, sub *Subscription) error {
	for _, it := range sub.Items {
		if it.Units != nil {
			continue
		}
		rp, err := e.recurringPrice(it.Price, "", nil)
		if err != nil {
			return err
		}
		amount, err := mulAmount(rp.UnitAmount, it.Quantity)
		if err != nil {
			return err
		}
		inv.Lines = append(inv.Lines, InvoiceLine{ID: e.L.NewID("il_"), Amount: amount,
			Billed: rp.billed(LinePeriod), PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd,
			Quantity: it.Quantity, Price: it.Price, SubscriptionItem: it.ID})
	}
	return e.unitLines(inv, sub, false)
}

// trialEnds decides what happens as sub's trial ends at at: with something
// to charge (or the default behaviour) it becomes active and goes on; with
// nothing to charge it may instead be paused or canceled, and then stop is
// true (a canceled subscription has been announced; a paused one not yet).
func (e *Engine) trialEnds(sub *Subscription, cust *Customer, at int64) (stop bool, err error) {
	pm, err := e.paymentMethodFor(sub, cust)
	if err != nil {
		return false, err
	}
	if pm == nil {
		switch sub.MissingPaymentMethodAtTrialEnd {
		case MissingPaymentMethodPause:
			sub.Status = StatusPaused
			return true, nil
		case MissingPaymentMethodCancel:
			sub.CancellationReason = CancelTrialMissingPaymentMethod
			return true, e.end(sub, at)
		}
	}
	sub.Status = StatusActive
	return false, nil
}

// ClockAdvanceLimit is the latest time clock, frozen at frozen, may be
// advanced to: two of the shortest interval among its live subscriptions.
func (e *Engine) ClockAdvanceLimit(clock string, frozen int64) (int64, error) {
	seen := map[Interval]bool{}
	var intervals []Interval
	err := e.L.SubscriptionsOnClock(clock, func(s *Subscription) error {
		if !s.Ended() && !seen[s.Interval] {
			seen[s.Interval] = true
			intervals = append(intervals, s.Interval)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// A schedule not started yet limits like the subscription it will
	// make.
	err = e.scheduleIntervals(clock, func(iv Interval) {
		if !seen[iv] {
			seen[iv] = true
			intervals = append(intervals, iv)
		}
	})
	return AdvanceLimit(frozen, intervals), err
}

// DeleteClockObjects cancels every subscription on clock and deletes its
// customers, as deleting a clock does.
func (e *Engine) DeleteClockObjects(clock string, now int64) error {
	var subs []*Subscription
	if err := e.L.SubscriptionsOnClock(clock, func(s *Subscription) error {
		if !s.Ended() {
			subs = append(subs, s)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, s := range subs {
		if err := e.end(s, now); err != nil {
			return err
		}
	}
	if err := e.cancelClockSchedules(clock, now); err != nil {
		return err
	}
	var custs []*Customer
	if err := e.L.CustomersOnClock(clock, func(c *Customer) error { custs = append(custs, c); return nil }); err != nil {
		return err
	}
	for _, c := range custs {
		if err := e.L.DeleteCustomer(c.ID); err != nil {
			return err
		}
		if err := e.emit(EventCustomerDeleted, now, c); err != nil {
			return err
		}
	}
	return nil
}

// MergeMetadata applies a metadata update to m: an empty value deletes its
// key, any other sets it. m may be nil; the result is m, changed.
func MergeMetadata(m, update map[string]string) map[string]string {
	for k, v := range update {
		if m == nil {
			m = map[string]string{}
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// Snapshots: events carry copies, so later changes don't reach them.
func snapshotSub(s *Subscription) *Subscription {
	c := *s
	c.Items = append([]SubscriptionItem(nil), s.Items...)
	return &c
}

func snapshotInvoice(inv *Invoice) *Invoice {
	c := *inv
	c.Lines = append([]InvoiceLine(nil), inv.Lines...)
	return &c
}

func snapshotInvoiceItem(ii *InvoiceItem) *InvoiceItem {
	c := *ii
	return &c
}
