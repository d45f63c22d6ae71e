package billing

import "fmt"

// This file is the one-time charges a subscription create or update (or
// a schedule's phase, when it begins) adds to the subscription's next
// invoice (Stripe's add_invoice_items): each is a pending invoice item of
// the subscription, made as CreateInvoiceItem makes one (with its
// discounts, tax rates and period), swept onto its first invoice on
// create, or onto the next invoice it makes.

// CodeItemPeriodReversed: an invoice item's period ends (Param) before it
// starts: Min is its start, Max its end.
const CodeItemPeriodReversed Code = "item_period_reversed"

// InvoiceItemSpec is one charge of Quantity × a one-time Price, with the
// terms of an invoice item.
type InvoiceItemSpec struct {
	Price string
	// Quantity is 1 when nil.
	Quantity *int64
	Metadata map[string]string
	// Discountable is true when nil.
	Discountable *bool
	// Discounts are redeemed for the item as it is made; TaxRates tax it
	// (none: the invoice's default tax rates).
	Discounts []DiscountSpec
	TaxRates  []string
	// Period is the period it bills; nil: the time it is made.
	Period *ItemPeriod
	// Param is the request parameter the spec came from, for errors
	// ("add_invoice_items[0]").
	Param string
}

// ItemPeriod is the period a one-time item of a subscription bills, each
// end by a rule.
type ItemPeriod struct {
	Start PeriodBound `json:"start"`
	End   PeriodBound `json:"end"`
}

// PeriodBound is one end of an ItemPeriod: Type is one of the Bound*
// rules, Timestamp the time of BoundTimestamp.
type PeriodBound struct {
	Type      string `json:"type"`
	Timestamp int64  `json:"timestamp,omitempty"`
}

// The rules of a PeriodBound. A subscription's items share one period,
// so the latest start and the earliest end of its items' periods are the
// subscription's current period's, when the item is made.
const (
	BoundTimestamp          = "timestamp"
	BoundNow                = "now"
	BoundMaxItemPeriodStart = "max_item_period_start"
	BoundMinItemPeriodEnd   = "min_item_period_end"
	// BoundPhaseStart and BoundPhaseEnd are the start and end of the
	// schedule phase that adds the item.
	BoundPhaseStart = "phase_start"
	BoundPhaseEnd   = "phase_end"
)

// at is the time b stands for, for an item of sub made at now; ok is
// false for a phase's rule (which the phase turns into a timestamp).
func (b PeriodBound) at(sub *Subscription, now int64) (t int64, ok bool) {
	switch b.Type {
	case BoundTimestamp:
		return b.Timestamp, true
	case BoundNow:
		return now, true
	case BoundMaxItemPeriodStart:
		return sub.PeriodStart, true
	case BoundMinItemPeriodEnd:
		return sub.PeriodEnd, true
	}
	return 0, false
}

// inPhase is b with a phase's rule turned into the time of p it names.
func (b PeriodBound) inPhase(p *Phase) PeriodBound {
	switch b.Type {
	case BoundPhaseStart:
		return PeriodBound{Type: BoundTimestamp, Timestamp: p.Start}
	case BoundPhaseEnd:
		return PeriodBound{Type: BoundTimestamp, Timestamp: p.End}
	}
	return b
}

// resolve is the period p stands for, for an item of sub made at now; a
// reversed one is refused, naming param[period][end].
func (p *ItemPeriod) resolve(sub *Subscription, now int64, param string) (start, end int64, err error) {
	start, okStart := p.Start.at(sub, now)
	end, okEnd := p.End.at(sub, now)
	switch {
	case !okStart || !okEnd:
		return 0, 0, &Error{Kind: Invalid, Param: param + "[period]",
			Message: fmt.Sprintf("%s[period] cannot run from %s to %s here", param, p.Start.Type, p.End.Type)}
	case end < start:
		e := invalid(CodeItemPeriodReversed, param+"[period][end]")
		e.Min, e.Max = start, end
		return 0, 0, e
	}
	return start, end, nil
}

// addInvoiceItems makes the pending invoice items of specs for sub, of
// cust, at now, as CreateInvoiceItem makes them.
func (e *Engine) addInvoiceItems(cust *Customer, sub *Subscription, specs []InvoiceItemSpec, now int64) error {
	for i, spec := range specs {
		param := spec.Param
		if param == "" {
			param = fmt.Sprintf("add_invoice_items[%d]", i)
		}
		if spec.Price == "" {
			return invalid(CodeMissingParam, param+"[price]")
		}
		in := NewInvoiceItem{Customer: cust.ID, Subscription: sub.ID, Price: spec.Price, PriceParam: param + "[price]",
			Currency: sub.Currency, Quantity: spec.Quantity, Discountable: spec.Discountable, Metadata: spec.Metadata,
			Discounts: nestDiscounts(spec.Discounts, param), TaxRates: spec.TaxRates, Param: param}
		if spec.Period != nil {
			start, end, err := spec.Period.resolve(sub, now, param)
			if err != nil {
				return err
			}
			in.PeriodStart, in.PeriodEnd = start, end
		}
		ii, err := e.newItem(in, cust, sub, nil, now)
		if err != nil {
			return err
		}
		if err := e.saveItem(ii, EventInvoiceItemCreated, now); err != nil {
			return err
		}
	}
	return nil
}

// nestDiscounts names specs, an item's discounts, within the item's
// parameter param ("add_invoice_items[0][discounts][1]").
func nestDiscounts(specs []DiscountSpec, param string) []DiscountSpec {
	out := make([]DiscountSpec, len(specs))
	for k, d := range specs {
		d.Param = fmt.Sprintf("%s[discounts][%d]", param, k)
		out[k] = d
	}
	return out
}
