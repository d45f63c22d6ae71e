package stripe

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// TestMoneyErrorWording: the engine's coupon, promotion code, discount and
// tax rate refusals reach Stripe clients in Stripe's envelope, with
// Stripe's texts and codes where Stripe has them.
func TestMoneyErrorWording(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
		param   string
	}{
		{"coupon expired", &billing.Error{Kind: billing.Invalid, Code: billing.CodeCouponExpired, Param: "discounts[0][coupon]",
			Resource: "coupon", ID: "SUMMER", Max: 1735689600},
			http.StatusBadRequest, "coupon_expired", "Coupon expired: SUMMER", "discounts[0][coupon]"},
		{"coupon exists", &billing.Error{Kind: billing.Invalid, Code: billing.CodeCouponExists, Param: "id", Resource: "coupon", ID: "X"},
			http.StatusBadRequest, "resource_already_exists", "Coupon already exists.", "id"},
		{"tax rate exists", &billing.Error{Kind: billing.Invalid, Code: billing.CodeTaxRateExists, Param: "id"},
			http.StatusBadRequest, "resource_already_exists", "Tax rate already exists.", "id"},
		{"first time", &billing.Error{Kind: billing.Invalid, Code: billing.CodePromotionCodeFirstTime, Param: "promotion_code",
			Resource: "promotion_code", ID: "promo_1", Value: "cus_1"},
			http.StatusBadRequest, "", "This promotion code cannot be redeemed because the associated customer has prior transactions.",
			"promotion_code"},
		{"minimum amount", &billing.Error{Kind: billing.Invalid, Code: billing.CodePromotionCodeMinimumAmount, Param: "discounts[0][promotion_code]",
			Resource: "promotion_code", ID: "promo_1", Min: 5000, Max: 2000, Want: "usd"},
			http.StatusBadRequest, "", "This promotion code cannot be redeemed because the amount (2000 usd) is below its minimum amount (5000 usd).",
			"discounts[0][promotion_code]"},
		{"amount off and percent off", &billing.Error{Kind: billing.Invalid, Code: billing.CodeCouponOff, Param: "amount_off"},
			http.StatusBadRequest, "", "You may only specify one of these parameters: amount_off, percent_off.", "amount_off"},
		{"neither off", &billing.Error{Kind: billing.Invalid, Code: billing.CodeCouponOff, Param: "percent_off"},
			http.StatusBadRequest, "", "You must pass either percent_off or amount_off.", "percent_off"},
		{"no such coupon", billing.NotFoundError(clockwork.KindCoupon, "NOPE", "discounts[0][coupon]"),
			http.StatusNotFound, "resource_missing", "No such coupon: 'NOPE'", "discounts[0][coupon]"},
		{"no such promotion code", billing.NotFoundError(clockwork.KindPromotionCode, "promo_x", "promotion_code"),
			http.StatusNotFound, "resource_missing", "No such promotion code: 'promo_x'", "promotion_code"},
		{"no such tax rate", billing.NotFoundError(clockwork.KindTaxRate, "txr_x", "default_tax_rates[0]"),
			http.StatusNotFound, "resource_missing", "No such tax rate: 'txr_x'", "default_tax_rates[0]"},
		{"no active discount", noActiveDiscount(&billing.Error{Kind: billing.Invalid, Code: billing.CodeNoDiscount, Resource: "customer", ID: "cus_1"}),
			http.StatusNotFound, "resource_missing", "No active discount for customer: 'cus_1'", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := apiError(tc.err)
			assert.True(t, ok)
			assert.Equal(t, tc.status, e.Status)
			assert.Equal(t, typeInvalidRequest, e.Type)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.message, e.Message)
			assert.Equal(t, tc.param, e.Param)
		})
	}
}
