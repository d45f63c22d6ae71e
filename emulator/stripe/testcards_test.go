package stripe

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
)

// testCardsWall is 2026-11-01, for expiry checks.
var testCardsWall = catalogWall.Unix()

func TestTestCardTable(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range testCards {
		assert.True(t, luhnValid(tc.number), "%s is a card number", tc.number)
		for _, id := range append(append([]string{}, tc.methods...), tc.tokens...) {
			assert.False(t, seen[id], "%s is in the table once", id)
			seen[id] = true
		}
		for _, id := range tc.methods {
			got, ok := testCardByMethod(id)
			require.True(t, ok, id)
			assert.Equal(t, tc.number, got.number)
		}
		for _, tok := range tc.tokens {
			got, ok := testCardByToken(tok)
			require.True(t, ok, tok)
			assert.Equal(t, tc.number, got.number)
		}
		pm := tc.paymentMethod()
		assert.Equal(t, tc.number[len(tc.number)-4:], pm.Card.Last4)
		assert.Equal(t, cardFingerprint(tc.number), pm.Card.Fingerprint)
	}
	_, ok := testCardByMethod("pm_card_nope")
	assert.False(t, ok)
	_, ok = testCardByToken("pm_card_visa")
	assert.False(t, ok, "a payment method id is not a token")
	assert.NotEqual(t, cardFingerprint("4242424242424242"), cardFingerprint("5555555555554444"))
}

func TestCardFromNumber(t *testing.T) {
	pm, err := cardFromNumber(rawCard{number: "4242 4242 4242 4242", expMonth: 3, expYear: 29, cvc: "123"}, testCardsWall)
	require.NoError(t, err)
	assert.Equal(t, billing.Card{Brand: "visa", Last4: "4242", ExpMonth: 3, ExpYear: 2029, Funding: "credit", Country: "US",
		Fingerprint: cardFingerprint("4242424242424242")}, pm.Card)

	cases := []struct {
		name string
		rc   rawCard
		code string
	}{
		{"bad checksum", rawCard{number: "4242424242424241", expMonth: 1, expYear: 2030}, "incorrect_number"},
		{"letters", rawCard{number: "4242abcd42424242", expMonth: 1, expYear: 2030}, "incorrect_number"},
		{"too short", rawCard{number: "42", expMonth: 1, expYear: 2030}, "incorrect_number"},
		{"live card", rawCard{number: "4111111111111111", expMonth: 1, expYear: 2030}, "card_declined"},
		{"month 0", rawCard{number: "4242424242424242", expMonth: 0, expYear: 2030}, "invalid_expiry_month"},
		{"expired last month", rawCard{number: "4242424242424242", expMonth: 10, expYear: 2026}, "invalid_expiry_year"},
		{"far future", rawCard{number: "4242424242424242", expMonth: 1, expYear: 2100}, "invalid_expiry_year"},
		{"huge year", rawCard{number: "4242424242424242", expMonth: 1, expYear: 1 << 62}, "invalid_expiry_year"},
		{"bad cvc", rawCard{number: "4242424242424242", expMonth: 1, expYear: 2030, cvc: "12a"}, "invalid_cvc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cardFromNumber(tc.rc, testCardsWall)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 402, e.Status)
			assert.Equal(t, tc.code, e.Code)
			assert.NotContains(t, e.Message, tc.rc.number)
		})
	}
	_, err = cardFromNumber(rawCard{number: "4242424242424242", expMonth: 11, expYear: 2026}, testCardsWall)
	assert.NoError(t, err, "a card expiring this month is still good")
}

// FuzzPaymentMethodParams feeds any form to the readers of a payment
// method's parameters: they never panic, every refusal is an API error,
// and no error repeats a card number.
func FuzzPaymentMethodParams(f *testing.F) {
	for _, seed := range []string{
		"type=card&card[token]=tok_visa", "type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2030&card[cvc]=123",
		"card[number]=4111111111111111&card[exp_month]=1&card[exp_year]=99", "billing_details[address][city]=Berlin&billing_details[name]=",
		"billing_details[address]=&billing_details=x", "card=tok_visa", "card[number][x]=1", "card[networks][preferred]=visa",
		"off_session=one_off", "card[exp_month]=-9223372036854775808&card[number]=4242424242424242&card[exp_year]=9223372036854775807",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := ParseForm(raw)
		if err != nil {
			return
		}
		p := newParams(form)
		card, _ := readCardParams(p)
		readBillingDetails(p)
		readOffSession(p)
		p.str("type")
		var errs []error
		errs = append(errs, p.check())
		if card.raw != nil {
			_, err := cardFromNumber(*card.raw, testCardsWall)
			errs = append(errs, err)
		}
		for _, err := range errs {
			if err == nil {
				continue
			}
			e, ok := apiError(err)
			if !ok {
				t.Fatalf("%q: not an API error: %v", raw, err)
			}
			if card.raw != nil && len(card.raw.number) >= 12 && strings.Contains(e.Message, card.raw.number) {
				t.Fatalf("%q: the error repeats the card number: %s", raw, e.Message)
			}
		}
	})
}
