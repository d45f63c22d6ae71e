package clockwork

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
)

// TestCouponTaxLedger: the runtime's ledger keeps coupons, promotion codes
// and tax rates for the engine: a coupon and a tax rate round-trip, a
// missing one is a not-found error of its kind, codes are found ignoring
// case, and a coupon made again under a deleted one's id lists as new.
func TestCouponTaxLedger(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "fk_")
	rt.Register(d)
	const key = "fk_coupons"
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		e := l.Engine()
		require.NoError(t, e.CreateCoupon(&billing.Coupon{ID: "SPRING", PercentOff: 25 * billing.PercentUnit}, 100))
		require.NoError(t, e.CreateCoupon(&billing.Coupon{ID: "OLD", AmountOff: 500, Currency: "usd"}, 100))
		require.NoError(t, e.CreatePromotionCode(&billing.PromotionCode{Code: "Spring-25", Coupon: "SPRING", Active: true}, 100))
		r := &billing.TaxRate{DisplayName: "VAT", Percentage: 20 * billing.PercentUnit, Inclusive: true, Active: true}
		require.NoError(t, e.CreateTaxRate(r, 100))
		got, err := l.TaxRate(r.ID)
		require.NoError(t, err)
		assert.Equal(t, r, got)
		_, err = e.DeleteCoupon("OLD", 150)
		require.NoError(t, err)
		require.NoError(t, e.CreateCoupon(&billing.Coupon{ID: "OLD", PercentOff: billing.PercentUnit}, 200))
		return nil, nil
	})
	view(t, rt, d, key, func(l *Ledger) error {
		c, err := l.Coupon("SPRING")
		require.NoError(t, err)
		assert.Equal(t, 25*billing.PercentUnit, c.PercentOff)
		for id, get := range map[string]func() error{
			KindCoupon:        func() error { _, err := l.Coupon("NOPE"); return err },
			KindPromotionCode: func() error { _, err := l.PromotionCode("promo_nope"); return err },
			KindTaxRate:       func() error { _, err := l.TaxRate("txr_nope"); return err },
		} {
			var be *billing.Error
			require.ErrorAs(t, get(), &be, id)
			assert.Equal(t, billing.NotFound, be.Kind, id)
			assert.Equal(t, id, be.Resource)
		}
		for _, code := range []string{"spring-25", "SPRING-25", "Spring-25"} {
			ps, err := l.PromotionCodesByCode(code)
			require.NoError(t, err)
			require.Len(t, ps, 1, code)
			assert.Equal(t, "SPRING", ps[0].Coupon)
		}
		ps, err := l.PromotionCodesByCode("spring")
		require.NoError(t, err)
		assert.Empty(t, ps)

		coll, err := l.Collection(CouponsCollection)
		require.NoError(t, err)
		var order []string
		require.NoError(t, coll.Each(func(id string, _ []byte) error { order = append(order, id); return nil }))
		assert.Equal(t, []string{"SPRING", "OLD"}, order, "the remade OLD lists as the newest")
		old, err := l.Coupon("OLD")
		require.NoError(t, err)
		assert.False(t, old.Deleted)
		assert.EqualValues(t, 200, old.Created)
		return nil
	})
}

// TestCustomerHasTransactions: a customer has had a transaction once an
// invoice of theirs was finalized or a payment of theirs succeeded; a
// draft, another customer's invoice or a failed payment does not count.
func TestCustomerHasTransactions(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "fk_")
	rt.Register(d)
	const key = "fk_transactions"
	has := func(customer string) bool {
		var out bool
		view(t, rt, d, key, func(l *Ledger) error {
			var err error
			out, err = l.CustomerHasTransactions(customer)
			return err
		})
		return out
	}
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		for _, inv := range []*billing.Invoice{
			{ID: "in_draft", Customer: "cus_a", Status: billing.InvoiceDraft, Lines: []billing.InvoiceLine{}},
			{ID: "in_void", Customer: "cus_a", Status: billing.InvoiceVoid, Lines: []billing.InvoiceLine{}},
			{ID: "in_open", Customer: "cus_b", Status: billing.InvoiceOpen, Lines: []billing.InvoiceLine{}},
		} {
			if err := l.PutInvoice(inv); err != nil {
				return nil, err
			}
		}
		if err := l.PutPayment(&billing.Payment{ID: "pi_failed", Customer: "cus_a", Status: billing.PaymentRequiresPaymentMethod}); err != nil {
			return nil, err
		}
		return nil, l.PutPayment(&billing.Payment{ID: "pi_ok", Customer: "cus_c", Status: billing.PaymentSucceeded})
	})
	assert.False(t, has("cus_a"), "a draft, a void invoice and a failed payment")
	assert.True(t, has("cus_b"), "an open invoice")
	assert.True(t, has("cus_c"), "a successful payment")
	assert.False(t, has("cus_none"))
	assert.False(t, has(`cus_"`), "an id that is no JSON string of its own")
}
