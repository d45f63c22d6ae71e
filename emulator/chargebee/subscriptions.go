package chargebee

import (
	"encoding/json"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// subscriptionStatuses are the statuses subscription lists filter by.
var subscriptionStatuses = []string{"future", "in_trial", "active", "non_renewing", "paused", "cancelled"}

// itemSpec is one entry of subscription_items, read.
type itemSpec struct {
	price *billing.Price
	qty   *int64
	param string
}

// readItems reads subscription_items[item_price_id][i] and
// subscription_items[quantity][i]: item prices of plans and addons, a
// quantity only for per_unit ones (at least 1).
func (c *call) readItems(required bool) []itemSpec {
	entries := c.p.list("subscription_items")
	if len(entries) == 0 && required {
		c.p.fail(errRequired("subscription_items[item_price_id][0]"))
	}
	var out []itemSpec
	seen := map[string]bool{}
	for _, e := range entries {
		idParam := listParam("subscription_items", "item_price_id", e)
		qtyParam := listParam("subscription_items", "quantity", e)
		for _, unsupported := range []string{"unit_price", "unit_price_in_decimal", "billing_cycles", "trial_end", "service_period_days"} {
			if _, ok := e[unsupported]; ok {
				c.p.fail(errParam(listParam("subscription_items", unsupported, e), "not supported by billclock"))
			}
		}
		id := e["item_price_id"]
		if id == "" {
			c.p.fail(errRequired(idParam))
			continue
		}
		if seen[id] {
			c.p.fail(errParam(idParam, "the item price "+id+" is given more than once"))
			continue
		}
		seen[id] = true
		p, err := c.l.Price(id)
		if err != nil {
			c.p.fail(errParam(idParam, "the item price "+id+" does not exist"))
			continue
		}
		if t := p.Metadata[mdItemType]; t != itemPlan && t != itemAddon {
			c.p.fail(errParam(idParam, "the item price "+id+" is not a plan's or an addon's"))
			continue
		}
		spec := itemSpec{price: p, param: idParam}
		if v, ok := e["quantity"]; ok && v != "" {
			n, ok := parseInt(v)
			switch {
			case !ok || n < 1 || n > billing.MaxQuantity:
				c.p.fail(errParam(qtyParam, "invalid value, must be an integer from 1 to 999999"))
				continue
			case p.Metadata[mdPricingModel] == flatFee && n != 1:
				c.p.fail(errParam(qtyParam, "not applicable to the flat_fee item price "+id))
				continue
			}
			spec.qty = &n
		}
		out = append(out, spec)
	}
	return out
}

// subscriptionEntry is a subscription with its customer and the
// customer's card, as Chargebee answers it.
func (c *call) subscriptionEntry(sub *billing.Subscription, now int64) (map[string]any, error) {
	so, err := renderSubscription(sub, c.l)
	if err != nil {
		return nil, err
	}
	cust, err := c.l.Customer(sub.Customer)
	if err != nil {
		return nil, err
	}
	out, err := c.customerEntry(cust, now)
	if err != nil {
		return nil, err
	}
	out["subscription"] = so
	return out, nil
}

// withChanges adds to a subscription's answer the invoice the request
// made (if any) and the credit notes it issued.
func (c *call) withChanges(out map[string]any, sub *billing.Subscription, invoiceBefore string) error {
	if sub.LatestInvoice != "" && sub.LatestInvoice != invoiceBefore {
		inv, err := c.l.Invoice(sub.LatestInvoice)
		if err != nil {
			return err
		}
		io, err := renderInvoice(inv, c.l)
		if err != nil {
			return err
		}
		out["invoice"] = io
	}
	notes, err := c.l.Recorder().(*recorder).creditNotes()
	if err != nil {
		return err
	}
	if len(notes) > 0 {
		out["credit_notes"] = notes
	}
	return nil
}

func (s *Surface) createSubscription(c *call) (any, error) {
	cust, err := c.l.Customer(c.vars["customer_id"])
	if err != nil {
		return nil, err
	}
	id := c.readID("id", false)
	items := c.readItems(true)
	trialEnd, hasTrial := c.p.timestamp("trial_end")
	meta, hasMeta := c.p.jsonObject("meta_data")
	for _, unsupported := range []string{"start_date", "billing_cycles", "contract_term_billing_cycle_on_renewal"} {
		if _, ok := c.p.str(unsupported); ok {
			c.p.fail(errParam(unsupported, "not supported by billclock"))
		}
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	now, err := c.siteNow(true)
	if err != nil {
		return nil, err
	}
	plans := 0
	for _, it := range items {
		if it.price.Metadata[mdItemType] == itemPlan {
			plans++
		}
	}
	if plans != 1 {
		return nil, errInvalid("subscription_items[item_price_id]", "A subscription needs exactly one plan item price.")
	}
	if id != "" {
		if _, err := c.l.Subscription(id); err == nil {
			return nil, errDuplicate("id", "subscription", id)
		}
	}
	if hasTrial && trialEnd <= now {
		return nil, errParam("trial_end", "must be in the future (after the time machine's destination time)")
	}
	in := billing.NewSubscription{ID: id, Customer: cust.ID, PaymentBehavior: billing.ErrorIfIncomplete}
	if hasTrial {
		in.TrialEnd = trialEnd
	}
	if hasMeta {
		in.Metadata = map[string]string{mdMetaData: string(meta)}
	}
	for _, it := range items {
		in.Items = append(in.Items, billing.ItemSpec{Price: it.price.ID, Quantity: it.qty, Param: it.param})
	}
	sub, err := c.l.Engine().CreateSubscription(in, now)
	if err != nil {
		return nil, err
	}
	out, err := c.subscriptionEntry(sub, now)
	if err != nil {
		return nil, err
	}
	return out, c.withChanges(out, sub, "")
}

func (s *Surface) retrieveSubscription(c *call) (any, error) {
	sub, err := c.l.Subscription(c.vars["id"])
	if err != nil {
		return nil, err
	}
	now, err := c.siteNow(false)
	if err != nil {
		return nil, err
	}
	return c.subscriptionEntry(sub, now)
}

func (s *Surface) listSubscriptions(c *call) (any, error) {
	customer := c.p.strFilter("customer_id", nil)
	status := c.p.strFilter("status", subscriptionStatuses)
	_, desc := c.p.sortBy("created_at")
	now, err := c.siteNow(false)
	if err != nil {
		return nil, err
	}
	return c.list(listing{coll: clockwork.SubscriptionsCollection, asc: !desc,
		match: func(raw []byte) (bool, error) {
			if !customer.set() && !status.set() {
				return true, nil
			}
			var sub billing.Subscription
			if err := json.Unmarshal(raw, &sub); err != nil {
				return false, err
			}
			return customer.match(sub.Customer) && status.match(subscriptionStatus(&sub)), nil
		},
		entry: func(raw []byte) (any, error) {
			var sub billing.Subscription
			if err := json.Unmarshal(raw, &sub); err != nil {
				return nil, err
			}
			return c.subscriptionEntry(&sub, now)
		}})
}

// updateForItems changes a subscription's items at once: quantities
// (seats), an addon added or, with replace_items_list, removed, or its
// plan replaced by another item price of a plan. With prorate (the
// default) the change is prorated to the second over the current term: an
// increase is invoiced at once with invoice_immediately (the default), or
// else added to the next invoice; a decrease becomes a credit note applied
// to the next invoice.
func (s *Surface) updateForItems(c *call) (any, error) {
	sub, err := c.l.Subscription(c.vars["id"])
	if err != nil {
		return nil, err
	}
	items := c.readItems(false)
	replace, _ := c.p.boolean("replace_items_list")
	prorate, hasProrate := c.p.boolean("prorate")
	immediately, hasImmediately := c.p.boolean("invoice_immediately")
	if eot, _ := c.p.boolean("end_of_term"); eot {
		c.p.fail(errParam("end_of_term", "billclock applies item changes at once: end_of_term=true is not supported"))
	}
	if opt, ok := c.p.enum("change_option", "immediately", "end_of_term", "specific_date"); ok && opt != "immediately" {
		c.p.fail(errParam("change_option", "billclock applies item changes at once: only immediately is supported"))
	}
	meta, hasMeta := c.p.jsonObject("meta_data")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	now, err := c.siteNow(true)
	if err != nil {
		return nil, err
	}
	if sub.Ended() {
		return nil, errState("The subscription " + sub.ID + " is cancelled.")
	}
	if !hasProrate {
		prorate = true
	}
	if !hasImmediately {
		immediately = true
	}
	var specs []billing.ItemSpec
	matched := map[string]bool{}
	var delta int64
	for _, it := range items {
		var target *billing.SubscriptionItem
		for i := range sub.Items {
			if sub.Items[i].Price == it.price.ID {
				target = &sub.Items[i]
			}
		}
		if target == nil && it.price.Metadata[mdItemType] == itemPlan {
			// A plan's item price replaces the subscription's plan.
			for i := range sub.Items {
				if p, err := c.l.Price(sub.Items[i].Price); err == nil && p.Metadata[mdItemType] == itemPlan {
					target = &sub.Items[i]
				}
			}
		}
		qty := int64(1)
		if it.qty != nil {
			qty = *it.qty
		} else if target != nil && target.Price == it.price.ID {
			qty = target.Quantity
		}
		q := qty
		delta += it.price.UnitAmount * qty
		if target == nil {
			specs = append(specs, billing.ItemSpec{Price: it.price.ID, Quantity: &q, Param: "subscription_items"})
			continue
		}
		matched[target.ID] = true
		old, err := c.l.Price(target.Price)
		if err != nil {
			return nil, err
		}
		delta -= old.UnitAmount * target.Quantity
		spec := billing.ItemSpec{ID: target.ID, Quantity: &q, Param: "subscription_items"}
		if target.Price != it.price.ID {
			spec.Price = it.price.ID
		}
		specs = append(specs, spec)
	}
	if replace {
		for _, it := range sub.Items {
			if !matched[it.ID] {
				old, err := c.l.Price(it.Price)
				if err != nil {
					return nil, err
				}
				if old.Metadata[mdItemType] == itemPlan {
					return nil, errInvalid("subscription_items", "A subscription needs exactly one plan item price: replace_items_list must keep or replace its plan.")
				}
				delta -= old.UnitAmount * it.Quantity
				specs = append(specs, billing.ItemSpec{ID: it.ID, Deleted: true, Param: "subscription_items"})
			}
		}
	}
	ch := billing.SubscriptionChange{Items: specs, PaymentBehavior: billing.ErrorIfIncomplete}
	switch {
	case !prorate:
		ch.ProrationBehavior = billing.ProrateNone
	case delta > 0 && immediately:
		ch.ProrationBehavior = billing.ProrateAlways
	default:
		ch.ProrationBehavior = billing.ProrateCreate
	}
	if hasMeta {
		ch.Metadata = map[string]string{mdMetaData: string(meta)}
	}
	invoiceBefore := sub.LatestInvoice
	sub, err = c.l.Engine().UpdateSubscription(sub.ID, ch, now)
	if err != nil {
		return nil, err
	}
	out, err := c.subscriptionEntry(sub, now)
	if err != nil {
		return nil, err
	}
	return out, c.withChanges(out, sub, invoiceBefore)
}

// cancelForItems cancels a subscription at once, or with end_of_term at
// the end of its current term (non_renewing until then).
// credit_option_for_current_term_charges=prorate credits the unused time
// (none, the default, credits nothing); unbilled charges are invoiced at
// once (unbilled_charges_option=invoice, the default) or dropped
// (delete).
func (s *Surface) cancelForItems(c *call) (any, error) {
	sub, err := c.l.Subscription(c.vars["id"])
	if err != nil {
		return nil, err
	}
	eot, _ := c.p.boolean("end_of_term")
	credit, ok := c.p.enum("credit_option_for_current_term_charges", "none", "prorate", "full")
	if !ok {
		credit = "none"
	}
	if credit == "full" {
		c.p.fail(errParam("credit_option_for_current_term_charges", "full is not supported by billclock: use none or prorate"))
	}
	unbilled, ok := c.p.enum("unbilled_charges_option", "invoice", "delete")
	if !ok {
		unbilled = "invoice"
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	now, err := c.siteNow(true)
	if err != nil {
		return nil, err
	}
	if sub.Ended() {
		return nil, errState("The subscription " + sub.ID + " is cancelled already.")
	}
	invoiceBefore := sub.LatestInvoice
	eng := c.l.Engine()
	if eot {
		yes := true
		sub, err = eng.UpdateSubscription(sub.ID, billing.SubscriptionChange{CancelAtPeriodEnd: &yes}, now)
	} else {
		sub, err = eng.CancelSubscription(sub.ID, unbilled == "invoice", credit == "prorate", now)
	}
	if err != nil {
		return nil, err
	}
	out, err := c.subscriptionEntry(sub, now)
	if err != nil {
		return nil, err
	}
	return out, c.withChanges(out, sub, invoiceBefore)
}
