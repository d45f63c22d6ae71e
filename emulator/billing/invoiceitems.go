package billing

import "fmt"

// This file is the one-time charges a subscription create or update adds
// to the subscription's next invoice (Stripe's add_invoice_items): each is
// a pending invoice item of the subscription, swept onto its first invoice
// on create, or onto the next invoice it makes.

// CodePriceRecurring: the price ID is recurring where a one-time price is
// needed.
const CodePriceRecurring Code = "price_recurring"

// InvoiceItemSpec is one charge of Quantity × a one-time Price.
type InvoiceItemSpec struct {
	Price string
	// Quantity is 1 when nil.
	Quantity *int64
	Metadata map[string]string
	// Param is the request parameter the spec came from, for errors
	// ("add_invoice_items[0]").
	Param string
}

// addInvoiceItems makes the pending invoice items of specs for sub at now.
func (e *Engine) addInvoiceItems(sub *Subscription, specs []InvoiceItemSpec, now int64) error {
	for i, spec := range specs {
		param := spec.Param
		if param == "" {
			param = fmt.Sprintf("add_invoice_items[%d]", i)
		}
		if spec.Price == "" {
			return invalid(CodeMissingParam, param+"[price]")
		}
		p, err := e.L.Price(spec.Price)
		if err != nil {
			return withParam(err, param+"[price]")
		}
		switch {
		case p.Deleted:
			return NotFoundError("price", p.ID, param+"[price]")
		case p.Recurring != nil:
			return priceRefusal(CodePriceRecurring, param+"[price]", p)
		case p.Currency != sub.Currency:
			e := priceRefusal(CodeCurrencyMismatch, param+"[price]", p)
			e.Value, e.Want = p.Currency, sub.Currency
			return e
		}
		qty := int64(1)
		if spec.Quantity != nil {
			qty = *spec.Quantity
		}
		if qty < 0 {
			return invalid(CodeNegativeQuantity, param+"[quantity]")
		}
		amount, err := mulAmount(p.UnitAmount, qty)
		if err != nil {
			return err
		}
		prod, err := e.L.Product(p.Product)
		if err != nil {
			return err
		}
		// Stripe describes a price's invoice item by its product's name.
		ii := &InvoiceItem{ID: e.L.NewID("ii_"), Customer: sub.Customer, Clock: sub.Clock, Date: now, Amount: amount,
			Currency: p.Currency, Description: prod.Name, Billed: Billed{ProductName: prod.Name, UnitAmount: p.UnitAmount},
			PeriodStart: now, PeriodEnd: now, Price: p.ID, Quantity: qty, Subscription: sub.ID, Metadata: spec.Metadata,
			Discountable: true}
		if err := e.L.PutInvoiceItem(ii); err != nil {
			return err
		}
		if err := e.emit(EventInvoiceItemCreated, now, snapshotInvoiceItem(ii)); err != nil {
			return err
		}
	}
	return nil
}
