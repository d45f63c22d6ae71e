package emulator_test

// Cross-key isolation: every API key is its own account. Three accounts
// (two secret keys and a restricted key sharing the first one's suffix) each
// build one of everything with stripe-go, using the same Idempotency-Keys;
// then every account attacks every other one through every route of
// emulator/stripe/routes.go (isolationCases), with the other's ids in paths,
// cursors, filters, expansions and create parameters. Each attack must get
// the answer an id that never existed gets, the victim's data must read the
// same afterwards, and webhooks must reach only their own account's
// endpoint. TestIsolationCoversEveryRoute fails when a route has no case.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/clockwork"
	bcstripe "github.com/billclock/billclock/emulator/stripe"
	"github.com/billclock/billclock/store"
)

// isoLookupKey is the lookup key every account gives its price, and
// isoSharedProduct the custom id every account gives a product.
const (
	isoLookupKey     = "iso-seat"
	isoSharedProduct = "prod_isoshared"
)

// isoWorld is one account and one of each of its objects.
type isoWorld struct {
	name string
	key  string
	sc   *stripe.Client
	rc   *receiver
	// ids maps a placeholder (see isoSteps) to the account's object id.
	ids map[string]string
	// first holds each setup step's answer, for the replays at the end.
	first []*stripe.APIResponse
}

// isoStep is one idempotent request of an account's setup. Every account
// sends it with the same Idempotency-Key, so each step also checks that a
// key used by another account neither replays its answer nor counts as a
// mismatch.
type isoStep struct {
	route string
	// do sends the request with stripe-go (or raw for billclock's own
	// routes), records the ids it made and returns the answer.
	do func(t *testing.T, e *env, w *isoWorld, key string) *stripe.APIResponse
}

// idem sets the Idempotency-Key of stripe-go params.
func idem[P interface{ SetIdempotencyKey(string) }](p P, key string) P {
	p.SetIdempotencyKey(key)
	return p
}

// isoSteps builds an account's world: a webhook endpoint for every event,
// a clock with a customer, a subscription of two items (one with a proration)
// advanced across its first renewal, whose invoice is then finalized and
// paid, a deleted customer, and updates of each kind.
func isoSteps() []isoStep {
	return []isoStep{
		{"POST /v1/webhook_endpoints", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			we, err := w.sc.V1WebhookEndpoints.Create(t.Context(), idem(&stripe.WebhookEndpointCreateParams{
				URL: stripe.String(w.rc.URL), EnabledEvents: stripe.StringSlice([]string{"*"})}, key))
			require.NoError(t, err)
			if w.ids["we"] == "" {
				w.rc.setSecret(we.Secret)
			}
			w.ids["we"] = we.ID
			return we.LastResponse
		}},
		{"POST /v1/test_helpers/test_clocks", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			c, err := w.sc.V1TestHelpersTestClocks.Create(t.Context(), idem(&stripe.TestHelpersTestClockCreateParams{
				FrozenTime: stripe.Int64(frozen0), Name: stripe.String("iso")}, key))
			require.NoError(t, err)
			w.ids["clock"] = c.ID
			return c.LastResponse
		}},
		{"POST /v1/customers", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			c, err := w.sc.V1Customers.Create(t.Context(), idem(&stripe.CustomerCreateParams{Email: stripe.String("clock@example.com"),
				PaymentMethod: stripe.String("pm_card_visa"), TestClock: stripe.String(w.ids["clock"])}, key))
			require.NoError(t, err)
			w.ids["cus"] = c.ID
			return c.LastResponse
		}},
		{"POST /v1/customers", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			c, err := w.sc.V1Customers.Create(t.Context(), idem(&stripe.CustomerCreateParams{Email: stripe.String("free@example.com")}, key))
			require.NoError(t, err)
			w.ids["cusFree"] = c.ID
			return c.LastResponse
		}},
		{"POST /v1/customers", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			c, err := w.sc.V1Customers.Create(t.Context(), idem(&stripe.CustomerCreateParams{Name: stripe.String("gone")}, key))
			require.NoError(t, err)
			w.ids["cusGone"] = c.ID
			return c.LastResponse
		}},
		{"DELETE /v1/customers/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			c, err := w.sc.V1Customers.Delete(t.Context(), w.ids["cusGone"], idem(&stripe.CustomerDeleteParams{}, key))
			require.NoError(t, err)
			return c.LastResponse
		}},
		{"POST /v1/products", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Products.Create(t.Context(), idem(&stripe.ProductCreateParams{Name: stripe.String("Seats")}, key))
			require.NoError(t, err)
			w.ids["prod"] = p.ID
			return p.LastResponse
		}},
		{"POST /v1/products", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			// Every account gets the same custom id: ids are per account.
			p, err := w.sc.V1Products.Create(t.Context(), idem(&stripe.ProductCreateParams{ID: stripe.String(isoSharedProduct),
				Name: stripe.String("Shared"), Metadata: map[string]string{"account": w.name}}, key))
			require.NoError(t, err)
			return p.LastResponse
		}},
		{"POST /v1/prices", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Prices.Create(t.Context(), idem(&stripe.PriceCreateParams{Product: stripe.String(w.ids["prod"]),
				Currency: stripe.String("usd"), UnitAmount: stripe.Int64(1000), LookupKey: stripe.String(isoLookupKey),
				Recurring: &stripe.PriceCreateRecurringParams{Interval: stripe.String("month")}}, key))
			require.NoError(t, err)
			w.ids["price"] = p.ID
			return p.LastResponse
		}},
		{"POST /v1/prices", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Prices.Create(t.Context(), idem(&stripe.PriceCreateParams{
				ProductData: &stripe.PriceCreateProductDataParams{Name: stripe.String("Extras")},
				Currency:    stripe.String("usd"), UnitAmount: stripe.Int64(500),
				Recurring: &stripe.PriceCreateRecurringParams{Interval: stripe.String("month")}}, key))
			require.NoError(t, err)
			w.ids["price2"] = p.ID
			return p.LastResponse
		}},
		{"POST /v1/products/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Products.Update(t.Context(), w.ids["prod"], idem(&stripe.ProductUpdateParams{
				DefaultPrice: stripe.String(w.ids["price"])}, key))
			require.NoError(t, err)
			return p.LastResponse
		}},
		{"POST /v1/subscriptions", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			s, err := w.sc.V1Subscriptions.Create(t.Context(), idem(&stripe.SubscriptionCreateParams{Customer: stripe.String(w.ids["cus"]),
				Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(w.ids["price"]), Quantity: stripe.Int64(2)}}}, key))
			require.NoError(t, err)
			require.Len(t, s.Items.Data, 1)
			require.NotNil(t, s.LatestInvoice)
			w.ids["sub"], w.ids["si"], w.ids["in"] = s.ID, s.Items.Data[0].ID, s.LatestInvoice.ID
			return s.LastResponse
		}},
		{"POST /v1/subscription_items", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			si, err := w.sc.V1SubscriptionItems.Create(t.Context(), idem(&stripe.SubscriptionItemCreateParams{
				Subscription: stripe.String(w.ids["sub"]), Price: stripe.String(w.ids["price2"]),
				ProrationBehavior: stripe.String("none")}, key))
			require.NoError(t, err)
			w.ids["si2"] = si.ID
			return si.LastResponse
		}},
		{"POST /v1/subscription_items/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			si, err := w.sc.V1SubscriptionItems.Update(t.Context(), w.ids["si"], idem(&stripe.SubscriptionItemUpdateParams{
				Quantity: stripe.Int64(3)}, key))
			require.NoError(t, err)
			if w.ids["ii"] == "" { // not on the replays at the end
				var pending []string
				for ii, err := range w.sc.V1InvoiceItems.List(t.Context(), &stripe.InvoiceItemListParams{
					Customer: stripe.String(w.ids["cus"]), Pending: stripe.Bool(true)}).All(t.Context()) {
					require.NoError(t, err)
					pending = append(pending, ii.ID)
				}
				require.NotEmpty(t, pending, "the seat change left a proration pending")
				w.ids["ii"] = pending[0]
			}
			return si.LastResponse
		}},
		{"POST /v1/test_helpers/test_clocks/{id}/advance", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			// Just past the first renewal, before its invoice is finalized.
			target := time.Unix(frozen0, 0).UTC().AddDate(0, 1, 0).Add(30 * time.Minute).Unix()
			c, err := w.sc.V1TestHelpersTestClocks.Advance(t.Context(), w.ids["clock"], idem(&stripe.TestHelpersTestClockAdvanceParams{
				FrozenTime: stripe.Int64(target)}, key))
			require.NoError(t, err)
			require.Equal(t, target, waitReady(t, w.sc, w.ids["clock"]).FrozenTime)
			if w.ids["in2"] == "" {
				s, err := w.sc.V1Subscriptions.Retrieve(t.Context(), w.ids["sub"], nil)
				require.NoError(t, err)
				require.NotNil(t, s.LatestInvoice)
				require.NotEqual(t, w.ids["in"], s.LatestInvoice.ID, "the renewal made an invoice")
				w.ids["in2"] = s.LatestInvoice.ID
			}
			return c.LastResponse
		}},
		{"POST /v1/invoices/{id}/finalize", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.FinalizeInvoice(t.Context(), w.ids["in2"], idem(&stripe.InvoiceFinalizeInvoiceParams{}, key))
			require.NoError(t, err)
			return inv.LastResponse
		}},
		{"POST /v1/invoices/{id}/pay", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.Pay(t.Context(), w.ids["in2"], idem(&stripe.InvoicePayParams{}, key))
			require.NoError(t, err)
			return inv.LastResponse
		}},
		{"POST /v1/customers/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			c, err := w.sc.V1Customers.Update(t.Context(), w.ids["cusFree"], idem(&stripe.CustomerUpdateParams{Name: stripe.String("Free")}, key))
			require.NoError(t, err)
			return c.LastResponse
		}},
		{"POST /v1/prices/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Prices.Update(t.Context(), w.ids["price"], idem(&stripe.PriceUpdateParams{Nickname: stripe.String("Seat")}, key))
			require.NoError(t, err)
			return p.LastResponse
		}},
		{"POST /v1/subscriptions/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			s, err := w.sc.V1Subscriptions.Update(t.Context(), w.ids["sub"], idem(&stripe.SubscriptionUpdateParams{
				Metadata: map[string]string{"account": "mine"}}, key))
			require.NoError(t, err)
			return s.LastResponse
		}},
		{"POST /v1/webhook_endpoints/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			we, err := w.sc.V1WebhookEndpoints.Update(t.Context(), w.ids["we"], idem(&stripe.WebhookEndpointUpdateParams{
				Description: stripe.String("iso")}, key))
			require.NoError(t, err)
			return we.LastResponse
		}},
		{"POST /v1/subscription_items/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			// A downgrade invoiced at once: its negative total becomes the
			// customer's credit, with a balance transaction.
			si, err := w.sc.V1SubscriptionItems.Update(t.Context(), w.ids["si"], idem(&stripe.SubscriptionItemUpdateParams{
				Quantity: stripe.Int64(1), ProrationBehavior: stripe.String("always_invoice")}, key))
			require.NoError(t, err)
			return si.LastResponse
		}},
		{"POST /v1/payment_methods", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pm, err := w.sc.V1PaymentMethods.Create(t.Context(), idem(&stripe.PaymentMethodCreateParams{Type: stripe.String("card"),
				Card: &stripe.PaymentMethodCreateCardParams{Token: stripe.String("tok_mastercard")}}, key))
			require.NoError(t, err)
			w.ids["pm"] = pm.ID
			return pm.LastResponse
		}},
		{"POST /v1/payment_methods/{id}/attach", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pm, err := w.sc.V1PaymentMethods.Attach(t.Context(), w.ids["pm"], idem(&stripe.PaymentMethodAttachParams{
				Customer: stripe.String(w.ids["cusFree"])}, key))
			require.NoError(t, err)
			return pm.LastResponse
		}},
		{"POST /v1/payment_methods/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pm, err := w.sc.V1PaymentMethods.Update(t.Context(), w.ids["pm"], idem(&stripe.PaymentMethodUpdateParams{
				Metadata: map[string]string{"account": w.name}}, key))
			require.NoError(t, err)
			return pm.LastResponse
		}},
		{"POST /v1/payment_methods/{id}/attach", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pm, err := w.sc.V1PaymentMethods.Attach(t.Context(), "pm_card_amex", idem(&stripe.PaymentMethodAttachParams{
				Customer: stripe.String(w.ids["cusFree"])}, key))
			require.NoError(t, err)
			w.ids["pmGone"] = pm.ID
			return pm.LastResponse
		}},
		{"POST /v1/payment_methods/{id}/detach", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pm, err := w.sc.V1PaymentMethods.Detach(t.Context(), w.ids["pmGone"], idem(&stripe.PaymentMethodDetachParams{}, key))
			require.NoError(t, err)
			return pm.LastResponse
		}},
		{"POST /v1/customers/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			c, err := w.sc.V1Customers.Update(t.Context(), w.ids["cusFree"], idem(&stripe.CustomerUpdateParams{
				Source: stripe.String("tok_visa")}, key))
			require.NoError(t, err)
			require.NotNil(t, c.DefaultSource)
			w.ids["src"] = c.DefaultSource.ID
			return c.LastResponse
		}},
		{"POST /v1/payment_intents", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pi, err := w.sc.V1PaymentIntents.Create(t.Context(), idem(&stripe.PaymentIntentCreateParams{Amount: stripe.Int64(2000),
				Currency: stripe.String("usd"), Customer: stripe.String(w.ids["cusFree"])}, key))
			require.NoError(t, err)
			w.ids["piOpen"] = pi.ID
			return pi.LastResponse
		}},
		{"POST /v1/payment_intents/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pi, err := w.sc.V1PaymentIntents.Update(t.Context(), w.ids["piOpen"], idem(&stripe.PaymentIntentUpdateParams{
				Description: stripe.String("open")}, key))
			require.NoError(t, err)
			return pi.LastResponse
		}},
		{"POST /v1/payment_intents", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pi, err := w.sc.V1PaymentIntents.Create(t.Context(), idem(&stripe.PaymentIntentCreateParams{Amount: stripe.Int64(3000),
				Currency: stripe.String("usd"), Customer: stripe.String(w.ids["cusFree"]), PaymentMethod: stripe.String(w.ids["pm"])}, key))
			require.NoError(t, err)
			w.ids["pi"] = pi.ID
			return pi.LastResponse
		}},
		{"POST /v1/payment_intents/{id}/confirm", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pi, err := w.sc.V1PaymentIntents.Confirm(t.Context(), w.ids["pi"], idem(&stripe.PaymentIntentConfirmParams{}, key))
			require.NoError(t, err)
			require.Equal(t, stripe.PaymentIntentStatusSucceeded, pi.Status)
			require.NotNil(t, pi.LatestCharge)
			w.ids["ch"] = pi.LatestCharge.ID
			return pi.LastResponse
		}},
		{"POST /v1/payment_intents", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pi, err := w.sc.V1PaymentIntents.Create(t.Context(), idem(&stripe.PaymentIntentCreateParams{Amount: stripe.Int64(4000),
				Currency: stripe.String("usd"), Customer: stripe.String(w.ids["cusFree"]), PaymentMethod: stripe.String(w.ids["pm"]),
				CaptureMethod: stripe.String("manual"), Confirm: stripe.Bool(true)}, key))
			require.NoError(t, err)
			require.Equal(t, stripe.PaymentIntentStatusRequiresCapture, pi.Status)
			w.ids["piAuth"] = pi.ID
			return pi.LastResponse
		}},
		{"POST /v1/payment_intents/{id}/capture", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pi, err := w.sc.V1PaymentIntents.Capture(t.Context(), w.ids["piAuth"], idem(&stripe.PaymentIntentCaptureParams{
				AmountToCapture: stripe.Int64(3500)}, key))
			require.NoError(t, err)
			return pi.LastResponse
		}},
		{"POST /v1/payment_intents", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pi, err := w.sc.V1PaymentIntents.Create(t.Context(), idem(&stripe.PaymentIntentCreateParams{Amount: stripe.Int64(5000),
				Currency: stripe.String("usd")}, key))
			require.NoError(t, err)
			w.ids["piGone"] = pi.ID
			return pi.LastResponse
		}},
		{"POST /v1/payment_intents/{id}/cancel", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pi, err := w.sc.V1PaymentIntents.Cancel(t.Context(), w.ids["piGone"], idem(&stripe.PaymentIntentCancelParams{}, key))
			require.NoError(t, err)
			return pi.LastResponse
		}},
		{"POST /v1/plans", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Plans.Create(t.Context(), idem(&stripe.PlanCreateParams{ProductID: stripe.String(w.ids["prod"]),
				Amount: stripe.Int64(700), Currency: stripe.String("usd"), Interval: stripe.String("month")}, key))
			require.NoError(t, err)
			w.ids["plan"] = p.ID
			return p.LastResponse
		}},
		{"POST /v1/plans/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Plans.Update(t.Context(), w.ids["plan"], idem(&stripe.PlanUpdateParams{Nickname: stripe.String("iso")}, key))
			require.NoError(t, err)
			return p.LastResponse
		}},
		{"POST /v1/plans", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Plans.Create(t.Context(), idem(&stripe.PlanCreateParams{Amount: stripe.Int64(800),
				Currency: stripe.String("usd"), Interval: stripe.String("year"),
				Product: &stripe.PlanCreateProductParams{Name: stripe.String("Gone")}}, key))
			require.NoError(t, err)
			w.ids["planGone"] = p.ID
			return p.LastResponse
		}},
		{"DELETE /v1/plans/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1Plans.Delete(t.Context(), w.ids["planGone"], idem(&stripe.PlanDeleteParams{}, key))
			require.NoError(t, err)
			return p.LastResponse
		}},
		{"POST /v1/subscription_schedules", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			s, err := w.sc.V1SubscriptionSchedules.Create(t.Context(), idem(&stripe.SubscriptionScheduleCreateParams{
				Customer: stripe.String(w.ids["cus"]), StartDateNow: stripe.Bool(true),
				Phases: []*stripe.SubscriptionScheduleCreatePhaseParams{
					{Items: []*stripe.SubscriptionScheduleCreatePhaseItemParams{{Price: stripe.String(w.ids["plan"])}},
						Duration: &stripe.SubscriptionScheduleCreatePhaseDurationParams{Interval: stripe.String("month")}},
					{Items: []*stripe.SubscriptionScheduleCreatePhaseItemParams{{Price: stripe.String(w.ids["price"])}}},
				}}, key))
			require.NoError(t, err)
			require.NotNil(t, s.Subscription)
			w.ids["sched"], w.ids["schedSub"] = s.ID, s.Subscription.ID
			return s.LastResponse
		}},
		{"POST /v1/subscription_schedules/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			s, err := w.sc.V1SubscriptionSchedules.Update(t.Context(), w.ids["sched"], idem(&stripe.SubscriptionScheduleUpdateParams{
				Metadata: map[string]string{"account": w.name}}, key))
			require.NoError(t, err)
			return s.LastResponse
		}},
		{"POST /v1/subscription_schedules", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			s, err := w.sc.V1SubscriptionSchedules.Create(t.Context(), idem(&stripe.SubscriptionScheduleCreateParams{
				Customer: stripe.String(w.ids["cus"]), StartDate: stripe.Int64(time.Unix(frozen0, 0).AddDate(0, 2, 0).Unix()),
				Phases: []*stripe.SubscriptionScheduleCreatePhaseParams{
					{Items: []*stripe.SubscriptionScheduleCreatePhaseItemParams{{Price: stripe.String(w.ids["price"])}}}}}, key))
			require.NoError(t, err)
			w.ids["sched2"] = s.ID
			return s.LastResponse
		}},
		{"POST /v1/subscription_schedules/{id}/release", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			s, err := w.sc.V1SubscriptionSchedules.Release(t.Context(), w.ids["sched2"], idem(&stripe.SubscriptionScheduleReleaseParams{}, key))
			require.NoError(t, err)
			return s.LastResponse
		}},
		{"POST /v1/subscription_schedules/{id}/cancel", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			s, err := w.sc.V1SubscriptionSchedules.Cancel(t.Context(), w.ids["sched"], idem(&stripe.SubscriptionScheduleCancelParams{
				InvoiceNow: stripe.Bool(false), Prorate: stripe.Bool(false)}, key))
			require.NoError(t, err)
			return s.LastResponse
		}},
		{"POST /v1/setup_intents", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			si, err := w.sc.V1SetupIntents.Create(t.Context(), idem(&stripe.SetupIntentCreateParams{
				Customer: stripe.String(w.ids["cusFree"]), Metadata: map[string]string{"account": w.name}}, key))
			require.NoError(t, err)
			w.ids["seti"] = si.ID
			return si.LastResponse
		}},
		{"POST /v1/setup_intents/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			si, err := w.sc.V1SetupIntents.Update(t.Context(), w.ids["seti"], idem(&stripe.SetupIntentUpdateParams{
				Description: stripe.String("iso")}, key))
			require.NoError(t, err)
			return si.LastResponse
		}},
		{"POST /v1/setup_intents/{id}/confirm", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			si, err := w.sc.V1SetupIntents.Confirm(t.Context(), w.ids["seti"], idem(&stripe.SetupIntentConfirmParams{
				PaymentMethod: stripe.String("pm_card_visa")}, key))
			require.NoError(t, err)
			require.Equal(t, stripe.SetupIntentStatusSucceeded, si.Status)
			w.ids["pmSetup"] = si.PaymentMethod.ID
			return si.LastResponse
		}},
		{"POST /v1/setup_intents", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			si, err := w.sc.V1SetupIntents.Create(t.Context(), idem(&stripe.SetupIntentCreateParams{
				Customer: stripe.String(w.ids["cusFree"])}, key))
			require.NoError(t, err)
			w.ids["setiOpen"] = si.ID
			return si.LastResponse
		}},
		{"POST /v1/setup_intents", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			si, err := w.sc.V1SetupIntents.Create(t.Context(), idem(&stripe.SetupIntentCreateParams{
				PaymentMethodTypes: []*string{stripe.String("card")}}, key))
			require.NoError(t, err)
			w.ids["setiBare"] = si.ID
			return si.LastResponse
		}},
		{"POST /v1/refunds", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			r, err := w.sc.V1Refunds.Create(t.Context(), idem(&stripe.RefundCreateParams{Charge: stripe.String(w.ids["ch"]),
				Amount: stripe.Int64(500)}, key))
			require.NoError(t, err)
			w.ids["re"] = r.ID
			return r.LastResponse
		}},
		{"POST /v1/refunds/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			r, err := w.sc.V1Refunds.Update(t.Context(), w.ids["re"], idem(&stripe.RefundUpdateParams{
				Metadata: map[string]string{"account": w.name}}, key))
			require.NoError(t, err)
			return r.LastResponse
		}},
		{"POST /v1/invoiceitems", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			ii, err := w.sc.V1InvoiceItems.Create(t.Context(), idem(&stripe.InvoiceItemCreateParams{Customer: stripe.String(w.ids["cusFree"]),
				Amount: stripe.Int64(700), Currency: stripe.String("usd"), Description: stripe.String("pending")}, key))
			require.NoError(t, err)
			w.ids["iiPending"] = ii.ID
			return ii.LastResponse
		}},
		{"POST /v1/invoices", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.Create(t.Context(), idem(&stripe.InvoiceCreateParams{Customer: stripe.String(w.ids["cusFree"]),
				Description: stripe.String("draft")}, key))
			require.NoError(t, err)
			w.ids["inDraft"] = inv.ID
			return inv.LastResponse
		}},
		{"POST /v1/invoiceitems", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			ii, err := w.sc.V1InvoiceItems.Create(t.Context(), idem(&stripe.InvoiceItemCreateParams{Customer: stripe.String(w.ids["cusFree"]),
				Invoice: stripe.String(w.ids["inDraft"]), Amount: stripe.Int64(300), Currency: stripe.String("usd")}, key))
			require.NoError(t, err)
			w.ids["iiDraft"] = ii.ID
			return ii.LastResponse
		}},
		{"POST /v1/invoiceitems/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			ii, err := w.sc.V1InvoiceItems.Update(t.Context(), w.ids["iiDraft"], idem(&stripe.InvoiceItemUpdateParams{
				Description: stripe.String("on the draft")}, key))
			require.NoError(t, err)
			return ii.LastResponse
		}},
		{"POST /v1/invoices/{id}/add_lines", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.AddLines(t.Context(), w.ids["inDraft"], idem(&stripe.InvoiceAddLinesParams{
				Lines: []*stripe.InvoiceAddLinesLineParams{{Amount: stripe.Int64(50), Description: stripe.String("added")}}}, key))
			require.NoError(t, err)
			require.Len(t, inv.Lines.Data, 2)
			w.ids["ilDraft"], w.ids["ilAdded"] = inv.Lines.Data[0].ID, inv.Lines.Data[1].ID
			return inv.LastResponse
		}},
		{"POST /v1/invoices/{id}/remove_lines", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.RemoveLines(t.Context(), w.ids["inDraft"], idem(&stripe.InvoiceRemoveLinesParams{
				Lines: []*stripe.InvoiceRemoveLinesLineParams{{ID: stripe.String(w.ids["ilAdded"]), Behavior: stripe.String("delete")}}}, key))
			require.NoError(t, err)
			return inv.LastResponse
		}},
		{"POST /v1/invoices/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.Update(t.Context(), w.ids["inDraft"], idem(&stripe.InvoiceUpdateParams{
				Metadata: map[string]string{"account": w.name}}, key))
			require.NoError(t, err)
			return inv.LastResponse
		}},
		{"POST /v1/invoices", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.Create(t.Context(), idem(&stripe.InvoiceCreateParams{Customer: stripe.String(w.ids["cusFree"])}, key))
			require.NoError(t, err)
			w.ids["inGone"] = inv.ID
			return inv.LastResponse
		}},
		{"DELETE /v1/invoices/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.Delete(t.Context(), w.ids["inGone"], idem(&stripe.InvoiceDeleteParams{}, key))
			require.NoError(t, err)
			return inv.LastResponse
		}},
		{"POST /v1/invoiceitems", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			ii, err := w.sc.V1InvoiceItems.Create(t.Context(), idem(&stripe.InvoiceItemCreateParams{Customer: stripe.String(w.ids["cusFree"]),
				Amount: stripe.Int64(1), Currency: stripe.String("usd")}, key))
			require.NoError(t, err)
			w.ids["iiGone"] = ii.ID
			return ii.LastResponse
		}},
		{"DELETE /v1/invoiceitems/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			ii, err := w.sc.V1InvoiceItems.Delete(t.Context(), w.ids["iiGone"], idem(&stripe.InvoiceItemDeleteParams{}, key))
			require.NoError(t, err)
			return ii.LastResponse
		}},
		{"POST /v1/invoices", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.Create(t.Context(), idem(&stripe.InvoiceCreateParams{Customer: stripe.String(w.ids["cusFree"]),
				CollectionMethod: stripe.String("send_invoice"), DaysUntilDue: stripe.Int64(30)}, key))
			require.NoError(t, err)
			w.ids["inSent"] = inv.ID
			return inv.LastResponse
		}},
		{"POST /v1/invoiceitems", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			ii, err := w.sc.V1InvoiceItems.Create(t.Context(), idem(&stripe.InvoiceItemCreateParams{Customer: stripe.String(w.ids["cusFree"]),
				Invoice: stripe.String(w.ids["inSent"]), Amount: stripe.Int64(4500), Currency: stripe.String("usd")}, key))
			require.NoError(t, err)
			return ii.LastResponse
		}},
		{"POST /v1/invoices/{id}/send", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.SendInvoice(t.Context(), w.ids["inSent"], idem(&stripe.InvoiceSendInvoiceParams{}, key))
			require.NoError(t, err)
			return inv.LastResponse
		}},
		{"POST /v1/invoices/{id}/mark_uncollectible", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			inv, err := w.sc.V1Invoices.MarkUncollectible(t.Context(), w.ids["inSent"], idem(&stripe.InvoiceMarkUncollectibleParams{}, key))
			require.NoError(t, err)
			return inv.LastResponse
		}},
		{"POST /v1/customers/{customer}/sources", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			src, err := w.sc.V1PaymentSources.Create(t.Context(), idem(&stripe.PaymentSourceCreateParams{Customer: stripe.String(w.ids["cusFree"]),
				Source: &stripe.PaymentSourceSourceParams{Token: stripe.String("tok_mastercard")}}, key))
			require.NoError(t, err)
			w.ids["srcGone"] = src.ID
			return src.LastResponse
		}},
		{"DELETE /v1/customers/{customer}/sources/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			src, err := w.sc.V1PaymentSources.Delete(t.Context(), w.ids["srcGone"], idem(&stripe.PaymentSourceDeleteParams{
				Customer: stripe.String(w.ids["cusFree"])}, key))
			require.NoError(t, err)
			return src.LastResponse
		}},
		{"POST /v1/events/{id}/retry", func(t *testing.T, e *env, w *isoWorld, key string) *stripe.APIResponse {
			if w.ids["evt"] == "" {
				evs := eventsOf(t, w.sc, &stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1)}})
				require.NotEmpty(t, evs)
				w.ids["evt"] = evs[0].ID
			}
			r := e.as(t, w.key, http.MethodPost, "/v1/events/"+w.ids["evt"]+"/retry", "", map[string]string{"Idempotency-Key": key})
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			return &stripe.APIResponse{StatusCode: r.Status, Header: r.Header, RawJSON: r.Body}
		}},
		{"POST /v1/coupons", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			c, err := w.sc.V1Coupons.Create(t.Context(), idem(&stripe.CouponCreateParams{PercentOff: stripe.Float64(20),
				Duration: stripe.String("forever"), Name: stripe.String("iso")}, key))
			require.NoError(t, err)
			w.ids["coupon"] = c.ID
			return c.LastResponse
		}},
		{"POST /v1/promotion_codes", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			p, err := w.sc.V1PromotionCodes.Create(t.Context(), idem(&stripe.PromotionCodeCreateParams{Code: stripe.String("ISO"),
				Promotion: &stripe.PromotionCodeCreatePromotionParams{Type: stripe.String("coupon"), Coupon: stripe.String(w.ids["coupon"])}}, key))
			require.NoError(t, err)
			w.ids["promo"] = p.ID
			return p.LastResponse
		}},
		{"POST /v1/tax_rates", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			r, err := w.sc.V1TaxRates.Create(t.Context(), idem(&stripe.TaxRateCreateParams{DisplayName: stripe.String("VAT"),
				Percentage: stripe.Float64(20), Inclusive: stripe.Bool(false)}, key))
			require.NoError(t, err)
			w.ids["txr"] = r.ID
			return r.LastResponse
		}},
		{"POST /v1/customers/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			// The coupon parameter of API versions before basil.
			p := idem(&stripe.CustomerUpdateParams{}, key)
			p.AddExtra("promotion_code", w.ids["promo"])
			c, err := w.sc.V1Customers.Update(t.Context(), w.ids["cusFree"], p)
			require.NoError(t, err)
			require.NotNil(t, c.Discount)
			w.ids["discount"] = c.Discount.ID
			return c.LastResponse
		}},
		{"POST /v1/checkout/sessions", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			cs, err := w.sc.V1CheckoutSessions.Create(t.Context(), idem(&stripe.CheckoutSessionCreateParams{
				Mode: stripe.String("subscription"), Customer: stripe.String(w.ids["cusFree"]),
				SuccessURL: stripe.String("https://example.com/ok"),
				LineItems:  []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(w.ids["price"]), Quantity: stripe.Int64(2)}},
				Discounts:  []*stripe.CheckoutSessionCreateDiscountParams{{Coupon: stripe.String(w.ids["coupon"])}}}, key))
			require.NoError(t, err)
			w.ids["cs"], w.ids["csPage"] = cs.ID, pageToken(t, cs.URL)
			return cs.LastResponse
		}},
		{"POST /v1/checkout/sessions/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			cs, err := w.sc.V1CheckoutSessions.Update(t.Context(), w.ids["cs"], idem(&stripe.CheckoutSessionUpdateParams{
				Metadata: map[string]string{"account": w.name}}, key))
			require.NoError(t, err)
			return cs.LastResponse
		}},
		{"POST /v1/checkout/sessions", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			cs, err := w.sc.V1CheckoutSessions.Create(t.Context(), idem(&stripe.CheckoutSessionCreateParams{
				Mode: stripe.String("setup"), Customer: stripe.String(w.ids["cusFree"]), Currency: stripe.String("usd")}, key))
			require.NoError(t, err)
			w.ids["csGone"] = cs.ID
			return cs.LastResponse
		}},
		{"POST /v1/checkout/sessions/{id}/expire", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			cs, err := w.sc.V1CheckoutSessions.Expire(t.Context(), w.ids["csGone"], idem(&stripe.CheckoutSessionExpireParams{}, key))
			require.NoError(t, err)
			return cs.LastResponse
		}},
		{"POST /v1/billing_portal/configurations", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pc, err := w.sc.V1BillingPortalConfigurations.Create(t.Context(), idem(&stripe.BillingPortalConfigurationCreateParams{
				Features: &stripe.BillingPortalConfigurationCreateFeaturesParams{
					InvoiceHistory: &stripe.BillingPortalConfigurationCreateFeaturesInvoiceHistoryParams{Enabled: stripe.Bool(true)},
					SubscriptionUpdate: &stripe.BillingPortalConfigurationCreateFeaturesSubscriptionUpdateParams{
						Enabled: stripe.Bool(true), DefaultAllowedUpdates: stripe.StringSlice([]string{"quantity"}),
						Products: []*stripe.BillingPortalConfigurationCreateFeaturesSubscriptionUpdateProductParams{{
							Product: stripe.String(w.ids["prod"]), Prices: stripe.StringSlice([]string{w.ids["price"]})}}}}}, key))
			require.NoError(t, err)
			w.ids["bpc"] = pc.ID
			return pc.LastResponse
		}},
		{"POST /v1/billing_portal/configurations/{id}", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			pc, err := w.sc.V1BillingPortalConfigurations.Update(t.Context(), w.ids["bpc"], idem(&stripe.BillingPortalConfigurationUpdateParams{
				Metadata: map[string]string{"account": w.name}}, key))
			require.NoError(t, err)
			return pc.LastResponse
		}},
		{"POST /v1/billing_portal/sessions", func(t *testing.T, _ *env, w *isoWorld, key string) *stripe.APIResponse {
			ps, err := w.sc.V1BillingPortalSessions.Create(t.Context(), idem(&stripe.BillingPortalSessionCreateParams{
				Customer: stripe.String(w.ids["cus"]), Configuration: stripe.String(w.ids["bpc"]),
				ReturnURL: stripe.String("https://example.com/account")}, key))
			require.NoError(t, err)
			w.ids["bpsPage"] = pageToken(t, ps.URL)
			return ps.LastResponse
		}},
	}
}

// pageToken is the token at the end of the address of one of billclock's
// pages (the last path element).
func pageToken(t *testing.T, u string) string {
	t.Helper()
	i := strings.LastIndex(u, "/")
	require.Positive(t, i, "page address %q", u)
	return u[i+1:]
}

// tampered is a page token whose mac was changed: the account and the
// object it names are the same, the mac is not the account's.
func tampered(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, "test_"))
	require.NoError(t, err)
	parts := strings.Split(string(raw), ":")
	require.Len(t, parts, 3)
	parts[2] = strings.Repeat("0", len(parts[2]))
	return "test_" + base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, ":")))
}

// isoKey is the Idempotency-Key of setup step i, the same in every account.
func isoKey(i int) string { return fmt.Sprintf("iso-step-%d", i) }

// buildWorld runs the setup steps for key and waits until every event has
// reached the account's endpoint.
func buildWorld(t *testing.T, e *env, name, key string) *isoWorld {
	t.Helper()
	w := &isoWorld{name: name, key: key, sc: e.client(key), rc: newReceiver(t, nil), ids: map[string]string{}}
	for i, step := range isoSteps() {
		w.first = append(w.first, step.do(t, e, w, isoKey(i)))
	}
	w.settle(t)
	w.ids["wha"] = w.first1(t, e, "/_billclock/webhook_attempts?limit=1")
	w.ids["inpay"] = w.first1(t, e, "/v1/invoice_payments?limit=1&invoice="+w.ids["in"])
	ip, err := w.sc.V1InvoicePayments.Retrieve(t.Context(), w.ids["inpay"], nil)
	require.NoError(t, err)
	require.NotNil(t, ip.Payment.PaymentIntent)
	w.ids["piIn"] = ip.Payment.PaymentIntent.ID
	w.ids["cbtxn"] = w.first1(t, e, "/v1/customers/"+w.ids["cus"]+"/balance_transactions?limit=1")
	acct, err := w.sc.V1Accounts.Retrieve(t.Context(), nil)
	require.NoError(t, err)
	w.ids["acct"] = acct.ID
	inv, err := w.sc.V1Invoices.Retrieve(t.Context(), w.ids["in2"], nil)
	require.NoError(t, err)
	require.NotEmpty(t, inv.HostedInvoiceURL)
	w.ids["inPage"] = pageToken(t, inv.HostedInvoiceURL)
	for _, k := range []string{"csPage", "bpsPage", "inPage"} {
		w.ids[k+"Forged"] = tampered(t, w.ids[k])
	}
	return w
}

// first1 is the id of the one object the list at path shows.
func (w *isoWorld) first1(t *testing.T, e *env, path string) string {
	t.Helper()
	ids, _ := e.as(t, w.key, http.MethodGet, path, "", nil).listIDs(t)
	require.Len(t, ids, 1, path)
	return ids[0]
}

// settle waits until no event of the account has a delivery pending.
func (w *isoWorld) settle(t *testing.T) {
	t.Helper()
	eventually(t, 10*time.Second, w.name+"'s deliveries", func() bool {
		for _, ev := range eventsOf(t, w.sc, nil) {
			if ev.PendingWebhooks != 0 {
				return false
			}
		}
		return true
	})
}

// as sends a request as key: Stripe's routes through the conformance check,
// billclock's own (event retry, webhook attempts), which Stripe's spec does
// not describe, around it.
func (e *env) as(t *testing.T, key, method, path, body string, header map[string]string) rawResponse {
	t.Helper()
	route, _, _ := strings.Cut(path, "?")
	if !strings.HasPrefix(route, "/_billclock/") && !strings.HasSuffix(route, "/retry") && !isPagePath(route) &&
		!strings.HasPrefix(route, "/v1/stripecli/") {
		return e.raw(t, rawRequest{Method: method, Path: path, Body: body, Key: key, Header: header})
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// isPagePath reports whether path is one of billclock's pages (HTML,
// which Stripe's API spec does not describe).
func isPagePath(path string) bool {
	for _, p := range []string{"/c/pay/", "/p/session/", "/i/", "/invoice/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// isoExpect is what an attacker must get back.
type isoExpect struct {
	status int
	// page: the not-found page of billclock's pages.
	page bool
	// For a 404: "No such <kind>: '<id of ref>'" with param.
	kind, ref, param string
}

// missing is Stripe's 404 for the victim's object named by ref.
func missing(kind, ref, param string) isoExpect {
	return isoExpect{status: http.StatusNotFound, kind: kind, ref: ref, param: param}
}

// pageMissing is the answer of a page whose token names nothing: the same
// 404 page whatever it names.
func pageMissing() isoExpect { return isoExpect{status: http.StatusNotFound, page: true} }

// unseen is a 200 answer that shows nothing of the victim.
func unseen() isoExpect { return isoExpect{status: http.StatusOK} }

// refused is an error answer of status that shows nothing of the victim.
func refused(status int) isoExpect { return isoExpect{status: status} }

// isoCase is one attempt by an attacker on a victim's objects. In path and
// body, {x} is the victim's id x and {b.x} the attacker's own.
type isoCase struct {
	route  string // as registered in routes.go: "METHOD /template"
	what   string
	method string
	path   string
	body   string
	want   isoExpect
}

// isolationCases lists, route by route, what another account may try with
// an account's ids.
func isolationCases() []isoCase {
	const (
		get, post, del = http.MethodGet, http.MethodPost, http.MethodDelete
		clock          = "billingclock"
	)
	return []isoCase{
		{"POST /v1/test_helpers/test_clocks", "attach the victim's customer", post, "/v1/test_helpers/test_clocks",
			"frozen_time=1732320000&customer={cus}", missing("customer", "cus", "customer")},
		{"GET /v1/test_helpers/test_clocks", "list", get, "/v1/test_helpers/test_clocks?limit=100", "", unseen()},
		{"GET /v1/test_helpers/test_clocks", "cursor", get, "/v1/test_helpers/test_clocks?starting_after={clock}", "",
			missing(clock, "clock", "starting_after")},
		{"GET /v1/test_helpers/test_clocks", "cursor back", get, "/v1/test_helpers/test_clocks?ending_before={clock}", "",
			missing(clock, "clock", "ending_before")},
		{"GET /v1/test_helpers/test_clocks/{id}", "retrieve", get, "/v1/test_helpers/test_clocks/{clock}", "",
			missing(clock, "clock", "id")},
		{"DELETE /v1/test_helpers/test_clocks/{id}", "delete", del, "/v1/test_helpers/test_clocks/{clock}", "",
			missing(clock, "clock", "id")},
		{"POST /v1/test_helpers/test_clocks/{id}/advance", "advance", post, "/v1/test_helpers/test_clocks/{clock}/advance",
			"frozen_time=1737590400", missing(clock, "clock", "id")},

		{"POST /v1/customers", "create on the victim's clock", post, "/v1/customers", "test_clock={clock}",
			missing(clock, "clock", "test_clock")},
		{"GET /v1/customers", "list", get, "/v1/customers?limit=100", "", unseen()},
		{"GET /v1/customers", "filter by the victim's clock", get, "/v1/customers?test_clock={clock}", "", unseen()},
		{"GET /v1/customers", "cursor", get, "/v1/customers?starting_after={cusFree}", "",
			missing("customer", "cusFree", "starting_after")},
		{"GET /v1/customers", "cursor back", get, "/v1/customers?ending_before={cusFree}", "",
			missing("customer", "cusFree", "ending_before")},
		{"GET /v1/customers/{id}", "retrieve", get, "/v1/customers/{cus}", "", missing("customer", "cus", "id")},
		{"GET /v1/customers/{id}", "retrieve with expand", get, "/v1/customers/{cus}?expand[]=test_clock", "",
			missing("customer", "cus", "id")},
		{"GET /v1/customers/{id}", "retrieve a deleted one", get, "/v1/customers/{cusGone}", "",
			missing("customer", "cusGone", "id")},
		{"POST /v1/customers/{id}", "update", post, "/v1/customers/{cusFree}", "name=Mallory",
			missing("customer", "cusFree", "id")},
		{"DELETE /v1/customers/{id}", "delete", del, "/v1/customers/{cus}", "", missing("customer", "cus", "id")},
		{"DELETE /v1/customers/{id}", "delete a deleted one", del, "/v1/customers/{cusGone}", "",
			missing("customer", "cusGone", "id")},

		{"GET /v1/products", "list", get, "/v1/products?limit=100", "", unseen()},
		{"GET /v1/products", "cursor", get, "/v1/products?starting_after={prod}", "",
			missing("product", "prod", "starting_after")},
		{"GET /v1/products/{id}", "retrieve", get, "/v1/products/{prod}", "", missing("product", "prod", "id")},
		{"POST /v1/products/{id}", "update", post, "/v1/products/{prod}", "name=Mallory", missing("product", "prod", "id")},
		{"POST /v1/products/{id}", "own product, the victim's price as default", post, "/v1/products/{b.prod}",
			"default_price={price}", missing("price", "price", "default_price")},
		{"DELETE /v1/products/{id}", "delete", del, "/v1/products/{prod}", "", missing("product", "prod", "id")},

		{"POST /v1/prices", "a price of the victim's product", post, "/v1/prices",
			"product={prod}&currency=usd&unit_amount=5", missing("product", "prod", "product")},
		{"POST /v1/prices", "take the lookup key the victim uses too", post, "/v1/prices",
			"product={b.prod}&currency=usd&unit_amount=5&lookup_key=" + isoLookupKey + "&transfer_lookup_key=true", unseen()},
		{"GET /v1/prices", "list", get, "/v1/prices?limit=100", "", unseen()},
		{"GET /v1/prices", "filter by the victim's product", get, "/v1/prices?product={prod}", "", unseen()},
		{"GET /v1/prices", "filter by the shared lookup key", get, "/v1/prices?lookup_keys[]=" + isoLookupKey, "", unseen()},
		{"GET /v1/prices", "cursor", get, "/v1/prices?starting_after={price}", "", missing("price", "price", "starting_after")},
		{"GET /v1/prices/{id}", "retrieve", get, "/v1/prices/{price}", "", missing("price", "price", "id")},
		{"POST /v1/prices/{id}", "update", post, "/v1/prices/{price}", "nickname=Mallory", missing("price", "price", "id")},

		{"POST /v1/subscriptions", "subscribe the victim's customer", post, "/v1/subscriptions",
			"customer={cus}&items[0][price]={b.price}", missing("customer", "cus", "customer")},
		{"POST /v1/subscriptions", "subscribe to the victim's price", post, "/v1/subscriptions",
			"customer={b.cusFree}&items[0][price]={price}", missing("price", "price", "items[0][price]")},
		{"GET /v1/subscriptions", "list", get, "/v1/subscriptions?limit=100&status=all", "", unseen()},
		{"GET /v1/subscriptions", "filter by the victim's customer", get, "/v1/subscriptions?customer={cus}", "", unseen()},
		{"GET /v1/subscriptions", "filter by the victim's clock", get, "/v1/subscriptions?test_clock={clock}", "", unseen()},
		{"GET /v1/subscriptions", "filter by the victim's price", get, "/v1/subscriptions?price={price}", "", unseen()},
		{"GET /v1/subscriptions", "cursor", get, "/v1/subscriptions?starting_after={sub}", "",
			missing("subscription", "sub", "starting_after")},
		{"GET /v1/subscriptions/{id}", "retrieve", get, "/v1/subscriptions/{sub}", "", missing("subscription", "sub", "id")},
		{"GET /v1/subscriptions/{id}", "retrieve with expand", get,
			"/v1/subscriptions/{sub}?expand[]=latest_invoice&expand[]=customer&expand[]=items.data.price", "",
			missing("subscription", "sub", "id")},
		{"POST /v1/subscriptions/{id}", "update", post, "/v1/subscriptions/{sub}", "metadata[account]=mallory",
			missing("subscription", "sub", "id")},
		{"POST /v1/subscriptions/{id}", "own subscription, the victim's item", post, "/v1/subscriptions/{b.sub}",
			"items[0][id]={si}&items[0][quantity]=5", missing("subscription item", "si", "items[0][id]")},
		{"POST /v1/subscriptions/{id}", "own subscription, the victim's price", post, "/v1/subscriptions/{b.sub}",
			"items[0][price]={price}", missing("price", "price", "items[0][price]")},
		{"DELETE /v1/subscriptions/{id}", "cancel", del, "/v1/subscriptions/{sub}", "", missing("subscription", "sub", "id")},

		{"POST /v1/subscription_items", "add to the victim's subscription", post, "/v1/subscription_items",
			"subscription={sub}&price={b.price2}", missing("subscription", "sub", "subscription")},
		{"POST /v1/subscription_items", "add the victim's price", post, "/v1/subscription_items",
			"subscription={b.sub}&price={price}", missing("price", "price", "price")},
		{"GET /v1/subscription_items", "list the victim's subscription", get, "/v1/subscription_items?subscription={sub}", "",
			missing("subscription", "sub", "subscription")},
		{"GET /v1/subscription_items", "cursor", get, "/v1/subscription_items?subscription={b.sub}&starting_after={si}", "",
			missing("subscription item", "si", "starting_after")},
		{"GET /v1/subscription_items/{id}", "retrieve", get, "/v1/subscription_items/{si}", "",
			missing("subscription item", "si", "id")},
		{"POST /v1/subscription_items/{id}", "update", post, "/v1/subscription_items/{si}", "quantity=9",
			missing("subscription item", "si", "id")},
		{"POST /v1/subscription_items/{id}", "own item, the victim's price", post, "/v1/subscription_items/{b.si}",
			"price={price}", missing("price", "price", "price")},
		{"DELETE /v1/subscription_items/{id}", "delete", del, "/v1/subscription_items/{si2}", "",
			missing("subscription item", "si2", "id")},

		{"GET /v1/invoices", "list", get, "/v1/invoices?limit=100", "", unseen()},
		{"GET /v1/invoices", "filter by the victim's customer", get, "/v1/invoices?customer={cus}", "", unseen()},
		{"GET /v1/invoices", "filter by the victim's subscription", get, "/v1/invoices?subscription={sub}", "", unseen()},
		{"GET /v1/invoices", "cursor", get, "/v1/invoices?starting_after={in}", "", missing("invoice", "in", "starting_after")},
		{"GET /v1/invoices/{id}", "retrieve", get, "/v1/invoices/{in}", "", missing("invoice", "in", "id")},
		{"GET /v1/invoices/{id}", "retrieve with expand", get, "/v1/invoices/{in}?expand[]=customer", "",
			missing("invoice", "in", "id")},
		{"GET /v1/invoices/{id}/lines", "lines", get, "/v1/invoices/{in2}/lines", "", missing("invoice", "in2", "id")},
		{"POST /v1/invoices/{id}/pay", "pay", post, "/v1/invoices/{in2}/pay", "", missing("invoice", "in2", "id")},
		{"POST /v1/invoices/{id}/finalize", "finalize", post, "/v1/invoices/{in2}/finalize", "", missing("invoice", "in2", "id")},
		{"POST /v1/invoices/{id}/void", "void", post, "/v1/invoices/{in}/void", "", missing("invoice", "in", "id")},

		{"GET /v1/invoiceitems", "list", get, "/v1/invoiceitems?limit=100", "", unseen()},
		{"GET /v1/invoiceitems", "filter by the victim's customer", get, "/v1/invoiceitems?customer={cus}", "", unseen()},
		{"GET /v1/invoiceitems", "filter by the victim's invoice", get, "/v1/invoiceitems?invoice={in2}", "", unseen()},
		{"GET /v1/invoiceitems", "cursor", get, "/v1/invoiceitems?starting_after={ii}", "",
			missing("invoiceitem", "ii", "starting_after")},
		{"GET /v1/invoiceitems/{id}", "retrieve", get, "/v1/invoiceitems/{ii}", "", missing("invoiceitem", "ii", "id")},
		{"POST /v1/invoiceitems", "for the victim's customer", post, "/v1/invoiceitems", "customer={cusFree}&amount=100&currency=usd",
			missing("customer", "cusFree", "customer")},
		{"POST /v1/invoiceitems", "on the victim's invoice", post, "/v1/invoiceitems", "invoice={inDraft}&amount=100&currency=usd",
			missing("invoice", "inDraft", "invoice")},
		{"POST /v1/invoiceitems", "own customer, the victim's invoice", post, "/v1/invoiceitems",
			"customer={b.cusFree}&invoice={inDraft}&amount=100&currency=usd", missing("invoice", "inDraft", "invoice")},
		{"POST /v1/invoiceitems", "own customer, the victim's subscription", post, "/v1/invoiceitems",
			"customer={b.cusFree}&subscription={sub}&amount=100&currency=usd", missing("subscription", "sub", "subscription")},
		{"POST /v1/invoiceitems", "own customer, the victim's price", post, "/v1/invoiceitems",
			"customer={b.cusFree}&pricing[price]={price}", missing("price", "price", "pricing[price]")},
		{"POST /v1/invoiceitems", "own customer, a price of the victim's product", post, "/v1/invoiceitems",
			"customer={b.cusFree}&price_data[currency]=usd&price_data[unit_amount]=100&price_data[product]={prod}",
			missing("product", "prod", "price_data[product]")},
		{"POST /v1/invoiceitems/{id}", "update", post, "/v1/invoiceitems/{iiDraft}", "amount=1",
			missing("invoiceitem", "iiDraft", "id")},
		{"POST /v1/invoiceitems/{id}", "own item, the victim's price", post, "/v1/invoiceitems/{b.iiPending}",
			"pricing[price]={price}", missing("price", "price", "pricing[price]")},
		{"DELETE /v1/invoiceitems/{id}", "delete", del, "/v1/invoiceitems/{iiPending}", "", missing("invoiceitem", "iiPending", "id")},

		{"POST /v1/invoices", "for the victim's customer", post, "/v1/invoices", "customer={cusFree}",
			missing("customer", "cusFree", "customer")},
		{"POST /v1/invoices", "own customer, the victim's subscription", post, "/v1/invoices",
			"customer={b.cusFree}&subscription={sub}", missing("subscription", "sub", "subscription")},
		{"POST /v1/invoices/{id}", "update", post, "/v1/invoices/{inDraft}", "description=mallory", missing("invoice", "inDraft", "id")},
		{"DELETE /v1/invoices/{id}", "delete", del, "/v1/invoices/{inDraft}", "", missing("invoice", "inDraft", "id")},
		{"POST /v1/invoices/{id}/send", "send", post, "/v1/invoices/{inDraft}/send", "", missing("invoice", "inDraft", "id")},
		{"POST /v1/invoices/{id}/mark_uncollectible", "mark uncollectible", post, "/v1/invoices/{in2}/mark_uncollectible", "",
			missing("invoice", "in2", "id")},
		{"POST /v1/invoices/{id}/add_lines", "add to the victim's draft", post, "/v1/invoices/{inDraft}/add_lines",
			"lines[0][amount]=1", missing("invoice", "inDraft", "id")},
		{"POST /v1/invoices/{id}/add_lines", "own draft, the victim's pending item", post, "/v1/invoices/{b.inDraft}/add_lines",
			"lines[0][invoice_item]={iiPending}", missing("invoiceitem", "iiPending", "lines[0][invoice_item]")},
		{"POST /v1/invoices/{id}/remove_lines", "remove from the victim's draft", post, "/v1/invoices/{inDraft}/remove_lines",
			"lines[0][id]={ilDraft}&lines[0][behavior]=delete", missing("invoice", "inDraft", "id")},
		{"POST /v1/invoices/{id}/remove_lines", "own draft, the victim's line", post, "/v1/invoices/{b.inDraft}/remove_lines",
			"lines[0][id]={ilDraft}&lines[0][behavior]=unassign", missing("line_item", "ilDraft", "lines[0][id]")},
		{"POST /v1/invoices/create_preview", "the victim's subscription", post, "/v1/invoices/create_preview",
			"subscription={sub}", missing("subscription", "sub", "subscription")},
		{"POST /v1/invoices/create_preview", "the victim's customer", post, "/v1/invoices/create_preview",
			"customer={cus}", missing("customer", "cus", "customer")},
		{"POST /v1/invoices/create_preview", "own customer, a subscription to the victim's price", post, "/v1/invoices/create_preview",
			"customer={b.cusFree}&subscription_details[items][0][price]={price}",
			missing("price", "price", "subscription_details[items][0][price]")},

		{"GET /v1/webhook_endpoints", "list", get, "/v1/webhook_endpoints?limit=100", "", unseen()},
		{"GET /v1/webhook_endpoints", "cursor", get, "/v1/webhook_endpoints?starting_after={we}", "",
			missing("webhook endpoint", "we", "starting_after")},
		{"GET /v1/webhook_endpoints/{id}", "retrieve", get, "/v1/webhook_endpoints/{we}", "",
			missing("webhook endpoint", "we", "id")},
		{"POST /v1/webhook_endpoints/{id}", "disable", post, "/v1/webhook_endpoints/{we}", "disabled=true",
			missing("webhook endpoint", "we", "id")},
		{"POST /v1/webhook_endpoints/{id}", "redirect", post, "/v1/webhook_endpoints/{we}", "url=http://127.0.0.1:9/steal",
			missing("webhook endpoint", "we", "id")},
		{"DELETE /v1/webhook_endpoints/{id}", "delete", del, "/v1/webhook_endpoints/{we}", "",
			missing("webhook endpoint", "we", "id")},

		{"POST /v1/events/{id}/retry", "resend the victim's event", post, "/v1/events/{evt}/retry", "",
			missing("event", "evt", "id")},
		{"POST /v1/events/{id}/retry", "resend the victim's event to the victim's endpoint", post, "/v1/events/{evt}/retry",
			"webhook_endpoint={we}", missing("event", "evt", "id")},
		{"POST /v1/events/{id}/retry", "resend an own event to the victim's endpoint", post, "/v1/events/{b.evt}/retry",
			"webhook_endpoint={we}", missing("webhook endpoint", "we", "webhook_endpoint")},
		{"GET /v1/events", "list", get, "/v1/events?limit=100", "", unseen()},
		{"GET /v1/events", "cursor", get, "/v1/events?starting_after={evt}", "", missing("event", "evt", "starting_after")},
		{"GET /v1/events/{id}", "retrieve", get, "/v1/events/{evt}", "", missing("event", "evt", "id")},

		{"POST /v1/customers", "the victim's payment method", post, "/v1/customers", "payment_method={pm}",
			missing("PaymentMethod", "pm", "payment_method")},
		{"POST /v1/customers", "the victim's payment method as default", post, "/v1/customers",
			"invoice_settings[default_payment_method]={pm}", missing("PaymentMethod", "pm", "invoice_settings[default_payment_method]")},
		{"POST /v1/customers/{id}", "own customer, the victim's payment method as default", post, "/v1/customers/{b.cusFree}",
			"invoice_settings[default_payment_method]={pm}", missing("PaymentMethod", "pm", "invoice_settings[default_payment_method]")},
		{"POST /v1/customers/{id}", "own customer, the victim's card as default source", post, "/v1/customers/{b.cusFree}",
			"default_source={src}", missing("source", "src", "default_source")},
		{"GET /v1/customers/{id}", "retrieve with the defaults expanded", get,
			"/v1/customers/{cusFree}?expand[]=default_source&expand[]=invoice_settings.default_payment_method", "",
			missing("customer", "cusFree", "id")},
		{"POST /v1/subscriptions", "own customer, the victim's payment method", post, "/v1/subscriptions",
			"customer={b.cusFree}&items[0][price]={b.price}&default_payment_method={pm}",
			missing("PaymentMethod", "pm", "default_payment_method")},
		{"POST /v1/subscriptions/{id}", "own subscription, the victim's payment method", post, "/v1/subscriptions/{b.sub}",
			"default_payment_method={pm}", missing("PaymentMethod", "pm", "default_payment_method")},
		{"POST /v1/invoices/{id}/pay", "own invoice, the victim's payment method", post, "/v1/invoices/{b.in2}/pay",
			"payment_method={pm}", missing("PaymentMethod", "pm", "payment_method")},
		{"POST /v1/invoices/{id}/pay", "own invoice, the victim's card", post, "/v1/invoices/{b.in2}/pay",
			"source={src}", missing("source", "src", "source")},

		{"GET /v1/customers/{customer}/payment_methods", "list the victim's customer's", get,
			"/v1/customers/{cusFree}/payment_methods", "", missing("customer", "cusFree", "customer")},
		{"GET /v1/customers/{customer}/payment_methods", "own customer, cursor", get,
			"/v1/customers/{b.cusFree}/payment_methods?starting_after={pm}", "", missing("PaymentMethod", "pm", "starting_after")},
		{"GET /v1/customers/{customer}/payment_methods/{id}", "retrieve", get,
			"/v1/customers/{cusFree}/payment_methods/{pm}", "", missing("customer", "cusFree", "customer")},
		{"GET /v1/customers/{customer}/payment_methods/{id}", "own customer, the victim's payment method", get,
			"/v1/customers/{b.cusFree}/payment_methods/{pm}", "", missing("PaymentMethod", "pm", "payment_method")},
		{"GET /v1/customers/{customer}/sources", "list the victim's customer's", get, "/v1/customers/{cusFree}/sources", "",
			missing("customer", "cusFree", "customer")},
		{"POST /v1/customers/{customer}/sources", "add to the victim's customer", post, "/v1/customers/{cusFree}/sources",
			"source=tok_visa", missing("customer", "cusFree", "customer")},
		{"DELETE /v1/customers/{customer}/sources/{id}", "delete the victim's card", del, "/v1/customers/{cusFree}/sources/{src}", "",
			missing("customer", "cusFree", "customer")},
		{"DELETE /v1/customers/{customer}/sources/{id}", "own customer, the victim's card", del,
			"/v1/customers/{b.cusFree}/sources/{src}", "", missing("source", "src", "id")},
		{"GET /v1/customers/{customer}/sources", "own customer, cursor", get,
			"/v1/customers/{b.cusFree}/sources?starting_after={src}", "", missing("source", "src", "starting_after")},
		{"GET /v1/customers/{customer}/sources/{id}", "retrieve", get, "/v1/customers/{cusFree}/sources/{src}", "",
			missing("customer", "cusFree", "customer")},
		{"GET /v1/customers/{customer}/sources/{id}", "own customer, the victim's card", get,
			"/v1/customers/{b.cusFree}/sources/{src}", "", missing("source", "src", "id")},

		{"POST /v1/payment_methods", "the victim's card as a token", post, "/v1/payment_methods", "type=card&card[token]={src}",
			missing("token", "src", "card[token]")},
		{"GET /v1/payment_methods", "list", get, "/v1/payment_methods?limit=100", "", unseen()},
		{"GET /v1/payment_methods", "filter by the victim's customer", get, "/v1/payment_methods?customer={cusFree}", "",
			missing("customer", "cusFree", "customer")},
		{"GET /v1/payment_methods", "cursor", get, "/v1/payment_methods?starting_after={pm}", "",
			missing("PaymentMethod", "pm", "starting_after")},
		{"GET /v1/payment_methods/{id}", "retrieve", get, "/v1/payment_methods/{pm}", "", missing("PaymentMethod", "pm", "id")},
		{"GET /v1/payment_methods/{id}", "retrieve a detached one", get, "/v1/payment_methods/{pmGone}", "",
			missing("PaymentMethod", "pmGone", "id")},
		{"POST /v1/payment_methods/{id}", "update", post, "/v1/payment_methods/{pm}", "metadata[account]=mallory",
			missing("PaymentMethod", "pm", "id")},
		{"POST /v1/payment_methods/{id}/attach", "attach to own customer", post, "/v1/payment_methods/{pm}/attach",
			"customer={b.cusFree}", missing("PaymentMethod", "pm", "payment_method")},
		{"POST /v1/payment_methods/{id}/attach", "attach a detached one to own customer", post, "/v1/payment_methods/{pmGone}/attach",
			"customer={b.cusFree}", missing("PaymentMethod", "pmGone", "payment_method")},
		{"POST /v1/payment_methods/{id}/attach", "attach a test card to the victim's customer", post,
			"/v1/payment_methods/pm_card_visa/attach", "customer={cusFree}", missing("customer", "cusFree", "customer")},
		{"POST /v1/payment_methods/{id}/attach", "attach own card to the victim's customer", post,
			"/v1/payment_methods/{b.pm}/attach", "customer={cusFree}", missing("customer", "cusFree", "customer")},
		{"POST /v1/payment_methods/{id}/detach", "detach", post, "/v1/payment_methods/{pm}/detach", "",
			missing("PaymentMethod", "pm", "id")},

		{"POST /v1/payment_intents", "for the victim's customer", post, "/v1/payment_intents",
			"amount=2000&currency=usd&customer={cusFree}", missing("customer", "cusFree", "customer")},
		{"POST /v1/payment_intents", "with the victim's payment method", post, "/v1/payment_intents",
			"amount=2000&currency=usd&customer={b.cusFree}&payment_method={pm}&confirm=true",
			missing("PaymentMethod", "pm", "payment_method")},
		{"GET /v1/payment_intents", "list", get, "/v1/payment_intents?limit=100", "", unseen()},
		{"GET /v1/payment_intents", "filter by the victim's customer", get, "/v1/payment_intents?customer={cusFree}", "", unseen()},
		{"GET /v1/payment_intents", "cursor", get, "/v1/payment_intents?starting_after={pi}", "",
			missing("payment_intent", "pi", "starting_after")},
		{"GET /v1/payment_intents/{id}", "retrieve", get, "/v1/payment_intents/{pi}", "", missing("payment_intent", "pi", "id")},
		{"GET /v1/payment_intents/{id}", "retrieve an invoice's", get, "/v1/payment_intents/{piIn}?expand[]=latest_charge", "",
			missing("payment_intent", "piIn", "id")},
		{"POST /v1/payment_intents/{id}", "update", post, "/v1/payment_intents/{piOpen}", "amount=9999",
			missing("payment_intent", "piOpen", "id")},
		{"POST /v1/payment_intents/{id}", "own PaymentIntent, the victim's customer", post, "/v1/payment_intents/{b.piGone}",
			"customer={cusFree}", missing("customer", "cusFree", "customer")},
		{"POST /v1/payment_intents/{id}/confirm", "confirm", post, "/v1/payment_intents/{piOpen}/confirm",
			"payment_method=pm_card_visa", missing("payment_intent", "piOpen", "id")},
		{"POST /v1/payment_intents/{id}/confirm", "own PaymentIntent, the victim's payment method", post,
			"/v1/payment_intents/{b.piOpen}/confirm", "payment_method={pm}", missing("PaymentMethod", "pm", "payment_method")},
		{"POST /v1/payment_intents/{id}/capture", "capture", post, "/v1/payment_intents/{piAuth}/capture", "",
			missing("payment_intent", "piAuth", "id")},
		{"POST /v1/payment_intents/{id}/cancel", "cancel", post, "/v1/payment_intents/{piOpen}/cancel", "",
			missing("payment_intent", "piOpen", "id")},

		{"GET /v1/charges", "list", get, "/v1/charges?limit=100", "", unseen()},
		{"GET /v1/charges", "filter by the victim's customer", get, "/v1/charges?customer={cusFree}", "", unseen()},
		{"GET /v1/charges", "filter by the victim's PaymentIntent", get, "/v1/charges?payment_intent={pi}", "", unseen()},
		{"GET /v1/charges", "cursor", get, "/v1/charges?starting_after={ch}", "", missing("charge", "ch", "starting_after")},
		{"GET /v1/charges/{id}", "retrieve", get, "/v1/charges/{ch}", "", missing("charge", "ch", "id")},

		{"GET /v1/account", "its own account", get, "/v1/account", "", unseen()},

		{"POST /v1/setup_intents", "for the victim's customer", post, "/v1/setup_intents", "customer={cusFree}",
			missing("customer", "cusFree", "customer")},
		{"POST /v1/setup_intents", "with the victim's payment method", post, "/v1/setup_intents",
			"payment_method={pmSetup}&confirm=true", missing("PaymentMethod", "pmSetup", "payment_method")},
		{"GET /v1/setup_intents", "list", get, "/v1/setup_intents?limit=100", "", unseen()},
		{"GET /v1/setup_intents", "filter by the victim's customer", get, "/v1/setup_intents?customer={cusFree}", "", unseen()},
		{"GET /v1/setup_intents", "filter by the victim's payment method", get, "/v1/setup_intents?payment_method={pmSetup}", "",
			unseen()},
		{"GET /v1/setup_intents", "cursor", get, "/v1/setup_intents?starting_after={seti}", "",
			missing("setup_intent", "seti", "starting_after")},
		{"GET /v1/setup_intents/{id}", "retrieve", get, "/v1/setup_intents/{seti}?expand[]=customer", "",
			missing("setupintent", "seti", "id")},
		{"POST /v1/setup_intents/{id}", "update", post, "/v1/setup_intents/{setiOpen}", "metadata[account]=mallory",
			missing("setupintent", "setiOpen", "id")},
		{"POST /v1/setup_intents/{id}", "own SetupIntent, the victim's customer", post, "/v1/setup_intents/{b.setiBare}",
			"customer={cusFree}", missing("customer", "cusFree", "customer")},
		{"POST /v1/setup_intents/{id}/confirm", "confirm", post, "/v1/setup_intents/{setiOpen}/confirm",
			"payment_method=pm_card_visa", missing("setupintent", "setiOpen", "id")},
		{"POST /v1/setup_intents/{id}/confirm", "own SetupIntent, the victim's payment method", post,
			"/v1/setup_intents/{b.setiOpen}/confirm", "payment_method={pmSetup}", missing("PaymentMethod", "pmSetup", "payment_method")},
		{"POST /v1/setup_intents/{id}/cancel", "cancel", post, "/v1/setup_intents/{setiOpen}/cancel", "",
			missing("setupintent", "setiOpen", "id")},

		{"POST /v1/refunds", "refund the victim's charge", post, "/v1/refunds", "charge={ch}&amount=100",
			missing("charge", "ch", "charge")},
		{"POST /v1/refunds", "refund the victim's PaymentIntent", post, "/v1/refunds", "payment_intent={pi}",
			missing("payment_intent", "pi", "payment_intent")},
		{"GET /v1/refunds", "list", get, "/v1/refunds?limit=100", "", unseen()},
		{"GET /v1/refunds", "filter by the victim's charge", get, "/v1/refunds?charge={ch}", "", unseen()},
		{"GET /v1/refunds", "filter by the victim's PaymentIntent", get, "/v1/refunds?payment_intent={pi}", "", unseen()},
		{"GET /v1/refunds", "cursor", get, "/v1/refunds?starting_after={re}", "", missing("refund", "re", "starting_after")},
		{"GET /v1/refunds/{id}", "retrieve", get, "/v1/refunds/{re}?expand[]=charge", "", missing("refund", "re", "id")},
		{"POST /v1/refunds/{id}", "update", post, "/v1/refunds/{re}", "metadata[account]=mallory", missing("refund", "re", "id")},
		{"POST /v1/refunds/{id}/cancel", "cancel", post, "/v1/refunds/{re}/cancel", "", missing("refund", "re", "id")},
		{"GET /v1/charges/{charge}/refunds", "list the victim's charge's", get, "/v1/charges/{ch}/refunds", "",
			missing("charge", "ch", "charge")},
		{"GET /v1/charges/{charge}/refunds/{id}", "retrieve", get, "/v1/charges/{ch}/refunds/{re}", "",
			missing("charge", "ch", "charge")},
		{"GET /v1/charges/{charge}/refunds/{id}", "own charge, the victim's refund", get, "/v1/charges/{b.ch}/refunds/{re}", "",
			missing("refund", "re", "id")},

		{"GET /v1/customers/search", "by the email every account uses", get, "/v1/customers/search?query=email:'free@example.com'", "",
			unseen()},
		{"GET /v1/customers/search", "everything", get, "/v1/customers/search?query=created>0&limit=100&expand[]=total_count", "",
			unseen()},
		{"GET /v1/subscriptions/search", "by the victim's metadata", get,
			"/v1/subscriptions/search?query=metadata['account']:'mine'&limit=100", "", unseen()},
		{"GET /v1/invoices/search", "by the victim's customer", get, "/v1/invoices/search?query=customer:'{cus}'", "", unseen()},
		{"GET /v1/invoices/search", "by the victim's subscription", get,
			"/v1/invoices/search?query=subscription:'{sub}'%20OR%20total>0", "", unseen()},
		{"GET /v1/products/search", "by the shared product's name", get, "/v1/products/search?query=name:'Shared'", "", unseen()},
		{"GET /v1/prices/search", "by the victim's product", get, "/v1/prices/search?query=product:'{prod}'", "", unseen()},
		{"GET /v1/prices/search", "by the shared lookup key", get, "/v1/prices/search?query=lookup_key:'" + isoLookupKey + "'", "",
			unseen()},
		{"GET /v1/payment_intents/search", "by the victim's customer", get,
			"/v1/payment_intents/search?query=customer:'{cusFree}'", "", unseen()},
		{"GET /v1/charges/search", "by the victim's customer", get, "/v1/charges/search?query=customer:'{cusFree}'", "", unseen()},
		{"GET /v1/charges/search", "refunded cards", get,
			"/v1/charges/search?query=payment_method_details.card.last4:'4444'%20OR%20refunded:'true'", "", unseen()},

		{"GET /v1/invoice_payments", "list", get, "/v1/invoice_payments?limit=100", "", unseen()},
		{"GET /v1/invoice_payments", "filter by the victim's invoice", get, "/v1/invoice_payments?invoice={in}", "", unseen()},
		{"GET /v1/invoice_payments", "filter by the victim's PaymentIntent", get,
			"/v1/invoice_payments?payment[type]=payment_intent&payment[payment_intent]={pi}", "", unseen()},
		{"GET /v1/invoice_payments", "cursor", get, "/v1/invoice_payments?starting_after={inpay}", "",
			missing("invoice payment", "inpay", "starting_after")},
		{"GET /v1/invoice_payments/{id}", "retrieve", get, "/v1/invoice_payments/{inpay}", "",
			missing("invoice payment", "inpay", "id")},

		{"GET /v1/customers/{customer}/balance_transactions", "list the victim's customer's", get,
			"/v1/customers/{cus}/balance_transactions", "", missing("customer", "cus", "customer")},
		{"GET /v1/customers/{customer}/balance_transactions", "own customer, cursor", get,
			"/v1/customers/{b.cus}/balance_transactions?starting_after={cbtxn}", "",
			missing("customer balance transaction", "cbtxn", "starting_after")},
		{"GET /v1/customers/{customer}/balance_transactions/{id}", "retrieve", get,
			"/v1/customers/{cus}/balance_transactions/{cbtxn}", "", missing("customer", "cus", "customer")},
		{"POST /v1/subscriptions/{id}/resume", "resume", post, "/v1/subscriptions/{sub}/resume", "", missing("subscription", "sub", "id")},

		{"POST /v1/plans", "a plan of the victim's product", post, "/v1/plans",
			"product={prod}&currency=usd&amount=5&interval=month", missing("product", "prod", "product")},
		{"GET /v1/plans", "list", get, "/v1/plans?limit=100", "", unseen()},
		{"GET /v1/plans", "filter by the victim's product", get, "/v1/plans?product={prod}", "", unseen()},
		{"GET /v1/plans", "cursor", get, "/v1/plans?starting_after={plan}", "", missing("plan", "plan", "starting_after")},
		{"GET /v1/plans/{id}", "retrieve", get, "/v1/plans/{plan}", "", missing("plan", "plan", "id")},
		{"GET /v1/plans/{id}", "retrieve with expand", get, "/v1/plans/{plan}?expand[]=product", "", missing("plan", "plan", "id")},
		{"POST /v1/plans/{id}", "update", post, "/v1/plans/{plan}", "nickname=Mallory", missing("plan", "plan", "id")},
		{"POST /v1/plans/{id}", "own plan, the victim's product", post, "/v1/plans/{b.plan}", "product={prod}",
			missing("product", "prod", "product")},
		{"DELETE /v1/plans/{id}", "delete", del, "/v1/plans/{plan}", "", missing("plan", "plan", "id")},
		{"POST /v1/subscriptions", "subscribe to the victim's plan", post, "/v1/subscriptions",
			"customer={b.cusFree}&items[0][plan]={plan}", missing("price", "plan", "items[0][price]")},

		{"POST /v1/subscription_schedules", "a schedule for the victim's customer", post, "/v1/subscription_schedules",
			"customer={cus}&phases[0][items][0][price]={b.price}", missing("customer", "cus", "customer")},
		{"POST /v1/subscription_schedules", "a schedule of the victim's price", post, "/v1/subscription_schedules",
			"customer={b.cusFree}&phases[0][items][0][price]={price}", missing("price", "price", "phases[0][items][0][price]")},
		{"POST /v1/subscription_schedules", "a schedule from the victim's subscription", post, "/v1/subscription_schedules",
			"from_subscription={sub}", missing("subscription", "sub", "from_subscription")},
		{"GET /v1/subscription_schedules", "list", get, "/v1/subscription_schedules?limit=100", "", unseen()},
		{"GET /v1/subscription_schedules", "filter by the victim's customer", get, "/v1/subscription_schedules?customer={cus}", "", unseen()},
		{"GET /v1/subscription_schedules", "cursor", get, "/v1/subscription_schedules?starting_after={sched}", "",
			missing("subscription_schedule", "sched", "starting_after")},
		{"GET /v1/subscription_schedules/{id}", "retrieve", get, "/v1/subscription_schedules/{sched}", "",
			missing("subscription_schedule", "sched", "id")},
		{"GET /v1/subscription_schedules/{id}", "retrieve with expand", get,
			"/v1/subscription_schedules/{sched}?expand[]=subscription&expand[]=customer", "", missing("subscription_schedule", "sched", "id")},
		{"POST /v1/subscription_schedules/{id}", "update", post, "/v1/subscription_schedules/{sched}", "metadata[account]=mallory",
			missing("subscription_schedule", "sched", "id")},
		{"POST /v1/subscription_schedules/{id}/cancel", "cancel", post, "/v1/subscription_schedules/{sched2}/cancel", "",
			missing("subscription_schedule", "sched2", "id")},
		{"POST /v1/subscription_schedules/{id}/release", "release", post, "/v1/subscription_schedules/{sched}/release", "",
			missing("subscription_schedule", "sched", "id")},

		{"GET /v1/customers/{customer}/balance_transactions/{id}", "own customer, the victim's transaction", get,
			"/v1/customers/{b.cus}/balance_transactions/{cbtxn}", "", missing("customer balance transaction", "cbtxn", "id")},

		{"POST /v1/coupons", "applies to the victim's product", post, "/v1/coupons",
			"percent_off=5&applies_to[products][0]={prod}", missing("product", "prod", "applies_to[products][0]")},
		{"GET /v1/coupons", "list", get, "/v1/coupons?limit=100", "", unseen()},
		{"GET /v1/coupons", "cursor", get, "/v1/coupons?starting_after={coupon}", "", missing("coupon", "coupon", "starting_after")},
		{"GET /v1/coupons/{id}", "retrieve", get, "/v1/coupons/{coupon}?expand[]=applies_to", "", missing("coupon", "coupon", "id")},
		{"POST /v1/coupons/{id}", "update", post, "/v1/coupons/{coupon}", "name=mallory", missing("coupon", "coupon", "id")},
		{"DELETE /v1/coupons/{id}", "delete", del, "/v1/coupons/{coupon}", "", missing("coupon", "coupon", "id")},

		{"POST /v1/promotion_codes", "for the victim's coupon", post, "/v1/promotion_codes",
			"promotion[type]=coupon&promotion[coupon]={coupon}", missing("coupon", "coupon", "promotion[coupon]")},
		{"POST /v1/promotion_codes", "own coupon, for the victim's customer", post, "/v1/promotion_codes",
			"promotion[type]=coupon&promotion[coupon]={b.coupon}&customer={cusFree}", missing("customer", "cusFree", "customer")},
		{"GET /v1/promotion_codes", "list", get, "/v1/promotion_codes?limit=100", "", unseen()},
		{"GET /v1/promotion_codes", "filter by the victim's coupon and customer", get,
			"/v1/promotion_codes?coupon={coupon}&customer={cusFree}", "", unseen()},
		{"GET /v1/promotion_codes", "cursor", get, "/v1/promotion_codes?starting_after={promo}", "",
			missing("promotion code", "promo", "starting_after")},
		{"GET /v1/promotion_codes/{id}", "retrieve", get, "/v1/promotion_codes/{promo}?expand[]=promotion.coupon", "",
			missing("promotion code", "promo", "id")},
		{"POST /v1/promotion_codes/{id}", "deactivate", post, "/v1/promotion_codes/{promo}", "active=false",
			missing("promotion code", "promo", "id")},

		{"GET /v1/tax_rates", "list", get, "/v1/tax_rates?limit=100", "", unseen()},
		{"GET /v1/tax_rates", "cursor", get, "/v1/tax_rates?starting_after={txr}", "", missing("tax rate", "txr", "starting_after")},
		{"GET /v1/tax_rates/{id}", "retrieve", get, "/v1/tax_rates/{txr}", "", missing("tax rate", "txr", "id")},
		{"POST /v1/tax_rates/{id}", "deactivate", post, "/v1/tax_rates/{txr}", "active=false", missing("tax rate", "txr", "id")},

		{"DELETE /v1/customers/{customer}/discount", "remove the victim's customer's", del, "/v1/customers/{cusFree}/discount", "",
			missing("customer", "cusFree", "customer")},
		{"DELETE /v1/subscriptions/{id}/discount", "remove the victim's subscription's", del, "/v1/subscriptions/{sub}/discount", "",
			missing("subscription", "sub", "id")},
		{"POST /v1/customers/{id}", "own customer, the victim's coupon", post, "/v1/customers/{b.cusFree}", "coupon={coupon}",
			missing("coupon", "coupon", "coupon")},
		{"POST /v1/customers/{id}", "own customer, the victim's promotion code", post, "/v1/customers/{b.cusFree}",
			"promotion_code={promo}", missing("promotion code", "promo", "promotion_code")},
		{"POST /v1/subscriptions", "own customer, the victim's coupon", post, "/v1/subscriptions",
			"customer={b.cusFree}&items[0][price]={b.price}&discounts[0][coupon]={coupon}", missing("coupon", "coupon", "discounts[0][coupon]")},
		{"POST /v1/subscriptions", "own customer, the victim's tax rate on an item", post, "/v1/subscriptions",
			"customer={b.cusFree}&items[0][price]={b.price}&items[0][tax_rates][0]={txr}", missing("tax rate", "txr", "items[0][tax_rates][0]")},
		{"POST /v1/subscriptions/{id}", "own subscription, the victim's promotion code", post, "/v1/subscriptions/{b.sub}",
			"discounts[0][promotion_code]={promo}", missing("promotion code", "promo", "discounts[0][promotion_code]")},
		{"POST /v1/subscriptions/{id}", "own subscription, the victim's customer's discount", post, "/v1/subscriptions/{b.sub}",
			"discounts[0][discount]={discount}", missing("discount", "discount", "discounts[0][discount]")},
		{"POST /v1/subscriptions/{id}", "own subscription, the victim's tax rate", post, "/v1/subscriptions/{b.sub}",
			"default_tax_rates[0]={txr}", missing("tax rate", "txr", "default_tax_rates[0]")},
		{"POST /v1/subscription_items/{id}", "own item, the victim's tax rate", post, "/v1/subscription_items/{b.si}",
			"tax_rates[0]={txr}", missing("tax rate", "txr", "tax_rates[0]")},
		// A `stripe listen` session streams its own account's events; its
		// websocket takes the session's id, which only its creator has.
		{"POST /v1/stripecli/sessions", "listen", post, "/v1/stripecli/sessions",
			"device_name=attacker&websocket_features[]=webhooks", unseen()},
		{"GET /v1/stripecli/websocket", "connect without a session", get, "/v1/stripecli/websocket?websocket_feature=webhooks",
			"", refused(http.StatusBadRequest)},

		{"POST /v1/checkout/sessions", "for the victim's customer", post, "/v1/checkout/sessions",
			"mode=subscription&customer={cusFree}&line_items[0][price]={b.price}&line_items[0][quantity]=1",
			missing("customer", "cusFree", "customer")},
		{"POST /v1/checkout/sessions", "the victim's price", post, "/v1/checkout/sessions",
			"mode=subscription&line_items[0][price]={price}&line_items[0][quantity]=1", missing("price", "price", "line_items[0][price]")},
		{"POST /v1/checkout/sessions", "own price, the victim's coupon", post, "/v1/checkout/sessions",
			"mode=subscription&line_items[0][price]={b.price}&line_items[0][quantity]=1&discounts[0][coupon]={coupon}",
			missing("coupon", "coupon", "discounts[0][coupon]")},
		{"POST /v1/checkout/sessions", "a price of the victim's product", post, "/v1/checkout/sessions",
			"mode=payment&line_items[0][price_data][product]={prod}&line_items[0][price_data][currency]=usd&" +
				"line_items[0][price_data][unit_amount]=500&line_items[0][quantity]=1",
			missing("product", "prod", "line_items[0][price_data][product]")},
		{"GET /v1/checkout/sessions", "list", get, "/v1/checkout/sessions?limit=100", "", unseen()},
		{"GET /v1/checkout/sessions", "filter by the victim's customer and subscription", get,
			"/v1/checkout/sessions?customer={cusFree}&subscription={sub}", "", unseen()},
		{"GET /v1/checkout/sessions", "cursor", get, "/v1/checkout/sessions?starting_after={cs}", "",
			missing("checkout.session", "cs", "starting_after")},
		{"GET /v1/checkout/sessions/{id}", "retrieve", get, "/v1/checkout/sessions/{cs}", "", missing("checkout.session", "cs", "id")},
		{"POST /v1/checkout/sessions/{id}", "update", post, "/v1/checkout/sessions/{cs}", "metadata[a]=mallory",
			missing("checkout.session", "cs", "id")},
		{"POST /v1/checkout/sessions/{id}/expire", "expire", post, "/v1/checkout/sessions/{cs}/expire", "",
			missing("checkout.session", "cs", "id")},
		{"GET /v1/checkout/sessions/{id}/line_items", "line items", get, "/v1/checkout/sessions/{cs}/line_items", "",
			missing("checkout.session", "cs", "id")},
		{"POST /_billclock/checkout/sessions/{id}/complete", "complete", post, "/_billclock/checkout/sessions/{cs}/complete",
			"card=4242424242424242", missing("checkout.session", "cs", "id")},
		{"GET /c/pay/{token}", "a token not made with the victim's key", get, "/c/pay/{csPageForged}", "", pageMissing()},
		{"HEAD /c/pay/{token}", "a token not made with the victim's key", http.MethodHead, "/c/pay/{csPageForged}", "", pageMissing()},
		{"POST /c/pay/{token}", "pay with a token not made with the victim's key", post, "/c/pay/{csPageForged}",
			"card=4242424242424242", pageMissing()},

		{"POST /v1/billing_portal/configurations", "the victim's product", post, "/v1/billing_portal/configurations",
			"features[subscription_update][enabled]=true&features[subscription_update][products][0][product]={prod}&" +
				"features[subscription_update][products][0][prices][0]={b.price}",
			missing("product", "prod", "features[subscription_update][products][0][product]")},
		{"GET /v1/billing_portal/configurations", "list", get, "/v1/billing_portal/configurations?limit=100", "", unseen()},
		{"GET /v1/billing_portal/configurations", "cursor", get, "/v1/billing_portal/configurations?starting_after={bpc}", "",
			missing("configuration", "bpc", "starting_after")},
		{"GET /v1/billing_portal/configurations/{id}", "retrieve", get, "/v1/billing_portal/configurations/{bpc}", "",
			missing("configuration", "bpc", "id")},
		{"POST /v1/billing_portal/configurations/{id}", "update", post, "/v1/billing_portal/configurations/{bpc}",
			"name=mallory", missing("configuration", "bpc", "id")},
		{"POST /v1/billing_portal/sessions", "for the victim's customer", post, "/v1/billing_portal/sessions", "customer={cus}",
			missing("customer", "cus", "customer")},
		{"POST /v1/billing_portal/sessions", "own customer, the victim's configuration", post, "/v1/billing_portal/sessions",
			"customer={b.cus}&configuration={bpc}", missing("configuration", "bpc", "configuration")},
		{"POST /v1/billing_portal/sessions", "own customer, a flow on the victim's subscription", post, "/v1/billing_portal/sessions",
			"customer={b.cus}&flow_data[type]=subscription_cancel&flow_data[subscription_cancel][subscription]={sub}",
			missing("subscription", "sub", "flow_data[subscription_cancel][subscription]")},
		{"GET /p/session/{token}", "a token not made with the victim's key", get, "/p/session/{bpsPageForged}", "", pageMissing()},
		{"HEAD /p/session/{token}", "a token not made with the victim's key", http.MethodHead, "/p/session/{bpsPageForged}", "", pageMissing()},
		{"POST /p/session/{token}", "cancel with a token not made with the victim's key", post, "/p/session/{bpsPageForged}",
			"action=cancel_subscription&subscription={sub}", pageMissing()},

		{"GET /i/{acct}/{token}", "the victim's token under the attacker's account", get, "/i/{b.acct}/{inPage}", "", pageMissing()},
		{"GET /i/{acct}/{token}", "a token not made with the victim's key", get, "/i/{acct}/{inPageForged}", "", pageMissing()},
		{"HEAD /i/{acct}/{token}", "a token not made with the victim's key", http.MethodHead, "/i/{acct}/{inPageForged}", "", pageMissing()},
		{"POST /i/{acct}/{token}", "pay with a token not made with the victim's key", post, "/i/{acct}/{inPageForged}",
			"card=4242424242424242", pageMissing()},
		{"GET /invoice/{acct}/{token}/pdf", "the victim's token under the attacker's account", get, "/invoice/{b.acct}/{inPage}/pdf", "",
			pageMissing()},
		{"HEAD /invoice/{acct}/{token}/pdf", "a token not made with the victim's key", http.MethodHead, "/invoice/{acct}/{inPageForged}/pdf",
			"", pageMissing()},

		{"GET /_billclock/pages/assets/{file}", "the pages' style sheet, the same for every account", get,
			"/_billclock/pages/assets/pages.css", "", unseen()},
		{"HEAD /_billclock/pages/assets/{file}", "the pages' script", http.MethodHead, "/_billclock/pages/assets/pages.js", "", unseen()},

		{"GET /_billclock/webhook_attempts", "list", get, "/_billclock/webhook_attempts?limit=100", "", unseen()},
		{"GET /_billclock/webhook_attempts", "filter by the victim's endpoint", get,
			"/_billclock/webhook_attempts?webhook_endpoint={we}", "", unseen()},
		{"GET /_billclock/webhook_attempts", "filter by the victim's event", get, "/_billclock/webhook_attempts?event={evt}", "", unseen()},
		{"GET /_billclock/webhook_attempts", "cursor", get, "/_billclock/webhook_attempts?starting_after={wha}", "",
			missing("webhook attempt", "wha", "starting_after")},
		{"GET /_billclock/settings", "read", get, "/_billclock/settings", "", unseen()},
		{"POST /_billclock/settings", "change its own", post, "/_billclock/settings",
			"retry_days=1&subscription_action=unpaid&invoice_action=mark_uncollectible", unseen()},
		{"POST /_billclock/test_clocks/{id}/fail_next_advance", "make the victim's clock fail", post,
			"/_billclock/test_clocks/{clock}/fail_next_advance", "", missing(clock, "clock", "id")},
		{"GET /_billclock/test_clocks/{id}/progress", "read the victim's clock's progress", get,
			"/_billclock/test_clocks/{clock}/progress", "", missing(clock, "clock", "id")},
	}
}

var placeholder = regexp.MustCompile(`\{(b\.)?(\w+)\}`)

// fill replaces the placeholders of s with victim's ids (or the ghosts
// standing in for them) and the attacker's own.
func fill(t *testing.T, s string, victim, own map[string]string) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		ids := victim
		if sub[1] != "" {
			ids = own
		}
		id, ok := ids[sub[2]]
		require.True(t, ok, "no id for placeholder %s", m)
		return id
	})
}

// ghosts gives each of ids a stand-in of the same shape that no account has.
func ghosts(ids map[string]string) map[string]string {
	out := map[string]string{}
	for k, id := range ids {
		prefix := id[:strings.LastIndex(id, "_")+1]
		g := prefix + "Gh0st" + k
		out[k] = g + strings.Repeat("0", max(0, len(id)-len(g)))
	}
	return out
}

// snapshot reads everything a user of the account could look at.
func (w *isoWorld) snapshot(t *testing.T, e *env) map[string]string {
	t.Helper()
	paths := []string{
		"/v1/test_helpers/test_clocks", "/v1/test_helpers/test_clocks/{clock}",
		"/v1/customers?limit=100", "/v1/customers?test_clock={clock}", "/v1/customers/{cus}?expand[]=test_clock",
		"/v1/customers/{cusFree}", "/v1/customers/{cusGone}",
		"/v1/products?limit=100", "/v1/products/{prod}", "/v1/products/" + isoSharedProduct, "/v1/prices?limit=100", "/v1/prices/{price}",
		"/v1/subscriptions?test_clock={clock}&status=all",
		"/v1/subscriptions/{sub}?expand[]=latest_invoice&expand[]=customer&expand[]=items.data.price",
		"/v1/subscription_items?subscription={sub}", "/v1/subscription_items/{si}", "/v1/subscription_items/{si2}",
		"/v1/invoices?customer={cus}&limit=100", "/v1/invoices/{in}", "/v1/invoices/{in2}", "/v1/invoices/{in2}/lines",
		"/v1/invoiceitems?customer={cus}&limit=100", "/v1/invoiceitems/{ii}",
		"/v1/invoices?customer={cusFree}&limit=100", "/v1/invoices/{inDraft}", "/v1/invoices/{inSent}",
		"/v1/invoiceitems?customer={cusFree}&limit=100", "/v1/invoiceitems/{iiPending}", "/v1/invoiceitems/{iiDraft}",
		"/v1/webhook_endpoints", "/v1/webhook_endpoints/{we}",
		"/v1/events?limit=100", "/v1/events/{evt}", "/_billclock/webhook_attempts?limit=100", "/_billclock/settings",
		"/v1/customers/{cusFree}?expand[]=default_source&expand[]=invoice_settings.default_payment_method",
		"/v1/payment_methods?limit=100", "/v1/payment_methods/{pm}", "/v1/payment_methods/{pmGone}",
		"/v1/customers/{cusFree}/payment_methods", "/v1/customers/{cusFree}/sources", "/v1/customers/{cusFree}/sources/{src}",
		"/v1/payment_intents?limit=100", "/v1/payment_intents/{piOpen}", "/v1/payment_intents/{pi}", "/v1/payment_intents/{piAuth}",
		"/v1/charges?limit=100", "/v1/charges/{ch}", "/v1/account",
		"/v1/invoice_payments?limit=100", "/v1/invoice_payments/{inpay}",
		"/v1/customers/{cus}/balance_transactions", "/v1/customers/{cus}/balance_transactions/{cbtxn}",
		"/v1/plans?limit=100", "/v1/plans/{plan}", "/v1/subscription_schedules?limit=100",
		"/v1/subscription_schedules/{sched}?expand[]=subscription", "/v1/subscription_schedules/{sched2}",
		"/v1/subscriptions/{schedSub}",
		"/v1/coupons?limit=100", "/v1/coupons/{coupon}?expand[]=applies_to", "/v1/promotion_codes?limit=100",
		"/v1/promotion_codes/{promo}?expand[]=promotion.coupon&expand[]=customer", "/v1/tax_rates?limit=100", "/v1/tax_rates/{txr}",
		"/v1/checkout/sessions?limit=100", "/v1/checkout/sessions/{cs}", "/v1/checkout/sessions/{cs}/line_items",
		"/v1/billing_portal/configurations?limit=100", "/v1/billing_portal/configurations/{bpc}",
		"/c/pay/{csPage}", "/p/session/{bpsPage}", "/i/{acct}/{inPage}",
		"/v1/setup_intents?limit=100", "/v1/setup_intents/{seti}", "/v1/setup_intents/{setiOpen}", "/v1/setup_intents/{setiBare}",
		"/v1/refunds?limit=100", "/v1/refunds/{re}", "/v1/charges/{ch}?expand[]=refunds",
		"/v1/customers/search?query=created>0&limit=100", "/v1/charges/search?query=refunded:'false'&limit=100",
	}
	out := map[string]string{}
	for _, p := range paths {
		r := e.as(t, w.key, http.MethodGet, fill(t, p, w.ids, nil), "", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", p, r.Body)
		out[p] = string(r.Body)
	}
	return out
}

// attack runs every isolation case as attacker against victim.
func attack(t *testing.T, e *env, attacker, victim *isoWorld) {
	ghostIDs := ghosts(victim.ids)
	for _, c := range isolationCases() {
		what := fmt.Sprintf("%s as %s on %s: %s (%s)", c.route, attacker.name, victim.name, c.what, c.path)
		send := func(victimIDs map[string]string) rawResponse {
			return e.as(t, attacker.key, c.method, fill(t, c.path, victimIDs, attacker.ids),
				fill(t, c.body, victimIDs, attacker.ids), nil)
		}
		r := send(victim.ids)
		if c.want.page {
			require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", what, r.Body)
			if c.method != http.MethodHead {
				assert.Contains(t, string(r.Body), "Page not found", what)
			}
			for k, id := range victim.ids {
				if k != "acct" && strings.Contains(string(r.Body), id) {
					t.Errorf("%s shows the victim's %s %s", what, k, id)
				}
			}
		} else if c.want.status == http.StatusNotFound {
			ae := r.apiError(t, http.StatusNotFound)
			assert.Equal(t, apiError{Type: "invalid_request_error", Code: "resource_missing",
				Message: "No such " + c.want.kind + ": '" + victim.ids[c.want.ref] + "'", Param: c.want.param}, ae, what)
		} else {
			require.Equal(t, c.want.status, r.Status, "%s: %s", what, r.Body)
			for k, id := range victim.ids {
				if strings.Contains(string(r.Body), id) {
					t.Errorf("%s shows the victim's %s %s", what, k, id)
				}
			}
		}
		if !placeholder.MatchString(strings.ReplaceAll(c.path+c.body, "{b.", "")) {
			continue // nothing of the victim's in the request
		}
		// The victim's id must be indistinguishable from one that never
		// existed: same status, same body but for the id itself.
		g := send(ghostIDs)
		body := string(g.Body)
		for k, id := range ghostIDs {
			body = strings.ReplaceAll(body, id, victim.ids[k])
		}
		assert.Equal(t, g.Status, r.Status, "%s: status differs from an unknown id's", what)
		assert.Equal(t, body, string(r.Body), "%s: body differs from an unknown id's", what)
	}
}

// TestIsolationAcrossKeys has three accounts try each other's ids on every
// route and checks that nothing of one is seen or changed by another.
func TestIsolationAcrossKeys(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{NoSync: true})
	worlds := []*isoWorld{
		buildWorld(t, e, "A", "sk_test_isolationA0001"),
		buildWorld(t, e, "B", "sk_test_isolationB0002"),
		buildWorld(t, e, "rk", "rk_test_isolationA0001"), // A's suffix, still its own account
	}

	// The same Idempotency-Keys in three accounts made three independent
	// sets of objects: nothing was replayed or refused as a mismatch.
	for i, w := range worlds {
		for s, resp := range w.first {
			assert.Empty(t, resp.Header.Get("Idempotent-Replayed"), "%s step %d", w.name, s)
			for j, other := range worlds {
				if i == j {
					continue
				}
				for k, id := range other.ids {
					if strings.Contains(string(resp.RawJSON), id) {
						t.Errorf("%s's step %d (%s) answered with %s's %s %s", w.name, s, isoSteps()[s].route, other.name, k, id)
					}
				}
			}
		}
	}

	for _, attacker := range worlds {
		for _, victim := range worlds {
			if attacker == victim {
				continue
			}
			t.Run(attacker.name+" on "+victim.name, func(t *testing.T) {
				before := victim.snapshot(t, e)
				attack(t, e, attacker, victim)
				after := victim.snapshot(t, e)
				for p := range before {
					assert.Equal(t, before[p], after[p], "%s's %s changed while %s tried its ids", victim.name, p, attacker.name)
				}
			})
		}
	}

	// Each key is its own account, with an id of its own.
	accounts := map[string]string{}
	for _, w := range worlds {
		accounts[w.ids["acct"]] = w.name
		assert.Regexp(t, `^acct_\w+$`, w.ids["acct"])
		assert.NotContains(t, w.ids["acct"], strings.TrimPrefix(strings.TrimPrefix(w.key, "sk_test_"), "rk_test_"), "the key shows")
	}
	assert.Len(t, accounts, len(worlds), "account ids %v", accounts)

	// Each account has its own product under the id they all chose.
	for _, w := range worlds {
		p, err := w.sc.V1Products.Retrieve(t.Context(), isoSharedProduct, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"account": w.name}, p.Metadata)
	}

	// Each account's keys still replay its own first answers.
	for _, w := range worlds {
		for i, step := range isoSteps() {
			again := step.do(t, e, w, isoKey(i))
			assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "%s %s", w.name, step.route)
			assert.Equal(t, string(w.first[i].RawJSON), string(again.RawJSON), "%s %s", w.name, step.route)
		}
	}

	// Every account's endpoint got its own events, all of them, and nothing
	// else; the attempts log agrees.
	for _, w := range worlds {
		w.settle(t)
		evs := eventsOf(t, w.sc, nil)
		want := eventIDs(evs)
		slices.Sort(want)
		got := slices.Compact(slices.Sorted(slices.Values(w.rc.ids())))
		assert.Equal(t, want, got, "%s's endpoint received exactly %s's events", w.name, w.name)
		r := e.as(t, w.key, http.MethodGet, "/_billclock/webhook_attempts?limit=100", "", nil)
		var atts struct {
			Data []webhookAttempt `json:"data"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &atts))
		for _, a := range atts.Data {
			assert.Equal(t, w.ids["we"], a.WebhookEndpoint, "%s attempt %s", w.name, a.ID)
			assert.Contains(t, want, a.Event, "%s attempt %s", w.name, a.ID)
		}
	}
}

// TestIsolationCoversEveryRoute fails when a route of emulator/stripe, or
// a control route of the runtime, has no isolation case: a new route must
// say what another account may not do with it.
func TestIsolationCoversEveryRoute(t *testing.T) {
	t.Parallel()
	db, err := store.Open(filepath.Join(t.TempDir(), "routes.db"), &store.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	r := mux.NewRouter()
	rt := clockwork.New(clockwork.Options{DB: db})
	rt.Register(bcstripe.New(rt, bcstripe.Options{}))
	rt.Routes(r)

	// A route is covered by an attack in isolationCases, or by a setup step
	// that every account sends with the same Idempotency-Key (the only
	// thing of another account a create with no references could reach).
	covered := map[string]bool{}
	for _, s := range isoSteps() {
		covered[s.route] = true
	}
	for _, c := range isolationCases() {
		covered[c.route] = true
		method, path, _ := strings.Cut(c.route, " ")
		got, _, _ := strings.Cut(c.path, "?")
		assert.Equal(t, method, c.method, "case %q", c.what)
		// The case's path must be one the route serves.
		// A path variable takes a placeholder, or a literal such as a test
		// card's id.
		template := regexp.MustCompile(`^` + regexp.MustCompile(`\\\{\w+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), `(\{[\w.]+\}|[^/{}]+)`) + `$`)
		assert.Regexp(t, template, got, "case %q is not on its route %s", c.what, c.route)
	}
	var routes []string
	require.NoError(t, r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		methods, err := route.GetMethods()
		if err != nil {
			return nil // the catch-all for unknown /v1 paths
		}
		path, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		for _, m := range methods {
			routes = append(routes, m+" "+path)
		}
		return nil
	}))
	require.NotEmpty(t, routes)
	for _, route := range routes {
		assert.True(t, covered[route], "route %s has no case in isolationCases", route)
	}
	for route := range covered {
		assert.Contains(t, routes, route, "isolationCases names a route routes.go does not have")
	}
}
