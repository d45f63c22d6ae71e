package clockwork

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
)

// This file gives the ledger the engine's coupons, promotion codes and tax
// rates (billing.CouponTaxLedger), so that every dialect's invoices can be
// discounted and taxed. They belong to no clock: their created times are
// the wall times of the requests that made them.
//
// They stay an interface of their own beside billing.Ledger, as the engine
// declares them: a ledger without them (the engine's older tests, a
// dialect's fakes) still runs every other rule.

// Collections of coupons, promotion codes and tax rates, by id.
const (
	CouponsCollection        = "coupons"
	PromotionCodesCollection = "promotion_codes"
	TaxRatesCollection       = "tax_rates"
)

// promotionCodesByCode indexes promotion codes by their code, lowercased
// (codes are unique ignoring case); a code never changes.
const promotionCodesByCode = "promotion_codes_by_code"

// Kinds of the objects of this file, as the engine's not-found errors name
// them.
const (
	KindCoupon        = "coupon"
	KindPromotionCode = "promotion_code"
	KindTaxRate       = "tax_rate"
	KindDiscount      = "discount"
)

var _ billing.CouponTaxLedger = (*Ledger)(nil)

// Coupon returns a coupon, deleted or not (billing.CouponTaxLedger).
func (l *Ledger) Coupon(id string) (*billing.Coupon, error) {
	var c billing.Coupon
	if err := l.Get(CouponsCollection, KindCoupon, id, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// PutCoupon stores a coupon. A coupon made again under the id of a
// deleted one is listed as new, by its own created time.
func (l *Ledger) PutCoupon(c *billing.Coupon) error {
	if old, err := l.Coupon(c.ID); err == nil && old.Deleted && !c.Deleted && old.Created != c.Created {
		coll, err := l.Collection(CouponsCollection)
		if err != nil {
			return err
		}
		if err := coll.Delete(c.ID); err != nil {
			return err
		}
	}
	return l.Put(CouponsCollection, c.ID, c.Created, c)
}

// PromotionCode returns a promotion code.
func (l *Ledger) PromotionCode(id string) (*billing.PromotionCode, error) {
	var p billing.PromotionCode
	if err := l.Get(PromotionCodesCollection, KindPromotionCode, id, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PutPromotionCode stores a promotion code and files it under its code.
func (l *Ledger) PutPromotionCode(p *billing.PromotionCode) error {
	if err := l.Put(PromotionCodesCollection, p.ID, p.Created, p); err != nil {
		return err
	}
	x, err := l.index(promotionCodesByCode)
	if err != nil {
		return err
	}
	return x.Add(strings.ToLower(p.Code), p.ID)
}

// PromotionCodesByCode returns every promotion code whose code is code,
// ignoring case, oldest first.
func (l *Ledger) PromotionCodesByCode(code string) ([]*billing.PromotionCode, error) {
	var out []*billing.PromotionCode
	err := eachIndexed(l, promotionCodesByCode, strings.ToLower(code), l.PromotionCode, func(p *billing.PromotionCode) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// TaxRate returns a tax rate.
func (l *Ledger) TaxRate(id string) (*billing.TaxRate, error) {
	var r billing.TaxRate
	if err := l.Get(TaxRatesCollection, KindTaxRate, id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutTaxRate stores a tax rate.
func (l *Ledger) PutTaxRate(r *billing.TaxRate) error {
	return l.Put(TaxRatesCollection, r.ID, r.Created, r)
}

// CustomerHasTransactions reports whether the customer has had an invoice
// finalized (open, paid or uncollectible) or a payment that succeeded. It
// walks the account's invoices and payments, decoding only the records
// that name the customer; it is asked only when a promotion code for
// first-time customers is redeemed.
func (l *Ledger) CustomerHasTransactions(customer string) (bool, error) {
	needle, err := json.Marshal(customer)
	if err != nil {
		return false, err
	}
	needle = append([]byte(`"customer":`), needle...)
	found := false
	scan := func(collection string, counts func(raw []byte) (bool, error)) error {
		coll, err := l.Collection(collection)
		if err != nil {
			return err
		}
		return coll.Scan("", func(id string, raw []byte) (bool, error) {
			if !bytes.Contains(raw, needle) {
				return true, nil
			}
			ok, err := counts(raw)
			if err != nil {
				return false, fmt.Errorf("decode %s %s: %w", collection, id, err)
			}
			found = ok
			return !ok, nil
		})
	}
	err = scan(InvoicesCollection, func(raw []byte) (bool, error) {
		var inv billing.Invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			return false, err
		}
		return inv.Customer == customer && slices.Contains([]billing.InvoiceStatus{billing.InvoiceOpen, billing.InvoicePaid,
			billing.InvoiceUncollectible}, inv.Status), nil
	})
	if err != nil || found {
		return found, err
	}
	err = scan(PaymentsCollection, func(raw []byte) (bool, error) {
		var p billing.Payment
		if err := json.Unmarshal(raw, &p); err != nil {
			return false, err
		}
		return p.Customer == customer && p.Status == billing.PaymentSucceeded, nil
	})
	return found, err
}
