package stripe

import (
	"strings"

	"github.com/billclock/billclock/emulator/billing"
)

// This file renders what invoicing by hand, collection by sending and
// previews add to Stripe's shapes: customers' contact details, collection
// methods, the ids of preview invoices and their lines.

// renderAddress renders a postal address, or null.
func renderAddress(a *billing.Address) any {
	if a == nil {
		return nil
	}
	o := addressObjectOf(*a)
	return &o
}

func addressObjectOf(a billing.Address) addressObject {
	return addressObject{City: nullString(a.City), Country: nullString(a.Country), Line1: nullString(a.Line1),
		Line2: nullString(a.Line2), PostalCode: nullString(a.PostalCode), State: nullString(a.State)}
}

// shippingObject is components.schemas.shipping.
type shippingObject struct {
	Address        addressObject `json:"address"`
	Carrier        *string       `json:"carrier"`
	Name           string        `json:"name"`
	Phone          *string       `json:"phone"`
	TrackingNumber *string       `json:"tracking_number"`
}

// renderShipping renders shipping details, or null.
func renderShipping(s *billing.Shipping) any {
	if s == nil {
		return nil
	}
	return &shippingObject{Address: addressObjectOf(s.Address), Name: s.Name, Phone: nullString(s.Phone)}
}

// taxExempt is Stripe's tax_exempt.
func taxExempt(t billing.TaxExempt) string {
	if t == billing.TaxExemptNone {
		return "none"
	}
	return string(t)
}

// Stripe's collection methods.
const (
	chargeAutomatically = "charge_automatically"
	sendInvoice         = "send_invoice"
)

// collectionMethod is Stripe's collection_method.
func collectionMethod(m billing.CollectionMethod) string {
	if m == billing.CollectBySending {
		return sendInvoice
	}
	return chargeAutomatically
}

// engineCollection is the engine's collection method of Stripe's.
func engineCollection(m string) billing.CollectionMethod {
	if m == sendInvoice {
		return billing.CollectBySending
	}
	return billing.CollectAutomatically
}

// invoiceID is the id an invoice shows: a preview's is Stripe's
// upcoming_in_... id.
func invoiceID(inv *billing.Invoice) string {
	if inv.Preview {
		return "upcoming_" + inv.ID
	}
	return inv.ID
}

// lineID is the id a line of inv shows: a preview's lines have Stripe's
// temporary il_tmp_... ids.
func lineID(l billing.InvoiceLine, inv *billing.Invoice) string {
	if inv.Preview {
		return "il_tmp_" + strings.TrimPrefix(l.ID, "il_")
	}
	return l.ID
}
