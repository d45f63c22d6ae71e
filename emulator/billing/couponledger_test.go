package billing

import "strings"

// memLedger keeps coupons, promotion codes and tax rates too.
var _ CouponTaxLedger = (*memLedger)(nil)

// Coupons are kept under "coupon:" + id: callers choose their ids.
func (m *memLedger) Coupon(id string) (*Coupon, error) {
	var c Coupon
	if _, ok := m.objects["coupon:"+id]; !ok {
		return nil, NotFoundError("coupon", id, "id")
	}
	return &c, m.get("coupon:"+id, "coupon", &c)
}
func (m *memLedger) PutCoupon(c *Coupon) error { return m.put("coupon:"+c.ID, c) }
func (m *memLedger) PromotionCode(id string) (*PromotionCode, error) {
	var p PromotionCode
	return &p, m.get(id, "promotion_code", &p)
}
func (m *memLedger) PutPromotionCode(p *PromotionCode) error { return m.put(p.ID, p) }
func (m *memLedger) PromotionCodesByCode(code string) ([]*PromotionCode, error) {
	var out []*PromotionCode
	err := eachOf(m, "promo_", func(p *PromotionCode) error {
		if strings.EqualFold(p.Code, code) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
func (m *memLedger) TaxRate(id string) (*TaxRate, error) {
	var r TaxRate
	return &r, m.get(id, "tax_rate", &r)
}
func (m *memLedger) PutTaxRate(r *TaxRate) error { return m.put(r.ID, r) }
func (m *memLedger) CustomerHasTransactions(customer string) (bool, error) {
	had := false
	err := eachOf(m, "in_", func(inv *Invoice) error {
		if inv.Customer == customer && inv.Status != InvoiceDraft && inv.Status != InvoiceVoid {
			had = true
		}
		return nil
	})
	if err != nil || had {
		return had, err
	}
	err = eachOf(m, "pi_", func(p *Payment) error {
		if p.Customer == customer && p.Status == PaymentSucceeded {
			had = true
		}
		return nil
	})
	return had, err
}
