package emulator_test

// End-to-end tests of the legacy /v1/plans: a plan is a recurring price
// with the same id, so older code that creates plans and subscribes to
// them works, with plan.* events beside the price.* ones.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func TestPlans(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()

	n := len(b.events(nil))
	plan, err := b.sc.V1Plans.Create(ctx, &stripe.PlanCreateParams{
		ID: stripe.String("gold-monthly"), Amount: stripe.Int64(2000), Currency: stripe.String("usd"),
		Interval: stripe.String("month"), Nickname: stripe.String("Gold"), TrialPeriodDays: stripe.Int64(7),
		Product: &stripe.PlanCreateProductParams{Name: stripe.String("Gold")}, Metadata: map[string]string{"tier": "gold"},
	})
	require.NoError(t, err)
	assert.Equal(t, "gold-monthly", plan.ID)
	assert.Equal(t, int64(2000), plan.Amount)
	assert.Equal(t, stripe.PlanIntervalMonth, plan.Interval)
	assert.Equal(t, int64(1), plan.IntervalCount)
	assert.Equal(t, "Gold", plan.Nickname)
	assert.Equal(t, int64(7), plan.TrialPeriodDays)
	assert.True(t, plan.Active)
	require.NotNil(t, plan.Product)
	assert.Equal(t, []string{"product.created", "plan.created", "price.created"}, b.eventTypesAfter(n))

	// The plan is a price.
	price, err := b.sc.V1Prices.Retrieve(ctx, plan.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.PriceTypeRecurring, price.Type)
	assert.Equal(t, int64(2000), price.UnitAmount)
	assert.Equal(t, plan.Product.ID, price.Product.ID)
	prod, err := b.sc.V1Products.Retrieve(ctx, plan.Product.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "Gold", prod.Name)

	// Every recurring price is a plan; one-time prices are not.
	other := b.price("Silver", 1000, stripe.PriceRecurringIntervalMonth)
	oneTime := b.price("Setup", 500, "")
	var listed []string
	for p, err := range b.sc.V1Plans.List(ctx, nil).All(ctx) {
		require.NoError(t, err)
		listed = append(listed, p.ID)
	}
	assert.Equal(t, []string{other.ID, plan.ID}, listed)
	assert.NotContains(t, listed, oneTime.ID)
	r := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/plans/" + plan.ID + "?expand[]=product", Key: testKey})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "Gold", r.object(t)["product"].(map[string]any)["name"])

	// Subscriptions take it as a plan, or as a price; trial_from_plan
	// takes its trial.
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	sub, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{{Plan: stripe.String(plan.ID), Quantity: stripe.Int64(2)}}})
	require.NoError(t, err)
	assert.Equal(t, plan.ID, sub.Items.Data[0].Price.ID)
	assert.Equal(t, int64(4000), b.invoice(sub.LatestInvoice.ID).AmountPaid)
	trial, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(plan.ID)}}, TrialFromPlan: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, stripe.SubscriptionStatusTrialing, trial.Status)
	assert.Equal(t, jan01y24+7*day, trial.TrialEnd)

	// Updates send plan.updated and price.updated; a plan in use keeps
	// its product.
	n = len(b.events(nil))
	plan, err = b.sc.V1Plans.Update(ctx, plan.ID, &stripe.PlanUpdateParams{Metadata: map[string]string{"tier": "gold2"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"tier": "gold2"}, plan.Metadata)
	assert.Equal(t, []string{"plan.updated", "price.updated"}, b.eventTypesAfter(n))
	_, err = b.sc.V1Plans.Update(ctx, plan.ID, &stripe.PlanUpdateParams{Product: stripe.String(other.Product.ID)})
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "product", se.Param)

	// Deleted, it can no longer be found nor subscribed to; the
	// subscription that has it renews on it.
	n = len(b.events(nil))
	deleted, err := b.sc.V1Plans.Delete(ctx, plan.ID, nil)
	require.NoError(t, err)
	assert.True(t, deleted.Deleted)
	assert.Equal(t, []string{"plan.deleted", "price.deleted"}, b.eventTypesAfter(n))
	_, err = b.sc.V1Plans.Retrieve(ctx, plan.ID, nil)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "No such plan: 'gold-monthly'", se.Msg)
	_, err = b.sc.V1Prices.Retrieve(ctx, plan.ID, nil)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "No such price: 'gold-monthly'", se.Msg)
	_, err = b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(plan.ID)}}})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "No such price: 'gold-monthly'", se.Msg)
	b.advance(clock.ID, feb01y24+2*hour)
	renewal := b.latestInvoice(sub.ID)
	assert.Equal(t, int64(4000), renewal.AmountPaid)
	assert.Equal(t, "2 × Gold (at $20.00 / month)", renewal.Lines.Data[0].Description)

	for _, tc := range []struct{ body, param, message string }{
		{"id=" + other.ID + "&amount=5&currency=usd&interval=month&product=" + other.Product.ID, "id", "Plan already exists."},
		{"amount=5&currency=usd&interval=month&product=" + other.Product.ID + "&billing_scheme=tiered", "billing_scheme",
			"billclock emulates per-unit pricing only: billing_scheme must be per_unit."},
		{"amount=5&currency=usd&interval=month&product=" + other.Product.ID + "&usage_type=metered", "usage_type",
			"billclock emulates licensed (per-seat) pricing only: usage_type must be licensed."},
		{"amount=5&currency=usd&product=" + other.Product.ID, "interval", "Missing required param: interval."},
		{"amount=5&currency=usd&interval=month&product[unit_label]=x", "product[name]", "Missing required param: product[name]."},
		{"amount=5&currency=usd&interval=month&product=prod_nope", "product", "No such product: 'prod_nope'"},
	} {
		r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/plans", Key: testKey, Body: tc.body})
		require.GreaterOrEqual(t, r.Status, 400, tc.body)
		ae := r.apiError(t, r.Status)
		assert.Equal(t, tc.param, ae.Param, tc.body)
		assert.Equal(t, tc.message, ae.Message, tc.body)
	}
}

// TestPlanParameters: subscription items and subscription lists take the
// legacy plan parameter, as stripe-go v86 still sends it.
func TestPlanParameters(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	seats := b.price("Seats", 1000, stripe.PriceRecurringIntervalMonth)
	extra, err := b.sc.V1Plans.Create(ctx, &stripe.PlanCreateParams{Amount: stripe.Int64(500), Currency: stripe.String("usd"),
		Interval: stripe.String("month"), ProductID: stripe.String(seats.Product.ID)})
	require.NoError(t, err)
	cust := b.customer("")
	sub := b.subscribe(cust.ID, seats.ID, 1, nil)
	si, err := b.sc.V1SubscriptionItems.Create(ctx, &stripe.SubscriptionItemCreateParams{Subscription: stripe.String(sub.ID),
		Plan: stripe.String(extra.ID), ProrationBehavior: stripe.String("none")})
	require.NoError(t, err)
	assert.Equal(t, extra.ID, si.Price.ID)
	var found []string
	for s, err := range b.sc.V1Subscriptions.List(ctx, &stripe.SubscriptionListParams{Plan: stripe.String(extra.ID)}).All(ctx) {
		require.NoError(t, err)
		found = append(found, s.ID)
	}
	assert.Equal(t, []string{sub.ID}, found)
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscription_items/" + si.ID, Key: testKey,
		Body: "plan=" + seats.ID + "&price=" + seats.ID})
	ae := r.apiError(t, http.StatusBadRequest)
	assert.Equal(t, "You may only specify one of these parameters: plan, price.", ae.Message)
}
