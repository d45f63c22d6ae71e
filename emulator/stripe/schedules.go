package stripe

import (
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Subscription schedules (/v1/subscription_schedules): the engine applies
// their phases (billing/schedules.go); this file reads Stripe's parameters
// and renders Stripe's subscription_schedule object.

// subscriptionEventTypes maps the events of plans and schedules to
// Stripe's event types (see eventTypes).
var subscriptionEventTypes = map[billing.EventType]string{
	eventPlanCreated:               "plan.created",
	eventPlanUpdated:               "plan.updated",
	eventPlanDeleted:               "plan.deleted",
	eventPriceDeleted:              "price.deleted",
	billing.EventScheduleCreated:   "subscription_schedule.created",
	billing.EventScheduleUpdated:   "subscription_schedule.updated",
	billing.EventScheduleReleased:  "subscription_schedule.released",
	billing.EventScheduleCanceled:  "subscription_schedule.canceled",
	billing.EventScheduleCompleted: "subscription_schedule.completed",
	billing.EventScheduleAborted:   "subscription_schedule.aborted",
	billing.EventScheduleExpiring:  "subscription_schedule.expiring",
}

// scheduleExpansions are the paths users expand on schedules.
var scheduleExpansions = []string{"customer", "subscription", "test_clock"}

// subscriptionScheduleObject is components.schemas.subscription_schedule.
type subscriptionScheduleObject struct {
	ID                   string            `json:"id"`
	Object               string            `json:"object"`
	Application          any               `json:"application"`
	BillingMode          billingMode       `json:"billing_mode"`
	CanceledAt           *int64            `json:"canceled_at"`
	CompletedAt          *int64            `json:"completed_at"`
	Created              int64             `json:"created"`
	CurrentPhase         *currentPhase     `json:"current_phase"`
	Customer             any               `json:"customer"`
	CustomerAccount      *string           `json:"customer_account"`
	DefaultSettings      scheduleDefaults  `json:"default_settings"`
	EndBehavior          string            `json:"end_behavior"`
	Livemode             bool              `json:"livemode"`
	Metadata             map[string]string `json:"metadata"`
	Phases               []phaseObject     `json:"phases"`
	ReleasedAt           *int64            `json:"released_at"`
	ReleasedSubscription *string           `json:"released_subscription"`
	Status               string            `json:"status"`
	Subscription         any               `json:"subscription"`
	TestClock            any               `json:"test_clock"`
}

// currentPhase is subscription_schedule_current_phase.
type currentPhase struct {
	EndDate   int64 `json:"end_date"`
	StartDate int64 `json:"start_date"`
}

// disabledTax is an automatic tax setting that is off.
type disabledTax struct {
	DisabledReason *string `json:"disabled_reason"`
	Enabled        bool    `json:"enabled"`
	Liability      any     `json:"liability"`
}

// scheduleDefaults is subscription_schedules_resource_default_settings.
type scheduleDefaults struct {
	ApplicationFeePercent *float64                `json:"application_fee_percent"`
	AutomaticTax          disabledTax             `json:"automatic_tax"`
	BillingCycleAnchor    string                  `json:"billing_cycle_anchor"`
	BillingThresholds     any                     `json:"billing_thresholds"`
	CollectionMethod      *string                 `json:"collection_method"`
	DefaultPaymentMethod  any                     `json:"default_payment_method"`
	Description           *string                 `json:"description"`
	InvoiceSettings       scheduleInvoiceSettings `json:"invoice_settings"`
	OnBehalfOf            any                     `json:"on_behalf_of"`
	TransferData          any                     `json:"transfer_data"`
}

// scheduleInvoiceSettings is invoice_setting_subscription_schedule_setting.
type scheduleInvoiceSettings struct {
	AccountTaxIDs any        `json:"account_tax_ids"`
	CustomFields  any        `json:"custom_fields"`
	DaysUntilDue  *int64     `json:"days_until_due"`
	Description   *string    `json:"description"`
	Footer        *string    `json:"footer"`
	Issuer        accountRef `json:"issuer"`
}

// phaseObject is subscription_schedule_phase_configuration.
type phaseObject struct {
	AddInvoiceItems       []phaseInvoiceItemObject `json:"add_invoice_items"`
	ApplicationFeePercent *float64                 `json:"application_fee_percent"`
	AutomaticTax          disabledTax              `json:"automatic_tax"`
	BillingCycleAnchor    *string                  `json:"billing_cycle_anchor"`
	BillingThresholds     any                      `json:"billing_thresholds"`
	CollectionMethod      *string                  `json:"collection_method"`
	Currency              string                   `json:"currency"`
	DefaultPaymentMethod  any                      `json:"default_payment_method"`
	DefaultTaxRates       []any                    `json:"default_tax_rates"`
	Description           *string                  `json:"description"`
	Discounts             []any                    `json:"discounts"`
	EndDate               int64                    `json:"end_date"`
	InvoiceSettings       any                      `json:"invoice_settings"`
	Items                 []phaseItemObject        `json:"items"`
	Metadata              map[string]string        `json:"metadata"`
	OnBehalfOf            any                      `json:"on_behalf_of"`
	ProrationBehavior     string                   `json:"proration_behavior"`
	StartDate             int64                    `json:"start_date"`
	TransferData          any                      `json:"transfer_data"`
	Trial                 bool                     `json:"trial"`
	TrialEnd              *int64                   `json:"trial_end"`
}

// phaseItemObject is subscription_schedule_configuration_item.
type phaseItemObject struct {
	BillingThresholds any               `json:"billing_thresholds"`
	Discounts         []any             `json:"discounts"`
	Metadata          map[string]string `json:"metadata"`
	Price             string            `json:"price"`
	Quantity          int64             `json:"quantity"`
	TaxRates          []any             `json:"tax_rates"`
}

// phaseInvoiceItemObject is subscription_schedule_add_invoice_item.
type phaseInvoiceItemObject struct {
	Discountable *bool             `json:"discountable"`
	Discounts    []any             `json:"discounts"`
	Metadata     map[string]string `json:"metadata"`
	Period       phaseItemPeriod   `json:"period"`
	Price        string            `json:"price"`
	Quantity     *int64            `json:"quantity"`
	TaxRates     []any             `json:"tax_rates"`
}

type phaseItemPeriod struct {
	End   periodBound `json:"end"`
	Start periodBound `json:"start"`
}

type periodBound struct {
	Type      string `json:"type"`
	Timestamp int64  `json:"timestamp,omitempty"`
}

// phaseDiscount is discounts_resource_stackable_discount_with_discount_end:
// a discount a phase's item redeems when the phase begins.
type phaseDiscount struct {
	Coupon        *string `json:"coupon"`
	Discount      *string `json:"discount"`
	PromotionCode *string `json:"promotion_code"`
}

// renderPhaseInvoiceItem renders a phase's one-time item. An item given
// no period bills the time the phase begins; it shows as the phase's
// start and end, as billclock has always shown it.
func renderPhaseInvoiceItem(ii billing.PhaseInvoiceItem, lk renderLookup) (phaseInvoiceItemObject, error) {
	q := ii.Quantity
	o := phaseInvoiceItemObject{Discountable: ii.Discountable, Discounts: []any{}, Metadata: metadata(ii.Metadata),
		Period: phaseItemPeriod{End: periodBound{Type: billing.BoundPhaseEnd}, Start: periodBound{Type: billing.BoundPhaseStart}},
		Price:  ii.Price, Quantity: &q}
	if ii.Period != nil {
		o.Period = phaseItemPeriod{End: periodBound(ii.Period.End), Start: periodBound(ii.Period.Start)}
	}
	for _, d := range ii.Discounts {
		o.Discounts = append(o.Discounts, phaseDiscount{Coupon: nullString(d.Coupon), Discount: nullString(d.Discount),
			PromotionCode: nullString(d.PromotionCode)})
	}
	var err error
	o.TaxRates, err = renderTaxRates(ii.TaxRates, lk)
	return o, err
}

// renderSchedule renders a schedule; customer, subscription and
// test_clock are expandable.
func renderSchedule(s *billing.SubscriptionSchedule, lk renderLookup, ex expandSet) (any, error) {
	anchor := "automatic"
	if s.DefaultAnchor != "" {
		anchor = s.DefaultAnchor
	}
	o := &subscriptionScheduleObject{
		ID: s.ID, Object: "subscription_schedule",
		BillingMode: billingMode{Type: "flexible", Flexible: &flexibleBilling{ProrationDiscounts: "included"}, UpdatedAt: s.Created},
		CanceledAt:  nullTime(s.CanceledAt), CompletedAt: nullTime(s.CompletedAt), Created: s.Created,
		DefaultSettings: scheduleDefaults{BillingCycleAnchor: anchor, CollectionMethod: nullString("charge_automatically"),
			DefaultPaymentMethod: nullString(s.DefaultPaymentMethod), Description: nullString(s.Description),
			InvoiceSettings: scheduleInvoiceSettings{Issuer: selfAccount}},
		EndBehavior: s.EndBehavior, Metadata: metadata(s.Metadata), Phases: make([]phaseObject, 0, len(s.Phases)),
		ReleasedAt: nullTime(s.ReleasedAt), ReleasedSubscription: nullString(s.ReleasedSubscription), Status: string(s.Status),
	}
	if s.Status == billing.ScheduleActive {
		p := s.Phases[s.Current]
		o.CurrentPhase = &currentPhase{StartDate: p.Start, EndDate: p.End}
	}
	for _, p := range s.Phases {
		po := phaseObject{AddInvoiceItems: []phaseInvoiceItemObject{}, Currency: p.Currency,
			DefaultPaymentMethod: nullString(p.DefaultPaymentMethod), DefaultTaxRates: []any{}, Description: nullString(p.Description),
			Discounts: []any{}, EndDate: p.End, Items: make([]phaseItemObject, 0, len(p.Items)), Metadata: metadata(p.Metadata),
			ProrationBehavior: p.ProrationBehavior, StartDate: p.Start, Trial: p.Trial, TrialEnd: nullTime(p.TrialEnd)}
		if p.BillingCycleAnchor != "" {
			po.BillingCycleAnchor = nullString(p.BillingCycleAnchor)
		}
		for _, it := range p.Items {
			po.Items = append(po.Items, phaseItemObject{Discounts: []any{}, Metadata: metadata(it.Metadata), Price: it.Price,
				Quantity: it.Quantity, TaxRates: []any{}})
		}
		for _, ii := range p.AddInvoiceItems {
			o, err := renderPhaseInvoiceItem(ii, lk)
			if err != nil {
				return nil, err
			}
			po.AddInvoiceItems = append(po.AddInvoiceItems, o)
		}
		o.Phases = append(o.Phases, po)
	}
	var err error
	if o.Customer, err = expandCustomer(ex, "customer", s.Customer, lk); err != nil {
		return nil, err
	}
	if o.TestClock, err = expandClock(ex, "test_clock", s.Clock, lk); err != nil {
		return nil, err
	}
	o.Subscription, err = expandable(ex, "subscription", s.Subscription, lookupAndRender(lk.Subscription, s.Subscription,
		func(sub *billing.Subscription) (any, error) { return renderSubscription(sub, lk, nil) }))
	return o, err
}

// timeOrNow reads a timestamp parameter that may also be "now"; ok is
// false when it was not sent (or refused).
func (p *params) timeOrNow(name string) (t int64, now, ok bool) {
	if v, _ := p.form.lookup(name).leafValue(); v == "now" {
		p.seen[name] = true
		return 0, true, true
	}
	t, ok = p.timestamp(name)
	return t, false, ok
}

// refuseNonEmpty refuses each of names that p was sent with a value: the
// parameters billclock does not apply yet (discounts, taxes, Connect).
func (p *params) refuseNonEmpty(what string, names ...string) {
	for _, name := range names {
		p.seen[name] = true
		n := p.form.lookup(name)
		if n == nil {
			continue
		}
		if v, ok := n.leafValue(); ok && (v == "" || v == "false") {
			continue
		}
		p.fail(invalid(name, "billclock does not support %s on %s yet.", name, what))
	}
}

// phaseRead is a phase as read from a request, before the times that
// depend on the customer's clock ("now") are known.
type phaseRead struct {
	spec                       billing.PhaseSpec
	startNow, endNow, trialNow bool
}

// phaseSpecs reads phases[n][...]; update says whether the phases may
// carry start_date and "now" (updates only).
func (p *params) phaseSpecs(update bool) ([]phaseRead, bool) {
	const name = "phases"
	elems := p.hashes(name)
	if elems == nil {
		return nil, p.present(name)
	}
	if p.inline == nil {
		p.inline = map[string]*priceData{}
	}
	out := make([]phaseRead, 0, len(elems))
	for _, el := range elems {
		param, ph := el.param, el.p
		ph.inline = p.inline // inline prices are made with the others
		r := phaseRead{spec: billing.PhaseSpec{Param: param}}
		s := &r.spec
		s.Items = ph.itemSpecs("items", "price", "price_data", "quantity", "metadata", "discounts", "tax_rates", "billing_thresholds")
		for j := range s.Items {
			s.Items[j].Param = fmt.Sprintf("%s[items][%d]", param, j)
		}
		for j, el := range listOf(ph.form.lookup("items")) {
			sub := newParams(&Form{root: el})
			sub.refuseNonEmpty("subscription schedule items", "discounts", "tax_rates", "billing_thresholds")
			if err := sub.err; err != nil {
				ph.fail(nestError(fmt.Sprintf("items[%d]", j), err))
			}
		}
		s.AddInvoiceItems = ph.invoiceItemSpecs("add_invoice_items", true)
		for j := range s.AddInvoiceItems {
			s.AddInvoiceItems[j].Param = fmt.Sprintf("%s[add_invoice_items][%d]", param, j)
		}
		if update {
			s.Start, r.startNow, _ = ph.timeOrNow("start_date")
			s.End, r.endNow, _ = ph.timeOrNow("end_date")
			s.TrialEnd, r.trialNow, _ = ph.timeOrNow("trial_end")
		} else {
			s.End, _ = ph.timestamp("end_date")
			s.TrialEnd, _ = ph.timestamp("trial_end")
		}
		if d, ok := ph.sub("duration"); ok {
			s.Duration = readRecurringHash(d, "duration")
			ph.fail(d.check())
		}
		if it, ok := ph.intIn("iterations", 1, 1095); ok {
			// Stripe's legacy iterations (before duration), which the
			// Stripe CLI's fixtures still send.
			s.Iterations = int(it)
		}
		if (s.End != 0 || r.endNow) && (s.Duration != nil || s.Iterations != 0) {
			ph.fail(invalid("end_date", "You may only specify one of these parameters: duration, end_date, iterations."))
		}
		s.Trial, _ = ph.bool("trial")
		s.ProrationBehavior, _ = ph.enum("proration_behavior", billing.ProrateAlways, billing.ProrateCreate, billing.ProrateNone)
		if a, ok := ph.enum("billing_cycle_anchor", "automatic", billing.AnchorPhaseStart); ok && a == billing.AnchorPhaseStart {
			s.BillingCycleAnchor = a
		}
		s.Metadata, _ = ph.metadata("metadata")
		s.DefaultPaymentMethod, _ = ph.str("default_payment_method")
		s.Description, _ = ph.text("description", maxSubscriptionDescription)
		readCurrency(ph, "currency")
		ph.enum("collection_method", "charge_automatically")
		if is, ok := ph.sub("invoice_settings"); ok {
			for _, k := range is.form.Keys() {
				is.seen[k] = true // shown nowhere: they concern sent invoices
			}
			ph.fail(is.check())
		}
		ph.refuseNonEmpty("subscription schedule phases", "discounts", "default_tax_rates", "billing_thresholds",
			"application_fee_percent", "on_behalf_of", "transfer_data")
		if at, ok := ph.sub("automatic_tax"); ok {
			if on, _ := at.bool("automatic_tax[enabled]"); on {
				at.fail(invalid("automatic_tax[enabled]", "billclock does not support automatic tax."))
			}
			at.seen["automatic_tax[liability]"] = true
			ph.fail(at.check())
		}
		if err := ph.check(); err != nil {
			p.fail(nestError(param, err))
			return nil, true
		}
		out = append(out, r)
	}
	return out, true
}

// listOf returns the elements of an array parameter node, or nil.
func listOf(n *node) []*node {
	if n == nil {
		return nil
	}
	elems, _ := n.list()
	return elems
}

// scheduleDefaultsRead is default_settings as read.
type scheduleDefaultsRead struct {
	anchor, defaultPM, description *string
}

func (p *params) scheduleDefaultsParam() scheduleDefaultsRead {
	var d scheduleDefaultsRead
	ds, ok := p.sub("default_settings")
	if !ok {
		return d
	}
	if a, ok := ds.enum("default_settings[billing_cycle_anchor]", "automatic", billing.AnchorPhaseStart); ok {
		if a == "automatic" {
			a = ""
		}
		d.anchor = &a
	}
	d.defaultPM = ds.clearable("default_settings[default_payment_method]")
	d.description = ds.clearableText("default_settings[description]", maxSubscriptionDescription)
	ds.enum("default_settings[collection_method]", "charge_automatically")
	if is, ok := ds.sub("default_settings[invoice_settings]"); ok {
		for _, k := range is.form.Keys() {
			is.seen[k] = true
		}
		ds.fail(is.check())
	}
	if at, ok := ds.sub("default_settings[automatic_tax]"); ok {
		if on, _ := at.bool("default_settings[automatic_tax][enabled]"); on {
			at.fail(invalid("default_settings[automatic_tax][enabled]", "billclock does not support automatic tax."))
		}
		at.seen["default_settings[automatic_tax][liability]"] = true
		ds.fail(at.check())
	}
	ds.refuseNonEmpty("subscription schedules", "default_settings[billing_thresholds]", "default_settings[application_fee_percent]",
		"default_settings[on_behalf_of]", "default_settings[transfer_data]")
	p.fail(ds.check())
	return d
}

// endBehaviorParam reads end_behavior: release or cancel (Stripe's none
// and renew are legacy; billclock refuses them).
func (p *params) endBehaviorParam() string {
	v, ok := p.enum("end_behavior", "cancel", "none", "release", "renew")
	if ok && v != billing.EndBehaviorRelease && v != billing.EndBehaviorCancel {
		p.fail(invalid("end_behavior", "billclock supports end_behavior release and cancel only."))
	}
	return v
}

// resolvePhases fills in the times of phases given as now (the customer's
// time), makes their inline prices (at wall, the time of prices) and
// resolves their default payment methods.
func (p *params) resolvePhases(l *ledger, cust *billing.Customer, reads []phaseRead, now, wall int64) ([]billing.PhaseSpec, error) {
	specs := make([]billing.PhaseSpec, 0, len(reads))
	for _, r := range reads {
		s := r.spec
		if r.startNow {
			s.Start = now
		}
		if r.endNow {
			s.End = now
		}
		if r.trialNow {
			s.TrialEnd = now
		}
		if err := makeInlines(p, l, s.Items, specPrice, wall); err != nil {
			return nil, err
		}
		if err := makeInlines(p, l, s.AddInvoiceItems, addedPrice, wall); err != nil {
			return nil, err
		}
		if s.DefaultPaymentMethod != "" {
			id, err := l.attachedPaymentMethod(cust, s.DefaultPaymentMethod, s.Param+"[default_payment_method]", now)
			if err != nil {
				return nil, err
			}
			s.DefaultPaymentMethod = id
		}
		specs = append(specs, s)
	}
	return specs, nil
}

func (s *Surface) createSchedule(c *call, tx *store.Tx) (any, error) {
	customer, hasCustomer := c.p.str("customer")
	from, hasFrom := c.p.str("from_subscription")
	start, startNow, hasStart := c.p.timeOrNow("start_date")
	reads, hasPhases := c.p.phaseSpecs(false)
	endBehavior := c.p.endBehaviorParam()
	meta, cleared := c.p.metadata("metadata")
	defaults := c.p.scheduleDefaultsParam()
	if bm, ok := c.p.sub("billing_mode"); ok {
		if v, ok := bm.enum("billing_mode[type]", "classic", "flexible"); ok && v != "flexible" {
			bm.fail(invalid("billing_mode[type]", "billclock emulates flexible billing mode only."))
		}
		if fl, ok := bm.sub("billing_mode[flexible]"); ok {
			fl.enum("billing_mode[flexible][proration_discounts]", "included", "itemized")
			bm.fail(fl.check())
		}
		c.p.fail(bm.check())
	}
	ex, err := c.p.expansions(scheduleExpansions...)
	if err != nil {
		return nil, err
	}
	if hasFrom {
		for _, other := range []struct {
			name string
			sent bool
		}{{"customer", hasCustomer}, {"phases", hasPhases}, {"start_date", hasStart}, {"end_behavior", endBehavior != ""}} {
			if other.sent {
				return nil, invalid(other.name, "You cannot set `%s` if `from_subscription` is set.", other.name)
			}
		}
	} else {
		if !hasCustomer {
			return nil, errMissing("customer")
		}
		if !hasPhases {
			return nil, errMissing("phases")
		}
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	in := billing.NewSchedule{Customer: customer, EndBehavior: endBehavior, Metadata: applyMetadata(nil, meta, cleared),
		FromSubscription: from}
	if defaults.anchor != nil {
		in.DefaultAnchor = *defaults.anchor
	}
	if defaults.description != nil {
		in.Description = *defaults.description
	}
	var now int64
	if hasFrom {
		sub, err := l.Subscription(from)
		if err != nil {
			return nil, withParam(err, "from_subscription")
		}
		if now, err = l.TimeOn(sub.Clock, c.now.Unix()); err != nil {
			return nil, err
		}
	} else {
		cust, err := l.Customer(customer)
		if err != nil {
			return nil, withParam(err, "customer")
		}
		if now, err = l.TimeOn(cust.Clock, c.now.Unix()); err != nil {
			return nil, err
		}
		if !startNow {
			in.Start = start
		}
		if in.Phases, err = c.p.resolvePhases(l, cust, reads, now, c.now.Unix()); err != nil {
			return nil, err
		}
		if defaults.defaultPM != nil && *defaults.defaultPM != "" {
			if in.DefaultPaymentMethod, err = l.attachedPaymentMethod(cust, *defaults.defaultPM,
				"default_settings[default_payment_method]", now); err != nil {
				return nil, err
			}
		}
	}
	sched, err := l.Engine().CreateSchedule(in, now)
	if err != nil {
		return nil, asDecline(l, err)
	}
	return renderSchedule(sched, l, ex)
}

func (s *Surface) retrieveSchedule(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(scheduleExpansions...)
	if err != nil {
		return nil, err
	}
	l, sched, err := openByID(s, c, tx, (*ledger).SubscriptionSchedule)
	if err != nil {
		return nil, err
	}
	return renderSchedule(sched, l, ex)
}

// openSchedule opens the account's ledger and loads the schedule the path
// names, with the time of its clock.
func (s *Surface) openSchedule(c *call, tx *store.Tx) (*ledger, *billing.SubscriptionSchedule, int64, error) {
	return onClock(s, c, tx, (*ledger).SubscriptionSchedule,
		func(sched *billing.SubscriptionSchedule) string { return sched.Clock })
}

func (s *Surface) updateSchedule(c *call, tx *store.Tx) (any, error) {
	reads, hasPhases := c.p.phaseSpecs(true)
	endBehavior := c.p.endBehaviorParam()
	meta, cleared := c.p.metadata("metadata")
	behavior, _ := c.p.enum("proration_behavior", billing.ProrateAlways, billing.ProrateCreate, billing.ProrateNone)
	defaults := c.p.scheduleDefaultsParam()
	ex, err := c.p.expansions(scheduleExpansions...)
	if err != nil {
		return nil, err
	}
	if hasPhases && len(reads) == 0 {
		return nil, errMissing("phases")
	}
	l, sched, now, err := s.openSchedule(c, tx)
	if err != nil {
		return nil, err
	}
	ch := billing.ScheduleChange{EndBehavior: endBehavior, ProrationBehavior: behavior,
		Metadata: metadataUpdate(sched.Metadata, meta, cleared), DefaultAnchor: defaults.anchor, Description: defaults.description}
	cust, err := l.Customer(sched.Customer)
	if err != nil {
		return nil, err
	}
	if hasPhases {
		if ch.Phases, err = c.p.resolvePhases(l, cust, reads, now, c.now.Unix()); err != nil {
			return nil, err
		}
	}
	if defaults.defaultPM != nil {
		id := *defaults.defaultPM
		if id != "" {
			if id, err = l.attachedPaymentMethod(cust, id, "default_settings[default_payment_method]", now); err != nil {
				return nil, err
			}
		}
		ch.DefaultPaymentMethod = &id
	}
	if sched, err = l.Engine().UpdateSchedule(sched.ID, ch, now); err != nil {
		return nil, asDecline(l, err)
	}
	return renderSchedule(sched, l, ex)
}

func (s *Surface) cancelSchedule(c *call, tx *store.Tx) (any, error) {
	invoiceNow, hasInvoiceNow := c.p.bool("invoice_now")
	prorate, hasProrate := c.p.bool("prorate")
	ex, err := c.p.expansions(scheduleExpansions...)
	if err != nil {
		return nil, err
	}
	// Both default to true.
	invoiceNow, prorate = invoiceNow || !hasInvoiceNow, prorate || !hasProrate
	l, sched, now, err := s.openSchedule(c, tx)
	if err != nil {
		return nil, err
	}
	if sched, err = l.Engine().CancelSchedule(sched.ID, invoiceNow, prorate, now); err != nil {
		return nil, asDecline(l, err)
	}
	return renderSchedule(sched, l, ex)
}

func (s *Surface) releaseSchedule(c *call, tx *store.Tx) (any, error) {
	preserve, _ := c.p.bool("preserve_cancel_date")
	ex, err := c.p.expansions(scheduleExpansions...)
	if err != nil {
		return nil, err
	}
	l, sched, now, err := s.openSchedule(c, tx)
	if err != nil {
		return nil, err
	}
	if sched, err = l.Engine().ReleaseSchedule(sched.ID, preserve, now); err != nil {
		return nil, err
	}
	return renderSchedule(sched, l, ex)
}

func (s *Surface) listSchedules(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	customer, _ := c.p.str("customer")
	scheduled, hasScheduled := c.p.bool("scheduled")
	created := rangeParam(c.p, "created")
	canceled := rangeParam(c.p, "canceled_at")
	completed := rangeParam(c.p, "completed_at")
	released := rangeParam(c.p, "released_at")
	c.p.seen["customer_account"] = true
	ex, err := c.p.expansions(scheduleExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	coll, err := l.Collection(clockwork.SchedulesCollection)
	if err != nil {
		return nil, err
	}
	at := func(f rangeFilter, t int64) bool { return !f.set() || t != 0 && f.match(t) }
	match := func(s *billing.SubscriptionSchedule) bool {
		return (customer == "" || s.Customer == customer) &&
			(!hasScheduled || (s.Status == billing.ScheduleNotStarted) == scheduled) &&
			created.match(s.Created) && at(canceled, s.CanceledAt) && at(completed, s.CompletedAt) && at(released, s.ReleasedAt)
	}
	return listTyped(coll, pg, "/v1/subscription_schedules", "subscription_schedule", match,
		func(s *billing.SubscriptionSchedule) (any, error) { return renderSchedule(s, l, ex) })
}
