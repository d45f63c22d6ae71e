package stripe

import (
	"github.com/billclock/billclock/emulator/billing"
)

// This file renders what the engine's discounts and taxes leave on
// invoices, their lines and invoice items.
//
// A line's amount is what it bills before any discount: quantity × the
// price, or the proration of it (and, with an inclusive tax, the tax is
// part of it). Its discount_amounts say what each discount took off it,
// its own first (then the invoice's); the invoice's subtotal is its lines'
// amounts less their own discounts, its total the subtotal less the
// invoice's discounts plus exclusive taxes. Stripe's spec reads this way:
// the line's discount_amounts are "calculated per discount for this line
// item", the invoice's subtotal is "before any invoice level discount ...
// Item discounts are already incorporated", and an invoice item's amount
// "should always be equal to unit_amount * quantity", with its net_amount
// "after discounts".

// discountAmountObject is discounts_resource_discount_amount.
type discountAmountObject struct {
	Amount   int64  `json:"amount"`
	Discount string `json:"discount"`
}

// renderDiscountAmounts renders what each discount took off.
func renderDiscountAmounts(das []billing.DiscountAmount) []any {
	out := make([]any, 0, len(das))
	for _, d := range das {
		out = append(out, &discountAmountObject{Amount: d.Amount, Discount: d.Discount})
	}
	return out
}

// taxObject is billing_bill_resource_invoicing_taxes_tax.
type taxObject struct {
	Amount           int64          `json:"amount"`
	TaxBehavior      string         `json:"tax_behavior"`
	TaxRateDetails   taxRateDetails `json:"tax_rate_details"`
	TaxabilityReason string         `json:"taxability_reason"`
	TaxableAmount    int64          `json:"taxable_amount"`
	Type             string         `json:"type"`
}

// taxRateDetails is billing_bill_resource_invoicing_taxes_tax_rate_details.
type taxRateDetails struct {
	TaxRate string `json:"tax_rate"`
}

// renderTaxes renders the taxes each rate made. Rates set by hand have no
// taxability to report: Stripe's "not_available".
func renderTaxes(taxes []billing.TaxAmount) []any {
	out := make([]any, 0, len(taxes))
	for _, t := range taxes {
		behavior := "exclusive"
		if t.Inclusive {
			behavior = "inclusive"
		}
		out = append(out, &taxObject{Amount: t.Amount, TaxBehavior: behavior, TaxRateDetails: taxRateDetails{TaxRate: t.TaxRate},
			TaxabilityReason: "not_available", TaxableAmount: t.TaxableAmount, Type: "tax_rate_details"})
	}
	return out
}

// lineDiscountable is whether a line takes the invoice's discounts: as
// the engine priced it, and for a subscription's period line stored
// before lines recorded it, as such a line is priced now.
func lineDiscountable(l billing.InvoiceLine) bool {
	return l.Discountable || l.InvoiceItem == "" && l.SubscriptionItem != "" && !l.Proration
}

// discountIDs are the ids of ds.
func discountIDs(ds []billing.Discount) []any {
	out := make([]any, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// itemNetAmount is an invoice item's amount less the discounts fixed on
// it (a proration's) and its own discounts, each on what the ones before
// left, never below zero; the invoice's discounts are not known until it
// is on one.
func itemNetAmount(ii *billing.InvoiceItem) int64 {
	net := ii.Amount
	for _, d := range ii.ProrationDiscounts {
		net -= d.Amount
	}
	for _, d := range ii.Discounts {
		if net <= 0 {
			break
		}
		c := d.Coupon
		switch {
		case c.PercentOff != 0:
			off, err := c.PercentOff.Of(net)
			if err != nil {
				return net
			}
			net -= min(off, net)
		case c.Currency == ii.Currency:
			net -= min(c.AmountOff, net)
		}
	}
	return net
}
