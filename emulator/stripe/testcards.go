package stripe

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file is the one place that maps Stripe's test payment method ids
// (pm_card_visa, ...), test tokens (tok_visa, ...) and test card numbers
// to the engine's payment methods: what the card shows (brand, last4,
// expiry, funding, country) and how it behaves (stripe.md, "Test cards").

// testCard is one of Stripe's test cards.
type testCard struct {
	number  string
	brand   string // payment method brand: visa, mastercard, amex
	funding string
	country string
	// methods are its magic payment method ids, tokens its test tokens.
	methods  []string
	tokens   []string
	behavior billing.CardBehavior
}

// Test cards get a fixed expiry, so that the same scenario gives the same
// objects whenever it runs (Stripe's own test payment methods expire some
// years ahead; the exact date is not documented).
const (
	testCardExpMonth = 12
	testCardExpYear  = 2034
)

// testCards is Stripe's table of test cards. The cards Stripe declines when
// attached also decline every charge made with them directly. For the
// decline cards Stripe spells some ids with a visa_ infix and some
// without; both spellings are accepted.
var testCards = []testCard{
	{number: "4242424242424242", brand: "visa", funding: "credit", country: "US",
		methods: []string{"pm_card_visa"}, tokens: []string{"tok_visa"}},
	{number: "5555555555554444", brand: "mastercard", funding: "credit", country: "US",
		methods: []string{"pm_card_mastercard"}, tokens: []string{"tok_mastercard"}},
	{number: "378282246310005", brand: "amex", funding: "credit", country: "US",
		methods: []string{"pm_card_amex"}, tokens: []string{"tok_amex"}},
	{number: "4000056655665556", brand: "visa", funding: "debit", country: "US",
		methods: []string{"pm_card_visa_debit"}, tokens: []string{"tok_visa_debit"}},
	{number: "4000000000000002", brand: "visa", funding: "credit", country: "US",
		methods:  []string{"pm_card_visa_chargeDeclined", "pm_card_chargeDeclined"},
		tokens:   []string{"tok_visa_chargeDeclined", "tok_chargeDeclined"},
		behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineGeneric}},
	{number: "4000000000009995", brand: "visa", funding: "credit", country: "US",
		methods:  []string{"pm_card_visa_chargeDeclinedInsufficientFunds", "pm_card_chargeDeclinedInsufficientFunds"},
		tokens:   []string{"tok_visa_chargeDeclinedInsufficientFunds", "tok_chargeDeclinedInsufficientFunds"},
		behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineInsufficientFunds}},
	{number: "4000000000009987", brand: "visa", funding: "credit", country: "US",
		methods:  []string{"pm_card_visa_chargeDeclinedLostCard", "pm_card_chargeDeclinedLostCard"},
		tokens:   []string{"tok_visa_chargeDeclinedLostCard", "tok_chargeDeclinedLostCard"},
		behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineLostCard}},
	{number: "4000000000009979", brand: "visa", funding: "credit", country: "US",
		methods:  []string{"pm_card_visa_chargeDeclinedStolenCard", "pm_card_chargeDeclinedStolenCard"},
		tokens:   []string{"tok_visa_chargeDeclinedStolenCard", "tok_chargeDeclinedStolenCard"},
		behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineStolenCard}},
	{number: "4000000000000069", brand: "visa", funding: "credit", country: "US",
		methods:  []string{"pm_card_chargeDeclinedExpiredCard", "pm_card_visa_chargeDeclinedExpiredCard"},
		tokens:   []string{"tok_chargeDeclinedExpiredCard", "tok_visa_chargeDeclinedExpiredCard"},
		behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineExpiredCard}},
	{number: "4000000000000127", brand: "visa", funding: "credit", country: "US",
		methods:  []string{"pm_card_chargeDeclinedIncorrectCvc", "pm_card_visa_chargeDeclinedIncorrectCvc"},
		tokens:   []string{"tok_chargeDeclinedIncorrectCvc", "tok_visa_chargeDeclinedIncorrectCvc"},
		behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineIncorrectCVC}},
	{number: "4000000000000119", brand: "visa", funding: "credit", country: "US",
		methods:  []string{"pm_card_chargeDeclinedProcessingError", "pm_card_visa_chargeDeclinedProcessingError"},
		tokens:   []string{"tok_chargeDeclinedProcessingError", "tok_visa_chargeDeclinedProcessingError"},
		behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineProcessingError}},
	{number: "4000000000000341", brand: "visa", funding: "credit", country: "US",
		methods: []string{"pm_card_chargeCustomerFail"}, tokens: []string{"tok_chargeCustomerFail"},
		behavior: billing.CardBehavior{DeclineCharges: billing.DeclineGeneric}},
	// 276 in the number is Germany's country code: Stripe's authentication
	// test cards are European cards.
	{number: "4000002760003184", brand: "visa", funding: "credit", country: "DE",
		methods: []string{"pm_card_authenticationRequired"}, tokens: []string{"tok_authenticationRequired"},
		behavior: billing.CardBehavior{RequiresAuthentication: true}},
}

// isMagicPaymentMethod reports whether id is one of Stripe's test payment
// method ids.
func isMagicPaymentMethod(id string) bool {
	_, ok := testCardByMethod(id)
	return ok
}

func testCardByMethod(id string) (*testCard, bool) {
	if !strings.HasPrefix(id, "pm_card_") {
		return nil, false
	}
	for i := range testCards {
		for _, m := range testCards[i].methods {
			if m == id {
				return &testCards[i], true
			}
		}
	}
	return nil, false
}

func testCardByToken(tok string) (*testCard, bool) {
	if !strings.HasPrefix(tok, "tok_") {
		return nil, false
	}
	for i := range testCards {
		for _, t := range testCards[i].tokens {
			if t == tok {
				return &testCards[i], true
			}
		}
	}
	return nil, false
}

func testCardByNumber(number string) (*testCard, bool) {
	for i := range testCards {
		if testCards[i].number == number {
			return &testCards[i], true
		}
	}
	return nil, false
}

// paymentMethod returns a new, unsaved payment method of the card.
func (tc *testCard) paymentMethod() *billing.PaymentMethod {
	return &billing.PaymentMethod{Type: "card", Behavior: tc.behavior, Card: billing.Card{
		Brand: tc.brand, Last4: tc.number[len(tc.number)-4:], ExpMonth: testCardExpMonth, ExpYear: testCardExpYear,
		Funding: tc.funding, Country: tc.country, Fingerprint: cardFingerprint(tc.number)}}
}

// cardFingerprint is a stable fingerprint of a card number: the same
// number always gives the same fingerprint, and the number cannot be read
// back from it.
func cardFingerprint(number string) string {
	sum := sha256.Sum256([]byte("billclock card fingerprint\x00" + number))
	out := make([]byte, 16)
	for i := range out {
		out[i] = clockwork.IDAlphabet[int(sum[i])%len(clockwork.IDAlphabet)]
	}
	return string(out)
}

// rawCard is card details sent in full (card[number], card[exp_month],
// ...), as some test suites do. Only Stripe's test numbers are accepted.
type rawCard struct {
	number            string
	expMonth, expYear int64
	cvc               string
}

// luhnValid reports whether number is made of 12 to 19 digits whose Luhn
// checksum is right.
func luhnValid(number string) bool {
	if len(number) < 12 || len(number) > 19 {
		return false
	}
	sum := 0
	for i := range len(number) {
		c := number[len(number)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// cardFromNumber turns raw card details into a new, unsaved payment
// method, refusing them as Stripe's test mode does: a number that is not
// a card number, a card that is not a test card, an expiry in the past
// (relative to now, a Unix time) or out of range. The errors never repeat
// the number.
func cardFromNumber(rc rawCard, now int64) (*billing.PaymentMethod, error) {
	number := strings.ReplaceAll(strings.ReplaceAll(rc.number, " ", ""), "-", "")
	if !luhnValid(number) {
		return nil, &Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: "incorrect_number",
			Param: "card[number]", Message: "Your card number is incorrect."}
	}
	tc, ok := testCardByNumber(number)
	if !ok {
		return nil, &Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: "card_declined",
			DeclineCode: "test_mode_live_card", Message: "Your card was declined. Your request was in test mode, " +
				"but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing."}
	}
	if rc.expMonth < 1 || rc.expMonth > 12 {
		return nil, &Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: "invalid_expiry_month",
			Param: "card[exp_month]", Message: "Your card's expiration month is invalid."}
	}
	year := rc.expYear
	if year >= 0 && year < 100 {
		year += 2000
	}
	nowYear, nowMonth := yearMonth(now)
	if year < nowYear || year == nowYear && rc.expMonth < nowMonth || year > nowYear+50 {
		return nil, &Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: "invalid_expiry_year",
			Param: "card[exp_year]", Message: "Your card's expiration year is invalid."}
	}
	if rc.cvc != "" && !allDigits(rc.cvc, 3, 4) {
		return nil, &Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: "invalid_cvc",
			Param: "card[cvc]", Message: "Your card's security code is invalid."}
	}
	pm := tc.paymentMethod()
	pm.Card.ExpMonth, pm.Card.ExpYear = int(rc.expMonth), int(year)
	return pm, nil
}

// allDigits reports whether s is lo to hi decimal digits.
func allDigits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// yearMonth is the UTC year and month of the Unix time t.
func yearMonth(t int64) (int64, int64) {
	u := time.Unix(t, 0).UTC()
	return int64(u.Year()), int64(u.Month())
}
