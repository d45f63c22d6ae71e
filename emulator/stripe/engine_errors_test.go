package stripe

import (
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
)

// TestEngineCodesAllWorded: every error code the engine declares, in any
// of its files, has Stripe's wording, so that no engine refusal reaches a
// Stripe client in the engine's plain words. Unit billing's codes
// (units.go) are worded only by the surfaces that bill units, which
// Stripe's does not.
func TestEngineCodesAllWorded(t *testing.T) {
	files, err := filepath.Glob("../billing/*.go")
	require.NoError(t, err)
	codes := map[string]string{} // name -> value
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") || filepath.Base(file) == "units.go" {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Code" {
					for i, n := range vs.Names {
						codes[n.Name] = strings.Trim(vs.Values[i].(*ast.BasicLit).Value, `"`)
					}
				}
			}
		}
	}
	require.Greater(t, len(codes), 50, "the engine's codes were found, its coupons' and taxes' too")
	worded := map[string]bool{}
	for _, m := range []map[billing.Code]func(*billing.Error) string{engineMessages, moneyMessages, invoicingMessages, subscriptionMessages} {
		for c := range m {
			assert.False(t, worded[string(c)], "%s is worded twice", c)
			worded[string(c)] = true
		}
	}
	for name, value := range codes {
		assert.True(t, worded[value], "billing.%s has no Stripe wording", name)
	}
	assert.Len(t, worded, len(codes), "a wording for a code the engine does not declare")
}

// TestEngineErrorWording: each engine refusal comes out in Stripe's
// envelope with Stripe's (or, where Stripe has none, billclock's) text,
// formatted from the values the engine gives.
func TestEngineErrorWording(t *testing.T) {
	mustErr := func(err error) error {
		require.Error(t, err)
		return err
	}
	clock, err := billing.NewClock("clock_1", "", 1732320000, 1790000000)
	require.NoError(t, err)
	limit := billing.AdvanceLimit(clock.FrozenTime, nil)
	notForward := mustErr(clock.BeginAdvance(clock.FrozenTime, limit))
	tooFar := mustErr(clock.BeginAdvance(limit+1, limit))
	require.NoError(t, clock.BeginAdvance(limit, limit))
	advancing := mustErr(clock.BeginAdvance(limit, limit))
	armAdvancing := mustErr(clock.ArmAdvanceFailure())
	clock.FailAdvance()
	failed := mustErr(clock.BeginAdvance(limit, limit))
	_, tooLarge := billing.Prorate(math.MaxInt64, 10, 20, 0)

	invoice := func(code billing.Code, status string) error {
		return &billing.Error{Kind: billing.Invalid, Code: code, Resource: "invoice", ID: "in_1", Status: status}
	}
	cases := []struct {
		name  string
		err   error
		param string
		msg   string
	}{
		{"timestamp", billing.CheckTimestamp("frozen_time", -1), "frozen_time",
			"Invalid timestamp: must be an integer Unix timestamp from 0 (1970-01-01 00:00:00 UTC) to 4102444799 (2099-12-31 23:59:59 UTC)."},
		{"string", billing.CheckLength("name", strings.Repeat("n", 301), 300), "name",
			"Invalid string: nnnnnnnnnn...nnnnnnnnnn; must be at most 300 characters"},
		// The echo is cut by characters, never inside one.
		{"string of wide characters", billing.CheckLength("name", "€"+strings.Repeat("é", 299)+"日", 300), "name",
			"Invalid string: €ééééééééé...ééééééééé日; must be at most 300 characters"},
		{"string of CJK", billing.CheckLength("p", strings.Repeat("日", 41), 40), "p",
			"Invalid string: 日日日日日日日日日日...日日日日日日日日日日; must be at most 40 characters"},
		// Bytes that are not UTF-8 are never echoed raw.
		{"string not UTF-8", billing.CheckLength("p", strings.Repeat("\xff", 5), 4), "p",
			"Invalid string: \ufffd\ufffd\ufffd\ufffd\ufffd; must be at most 4 characters"},
		{"amount", tooLarge, "", "Amount must be no more than $999,999.99"},
		{"missing", &billing.Error{Kind: billing.Invalid, Code: billing.CodeMissingParam, Param: "items[0][price]"},
			"items[0][price]", "Missing required param: items[0][price]."},
		{"negative quantity", &billing.Error{Kind: billing.Invalid, Code: billing.CodeNegativeQuantity, Param: "items[0][quantity]"},
			"items[0][quantity]", "Invalid non-negative integer"},

		{"advancing", advancing, "",
			"The test clock clock_1 is already advancing. Wait for the current advancement to finish before advancing again."},
		{"failed", failed, "", "Failed to advance time. Future requests to advance time will fail."},
		{"not forward", notForward, "frozen_time",
			"The frozen time of this clock is 1732320000 (2024-11-23 00:00:00 UTC). You can only advance it to a time after its current frozen time."},
		{"too far", tooFar, "frozen_time", "The frozen time of this clock is 1732320000 (2024-11-23 00:00:00 UTC). " +
			"You can only advance it up to 1795392000 (2026-11-23 00:00:00 UTC). You can only advance a test clock up to two intervals " +
			"from the current frozen time at a time, based on the shortest subscription interval in the test clock. For example, " +
			"if a test clock has a monthly and yearly subscription, you may only advance up to two months at a time. If the test " +
			"clock has no subscriptions or subscription schedules, you can advance up to 2 years from the current frozen time."},
		{"arm while advancing", armAdvancing, "",
			"The test clock clock_1 is advancing. Wait for the current advancement to finish before making its next advance fail."},

		{"not draft", invoice(billing.CodeInvoiceNotDraft, ""), "",
			"This invoice is already finalized, you can't re-finalize a non-draft invoice."},
		{"paid", invoice(billing.CodeInvoicePaid, ""), "", "Invoice is already paid"},
		{"void", invoice(billing.CodeInvoiceVoid, ""), "", "This invoice has been voided and can no longer be paid."},
		{"draft", invoice(billing.CodeInvoiceDraft, ""), "", "You cannot pay a draft invoice. Finalize it first."},
		{"not voidable", invoice(billing.CodeInvoiceNotVoidable, "paid"), "",
			"You can only void invoices that are open or uncollectible; this invoice is paid."},

		{"one-time", &billing.Error{Kind: billing.Invalid, Code: billing.CodePriceNotRecurring, Param: "items[0][price]",
			Resource: "price", ID: "price_1"}, "items[0][price]",
			"The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`."},
		{"currency", &billing.Error{Kind: billing.Invalid, Code: billing.CodeCurrencyMismatch, Param: "items[1][price]",
			Resource: "price", ID: "price_1", Value: "eur", Want: "usd"}, "items[1][price]",
			"The price specified (price_1) has currency eur, which does not match the subscription's currency usd."},
		{"interval", &billing.Error{Kind: billing.Invalid, Code: billing.CodeIntervalMismatch, Param: "items[1][price]",
			Resource: "price", ID: "price_1", Interval: billing.Interval{Unit: billing.Month, Count: 3},
			WantInterval: billing.Interval{Unit: billing.Month, Count: 1}}, "items[1][price]",
			"The price specified (price_1) is billed every 3 months, but the subscription's other prices are billed every month. " +
				"billclock does not support mixing or changing billing intervals in a subscription."},
		{"anchor", &billing.Error{Kind: billing.Invalid, Code: billing.CodeAnchorAfterNaturalDate, Param: "billing_cycle_anchor",
			Max: 1709200800}, "billing_cycle_anchor",
			"billing_cycle_anchor cannot be later than next natural billing date (1709200800) for plan"},
		{"cancel_at", &billing.Error{Kind: billing.Invalid, Code: billing.CodeCancelAtNotFuture, Param: "cancel_at"}, "cancel_at",
			"cancel_at must be in the future."},
		{"canceled", &billing.Error{Kind: billing.Invalid, Code: billing.CodeSubscriptionCanceled, Resource: "subscription", ID: "sub_1"}, "",
			"A canceled subscription can only update its cancellation_details and metadata."},
		{"proration date", &billing.Error{Kind: billing.Invalid, Code: billing.CodeProrationDateOutsidePeriod, Param: "proration_date",
			Resource: "subscription", ID: "sub_1", Min: 1706695200, Max: 1709200800}, "proration_date",
			"proration_date must be within the current billing period (1706695200 to 1709200800)."},
		{"last item", &billing.Error{Kind: billing.Invalid, Code: billing.CodeLastItem, Param: "items[0]",
			Resource: "subscription", ID: "sub_1"}, "items[0]",
			"A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint."},
		{"trial", &billing.Error{Kind: billing.Invalid, Code: billing.CodeTrialNotMovable, Param: "trial_end",
			Resource: "subscription", ID: "sub_1", Status: "active"}, "trial_end",
			"billclock can only move the trial end of a subscription that is trialing (this one is active)."},
		{"payment customer", &billing.Error{Kind: billing.Invalid, Code: billing.CodePaymentCustomerSet, Param: "customer",
			Resource: "payment", ID: "pi_1"}, "customer",
			"The customer of a payment cannot be changed once it is set."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireAPIError(t, tc.err, http.StatusBadRequest, "", tc.param, tc.msg)
			e, _ := apiError(tc.err)
			assert.Equal(t, typeInvalidRequest, e.Type)
			assert.True(t, utf8.ValidString(e.Message), "%q", e.Message)
		})
	}
}

// TestEngineErrorWithoutWording: an error with a text of its own (a
// not-found error, or one made without a code) keeps it; a code Stripe
// does not word falls back to the engine's plain account.
func TestEngineErrorWithoutWording(t *testing.T) {
	requireAPIError(t, billing.NotFoundError("customer", "cus_x", "customer"), http.StatusNotFound, "resource_missing",
		"customer", "No such customer: 'cus_x'")
	requireAPIError(t, &billing.Error{Kind: billing.Invalid, Message: "As it was written."}, http.StatusBadRequest, "", "",
		"As it was written.")
	requireAPIError(t, &billing.Error{Kind: billing.Invalid, Code: "something_new", Param: "p"}, http.StatusBadRequest, "", "p",
		"p: invalid request (something_new)")
}
