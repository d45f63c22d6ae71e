package stripe

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
)

// This file reads and makes every price a request describes with
// price_data instead of naming one: subscription items and their
// schedules' phases (recurring), one-time items (add_invoice_items,
// invoice items, invoices' add_lines) and Checkout's line items (either).
// As at Stripe the price is a real one (it can be retrieved), but
// inactive; billclock sends no price.created for it. It is made once the
// whole request is known to be valid.

// recurrence says what a route's price_data does with recurring[...].
type recurrence int

const (
	// oneTime: the price is one-time; recurring is an unknown parameter.
	oneTime recurrence = iota
	// mustRecur: recurring[interval] (and interval_count) is required.
	mustRecur
	// mayRecur: recurring makes a recurring price, its absence a one-time
	// one.
	mayRecur
)

// priceDataShape is what a route's price_data takes besides currency,
// product, unit_amount (or unit_amount_decimal, a whole number: billclock
// bills whole amounts) and tax_behavior, which every route takes.
type priceDataShape struct {
	recurring recurrence
	// productData: product_data (a new product) may stand for product.
	productData bool
}

// priceData is a price described with price_data.
type priceData struct {
	// param is the hash's name as it was read ("price_data" within an
	// item, "lines[0][price_data]"), for errors.
	param       string
	currency    string
	product     string
	productData *productFields
	unitAmount  int64
	recurring   *billing.Interval
}

// readPriceData reads the price_data hash name of p as shape says; nil
// when it was not sent.
func readPriceData(p *params, name string, shape priceDataShape) *priceData {
	pd, ok := p.sub(name)
	if !ok {
		return nil
	}
	key := func(k string) string { return name + "[" + k + "]" }
	d := &priceData{param: name}
	var has bool
	if d.currency, has = readCurrency(pd, key("currency")); !has {
		pd.fail(errMissing(key("currency"))) // unless it was refused: the first problem stands
	}
	d.product, _ = pd.str(key("product"))
	if shape.productData {
		d.productData = readProductData(pd, key("product_data"))
	}
	switch {
	case d.product != "" && d.productData != nil:
		pd.fail(invalid(name, "You may only specify one of these parameters: product, product_data."))
	case d.product == "" && d.productData == nil:
		pd.fail(errMissing(key("product")))
	}
	d.unitAmount = readUnitAmount(pd, name)
	if shape.recurring != oneTime {
		rec, ok := pd.sub(key("recurring"))
		switch {
		case ok:
			d.recurring = readRecurringHash(rec, key("recurring"))
			pd.fail(rec.check())
		case shape.recurring == mustRecur:
			pd.fail(errMissing(key("recurring")))
		}
	}
	pd.enum(key("tax_behavior"), "exclusive", "inclusive", "unspecified")
	p.fail(pd.check())
	return d
}

// readProductData reads a price_data's product_data: a product made with
// the price. nil when it was not sent.
func readProductData(p *params, name string) *productFields {
	pd, ok := p.sub(name)
	if !ok {
		return nil
	}
	key := func(k string) string { return name + "[" + k + "]" }
	f := readProductFields(pd, key)
	f.description = pd.clearableText(key("description"), maxProductDescription)
	pd.strings(key("images"))
	pd.str(key("tax_code"))
	pd.str(key("unit_label"))
	if f.name == nil {
		pd.fail(errMissing(key("name")))
	}
	p.fail(pd.check())
	return &f
}

// readUnitAmount reads name[unit_amount], or else name[unit_amount_decimal]
// as long as it is a whole number of the currency's minor unit.
func readUnitAmount(p *params, name string) int64 {
	amount, has := p.intIn(name+"[unit_amount]", 0, billing.MaxAmount)
	if dec, ok := p.str(name + "[unit_amount_decimal]"); ok && !has {
		r, good := new(big.Rat).SetString(dec)
		switch {
		case !good:
			p.fail(invalid(name+"[unit_amount_decimal]", "Invalid decimal: %s", dec))
		case !r.IsInt() || r.Sign() < 0 || r.Num().Cmp(big.NewInt(billing.MaxAmount)) > 0:
			p.fail(invalid(name+"[unit_amount_decimal]",
				"billclock bills whole amounts: unit_amount_decimal must be a whole number from 0 to %d.", billing.MaxAmount))
		default:
			amount, has = r.Num().Int64(), true
		}
	}
	if !has {
		p.fail(errMissing(name + "[unit_amount]")) // unless it was refused: the first problem stands
	}
	return amount
}

// readRecurringHash reads interval and interval_count of the recurring
// hash prefix (a price's recurring, a phase's duration).
func readRecurringHash(rec *params, prefix string) *billing.Interval {
	unit, hasUnit := rec.enum(prefix+"[interval]", "day", "week", "month", "year")
	count, hasCount := rec.int64(prefix + "[interval_count]")
	if !hasUnit {
		rec.fail(errMissing(prefix + "[interval]")) // unless it was refused: the first problem stands
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

// make stores the price (and its product, from product_data) at now and
// returns its id. within is the parameter the hash was read in
// ("items[0]"; "" when its name is whole), for errors.
func (d *priceData) make(l *ledger, within string, now int64) (string, error) {
	product := d.product
	if d.productData != nil {
		prod, err := newProduct(l, *d.productData, "", "", now)
		if err != nil {
			return "", err
		}
		product = prod.ID
	} else if _, err := l.Product(product); err != nil {
		return "", withParam(err, nestName(within, d.param)+"[product]")
	}
	price := &billing.Price{ID: l.NewID("price_"), Created: now, Product: product, Currency: d.currency,
		UnitAmount: d.unitAmount, Recurring: d.recurring}
	return price.ID, l.PutPrice(price)
}

// inlinePlaceholder marks an item's Price that stands for a price_data
// until it is made; no real id starts with it. Items keep the engine's
// specs (and Checkout's lines) as they are read, and their prices are all
// made by makeInline once the request is valid.
const inlinePlaceholder = "\x00inline:"

// addInline remembers d and returns the placeholder standing for it.
func (p *params) addInline(d *priceData) string {
	if p.inline == nil {
		p.inline = map[string]*priceData{}
	}
	ref := fmt.Sprintf("%s%d", inlinePlaceholder, len(p.inline))
	p.inline[ref] = d
	return ref
}

// makeInline makes the price ref stands for, if it is a placeholder, and
// returns its id (ref itself otherwise). param is the item's parameter
// ("items[0]"), for errors.
func (p *params) makeInline(l *ledger, ref, param string, now int64) (string, error) {
	d, ok := p.inline[ref]
	if !ok || !strings.HasPrefix(ref, inlinePlaceholder) {
		return ref, nil
	}
	id, err := d.make(l, param, now)
	if err != nil {
		return "", err
	}
	delete(p.inline, ref)
	return id, nil
}

// makeInlines makes the inline prices of items at now (wall time: prices
// belong to no clock); ref gives an item's Price, which becomes the made
// price's id, and its parameter.
func makeInlines[T any](p *params, l *ledger, items []T, ref func(*T) (price *string, param string), now int64) error {
	for i := range items {
		price, param := ref(&items[i])
		id, err := p.makeInline(l, *price, param, now)
		if err != nil {
			return err
		}
		*price = id
	}
	return nil
}

// specPrice is the Price and Param of a subscription item's spec.
func specPrice(s *billing.ItemSpec) (*string, string) { return &s.Price, s.Param }

// addedPrice is the Price and Param of an add_invoice_items spec.
func addedPrice(s *billing.InvoiceItemSpec) (*string, string) { return &s.Price, s.Param }
