package stripe

import (
	"encoding/json"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// subscriptionExpansions are the paths users expand on subscriptions.
var subscriptionExpansions = []string{"latest_invoice", "customer", "items.data.price", "test_clock", "items",
	"default_payment_method", "discounts"}

// subscriptionPayment is what a subscription create or update says about
// collecting its invoices.
type subscriptionPayment struct {
	behavior billing.PaymentBehavior
	// defaultPM is default_payment_method; nil when not sent, "" to clear.
	defaultPM *string
	// missingPM is trial_settings[end_behavior][missing_payment_method];
	// nil when not sent.
	missingPM *string
}

// paymentParams reads payment_behavior, default_payment_method,
// trial_settings and off_session.
func (p *params) paymentParams() subscriptionPayment {
	var sp subscriptionPayment
	sp.behavior = p.paymentBehavior()
	sp.defaultPM = p.clearable("default_payment_method")
	p.bool("off_session")
	if settings, ok := p.sub("trial_settings"); ok {
		if end, ok := settings.sub("trial_settings[end_behavior]"); ok {
			const name = "trial_settings[end_behavior][missing_payment_method]"
			if v, ok := end.enum(name, billing.MissingPaymentMethodCancel, billing.MissingPaymentMethodCreateInvoice,
				billing.MissingPaymentMethodPause); ok {
				sp.missingPM = &v
			} else if !end.present(name) {
				end.fail(errMissing(name))
			}
			settings.fail(end.check())
		} else {
			settings.fail(errMissing("trial_settings[end_behavior]"))
		}
		p.fail(settings.check())
	}
	return sp
}

// resolveDefaultPM checks the default payment method sent for a
// subscription of cust (at the customer's time now) and returns the id to
// store: a test id attaches a new copy to the customer; a stored payment
// method must be attached to the customer already.
func (sp subscriptionPayment) resolveDefaultPM(l *ledger, cust *billing.Customer, now int64) (*string, error) {
	if sp.defaultPM == nil || *sp.defaultPM == "" {
		return sp.defaultPM, nil
	}
	id, err := l.attachedPaymentMethod(cust, *sp.defaultPM, "default_payment_method", now)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// itemSpecs reads items[n][...] into the engine's item specs.
func (p *params) itemSpecs(name string, allowed ...string) []billing.ItemSpec {
	elems := p.hashes(name)
	specs := make([]billing.ItemSpec, 0, len(elems))
	for _, el := range elems {
		param, sub := el.param, el.p
		spec := billing.ItemSpec{Param: param}
		for _, field := range allowed {
			switch field {
			case "id":
				spec.ID, _ = sub.str("id")
			case "price":
				spec.Price, _ = sub.str("price")
			case "plan":
				// A plan is a price (plans.go): older code names it so.
				if v, ok := sub.str("plan"); ok {
					if spec.Price != "" {
						sub.fail(invalid("", "You may only specify one of these parameters: plan, price."))
					}
					spec.Price = v
				}
			case "price_data":
				if ip := readPriceData(sub, "price_data", priceDataShape{recurring: mustRecur}); ip != nil {
					if spec.Price != "" {
						sub.fail(invalid("", "You may only specify one of these parameters: price, price_data."))
					}
					spec.Price = p.addInline(ip)
				}
			case "quantity":
				spec.Quantity = sub.quantity("quantity")
			case "deleted":
				spec.Deleted, _ = sub.bool("deleted")
			case "metadata":
				spec.Metadata, _ = sub.metadata("metadata")
			case "tax_rates":
				spec.TaxRates = sub.taxRateIDs("tax_rates")
			case "discounts":
				sub.itemDiscounts()
			default:
				sub.seen[field] = true // accepted and ignored (e.g. clear_usage)
			}
		}
		if err := sub.check(); err != nil {
			p.fail(nestError(param, err))
			return nil
		}
		specs = append(specs, spec)
	}
	return specs
}

// invoiceItemSpecs reads add_invoice_items[n][...]: price or price_data
// (one-time), quantity, metadata, discountable, discounts, tax_rates and
// period, whose rules inPhase says are a schedule phase's.
func (p *params) invoiceItemSpecs(name string, inPhase bool) []billing.InvoiceItemSpec {
	elems := p.hashes(name)
	specs := make([]billing.InvoiceItemSpec, 0, len(elems))
	for _, el := range elems {
		param, sub := el.param, el.p
		spec := billing.InvoiceItemSpec{Param: param}
		spec.Price, _ = sub.str("price")
		if ip := readPriceData(sub, "price_data", priceDataShape{}); ip != nil {
			if spec.Price != "" {
				sub.fail(invalid("", "You may only specify one of these parameters: price, price_data."))
			}
			spec.Price = p.addInline(ip)
		}
		spec.Quantity = sub.quantity("quantity")
		spec.Metadata, _ = sub.metadata("metadata")
		if v, ok := sub.bool("discountable"); ok {
			spec.Discountable = &v
		}
		if ds := sub.discountSpecs("discounts"); ds != nil {
			spec.Discounts = *ds
		}
		if rates := sub.taxRateIDs("tax_rates"); rates != nil {
			spec.TaxRates = *rates
		}
		spec.Period = readItemPeriod(sub, "period", inPhase)
		if err := sub.check(); err != nil {
			p.fail(nestError(param, err))
			return nil
		}
		specs = append(specs, spec)
	}
	return specs
}

// readItemPeriod reads an add_invoice_items' period: each end's type and,
// for a timestamp, its time. inPhase allows a schedule phase's rules.
// nil when it was not sent.
func readItemPeriod(p *params, name string, inPhase bool) *billing.ItemPeriod {
	per, ok := p.sub(name)
	if !ok {
		return nil
	}
	starts := []string{billing.BoundMaxItemPeriodStart, billing.BoundNow, billing.BoundTimestamp}
	ends := []string{billing.BoundMinItemPeriodEnd, billing.BoundTimestamp}
	if inPhase {
		starts = []string{billing.BoundMaxItemPeriodStart, billing.BoundPhaseStart, billing.BoundTimestamp}
		ends = []string{billing.BoundMinItemPeriodEnd, billing.BoundPhaseEnd, billing.BoundTimestamp}
	}
	out := &billing.ItemPeriod{Start: readPeriodBound(per, name+"[start]", starts), End: readPeriodBound(per, name+"[end]", ends)}
	p.fail(per.check())
	return out
}

// readPeriodBound reads one end of an item period: name[type], one of
// types, and name[timestamp] (required for a timestamp).
func readPeriodBound(p *params, name string, types []string) billing.PeriodBound {
	var b billing.PeriodBound
	bp, ok := p.sub(name)
	if !ok {
		p.fail(errMissing(name))
		return b
	}
	var has bool
	if b.Type, has = bp.enum(name+"[type]", types...); !has {
		bp.fail(errMissing(name + "[type]")) // unless it was refused: the first problem stands
	}
	if b.Type == billing.BoundTimestamp {
		b.Timestamp = bp.requiredTimestamp(name + "[timestamp]")
	} else {
		bp.timestamp(name + "[timestamp]") // only a timestamp's is used
	}
	p.fail(bp.check())
	return b
}

// collectionParams reads collection_method and days_until_due; nil when
// not sent.
func (p *params) collectionParams() (*billing.CollectionMethod, *int64) {
	var method *billing.CollectionMethod
	if v, ok := p.enum("collection_method", chargeAutomatically, sendInvoice); ok {
		m := engineCollection(v)
		method = &m
	}
	var days *int64
	if v, ok := p.int64("days_until_due"); ok {
		days = &v
	}
	return method, days
}

// prorationParams reads proration_behavior and proration_date.
func (p *params) prorationParams() (behavior string, date int64) {
	behavior, _ = p.enum("proration_behavior", billing.ProrateAlways, billing.ProrateCreate, billing.ProrateNone)
	date, _ = p.timestamp("proration_date")
	return behavior, date
}

// subscriptionView renders a subscription as the response of a call.
func subscriptionView(l *ledger, sub *billing.Subscription, ex map[string]bool) (any, error) {
	return renderSubscription(sub, l, expandSet(ex))
}

func (s *Surface) createSubscription(c *call, tx *store.Tx) (any, error) {
	customer, _ := c.p.str("customer")
	items := c.p.itemSpecs("items", "price", "plan", "price_data", "quantity", "metadata", "clear_usage", "tax_rates", "discounts")
	addItems := c.p.invoiceItemSpecs("add_invoice_items", false)
	backdate, _ := c.p.timestamp("backdate_start_date")
	currency, _ := readCurrency(c.p, "currency")
	anchorCfg := c.p.anchorConfigParam()
	settings := c.p.paymentSettingsParam()
	trialDays, hasTrialDays := c.p.int64("trial_period_days")
	trialFromPlan, _ := c.p.bool("trial_from_plan")
	trialEndNow := false
	var trialEnd int64
	if v, _ := c.p.form.lookup("trial_end").leafValue(); v == "now" {
		c.p.seen["trial_end"], trialEndNow = true, true
	} else {
		trialEnd, _ = c.p.timestamp("trial_end")
	}
	anchor, _ := c.p.timestamp("billing_cycle_anchor")
	cancelAtPeriodEnd, _ := c.p.bool("cancel_at_period_end")
	cancelAt, _ := c.p.timestamp("cancel_at")
	prorate, _ := c.p.prorationParams()
	metadata, _ := c.p.metadata("metadata")
	description, _ := c.p.text("description", maxSubscriptionDescription)
	pay := c.p.paymentParams()
	collection, days := c.p.collectionParams()
	terms := c.p.subscriptionTerms()
	ex, err := c.p.expansions(subscriptionExpansions...)
	if err != nil {
		return nil, err
	}
	if anchor != 0 && anchorCfg != nil {
		return nil, invalid("", "You may only specify one of these parameters: billing_cycle_anchor, billing_cycle_anchor_config.")
	}
	if customer == "" {
		return nil, errMissing("customer")
	}
	if len(items) == 0 {
		return nil, errMissing("items")
	}
	if hasTrialDays && (trialDays < 0 || trialDays > 730) {
		return nil, invalid("trial_period_days", "trial_period_days must be between 0 and 730.")
	}
	if pay.behavior == billing.PendingIfIncomplete {
		return nil, invalid("payment_behavior", "payment_behavior=pending_if_incomplete is only used with updates "+
			"and cannot be passed when creating a subscription.")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	cust, err := l.Customer(customer)
	if err != nil {
		return nil, withParam(err, "customer")
	}
	now, err := l.TimeOn(cust.Clock, c.now.Unix())
	if err != nil {
		return nil, err
	}
	if s.limits && cust.Clock != "" {
		n := 0
		if err := l.SubscriptionsOnClock(cust.Clock, func(sub *billing.Subscription) error {
			if sub.Customer == cust.ID && !sub.Ended() {
				n++
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if n >= 3 {
			return nil, invalid("customer", "Customers on a test clock can have at most 3 subscriptions. "+
				"billclock lifts this limit unless started with --stripe-limits.")
		}
	}
	if err := makeInlines(c.p, l, items, specPrice, c.now.Unix()); err != nil {
		return nil, err
	}
	if err := makeInlines(c.p, l, addItems, addedPrice, c.now.Unix()); err != nil {
		return nil, err
	}
	if anchorCfg != nil {
		if anchor, err = anchorFromConfig(l, anchorCfg, items, now); err != nil {
			return nil, err
		}
	}
	if trialFromPlan && !hasTrialDays && trialEnd == 0 && !trialEndNow {
		// The legacy trial_period_days of the first item's plan.
		if v, err := l.plan(items[0].Price, "items[0][price]"); err == nil && v.opts.TrialPeriodDays != nil {
			trialDays = *v.opts.TrialPeriodDays
		}
	}
	in := billing.NewSubscription{Customer: cust.ID, Items: items, BillingCycleAnchor: anchor,
		CancelAtPeriodEnd: cancelAtPeriodEnd, CancelAt: cancelAt, Metadata: applyMetadata(nil, metadata, false),
		ProrationBehavior: prorate, PaymentBehavior: pay.behavior, BackdateStart: backdate, Currency: currency,
		AddInvoiceItems: addItems, Terms: terms, DaysUntilDue: days}
	if collection != nil {
		in.CollectionMethod = *collection
	}
	if pay.missingPM != nil {
		in.MissingPaymentMethodAtTrialEnd = *pay.missingPM
	}
	defaultPM, err := pay.resolveDefaultPM(l, cust, now)
	if err != nil {
		return nil, err
	}
	if defaultPM != nil {
		in.DefaultPaymentMethod = *defaultPM
	}
	switch {
	case trialEndNow:
	case trialEnd != 0:
		if trialEnd <= now {
			return nil, invalid("trial_end", "Invalid timestamp: must be an integer Unix timestamp in the future.")
		}
		in.TrialEnd = trialEnd
	case trialDays > 0:
		in.TrialEnd = now + trialDays*86400
	}
	if anchor != 0 && anchor <= now {
		return nil, invalid("billing_cycle_anchor", "billing_cycle_anchor must be in the future.")
	}
	sub, err := l.Engine().CreateSubscription(in, now)
	if err != nil {
		// error_if_incomplete: the decline, and nothing left behind.
		return nil, asDecline(l, err)
	}
	if description != "" || settings != nil || anchorCfg != nil {
		opts := &subscriptionOptions{Description: description, AnchorConfig: anchorCfg}
		if settings != nil {
			opts.PaymentSettings = settings(nil)
		}
		if err := l.putSubscriptionOptions(sub.ID, sub.Created, opts); err != nil {
			return nil, err
		}
	}
	return subscriptionView(l, sub, ex)
}

// anchorFromConfig is the billing cycle anchor cfg gives a subscription of
// items created at now: the interval is its first item's price's (a
// missing price is left for the engine to report).
func anchorFromConfig(l *ledger, cfg *anchorConfig, items []billing.ItemSpec, now int64) (int64, error) {
	if len(items) == 0 || items[0].Price == "" {
		return 0, nil
	}
	p, err := l.Price(items[0].Price)
	if err != nil || p.Recurring == nil {
		return 0, nil
	}
	return cfg.anchorFor(*p.Recurring, now)
}

// withParam sets the param of a not-found error that came from a lookup by
// a request parameter.
func withParam(err error, param string) error {
	if be, ok := err.(*billing.Error); ok {
		e := *be
		e.Param = param
		return &e
	}
	return err
}

func (s *Surface) retrieveSubscription(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(subscriptionExpansions...)
	if err != nil {
		return nil, err
	}
	l, sub, err := openByID(s, c, tx, (*ledger).Subscription)
	if err != nil {
		return nil, err
	}
	return subscriptionView(l, sub, ex)
}

// subscriptionNow loads a subscription and the time of its clock.
func (s *Surface) subscriptionNow(l *ledger, c *call, id, param string) (*billing.Subscription, int64, error) {
	sub, err := l.Subscription(id)
	if err != nil {
		return nil, 0, withParam(err, param)
	}
	now, err := l.TimeOn(sub.Clock, c.now.Unix())
	return sub, now, err
}

func (s *Surface) updateSubscription(c *call, tx *store.Tx) (any, error) {
	items := c.p.itemSpecs("items", "id", "price", "plan", "price_data", "quantity", "deleted", "metadata", "clear_usage", "tax_rates", "discounts")
	addItems := c.p.invoiceItemSpecs("add_invoice_items", false)
	behavior, date := c.p.prorationParams()
	var ch billing.SubscriptionChange
	anchorMode, _ := c.p.enum("billing_cycle_anchor", "now", "unchanged")
	ch.BillingCycleAnchorNow = anchorMode == "now"
	ch.PauseCollection = c.p.pauseCollectionParam()
	if v, ok := c.p.bool("cancel_at_period_end"); ok {
		ch.CancelAtPeriodEnd = &v
	}
	if c.p.present("cancel_at") {
		v, _ := c.p.timestamp("cancel_at") // sent empty: 0, which clears it
		ch.CancelAt = &v
	}
	metadata, cleared := c.p.metadata("metadata")
	description := c.p.clearableText("description", maxSubscriptionDescription)
	settings := c.p.paymentSettingsParam()
	pay := c.p.paymentParams()
	ch.CollectionMethod, ch.DaysUntilDue = c.p.collectionParams()
	trialEndNow := false
	if v, _ := c.p.form.lookup("trial_end").leafValue(); v == "now" {
		c.p.seen["trial_end"], trialEndNow = true, true
	} else if v, ok := c.p.timestamp("trial_end"); ok {
		ch.TrialEnd = &v
	}
	ch.Terms = c.p.subscriptionTerms()
	ex, err := c.p.expansions(subscriptionExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	sub, now, err := s.subscriptionNow(l, c, c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	if err := makeInlines(c.p, l, items, specPrice, c.now.Unix()); err != nil {
		return nil, err
	}
	if err := makeInlines(c.p, l, addItems, addedPrice, c.now.Unix()); err != nil {
		return nil, err
	}
	ch.AddInvoiceItems = addItems
	if err := refuseMinimumOnUpdate(l, ch.Terms); err != nil {
		return nil, err
	}
	ch.Items, ch.ProrationBehavior, ch.ProrationDate = items, behavior, date
	ch.Metadata = metadataUpdate(sub.Metadata, metadata, cleared)
	ch.PaymentBehavior, ch.MissingPaymentMethodAtTrialEnd = pay.behavior, pay.missingPM
	if pay.defaultPM != nil {
		cust, err := l.Customer(sub.Customer)
		if err != nil {
			return nil, err
		}
		if ch.DefaultPaymentMethod, err = pay.resolveDefaultPM(l, cust, now); err != nil {
			return nil, err
		}
	}
	switch {
	case trialEndNow:
		ch.TrialEnd = &now
	case ch.TrialEnd != nil && *ch.TrialEnd <= now:
		return nil, invalid("trial_end", "Invalid timestamp: must be an integer Unix timestamp in the future.")
	}
	sub, err = l.Engine().UpdateSubscription(sub.ID, ch, now)
	if err != nil {
		// error_if_incomplete and pending_if_incomplete: the decline, and
		// the update is not applied.
		return nil, asDecline(l, err)
	}
	if description != nil || settings != nil {
		opts, err := l.subscriptionOptions(sub.ID)
		if err != nil {
			return nil, err
		}
		if description != nil {
			opts.Description = *description
		}
		if settings != nil {
			opts.PaymentSettings = settings(opts.PaymentSettings)
		}
		if err := l.putSubscriptionOptions(sub.ID, sub.Created, opts); err != nil {
			return nil, err
		}
	}
	return subscriptionView(l, sub, ex)
}

// pauseCollectionParam reads pause_collection: nil when not sent, the
// zero pause (resume collection) when sent empty.
func (p *params) pauseCollectionParam() *billing.PauseCollection {
	const name = "pause_collection"
	pc, ok := p.sub(name)
	if !ok {
		if v, sent := p.form.lookup(name).leafValue(); sent && v == "" {
			return &billing.PauseCollection{}
		}
		return nil
	}
	out := &billing.PauseCollection{}
	if b, ok := pc.enum(name+"[behavior]", "keep_as_draft", "mark_uncollectible", "void"); ok {
		out.Behavior = billing.PauseBehavior(b)
	} else if !pc.present(name + "[behavior]") {
		pc.fail(errMissing(name + "[behavior]"))
	}
	out.ResumesAt, _ = pc.timestamp(name + "[resumes_at]")
	p.fail(pc.check())
	return out
}

// metadataUpdate turns a request's metadata into the engine's update form,
// where "" deletes a key; clearing deletes every existing key.
func metadataUpdate(current, update map[string]string, cleared bool) map[string]string {
	if !cleared {
		return update
	}
	out := map[string]string{}
	for k := range current {
		out[k] = ""
	}
	for k, v := range update {
		out[k] = v
	}
	return out
}

func (s *Surface) cancelSubscription(c *call, tx *store.Tx) (any, error) {
	invoiceNow, _ := c.p.bool("invoice_now")
	prorate, _ := c.p.bool("prorate")
	c.p.seen["cancellation_details"] = true
	ex, err := c.p.expansions(subscriptionExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	sub, now, err := s.subscriptionNow(l, c, c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	sub, err = l.Engine().CancelSubscription(sub.ID, invoiceNow, prorate, now)
	if err != nil {
		return nil, err
	}
	return subscriptionView(l, sub, ex)
}

func (s *Surface) listSubscriptions(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	customer, _ := c.p.str("customer")
	price := c.p.priceOrPlan()
	clock, _ := c.p.str("test_clock")
	status, hasStatus := c.p.enum("status", "active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid")
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions(subscriptionExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	coll, err := l.Collection(clockwork.SubscriptionsCollection)
	if err != nil {
		return nil, err
	}
	match := func(sub *billing.Subscription) bool {
		switch {
		case customer != "" && sub.Customer != customer,
			clock != "" && sub.Clock != clock,
			customer == "" && clock == "" && sub.Clock != "",
			!created.match(sub.Created):
			return false
		case !hasStatus:
			if sub.Status == billing.StatusCanceled {
				return false
			}
		case status == "all":
		case status == "ended":
			if !sub.Ended() {
				return false
			}
		case status == "canceled":
			if sub.Status != billing.StatusCanceled {
				return false
			}
		case string(sub.Status) != status:
			return false
		}
		if price != "" {
			for _, it := range sub.Items {
				if it.Price == price {
					return true
				}
			}
			return false
		}
		return true
	}
	return listTyped(coll, pg, "/v1/subscriptions", "subscription", match, func(sub *billing.Subscription) (any, error) {
		return subscriptionView(l, sub, ex)
	})
}

// Subscription items: each change goes through the engine as a one-item
// subscription update, so it prorates like one.

func (s *Surface) createSubscriptionItem(c *call, tx *store.Tx) (any, error) {
	subID, _ := c.p.str("subscription")
	price := c.p.priceOrPlan()
	qty := c.p.quantity("quantity")
	metadata, _ := c.p.metadata("metadata")
	behavior, date := c.p.prorationParams()
	payBehavior := c.p.paymentBehavior()
	taxRates := c.p.taxRateIDs("tax_rates")
	c.p.itemDiscounts()
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	if subID == "" {
		return nil, errMissing("subscription")
	}
	if price == "" {
		return nil, errMissing("price")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	sub, now, err := s.subscriptionNow(l, c, subID, "subscription")
	if err != nil {
		return nil, err
	}
	spec := billing.ItemSpec{Price: price, Quantity: qty, Metadata: metadata, Param: "", TaxRates: taxRates}
	sub, err = l.Engine().UpdateSubscription(sub.ID, billing.SubscriptionChange{Items: []billing.ItemSpec{spec},
		ProrationBehavior: behavior, ProrationDate: date, PaymentBehavior: payBehavior}, now)
	if err != nil {
		return nil, fixItemParam(asDecline(l, err))
	}
	return renderSubscriptionItem(sub.Items[len(sub.Items)-1], sub, l)
}

// fixItemParam turns the engine's "[price]"-style params of a lone item
// (and "items[0][tax_rates][0]", as the engine names an item's tax rates)
// into the subscription item endpoint's plain ones ("price",
// "tax_rates[0]").
func fixItemParam(err error) error {
	be, ok := err.(*billing.Error)
	if !ok {
		return err
	}
	param := strings.TrimPrefix(be.Param, "items[0]")
	if len(param) > 2 && param[0] == '[' {
		if end := strings.IndexByte(param, ']'); end > 0 {
			e := *be
			e.Param = param[1:end] + param[end+1:]
			return &e
		}
	}
	return err
}

func (s *Surface) retrieveSubscriptionItem(c *call, tx *store.Tx) (any, error) {
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	sub, err := l.SubscriptionOfItem(c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	return renderSubscriptionItem(*sub.Item(c.vars["id"]), sub, l)
}

func (s *Surface) updateSubscriptionItem(c *call, tx *store.Tx) (any, error) {
	spec := billing.ItemSpec{ID: c.vars["id"]}
	spec.Price = c.p.priceOrPlan()
	spec.Quantity = c.p.quantity("quantity")
	spec.Metadata, _ = c.p.metadata("metadata")
	spec.TaxRates = c.p.taxRateIDs("tax_rates")
	c.p.itemDiscounts()
	behavior, date := c.p.prorationParams()
	payBehavior := c.p.paymentBehavior()
	c.p.bool("off_session")
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	return s.changeItem(c, tx, spec, behavior, date, payBehavior)
}

func (s *Surface) deleteSubscriptionItem(c *call, tx *store.Tx) (any, error) {
	behavior, date := c.p.prorationParams()
	c.p.bool("clear_usage")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if _, err := s.changeItem(c, tx, billing.ItemSpec{ID: c.vars["id"], Deleted: true}, behavior, date, ""); err != nil {
		return nil, err
	}
	return renderDeleted(c.vars["id"], "subscription_item"), nil
}

func (s *Surface) changeItem(c *call, tx *store.Tx, spec billing.ItemSpec, behavior string, date int64,
	payBehavior billing.PaymentBehavior) (any, error) {
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	sub, err := l.SubscriptionOfItem(spec.ID, "id")
	if err != nil {
		return nil, err
	}
	now, err := l.TimeOn(sub.Clock, c.now.Unix())
	if err != nil {
		return nil, err
	}
	sub, err = l.Engine().UpdateSubscription(sub.ID, billing.SubscriptionChange{Items: []billing.ItemSpec{spec},
		ProrationBehavior: behavior, ProrationDate: date, PaymentBehavior: payBehavior}, now)
	if err != nil {
		return nil, fixItemParam(asDecline(l, err))
	}
	if spec.Deleted {
		return nil, nil
	}
	return renderSubscriptionItem(*sub.Item(spec.ID), sub, l)
}

func (s *Surface) listSubscriptionItems(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	subID, _ := c.p.str("subscription")
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	if subID == "" {
		return nil, errMissing("subscription")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	sub, err := l.Subscription(subID)
	if err != nil {
		return nil, withParam(err, "subscription")
	}
	// Items are listed newest first, like every Stripe list.
	ids := make([]string, len(sub.Items))
	for i, it := range sub.Items {
		ids[len(ids)-1-i] = it.ID
	}
	return listSlice(ids, pg, "/v1/subscription_items", "subscription item", func(id string) (any, error) {
		return renderSubscriptionItem(*sub.Item(id), sub, l)
	})
}

// listSlice pages through ids (already newest first) held in memory.
func listSlice(ids []string, pg store.Page, url, kind string, render func(id string) (any, error)) (*listObject, error) {
	start, end := 0, len(ids)
	cursor := pg.StartingAfter
	if pg.EndingBefore != "" {
		cursor = pg.EndingBefore
	}
	if cursor != "" {
		at := -1
		for i, id := range ids {
			if id == cursor {
				at = i
			}
		}
		if at < 0 {
			param := "starting_after"
			if pg.EndingBefore != "" {
				param = "ending_before"
			}
			return nil, errNoSuch(kind, cursor, param)
		}
		if pg.StartingAfter != "" {
			start = at + 1
		} else {
			end = at
			start = max(0, end-pg.Limit)
		}
	}
	out := &listObject{Object: "list", URL: url, Data: []json.RawMessage{}}
	stop := min(end, start+pg.Limit)
	if pg.EndingBefore != "" {
		out.HasMore = start > 0
	} else {
		out.HasMore = stop < end
	}
	for _, id := range ids[start:stop] {
		v, err := render(id)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, raw)
	}
	return out, nil
}

// priceOrPlan reads price, or the legacy plan (a plan is a price: see
// plans.go), which stripe-go still sends for subscription items and
// subscription lists.
func (p *params) priceOrPlan() string {
	price, hasPrice := p.str("price")
	plan, hasPlan := p.str("plan")
	if hasPrice && hasPlan {
		p.fail(invalid("", "You may only specify one of these parameters: plan, price."))
	}
	if hasPlan {
		return plan
	}
	return price
}
