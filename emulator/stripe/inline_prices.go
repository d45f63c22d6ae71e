package stripe

import (
	"fmt"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
)

// Inline prices: price_data in a subscription's items (recurring) or
// add_invoice_items (one-time) makes a new price of an existing product
// for that use. As at Stripe the price is a real one (it can be
// retrieved), but inactive; billclock sends no price.created for it.

// inlinePrice is a price described with price_data.
type inlinePrice struct {
	currency   string
	product    string
	unitAmount int64
	recurring  *billing.Interval
	// param is the price_data parameter, for errors.
	param string
}

// inlinePlaceholder marks an item spec's Price that stands for an inline
// price until it is made; no real id starts with it.
const inlinePlaceholder = "\x00inline:"

// inlinePriceParam reads the price_data hash name; recurring says whether
// it has (and needs) recurring[...]. nil when not sent.
func (p *params) inlinePriceParam(name string, recurring bool) *inlinePrice {
	pd, ok := p.sub(name)
	if !ok {
		return nil
	}
	ip := &inlinePrice{param: name}
	var has bool
	if ip.currency, has = readCurrency(pd, name+"[currency]"); !has && !pd.present(name+"[currency]") {
		pd.fail(errMissing(name + "[currency]"))
	}
	if ip.product, has = pd.str(name + "[product]"); !has {
		pd.fail(errMissing(name + "[product]"))
	}
	if ip.unitAmount, has = pd.intIn(name+"[unit_amount]", 0, billing.MaxAmount); !has && !pd.present(name+"[unit_amount]") {
		pd.fail(errMissing(name + "[unit_amount]"))
	}
	pd.enum(name+"[tax_behavior]", "exclusive", "inclusive", "unspecified")
	if recurring {
		rec, ok := pd.sub(name + "[recurring]")
		if !ok {
			pd.fail(errMissing(name + "[recurring]"))
		} else {
			ip.recurring = readRecurringHash(rec, name+"[recurring]")
			pd.fail(rec.check())
		}
	}
	p.fail(pd.check())
	return ip
}

// readRecurringHash reads interval and interval_count of the recurring
// hash prefix.
func readRecurringHash(rec *params, prefix string) *billing.Interval {
	unit, hasUnit := rec.enum(prefix+"[interval]", "day", "week", "month", "year")
	count, hasCount := rec.int64(prefix + "[interval_count]")
	if !hasUnit {
		if !rec.present(prefix + "[interval]") {
			rec.fail(errMissing(prefix + "[interval]"))
		}
		return nil
	}
	if !hasCount {
		count = 1
	}
	iv := &billing.Interval{Unit: billing.IntervalUnit(unit), Count: int(count)}
	switch {
	case count < 1:
		rec.fail(invalid(prefix+"[interval_count]", "Invalid %s[interval_count]: must be at least 1.", prefix))
	case count > int64(billing.MaxIntervalCount(iv.Unit)):
		rec.fail(invalid(prefix+"[interval_count]",
			"Invalid %s[interval_count]: the longest billing period is 3 years (3 years, 36 months, 156 weeks or 1095 days); "+
				"every %d %ss is longer.", prefix, count, unit))
	}
	return iv
}

// addInline remembers ip and returns the placeholder standing for it.
func (p *params) addInline(ip *inlinePrice) string {
	if p.inline == nil {
		p.inline = map[string]*inlinePrice{}
	}
	ref := fmt.Sprintf("%s%d", inlinePlaceholder, len(p.inline))
	p.inline[ref] = ip
	return ref
}

// makeInline makes the price ref stands for, if it is a placeholder, and
// returns its id (ref itself otherwise). param is the spec's parameter,
// for errors.
func (p *params) makeInline(l *ledger, ref, param string, now int64) (string, error) {
	ip, ok := p.inline[ref]
	if !ok || !strings.HasPrefix(ref, inlinePlaceholder) {
		return ref, nil
	}
	prod, err := l.Product(ip.product)
	if err != nil {
		return "", withParam(err, param+"["+ip.param+"][product]")
	}
	price := &billing.Price{ID: l.NewID("price_"), Created: now, Product: prod.ID, Currency: ip.currency,
		UnitAmount: ip.unitAmount, Recurring: ip.recurring}
	if err := l.PutPrice(price); err != nil {
		return "", err
	}
	delete(p.inline, ref)
	return price.ID, nil
}

// makeInlineItems makes the inline prices of specs, at now (wall time:
// prices belong to no clock).
func (p *params) makeInlineItems(l *ledger, specs []billing.ItemSpec, now int64) error {
	for i := range specs {
		id, err := p.makeInline(l, specs[i].Price, specs[i].Param, now)
		if err != nil {
			return err
		}
		specs[i].Price = id
	}
	return nil
}

// invoiceItemSpecs reads add_invoice_items[n][...]: price, price_data
// (one-time), quantity and metadata. Discounts, tax rates and periods of
// such items are refused: billclock does not apply them yet.
func (p *params) invoiceItemSpecs(name string) []billing.InvoiceItemSpec {
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil {
		return nil
	}
	elems, ok := n.list()
	if !ok {
		p.fail(invalid(name, "Invalid array"))
		return nil
	}
	specs := make([]billing.InvoiceItemSpec, 0, len(elems))
	for i, el := range elems {
		param := fmt.Sprintf("%s[%d]", name, i)
		if el.leaf {
			p.fail(invalid(param, "Invalid %s: must be a hash.", param))
			return nil
		}
		sub := newParams(&Form{root: el})
		spec := billing.InvoiceItemSpec{Param: param}
		spec.Price, _ = sub.str("price")
		if ip := sub.inlinePriceParam("price_data", false); ip != nil {
			if spec.Price != "" {
				sub.fail(invalid("", "You may only specify one of these parameters: price, price_data."))
			}
			spec.Price = p.addInline(ip)
		}
		spec.Quantity = sub.quantity("quantity")
		spec.Metadata, _ = sub.metadata("metadata")
		sub.bool("discountable")
		for _, unsupported := range []string{"discounts", "tax_rates", "period"} {
			sub.seen[unsupported] = true
			if v, ok := sub.form.lookup(unsupported).leafValue(); sub.present(unsupported) && !(ok && v == "") {
				sub.fail(invalid(unsupported, "billclock does not support %s on %s yet.", unsupported, name))
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

// makeInlineInvoiceItems makes the inline prices of add_invoice_items.
func (p *params) makeInlineInvoiceItems(l *ledger, specs []billing.InvoiceItemSpec, now int64) error {
	for i := range specs {
		id, err := p.makeInline(l, specs[i].Price, specs[i].Param, now)
		if err != nil {
			return err
		}
		specs[i].Price = id
	}
	return nil
}

// nestError names the parameter of err, an error of a hash's own
// parameters ("price_data[currency]"), within the hash param
// ("items[0]"): "items[0][price_data][currency]", in its message too.
func nestError(param string, err error) error {
	e, ok := err.(*Error)
	if !ok || e.Param == "" {
		return err
	}
	e2 := *e
	head, rest, _ := strings.Cut(e.Param, "[")
	e2.Param = param + "[" + head + "]"
	if rest != "" {
		e2.Param += "[" + rest
	}
	e2.Message = replaceName(e.Message, e.Param, e2.Param)
	return &e2
}

// replaceName replaces name in msg with full where it stands alone: "id"
// is not to change in "Invalid", nor the second "id" of "idid". It works
// on bytes, so names that are not UTF-8 are replaced too.
func replaceName(msg, name, full string) string {
	part := func(c byte) bool {
		return c == '_' || c == '[' || c == ']' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	var b strings.Builder
	from := 0
	for {
		i := strings.Index(msg[from:], name)
		if i < 0 || name == "" {
			b.WriteString(msg[from:])
			return b.String()
		}
		i += from
		end := i + len(name)
		alone := (i == 0 || !part(msg[i-1])) && (end == len(msg) || !part(msg[end]) || msg[end] == ']')
		b.WriteString(msg[from:i])
		if alone {
			b.WriteString(full)
		} else {
			b.WriteString(name)
		}
		from = end
	}
}
