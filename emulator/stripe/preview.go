package stripe

import (
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// createPreview serves POST /v1/invoices/create_preview: the invoice a
// subscription's next renewal, a change to it (subscription_details) or a
// new subscription (subscription_details[items] without subscription)
// would make, computed by the engine on a scratch copy of the account
// (billing.Engine.Preview*). It runs in a read-only transaction: nothing
// it does can be stored. With only customer, it previews the customer's
// subscription that renews first.
func (s *Surface) createPreview(c *call, tx *store.Tx) (any, error) {
	customer, _ := c.p.str("customer")
	subscription, _ := c.p.str("subscription")
	readCurrency(c.p, "currency")
	if mode, ok := c.p.enum("preview_mode", "next", "recurring"); ok && mode != "next" {
		c.p.fail(invalid("preview_mode", "billclock previews the next invoice only (preview_mode=next)."))
	}
	c.p.refuseAutomaticTax()
	var ch billing.SubscriptionChange
	details := false
	var trialEndNow, clearMetadata bool
	var metadata map[string]string
	if sd, ok := c.p.sub("subscription_details"); ok {
		details = true
		ch.Items = sd.itemSpecs("subscription_details[items]", "id", "price", "quantity", "deleted", "metadata", "clear_usage",
			"tax_rates", "discounts")
		ch.ProrationBehavior, _ = sd.enum("subscription_details[proration_behavior]", billing.ProrateAlways,
			billing.ProrateCreate, billing.ProrateNone)
		ch.ProrationDate, _ = sd.timestamp("subscription_details[proration_date]")
		if v, ok := sd.bool("subscription_details[cancel_at_period_end]"); ok {
			ch.CancelAtPeriodEnd = &v
		}
		if v, _ := sd.form.lookup("subscription_details[trial_end]").leafValue(); v == "now" {
			sd.seen["subscription_details[trial_end]"], trialEndNow = true, true
		} else if v, ok := sd.timestamp("subscription_details[trial_end]"); ok {
			ch.TrialEnd = &v
		}
		metadata, clearMetadata = sd.metadata("subscription_details[metadata]")
		ch.DefaultTaxRates = sd.taxRateIDs("subscription_details[default_tax_rates]")
		c.p.fail(sd.check())
	}
	ex, err := c.p.expansions(invoiceExpansions...)
	if err != nil {
		return nil, err
	}
	if customer == "" && subscription == "" {
		return nil, errMissing("customer")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	e := l.Engine()
	var inv *billing.Invoice
	switch {
	case subscription != "":
		sub, now, err := s.subscriptionNow(l, c, subscription, "subscription")
		if err != nil {
			return nil, err
		}
		if customer != "" && customer != sub.Customer {
			return nil, invalid("customer", "The subscription %s belongs to the customer %s, not %s.", sub.ID, sub.Customer, customer)
		}
		if trialEndNow {
			ch.TrialEnd = &now
		}
		ch.Metadata = metadataUpdate(sub.Metadata, metadata, clearMetadata)
		if details {
			inv, err = e.PreviewUpdate(sub.ID, ch, now)
		} else {
			inv, err = e.PreviewRenewal(sub.ID)
		}
		if err != nil {
			return nil, previewError(err)
		}
	case len(ch.Items) > 0:
		cust, now, err := l.customerNow(customer, "customer", c.now.Unix())
		if err != nil {
			return nil, err
		}
		in := billing.NewSubscription{Customer: cust.ID, Items: ch.Items, Metadata: applyMetadata(nil, metadata, false),
			Terms: billing.Terms{DefaultTaxRates: ch.DefaultTaxRates}}
		if ch.TrialEnd != nil {
			in.TrialEnd = *ch.TrialEnd
		}
		if ch.CancelAtPeriodEnd != nil {
			in.CancelAtPeriodEnd = *ch.CancelAtPeriodEnd
		}
		if inv, err = e.PreviewCreate(in, now); err != nil {
			return nil, previewError(err)
		}
	default:
		if inv, err = s.previewCustomer(l, customer); err != nil {
			return nil, err
		}
	}
	return renderInvoice(inv, l, expandSet(ex))
}

// previewCustomer previews the renewal of the customer's subscription that
// renews first.
func (s *Surface) previewCustomer(l *ledger, customer string) (*billing.Invoice, error) {
	cust, err := l.Customer(customer)
	if err != nil {
		return nil, withParam(err, "customer")
	}
	var next *billing.Subscription
	if err := l.SubscriptionsOnClock(cust.Clock, func(sub *billing.Subscription) error {
		if sub.Customer == cust.ID && !sub.Ended() && (next == nil || sub.PeriodEnd < next.PeriodEnd) {
			if _, err := l.Engine().PreviewRenewal(sub.ID); err == nil {
				next = sub
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if next == nil {
		e := invalid("", "No upcoming invoices for customer: %s", cust.ID)
		e.Code = "invoice_upcoming_none"
		return nil, e
	}
	inv, err := l.Engine().PreviewRenewal(next.ID)
	return inv, previewError(err)
}

// previewError words a preview's error: Stripe's invoice_upcoming_none
// for nothing to come; the engine's items[...] parameters are
// subscription_details[items][...] in a preview.
func previewError(err error) error {
	if e := noUpcomingInvoice(err); e != nil {
		return e
	}
	if be, ok := err.(*billing.Error); ok && strings.HasPrefix(be.Param, "items[") {
		e := *be
		e.Param = "subscription_details[" + strings.Replace(be.Param, "[", "][", 1)
		return &e
	}
	return err
}
