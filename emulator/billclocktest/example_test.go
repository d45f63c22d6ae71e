package billclocktest_test

import (
	"context"
	"fmt"
	"log"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator/billclocktest"
	"github.com/billclock/billclock/emulator/billclocktest/stripego"
)

// A subscription renews when its test clock passes the end of its first
// month. In a test, billclocktest.Start(t) does what New and Close do
// here (see ExampleStart).
func Example() {
	srv, err := billclocktest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	sc := stripego.Client(srv) // stripe-go, pointed at srv for srv.StripeKey
	ctx := context.Background()

	clock, err := sc.V1TestHelpersTestClocks.Create(ctx, &stripe.TestHelpersTestClockCreateParams{
		FrozenTime: stripe.Int64(time.Date(2024, 11, 23, 0, 0, 0, 0, time.UTC).Unix()),
	})
	if err != nil {
		log.Fatal(err)
	}
	cus, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{
		TestClock: stripe.String(clock.ID), PaymentMethod: stripe.String("pm_card_visa"),
	})
	if err != nil {
		log.Fatal(err)
	}
	price, err := sc.V1Prices.Create(ctx, &stripe.PriceCreateParams{
		Currency: stripe.String("usd"), UnitAmount: stripe.Int64(2000),
		ProductData: &stripe.PriceCreateProductDataParams{Name: stripe.String("Pro")},
		Recurring:   &stripe.PriceCreateRecurringParams{Interval: stripe.String("month")},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{
		Customer: stripe.String(cus.ID), Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID)}},
	})
	if err != nil {
		log.Fatal(err)
	}

	// Advance past the renewal (and the hour its invoice stays a draft),
	// and wait until the clock is ready.
	clock, err = sc.V1TestHelpersTestClocks.Advance(ctx, clock.ID, &stripe.TestHelpersTestClockAdvanceParams{
		FrozenTime: stripe.Int64(time.Date(2024, 12, 24, 0, 0, 0, 0, time.UTC).Unix()),
	})
	if err != nil {
		log.Fatal(err)
	}
	for clock.Status != stripe.TestHelpersTestClockStatusReady {
		time.Sleep(10 * time.Millisecond)
		if clock, err = sc.V1TestHelpersTestClocks.Retrieve(ctx, clock.ID, nil); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("clock ready at", time.Unix(clock.FrozenTime, 0).UTC().Format(time.DateOnly))
	for inv, err := range sc.V1Invoices.List(ctx, &stripe.InvoiceListParams{Customer: stripe.String(cus.ID)}).All(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(inv.BillingReason, inv.AmountPaid, inv.Status)
	}
	// Output:
	// clock ready at 2024-12-24
	// subscription_cycle 2000 paid
	// subscription_create 2000 paid
}

// In a test, Start runs the server until the test ends, with the options
// of `billclock serve` that matter in tests.
func ExampleStart() {
	TestSomething := func(t *testing.T) {
		srv := billclocktest.Start(t,
			billclocktest.AdvanceDelay(100*time.Millisecond),                  // clocks stay "advancing" a while
			billclocktest.WebhookRetryDelay(10*time.Millisecond, time.Second), // retries within the test
			billclocktest.WithDunning(billclocktest.Dunning{RetryDays: []int{1, 3}, SubscriptionAction: "unpaid"}),
		)
		sc := stripego.Client(srv)
		_ = sc                 // drive the Stripe API as your code does
		_ = srv.NewStripeKey() // another account, isolated from the first
		_ = srv.ChargebeeURL() // the Chargebee surface, for srv.ChargebeeKey
	}
	_ = TestSomething
}
