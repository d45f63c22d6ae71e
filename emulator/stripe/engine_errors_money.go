package stripe

import (
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
)

// moneyMessages words the engine's coupon, promotion code, discount and
// tax rate refusals (and the other codes declared beside the engine's
// errors.go) as Stripe does. Texts found in Stripe's answers: "Coupon
// expired: X", "Coupon already exists.", "You must pass currency when
// passing amount_off", "You must pass minimum_amount_currency when passing
// minimum_amount", "This promotion code cannot be redeemed because the
// associated customer has prior transactions." and "No active discount
// for customer: 'cus_x'"; the others are billclock's, in Stripe's manner.
var moneyMessages = map[billing.Code]func(e *billing.Error) string{
	billing.CodeCouponOff: func(e *billing.Error) string {
		if e.Param == "amount_off" {
			return "You may only specify one of these parameters: amount_off, percent_off."
		}
		return "You must pass either percent_off or amount_off."
	},
	billing.CodeCouponPercentOff: func(*billing.Error) string {
		return "Invalid percent_off: must be greater than 0 and less than or equal to 100."
	},
	billing.CodeCouponAmountOff: func(e *billing.Error) string {
		return fmt.Sprintf("Invalid %s: must be a positive integer no greater than %d.", e.Param, e.Max)
	},
	billing.CodeCouponCurrencyRequired: func(*billing.Error) string {
		return "You must pass currency when passing amount_off"
	},
	billing.CodeCouponDuration: func(*billing.Error) string {
		return "Invalid duration: must be one of forever, once, or repeating"
	},
	billing.CodeCouponDurationInMonths: func(e *billing.Error) string {
		if e.Value == string(billing.DurationRepeating) {
			return fmt.Sprintf("duration_in_months must be an integer from %d to %d when duration is repeating.", e.Min, e.Max)
		}
		return fmt.Sprintf("duration_in_months can only be passed when duration is repeating (not %s).", e.Value)
	},
	billing.CodeCouponRedeemByPast: func(*billing.Error) string {
		return "redeem_by must be in the future."
	},
	billing.CodeCouponExists:    func(*billing.Error) string { return "Coupon already exists." },
	billing.CodeRedemptionLimit: func(e *billing.Error) string { return fmt.Sprintf("Invalid %s: must be a positive integer.", e.Param) },
	billing.CodeCouponExpired:   func(e *billing.Error) string { return "Coupon expired: " + e.ID },
	billing.CodeCouponExhausted: func(e *billing.Error) string {
		return fmt.Sprintf("Coupon %s has already been redeemed the maximum number of times (%d).", e.ID, e.Max)
	},
	billing.CodeCouponCurrencyMismatch: func(e *billing.Error) string {
		return fmt.Sprintf("The coupon %s takes an amount off in %s, which does not match the currency it would discount (%s).",
			e.ID, e.Value, e.Want)
	},
	billing.CodeCouponNotApplicable: func(e *billing.Error) string {
		return fmt.Sprintf("The coupon %s cannot be applied because it applies to none of the products it would discount (%s).",
			e.ID, e.Value)
	},

	billing.CodePromotionCodeFormat: func(e *billing.Error) string {
		return fmt.Sprintf("Invalid code: %s. A promotion code has 1 to 500 characters: letters (a-z, A-Z), digits (0-9) "+
			"and dashes (-).", elide(e.Value))
	},
	billing.CodePromotionCodeExists: func(e *billing.Error) string {
		return fmt.Sprintf("An active promotion code with `code: %s` already exists.", e.Value)
	},
	billing.CodePromotionCodeExpiresPast: func(*billing.Error) string { return "expires_at must be in the future." },
	billing.CodePromotionCodeMinimumCurrencyRequired: func(*billing.Error) string {
		return "You must pass minimum_amount_currency when passing minimum_amount"
	},
	billing.CodePromotionCodeInactive: func(e *billing.Error) string {
		return fmt.Sprintf("This promotion code cannot be redeemed because it is inactive (%s).", e.ID)
	},
	billing.CodePromotionCodeExpired: func(e *billing.Error) string {
		return fmt.Sprintf("This promotion code cannot be redeemed because it expired at %d (%s).", e.Max, formatUTC(e.Max))
	},
	billing.CodePromotionCodeExhausted: func(e *billing.Error) string {
		return fmt.Sprintf("This promotion code cannot be redeemed because it has been redeemed the maximum number of times (%d).", e.Max)
	},
	billing.CodePromotionCodeCustomer: func(e *billing.Error) string {
		return fmt.Sprintf("This promotion code cannot be redeemed because it is restricted to another customer (%s).", e.Want)
	},
	billing.CodePromotionCodeFirstTime: func(*billing.Error) string {
		return "This promotion code cannot be redeemed because the associated customer has prior transactions."
	},
	billing.CodePromotionCodeMinimumAmount: func(e *billing.Error) string {
		return fmt.Sprintf("This promotion code cannot be redeemed because the amount (%d %s) is below its minimum amount (%d %s).",
			e.Max, e.Want, e.Min, e.Want)
	},
	billing.CodePromotionCodeMinimumCurrency: func(e *billing.Error) string {
		return fmt.Sprintf("This promotion code cannot be redeemed because its minimum amount is in %s and the purchase is in %s.",
			e.Want, e.Value)
	},

	billing.CodeDiscountSpec: func(e *billing.Error) string {
		where := "each discount"
		if e.Param != "" {
			where = e.Param
		}
		return fmt.Sprintf("You must pass exactly one of coupon, promotion_code or discount in %s.", where)
	},
	billing.CodeNoDiscount: func(e *billing.Error) string {
		return fmt.Sprintf("No active discount for %s: '%s'", e.Resource, e.ID)
	},

	billing.CodeTaxRatePercentage: func(*billing.Error) string {
		return "Invalid percentage: must be greater than or equal to 0 and less than or equal to 100."
	},
	billing.CodeTaxRateInactive: func(e *billing.Error) string {
		return fmt.Sprintf("The tax rate %s is inactive and cannot be applied to new objects.", e.ID)
	},
	billing.CodeTaxRateDuplicate: func(e *billing.Error) string {
		return fmt.Sprintf("The tax rate %s is passed more than once.", e.ID)
	},
	billing.CodeTaxRateExists: func(*billing.Error) string { return "Tax rate already exists." },

	billing.CodeInvalidStatus: func(*billing.Error) string {
		return "This subscription cannot be reactivated in its current status."
	},
}

// moneyCodes are the Stripe error codes (the envelope's code) of engine
// refusals that have one.
var moneyCodes = map[billing.Code]string{
	billing.CodeCouponExists:        "resource_already_exists",
	billing.CodePromotionCodeExists: "resource_already_exists",
	billing.CodeTaxRateExists:       "resource_already_exists",
	billing.CodeCouponExpired:       "coupon_expired",
}
