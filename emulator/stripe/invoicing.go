package stripe

import (
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// This file serves invoicing by hand: invoice items (create, update,
// delete), invoices (create, update, delete a draft, send, mark
// uncollectible, add and remove lines), over the engine's manual.go and
// sendinvoice.go.

// Length limits of invoicing parameters (Stripe's spec).
const (
	maxInvoiceDescription = 1500
	maxInvoiceNumber      = 26
	maxItemDescription    = 5000
)

// elems returns a reader for each element of the array parameter name,
// whose keys are read by their full names (name[0][amount]) so that
// errors name them as Stripe does; nil when it was not sent. Each
// element's reader is checked into p by the caller (p.fail(e.check())).
func (p *params) elems(name string) []*params {
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil {
		return nil
	}
	items, ok := n.list()
	if !ok {
		p.fail(invalid(name, "Invalid array"))
		return nil
	}
	out := make([]*params, 0, len(items))
	for i, it := range items {
		prefix := fmt.Sprintf("%s[%d]", name, i)
		e := newParams(&Form{root: newHash()})
		if it.leaf {
			p.fail(invalid(prefix, "Invalid %s: must be a hash.", prefix))
			return nil
		}
		for _, k := range it.keys {
			full := prefix + "[" + k + "]"
			e.form.root.keys = append(e.form.root.keys, full)
			e.form.root.kids[full] = it.kids[k]
		}
		out = append(out, e)
	}
	return out
}

// itemFields are the parameters of an invoice item that create, update
// and add_lines share, read under key (which turns "amount" into the
// parameter's full name).
type itemFields struct {
	amount                 *int64
	currency               string
	description            *string
	discountable           *bool
	discounts              *[]billing.DiscountSpec
	metadata               map[string]string
	clearMetadata          bool
	periodStart, periodEnd *int64
	// price is pricing[price] (or price), priceParam its name.
	price, priceParam string
	priceData         *priceData
	quantity          *int64
	taxRates          *[]string
}

func readItemFields(p *params, key func(string) string, withCurrency, withProductData bool) itemFields {
	var f itemFields
	if v, ok := p.int64(key("amount")); ok {
		f.amount = &v
	}
	if withCurrency {
		f.currency, _ = readCurrency(p, key("currency"))
	}
	f.description = p.clearableText(key("description"), maxItemDescription)
	if v, ok := p.bool(key("discountable")); ok {
		f.discountable = &v
	}
	f.discounts = p.discountSpecs(key("discounts"))
	f.metadata, f.clearMetadata = p.metadata(key("metadata"))
	if per, ok := p.sub(key("period")); ok {
		start := per.requiredTimestamp(key("period") + "[start]")
		end := per.requiredTimestamp(key("period") + "[end]")
		if per.err == nil && end < start {
			per.fail(invalid(key("period")+"[end]", "The period end must be at or after its start."))
		}
		p.fail(per.check())
		f.periodStart, f.periodEnd = &start, &end
	}
	if pr, ok := p.sub(key("pricing")); ok {
		f.price, _ = pr.str(key("pricing") + "[price]")
		f.priceParam = key("pricing") + "[price]"
		p.fail(pr.check())
	}
	if v, ok := p.str(key("price")); ok && f.price == "" {
		f.price, f.priceParam = v, key("price")
	}
	f.priceData = readPriceData(p, key("price_data"), priceDataShape{productData: withProductData})
	f.quantity = p.quantity(key("quantity"))
	f.taxRates = p.taxRateIDs(key("tax_rates"))
	p.seen[key("tax_behavior")] = true // accepted: billclock does not tax by behavior
	return f
}

// newItem turns f into the engine's new invoice item, making its inline
// price first.
func (f itemFields) newItem(l *ledger, now int64) (billing.NewInvoiceItem, error) {
	in := billing.NewInvoiceItem{Price: f.price, PriceParam: f.priceParam, Currency: f.currency, Quantity: f.quantity,
		Discountable: f.discountable, Metadata: applyMetadata(nil, f.metadata, false)}
	if f.amount != nil {
		in.Amount = *f.amount
	}
	if f.description != nil {
		in.Description = *f.description
	}
	if f.periodStart != nil {
		in.PeriodStart, in.PeriodEnd = *f.periodStart, *f.periodEnd
	}
	if f.discounts != nil {
		in.Discounts = *f.discounts
	}
	if f.taxRates != nil {
		in.TaxRates = *f.taxRates
	}
	if f.priceData != nil {
		id, err := f.priceData.make(l, "", now)
		if err != nil {
			return in, err
		}
		in.Price, in.PriceParam, in.Currency = id, f.priceData.param, ""
	}
	return in, nil
}

// checkPricing refuses more than one way of pricing an item, or none
// (unless none is needed).
func (f itemFields) checkPricing(p *params, key func(string) string, required bool) {
	ways := 0
	for _, set := range []bool{f.amount != nil, f.price != "", f.priceData != nil} {
		if set {
			ways++
		}
	}
	switch {
	case ways > 1:
		p.fail(invalid(key("amount"), "You may only specify one of these parameters: amount, price_data, pricing."))
	case ways == 0 && required:
		p.fail(errMissing(key("amount")))
	}
}

var invoiceItemExpansions = []string{"customer", "invoice"}

func (s *Surface) createInvoiceItem(c *call, tx *store.Tx) (any, error) {
	plain := func(k string) string { return k }
	f := readItemFields(c.p, plain, true, false)
	f.checkPricing(c.p, plain, true)
	customer, _ := c.p.str("customer")
	invoice, _ := c.p.str("invoice")
	subscription, _ := c.p.str("subscription")
	if customer == "" && invoice == "" {
		c.p.fail(errMissing("customer"))
	}
	if f.amount != nil && f.currency == "" {
		c.p.fail(errMissing("currency"))
	}
	if _, err := c.p.expansions(invoiceItemExpansions...); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	clock, err := s.clockOfInvoicing(l, customer, invoice)
	if err != nil {
		return nil, err
	}
	now, err := l.TimeOn(clock, c.now.Unix())
	if err != nil {
		return nil, err
	}
	in, err := f.newItem(l, now)
	if err != nil {
		return nil, err
	}
	in.Customer, in.Invoice, in.Subscription = customer, invoice, subscription
	ii, err := l.Engine().CreateInvoiceItem(in, now)
	if err != nil {
		return nil, err
	}
	return renderInvoiceItem(ii, l)
}

// clockOfInvoicing is the clock of the customer (or else of the invoice)
// a request bills: its objects live in that clock's time.
func (s *Surface) clockOfInvoicing(l *ledger, customer, invoice string) (string, error) {
	if customer != "" {
		cust, err := l.Customer(customer)
		if err != nil {
			return "", withParam(err, "customer")
		}
		return cust.Clock, nil
	}
	inv, err := l.Invoice(invoice)
	if err != nil {
		return "", withParam(err, "invoice")
	}
	return inv.Clock, nil
}

func (s *Surface) updateInvoiceItem(c *call, tx *store.Tx) (any, error) {
	plain := func(k string) string { return k }
	f := readItemFields(c.p, plain, false, false)
	f.checkPricing(c.p, plain, false)
	if _, err := c.p.expansions(invoiceItemExpansions...); err != nil {
		return nil, err
	}
	l, ii, err := openByID(s, c, tx, (*ledger).InvoiceItem)
	if err != nil {
		return nil, err
	}
	now, err := l.TimeOn(ii.Clock, c.now.Unix())
	if err != nil {
		return nil, err
	}
	ch := billing.InvoiceItemChange{Amount: f.amount, Quantity: f.quantity, Description: f.description,
		PeriodStart: f.periodStart, PeriodEnd: f.periodEnd, Discountable: f.discountable, Discounts: f.discounts,
		TaxRates: f.taxRates, Metadata: metadataUpdate(ii.Metadata, f.metadata, f.clearMetadata)}
	if f.price != "" {
		ch.Price, ch.PriceParam = &f.price, &f.priceParam
	}
	if f.priceData != nil {
		id, err := f.priceData.make(l, "", now)
		if err != nil {
			return nil, err
		}
		ch.Price, ch.PriceParam = &id, &f.priceData.param
	}
	ii, err = l.Engine().UpdateInvoiceItem(ii.ID, ch, now)
	if err != nil {
		return nil, err
	}
	return renderInvoiceItem(ii, l)
}

func (s *Surface) deleteInvoiceItem(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, ii, err := openByID(s, c, tx, (*ledger).InvoiceItem)
	if err != nil {
		return nil, err
	}
	now, err := l.TimeOn(ii.Clock, c.now.Unix())
	if err != nil {
		return nil, err
	}
	if _, err := l.Engine().DeleteInvoiceItem(ii.ID, now); err != nil {
		return nil, err
	}
	return renderDeleted(ii.ID, "invoiceitem"), nil
}

// invoiceFields are the parameters invoice create and update share.
type invoiceFields struct {
	autoAdvance         *bool
	finalizesAt         *int64
	collection          *billing.CollectionMethod
	daysUntilDue        *int64
	dueDate             *int64
	description, footer *string
	number              *string
	metadata            map[string]string
	clearMetadata       bool
	discounts           *[]billing.DiscountSpec
	defaultTaxRates     *[]string
}

func readInvoiceFields(p *params) invoiceFields {
	var f invoiceFields
	if v, ok := p.bool("auto_advance"); ok {
		f.autoAdvance = &v
	}
	if v, ok := p.timestamp("automatically_finalizes_at"); ok {
		f.finalizesAt = &v
	}
	if v, ok := p.enum("collection_method", chargeAutomatically, sendInvoice); ok {
		m := engineCollection(v)
		f.collection = &m
	}
	if v, ok := p.int64("days_until_due"); ok {
		f.daysUntilDue = &v
	}
	if v, ok := p.timestamp("due_date"); ok {
		f.dueDate = &v
	}
	f.description = p.clearableText("description", maxInvoiceDescription)
	f.footer = p.clearableText("footer", maxFooter)
	f.number = p.clearableText("number", maxInvoiceNumber)
	f.metadata, f.clearMetadata = p.metadata("metadata")
	f.discounts = p.discountSpecs("discounts")
	f.defaultTaxRates = p.taxRateIDs("default_tax_rates")
	p.refuseAutomaticTax()
	return f
}

func (s *Surface) createInvoice(c *call, tx *store.Tx) (any, error) {
	f := readInvoiceFields(c.p)
	customer, ok := c.p.str("customer")
	if !ok {
		c.p.fail(errMissing("customer"))
	}
	subscription, _ := c.p.str("subscription")
	currency, _ := readCurrency(c.p, "currency")
	pending, _ := c.p.enum("pending_invoice_items_behavior", "exclude", "include")
	ex, err := c.p.expansions(invoiceExpansions...)
	if err != nil {
		return nil, err
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
	in := billing.NewInvoice{Customer: cust.ID, Subscription: subscription, Currency: currency,
		DefaultCurrency: defaultCurrency, IncludePending: pending == "include", DaysUntilDue: f.daysUntilDue,
		Metadata: applyMetadata(nil, f.metadata, false)}
	// Setting when it finalizes asks for it to finalize by itself.
	in.AutoAdvance = f.finalizesAt != nil
	if f.autoAdvance != nil {
		in.AutoAdvance = *f.autoAdvance
	}
	if f.finalizesAt != nil {
		in.AutomaticallyFinalizesAt = *f.finalizesAt
	}
	if f.collection != nil {
		in.CollectionMethod = *f.collection
	}
	if f.dueDate != nil {
		in.DueDate = *f.dueDate
	}
	for dst, src := range map[*string]*string{&in.Description: f.description, &in.Footer: f.footer, &in.Number: f.number} {
		if src != nil {
			*dst = *src
		}
	}
	in.Discounts = f.discounts
	if f.defaultTaxRates != nil {
		in.DefaultTaxRates = *f.defaultTaxRates
	}
	inv, err := l.Engine().CreateInvoice(in, now)
	if err != nil {
		return nil, err
	}
	return renderInvoice(inv, l, expandSet(ex))
}

func (s *Surface) updateInvoice(c *call, tx *store.Tx) (any, error) {
	f := readInvoiceFields(c.p)
	ex, err := c.p.expansions(invoiceExpansions...)
	if err != nil {
		return nil, err
	}
	l, inv, now, err := s.openInvoice(c, tx)
	if err != nil {
		return nil, err
	}
	ch := billing.InvoiceChange{AutoAdvance: f.autoAdvance, AutomaticallyFinalizesAt: f.finalizesAt,
		CollectionMethod: f.collection, DaysUntilDue: f.daysUntilDue, DueDate: f.dueDate, Description: f.description,
		Footer: f.footer, Number: f.number, Metadata: metadataUpdate(inv.Metadata, f.metadata, f.clearMetadata),
		Discounts: f.discounts, DefaultTaxRates: f.defaultTaxRates}
	if inv, err = l.Engine().UpdateInvoice(inv.ID, ch, now); err != nil {
		return nil, err
	}
	return renderInvoice(inv, l, expandSet(ex))
}

func (s *Surface) deleteInvoice(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, inv, now, err := s.openInvoice(c, tx)
	if err != nil {
		return nil, err
	}
	if _, err := l.Engine().DeleteInvoice(inv.ID, now); err != nil {
		return nil, err
	}
	return renderDeleted(inv.ID, "invoice"), nil
}

func (s *Surface) sendInvoice() handler {
	return s.invoiceAction(func(e *billing.Engine, inv *billing.Invoice, now int64, _ *call) error {
		return e.SendInvoice(inv, now)
	})
}

func (s *Surface) markUncollectible() handler {
	return s.invoiceAction(func(e *billing.Engine, inv *billing.Invoice, now int64, _ *call) error {
		return e.MarkUncollectible(inv, now)
	})
}

// addLines serves POST /v1/invoices/{id}/add_lines: each line an invoice
// item of the customer's that is pending (lines[][invoice_item]) or a new
// one, priced like an invoice item (without a currency: the invoice's).
func (s *Surface) addLines(c *call, tx *store.Tx) (any, error) {
	type lineReq struct {
		item  string
		f     itemFields
		param string
	}
	var reqs []lineReq
	elems := c.p.elems("lines")
	for i, e := range elems {
		param := fmt.Sprintf("lines[%d]", i)
		key := func(k string) string { return param + "[" + k + "]" }
		r := lineReq{param: param}
		r.item, _ = e.str(key("invoice_item"))
		r.f = readItemFields(e, key, false, true)
		r.f.checkPricing(e, key, r.item == "")
		if r.item != "" && (r.f.amount != nil || r.f.price != "" || r.f.priceData != nil) {
			e.fail(invalid(key("invoice_item"), "A line adding an existing invoice item (%s) takes no price or amount.", key("invoice_item")))
		}
		c.p.fail(e.check())
		reqs = append(reqs, r)
	}
	if len(elems) == 0 && c.p.err == nil {
		c.p.fail(errMissing("lines"))
	}
	metadata, cleared := c.p.metadata("invoice_metadata")
	ex, err := c.p.expansions(invoiceExpansions...)
	if err != nil {
		return nil, err
	}
	l, inv, now, err := s.openInvoice(c, tx)
	if err != nil {
		return nil, err
	}
	lines := make([]billing.NewLine, 0, len(reqs))
	for _, r := range reqs {
		nl := billing.NewLine{InvoiceItem: r.item, Param: r.param}
		if r.item == "" {
			if nl.Item, err = r.f.newItem(l, now); err != nil {
				return nil, err
			}
			if nl.Item.PriceParam == "" {
				nl.Item.PriceParam = r.param + "[pricing][price]"
			}
		}
		lines = append(lines, nl)
	}
	if err := l.Engine().AddLines(inv, lines, metadataUpdate(inv.Metadata, metadata, cleared), now); err != nil {
		return nil, err
	}
	return renderInvoice(inv, l, expandSet(ex))
}

// removeLines serves POST /v1/invoices/{id}/remove_lines: each line, which
// bills an invoice item, is removed, and its item deleted
// (behavior=delete) or made pending again (unassign).
func (s *Surface) removeLines(c *call, tx *store.Tx) (any, error) {
	var removals []billing.LineRemoval
	elems := c.p.elems("lines")
	for i, e := range elems {
		param := fmt.Sprintf("lines[%d]", i)
		id, ok := e.str(param + "[id]")
		if !ok {
			e.fail(errMissing(param + "[id]"))
		}
		behavior, ok := e.enum(param+"[behavior]", "delete", "unassign")
		if !ok && !e.present(param+"[behavior]") {
			e.fail(errMissing(param + "[behavior]"))
		}
		c.p.fail(e.check())
		removals = append(removals, billing.LineRemoval{Line: id, Delete: behavior == "delete", Param: param})
	}
	if len(elems) == 0 && c.p.err == nil {
		c.p.fail(errMissing("lines"))
	}
	metadata, cleared := c.p.metadata("invoice_metadata")
	ex, err := c.p.expansions(invoiceExpansions...)
	if err != nil {
		return nil, err
	}
	l, inv, now, err := s.openInvoice(c, tx)
	if err != nil {
		return nil, err
	}
	if err := l.Engine().RemoveLines(inv, removals, metadataUpdate(inv.Metadata, metadata, cleared), now); err != nil {
		return nil, err
	}
	return renderInvoice(inv, l, expandSet(ex))
}
