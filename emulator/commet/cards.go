package commet

import (
	"strings"

	"github.com/billclock/billclock/emulator/billing"
)

// testCard is a sandbox card number and how it behaves.
type testCard struct {
	Brand    string
	Behavior billing.CardBehavior
	// PaysAtCheckout: the card pays the checkout although every later
	// charge fails (billclock's own 4000 0000 0000 0341).
	PaysAtCheckout bool
}

// DefaultCard is the card a checkout completed without one pays with.
const DefaultCard = "4242424242424242"

// testCards are the cards a checkout takes: Commet's sandbox cards (one
// that succeeds, and its decline cards, which fail at checkout), a
// Mastercard that succeeds, and Stripe's 4000 0000 0000 0341, which
// billclock makes its own documented choice for a card that pays the
// checkout and fails every later charge (Commet documents none).
var testCards = map[string]testCard{
	"4242424242424242": {Brand: "visa"},
	"5555555555554444": {Brand: "mastercard"},
	"4000000000000341": {Brand: "visa", PaysAtCheckout: true,
		Behavior: billing.CardBehavior{DeclineCharges: billing.DeclineGeneric}},
	"4000000000009995": {Brand: "visa", Behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineInsufficientFunds}},
	"4000000000000002": {Brand: "visa", Behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineGeneric}},
	"4000000000000069": {Brand: "visa", Behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineExpiredCard}},
}

// cardNumber normalizes a card number as typed: spaces and dashes are
// dropped.
func cardNumber(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
}

// lookupCard finds a test card by its number.
func lookupCard(number string) (testCard, bool) {
	c, ok := testCards[cardNumber(number)]
	return c, ok
}
