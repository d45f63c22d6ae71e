package emulator_test

// End-to-end tests of subscription schedules with stripe-go: phases applied
// as the clock passes them (inside one advance, before the renewal due at
// the same boundary), completion, release, cancellation, updates, and the
// events of each.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// phase is a schedule phase of qty × price lasting months months.
func phase(price string, qty, months int64) *stripe.SubscriptionScheduleCreatePhaseParams {
	return &stripe.SubscriptionScheduleCreatePhaseParams{
		Items:    []*stripe.SubscriptionScheduleCreatePhaseItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(qty)}},
		Duration: &stripe.SubscriptionScheduleCreatePhaseDurationParams{Interval: stripe.String("month"), IntervalCount: stripe.Int64(months)},
	}
}

// schedule creates a schedule for customer starting now.
func (b *billingEnv) schedule(customer, endBehavior string, phases ...*stripe.SubscriptionScheduleCreatePhaseParams) *stripe.SubscriptionSchedule {
	b.t.Helper()
	s, err := b.sc.V1SubscriptionSchedules.Create(b.t.Context(), &stripe.SubscriptionScheduleCreateParams{
		Customer: stripe.String(customer), StartDateNow: stripe.Bool(true), EndBehavior: stripe.String(endBehavior), Phases: phases})
	require.NoError(b.t, err)
	return s
}

func (b *billingEnv) getSchedule(id string) *stripe.SubscriptionSchedule {
	b.t.Helper()
	s, err := b.sc.V1SubscriptionSchedules.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return s
}

// eventTypesAfter are the types of the events after the first n, oldest
// first, without the clock's own.
func (b *billingEnv) eventTypesAfter(n int) []string {
	b.t.Helper()
	var out []string
	for _, ev := range b.events(nil)[n:] {
		switch ev.Type {
		case "test_helpers.test_clock.advancing", "test_helpers.test_clock.ready":
		default:
			out = append(out, string(ev.Type))
		}
	}
	return out
}

// TestScheduleUpgradesAtPhaseBoundary: a schedule of one month of Basic,
// then two months of Pro. One advance across the first boundary enters
// the Pro phase and then renews: the renewal bills Pro in full. After the
// last phase the subscription is released and goes on alone.
func TestScheduleUpgradesAtPhaseBoundary(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	basic := b.price("Basic", 1000, stripe.PriceRecurringIntervalMonth)
	pro := b.price("Pro", 3000, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)

	sched := b.schedule(cust.ID, "release", phase(basic.ID, 1, 1), phase(pro.ID, 1, 2))
	assert.Equal(t, stripe.SubscriptionScheduleStatusActive, sched.Status)
	assert.Equal(t, jan01y24, sched.Created)
	require.NotNil(t, sched.CurrentPhase)
	assert.Equal(t, jan01y24, sched.CurrentPhase.StartDate)
	assert.Equal(t, feb01y24, sched.CurrentPhase.EndDate)
	require.Len(t, sched.Phases, 2)
	assert.Equal(t, []int64{jan01y24, feb01y24, feb01y24, apr01y24},
		[]int64{sched.Phases[0].StartDate, sched.Phases[0].EndDate, sched.Phases[1].StartDate, sched.Phases[1].EndDate})
	assert.Equal(t, stripe.SubscriptionScheduleEndBehaviorRelease, sched.EndBehavior)
	require.NotNil(t, sched.Subscription)
	sub := b.subscription(sched.Subscription.ID)
	require.NotNil(t, sub.Schedule)
	assert.Equal(t, sched.ID, sub.Schedule.ID)
	assert.Equal(t, basic.ID, sub.Items.Data[0].Price.ID)
	first := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, int64(1000), first.AmountPaid)

	// One advance over the boundary: the phase changes first, then the
	// renewal bills Pro for February.
	n := len(b.events(nil))
	b.advance(clock.ID, feb01y24+2*hour)
	sub = b.subscription(sub.ID)
	require.Len(t, sub.Items.Data, 1)
	assert.Equal(t, pro.ID, sub.Items.Data[0].Price.ID)
	renewal := b.latestInvoice(sub.ID)
	assert.Equal(t, feb01y24, renewal.Created)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, renewal.BillingReason)
	assert.Equal(t, []line{{Desc: "1 × Pro (at $30.00 / month)", Amount: 3000, Start: feb01y24, End: mar01y24}}, invoiceLines(t, renewal))
	assert.Equal(t, int64(3000), renewal.AmountPaid)
	assert.Empty(t, b.pendingItems(cust.ID), "a change at the boundary prorates nothing")
	types := b.eventTypesAfter(n)
	require.GreaterOrEqual(t, len(types), 5)
	assert.Equal(t, []string{"invoice.upcoming", "customer.subscription.updated", "subscription_schedule.updated",
		"customer.subscription.updated", "invoice.created"}, types[:5], "the phase changes before the renewal")
	upcoming := b.events(&stripe.EventListParams{Type: stripe.String("invoice.upcoming")})
	require.NotEmpty(t, upcoming)
	var shown stripe.Invoice
	require.NoError(t, shown.UnmarshalJSON(upcoming[len(upcoming)-1].Data.Raw))
	assert.Equal(t, feb01y24-3*day, upcoming[len(upcoming)-1].Created, "three days ahead")
	assert.Equal(t, int64(3000), shown.Total, "invoice.upcoming showed the renewal on Pro, the phase to come")
	sched = b.getSchedule(sched.ID)
	assert.Equal(t, feb01y24, sched.CurrentPhase.StartDate)
	assert.Equal(t, apr01y24, sched.CurrentPhase.EndDate)

	// March renews on Pro; 7 days before 1 April the schedule is
	// expiring; on 1 April it completes and releases the subscription,
	// which renews on its own.
	n = len(b.events(nil))
	b.advance(clock.ID, apr01y24+2*hour)
	evs := b.events(nil)[n:]
	var expiring, completed *stripe.Event
	for _, ev := range evs {
		switch ev.Type {
		case "subscription_schedule.expiring":
			expiring = ev
		case "subscription_schedule.completed":
			completed = ev
		}
	}
	require.NotNil(t, expiring)
	assert.Equal(t, apr01y24-7*day, expiring.Created)
	require.NotNil(t, completed)
	assert.Equal(t, apr01y24, completed.Created)
	sched = b.getSchedule(sched.ID)
	assert.Equal(t, stripe.SubscriptionScheduleStatusCompleted, sched.Status)
	assert.Equal(t, apr01y24, sched.CompletedAt)
	assert.Nil(t, sched.CurrentPhase)
	sub = b.subscription(sub.ID)
	assert.Nil(t, sub.Schedule, "released")
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	april := b.latestInvoice(sub.ID)
	assert.Equal(t, apr01y24, april.Created)
	assert.Equal(t, int64(3000), april.AmountPaid)
}

// TestScheduleEndBehaviorCancel: the subscription of a schedule that ends
// with cancel shows cancel_at at the schedule's end and is canceled then.
func TestScheduleEndBehaviorCancel(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	price := b.price("Plan", 2000, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	sched := b.schedule(cust.ID, "cancel", phase(price.ID, 2, 2))
	sub := b.subscription(sched.Subscription.ID)
	assert.Equal(t, mar01y24, sub.CancelAt)
	b.advance(clock.ID, feb01y24+hour)
	b.advance(clock.ID, mar01y24+hour)
	sub = b.subscription(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusCanceled, sub.Status)
	assert.Equal(t, mar01y24, sub.EndedAt)
	sched = b.getSchedule(sched.ID)
	assert.Equal(t, stripe.SubscriptionScheduleStatusCompleted, sched.Status)
	assert.Equal(t, int64(4000), b.invoice(sub.LatestInvoice.ID).AmountPaid, "February was billed, March not")

	// The same over two phases: the cancellation at the end of the last
	// one completes the schedule too.
	clock = b.clockAt(jan01y24)
	cust = b.customer(clock.ID)
	sched = b.schedule(cust.ID, "cancel", phase(price.ID, 1, 1), phase(price.ID, 3, 1))
	b.advance(clock.ID, feb01y24+hour)
	n := len(b.events(nil))
	b.advance(clock.ID, mar01y24+hour)
	sched = b.getSchedule(sched.ID)
	assert.Equal(t, stripe.SubscriptionScheduleStatusCompleted, sched.Status)
	assert.Equal(t, mar01y24, sched.CompletedAt)
	assert.Equal(t, int64(0), sched.CanceledAt)
	assert.Equal(t, stripe.SubscriptionStatusCanceled, b.subscription(sched.Subscription.ID).Status)
	types := b.eventTypesAfter(n)
	assert.Contains(t, types, "subscription_schedule.completed")
	assert.NotContains(t, types, "subscription_schedule.canceled")
}

// TestScheduleNotStarted: a schedule starting later makes no subscription
// until its start, which an advance reaches; meanwhile the clock may only
// advance two of its first phase's intervals.
func TestScheduleNotStarted(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	price := b.price("Plan", 2000, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	sched, err := b.sc.V1SubscriptionSchedules.Create(ctx, &stripe.SubscriptionScheduleCreateParams{
		Customer: stripe.String(cust.ID), StartDate: stripe.Int64(jan11y24),
		Phases: []*stripe.SubscriptionScheduleCreatePhaseParams{phase(price.ID, 1, 1)}})
	require.NoError(t, err)
	assert.Equal(t, stripe.SubscriptionScheduleStatusNotStarted, sched.Status)
	assert.Nil(t, sched.Subscription)
	assert.Nil(t, sched.CurrentPhase)

	// Two months, not two years: the schedule counts like its subscription.
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/test_helpers/test_clocks/" + clock.ID + "/advance", Key: testKey,
		Body: "frozen_time=1712000000"})
	ae := r.apiError(t, http.StatusBadRequest)
	assert.Contains(t, ae.Message, "You can only advance it up to 1709251200 (2024-03-01 00:00:00 UTC).")

	list := b.sc.V1SubscriptionSchedules.List(ctx, &stripe.SubscriptionScheduleListParams{Scheduled: stripe.Bool(true)})
	var ids []string
	for s, err := range list.All(ctx) {
		require.NoError(t, err)
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []string{sched.ID}, ids)

	n := len(b.events(nil))
	b.advance(clock.ID, jan11y24+2*hour)
	sched = b.getSchedule(sched.ID)
	assert.Equal(t, stripe.SubscriptionScheduleStatusActive, sched.Status)
	require.NotNil(t, sched.Subscription)
	sub := b.subscription(sched.Subscription.ID)
	assert.Equal(t, jan11y24, sub.Created)
	assert.Equal(t, jan11y24, sub.StartDate)
	assert.Equal(t, int64(2000), b.invoice(sub.LatestInvoice.ID).AmountPaid)
	assert.Contains(t, b.eventTypesAfter(n), "subscription_schedule.updated")
	assert.Contains(t, b.eventTypesAfter(n), "customer.subscription.created")
}

// TestScheduleReleaseCancelAndUpdate covers releasing, canceling (started
// and not), creating from a subscription, updating the phase in force
// (prorated), the listing filters and the refusals.
func TestScheduleReleaseCancelAndUpdate(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	price := b.price("Seats", 1000, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)

	t.Run("release", func(t *testing.T) {
		sched := b.schedule(cust.ID, "cancel", phase(price.ID, 1, 1), phase(price.ID, 2, 1))
		subID := sched.Subscription.ID
		require.Equal(t, mar01y24, b.subscription(subID).CancelAt)
		n := len(b.events(nil))
		sched, err := b.sc.V1SubscriptionSchedules.Release(ctx, sched.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, stripe.SubscriptionScheduleStatusReleased, sched.Status)
		assert.Equal(t, jan01y24, sched.ReleasedAt)
		assert.Nil(t, sched.Subscription)
		require.NotNil(t, sched.ReleasedSubscription)
		assert.Equal(t, subID, sched.ReleasedSubscription.ID)
		sub := b.subscription(subID)
		assert.Nil(t, sub.Schedule)
		assert.Equal(t, int64(0), sub.CancelAt, "the schedule's cancellation goes with it")
		assert.Equal(t, []string{"customer.subscription.updated", "subscription_schedule.released"}, b.eventTypesAfter(n))
		_, err = b.sc.V1SubscriptionSchedules.Release(ctx, sched.ID, nil)
		var se *stripe.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "You cannot release a subscription schedule that is in the `released` status.", se.Msg)
		_, err = b.sc.V1SubscriptionSchedules.Cancel(ctx, sched.ID, nil)
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "You cannot cancel a subscription schedule that is in the `released` status.", se.Msg)
	})

	t.Run("cancel", func(t *testing.T) {
		sched := b.schedule(cust.ID, "release", phase(price.ID, 1, 1))
		n := len(b.events(nil))
		sched, err := b.sc.V1SubscriptionSchedules.Cancel(ctx, sched.ID, &stripe.SubscriptionScheduleCancelParams{
			InvoiceNow: stripe.Bool(false), Prorate: stripe.Bool(false)})
		require.NoError(t, err)
		assert.Equal(t, stripe.SubscriptionScheduleStatusCanceled, sched.Status)
		assert.Equal(t, jan01y24, sched.CanceledAt)
		assert.Equal(t, stripe.SubscriptionStatusCanceled, b.subscription(sched.Subscription.ID).Status)
		types := b.eventTypesAfter(n)
		assert.Equal(t, "customer.subscription.deleted", types[0])
		assert.Equal(t, "subscription_schedule.canceled", types[len(types)-1])
	})

	t.Run("cancel before the start", func(t *testing.T) {
		sched, err := b.sc.V1SubscriptionSchedules.Create(ctx, &stripe.SubscriptionScheduleCreateParams{
			Customer: stripe.String(cust.ID), StartDate: stripe.Int64(feb01y24),
			Phases: []*stripe.SubscriptionScheduleCreatePhaseParams{phase(price.ID, 1, 1)}})
		require.NoError(t, err)
		n := len(b.events(nil))
		sched, err = b.sc.V1SubscriptionSchedules.Cancel(ctx, sched.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, stripe.SubscriptionScheduleStatusCanceled, sched.Status)
		assert.Equal(t, []string{"subscription_schedule.canceled", "subscription_schedule.aborted"}, b.eventTypesAfter(n))
	})

	t.Run("from a subscription, then updated", func(t *testing.T) {
		sub := b.subscribe(cust.ID, price.ID, 1, nil)
		sched, err := b.sc.V1SubscriptionSchedules.Create(ctx, &stripe.SubscriptionScheduleCreateParams{
			FromSubscription: stripe.String(sub.ID)})
		require.NoError(t, err)
		assert.Equal(t, stripe.SubscriptionScheduleStatusActive, sched.Status)
		assert.Equal(t, sub.ID, sched.Subscription.ID)
		assert.Equal(t, cust.ID, sched.Customer.ID)
		require.Len(t, sched.Phases, 1)
		assert.Equal(t, jan01y24, sched.Phases[0].StartDate)
		assert.Equal(t, feb01y24, sched.Phases[0].EndDate)
		assert.Equal(t, price.ID, sched.Phases[0].Items[0].Price.ID)
		assert.Equal(t, sched.ID, b.subscription(sub.ID).Schedule.ID)

		// A second schedule of the same subscription is refused.
		_, err = b.sc.V1SubscriptionSchedules.Create(ctx, &stripe.SubscriptionScheduleCreateParams{FromSubscription: stripe.String(sub.ID)})
		var se *stripe.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "The subscription "+sub.ID+" is already managed by a subscription schedule.", se.Msg)

		// Ten days in, the phase in force goes to 3 seats, prorated at
		// once; a second phase of one seat follows.
		b.advance(clock.ID, jan11y24)
		sched, err = b.sc.V1SubscriptionSchedules.Update(ctx, sched.ID, &stripe.SubscriptionScheduleUpdateParams{
			ProrationBehavior: stripe.String("always_invoice"),
			Phases: []*stripe.SubscriptionScheduleUpdatePhaseParams{
				{StartDate: stripe.Int64(jan01y24), EndDate: stripe.Int64(feb01y24),
					Items: []*stripe.SubscriptionScheduleUpdatePhaseItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(3)}}},
				{Items: []*stripe.SubscriptionScheduleUpdatePhaseItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}},
					Duration: &stripe.SubscriptionScheduleUpdatePhaseDurationParams{Interval: stripe.String("month")}},
			},
			Metadata: map[string]string{"plan": "grow"},
		})
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"plan": "grow"}, sched.Metadata)
		require.Len(t, sched.Phases, 2)
		assert.Equal(t, mar01y24, sched.Phases[1].EndDate)
		sub = b.subscription(sub.ID)
		assert.Equal(t, int64(3), sub.Items.Data[0].Quantity)
		require.Equal(t, int64(1355), prorated(3000, jan01y24, feb01y24, jan11y24)-prorated(1000, jan01y24, feb01y24, jan11y24))
		inv := b.invoice(sub.LatestInvoice.ID)
		assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionUpdate, inv.BillingReason)
		assert.Equal(t, int64(1355), inv.AmountPaid)

		// The second phase starts on 1 February with one seat.
		b.advance(clock.ID, feb01y24+2*hour)
		assert.Equal(t, int64(1000), b.latestInvoice(sub.ID).AmountPaid)
		assert.Equal(t, int64(1), b.subscription(sub.ID).Items.Data[0].Quantity)
	})

	t.Run("list", func(t *testing.T) {
		var all []string
		for s, err := range b.sc.V1SubscriptionSchedules.List(ctx, &stripe.SubscriptionScheduleListParams{Customer: stripe.String(cust.ID)}).All(ctx) {
			require.NoError(t, err)
			assert.Equal(t, cust.ID, s.Customer.ID)
			all = append(all, s.ID)
		}
		assert.Len(t, all, 4)
		r := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/subscription_schedules?canceled_at[gte]=1", Key: testKey})
		require.Equal(t, http.StatusOK, r.Status)
		assert.Len(t, r.object(t)["data"], 2)
		r = b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/subscription_schedules?released_at[gte]=1", Key: testKey})
		assert.Len(t, r.object(t)["data"], 1)
	})

	t.Run("refusals", func(t *testing.T) {
		cust := b.customer(b.clockAt(jan11y24).ID)
		for _, tc := range []struct {
			body, param, message string
		}{
			{"customer=" + cust.ID, "phases", "Missing required param: phases."},
			{"phases[0][items][0][price]=" + price.ID, "customer", "Missing required param: customer."},
			{"customer=" + cust.ID + "&phases[0][items][0][price]=" + price.ID + "&phases[1][items][0][price]=" + price.ID,
				"phases[0]", "phases[0] must have an end_date or a duration: only the last phase may leave both out."},
			{"customer=" + cust.ID + "&end_behavior=renew&phases[0][items][0][price]=" + price.ID, "end_behavior",
				"billclock supports end_behavior release and cancel only."},
			{"customer=" + cust.ID + "&phases[0][items][0][price]=" + price.ID + "&phases[0][discounts][0][coupon]=x",
				"phases[0][discounts]", "billclock does not support phases[0][discounts] on subscription schedule phases yet."},
			{"customer=" + cust.ID + "&phases[0][items][0][price]=price_nope", "phases[0][items][0][price]", "No such price: 'price_nope'"},
			{"from_subscription=sub_nope&customer=" + cust.ID, "customer", "You cannot set `customer` if `from_subscription` is set."},
			{"customer=" + cust.ID + "&phases[0][items][0][price]=" + price.ID + "&phases[0][end_date]=1704067200",
				"phases[0][end_date]", "The phase's end_date (1704067200) must be after its start_date (1704931200)."},
		} {
			r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscription_schedules", Key: testKey, Body: tc.body})
			require.GreaterOrEqual(t, r.Status, 400, tc.body)
			ae := r.apiError(t, r.Status)
			assert.Equal(t, tc.param, ae.Param, tc.body)
			assert.Equal(t, tc.message, ae.Message, tc.body)
		}
	})
}

// TestScheduleIterationsAndMidPeriodPhase: the Stripe CLI's fixtures send
// phases[n][iterations] (before duration existed); a phase that ends in
// the middle of a period prorates the change as its proration behaviour
// says; a phase anchored at its start begins a new cycle.
func TestScheduleIterationsAndMidPeriodPhase(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	price := b.price("Seats", 3100, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)

	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscription_schedules", Key: testKey,
		Body: "customer=" + cust.ID + "&start_date=now" +
			"&phases[0][iterations]=1&phases[0][items][0][price]=" + price.ID + "&phases[0][items][0][quantity]=1" +
			"&phases[1][iterations]=1&phases[1][items][0][price]=" + price.ID + "&phases[1][items][0][quantity]=2"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	phases := r.object(t)["phases"].([]any)
	assert.Equal(t, float64(feb01y24), phases[0].(map[string]any)["end_date"])
	assert.Equal(t, float64(mar01y24), phases[1].(map[string]any)["end_date"])

	// Ends on 11 January, then 2 seats; the second phase anchors its own
	// cycle.
	sched, err := b.sc.V1SubscriptionSchedules.Create(t.Context(), &stripe.SubscriptionScheduleCreateParams{
		Customer: stripe.String(cust.ID), StartDateNow: stripe.Bool(true),
		Phases: []*stripe.SubscriptionScheduleCreatePhaseParams{
			{Items: []*stripe.SubscriptionScheduleCreatePhaseItemParams{{Price: stripe.String(price.ID)}}, EndDate: stripe.Int64(jan11y24)},
			{Items: []*stripe.SubscriptionScheduleCreatePhaseItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(2)}},
				BillingCycleAnchor: stripe.String("phase_start"), ProrationBehavior: stripe.String("create_prorations")},
		}})
	require.NoError(t, err)
	b.advance(clock.ID, jan11y24+hour)
	sub := b.subscription(sched.Subscription.ID)
	assert.Equal(t, jan11y24, sub.BillingCycleAnchor)
	assert.Equal(t, int64(2), sub.Items.Data[0].Quantity)
	inv := b.latestInvoice(sub.ID)
	// 21 of 31 days unused: 2100 credited; two seats for a new month.
	assert.Equal(t, []line{
		{Desc: "Unused time on 1 × Seats after 11 Jan 2024", Amount: -2100, Start: jan11y24, End: feb01y24, Proration: true},
		{Desc: "2 × Seats (at $31.00 / month)", Amount: 6200, Start: jan11y24, End: feb11y24},
	}, invoiceLines(t, inv))
	assert.Equal(t, int64(4100), inv.AmountPaid)
}

// TestScheduleTrialPhases: a first phase that is all trial, a paid phase,
// then a trial phase again: the subscription trials, pays Pro, trials
// (no invoice when it begins), and after the release pays Basic.
func TestScheduleTrialPhases(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	basic := b.price("Basic", 1000, stripe.PriceRecurringIntervalMonth)
	pro := b.price("Pro", 3000, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	trialPhase := phase(basic.ID, 1, 1)
	trialPhase.Trial = stripe.Bool(true)
	later := phase(basic.ID, 1, 1)
	later.Trial = stripe.Bool(true)
	sched := b.schedule(cust.ID, "release", trialPhase, phase(pro.ID, 1, 1), later)
	assert.True(t, sched.Phases[0].Trial)
	assert.Equal(t, feb01y24, sched.Phases[0].TrialEnd)
	sub := b.subscription(sched.Subscription.ID)
	assert.Equal(t, stripe.SubscriptionStatusTrialing, sub.Status)
	assert.Equal(t, feb01y24, sub.TrialEnd)
	assert.Equal(t, int64(0), b.invoice(sub.LatestInvoice.ID).Total)

	b.advance(clock.ID, feb01y24+2*hour)
	sub = b.subscription(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	feb := b.latestInvoice(sub.ID)
	assert.Equal(t, []line{{Desc: "1 × Pro (at $30.00 / month)", Amount: 3000, Start: feb01y24, End: mar01y24}}, invoiceLines(t, feb))
	assert.Equal(t, int64(3000), feb.AmountPaid)

	b.advance(clock.ID, mar01y24+2*hour)
	sub = b.subscription(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusTrialing, sub.Status)
	assert.Equal(t, mar01y24, sub.TrialStart)
	assert.Equal(t, apr01y24, sub.TrialEnd)
	assert.Equal(t, basic.ID, sub.Items.Data[0].Price.ID)
	assert.Equal(t, feb.ID, sub.LatestInvoice.ID, "a trial phase bills nothing when it begins")

	b.advance(clock.ID, apr01y24+2*hour)
	assert.Equal(t, stripe.SubscriptionScheduleStatusCompleted, b.getSchedule(sched.ID).Status)
	sub = b.subscription(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	apr := b.latestInvoice(sub.ID)
	assert.Equal(t, int64(1000), apr.AmountPaid)
	assert.Equal(t, apr01y24, apr.Created)
}

// TestScheduleClockDeleted: deleting a clock cancels its subscriptions and
// so their schedules, and the schedules that had not started yet too.
func TestScheduleClockDeleted(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	price := b.price("Plan", 2000, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	active := b.schedule(cust.ID, "release", phase(price.ID, 1, 1))
	later, err := b.sc.V1SubscriptionSchedules.Create(ctx, &stripe.SubscriptionScheduleCreateParams{
		Customer: stripe.String(cust.ID), StartDate: stripe.Int64(feb01y24),
		Phases: []*stripe.SubscriptionScheduleCreatePhaseParams{phase(price.ID, 1, 1)}})
	require.NoError(t, err)
	_, err = b.sc.V1TestHelpersTestClocks.Delete(ctx, clock.ID, nil)
	require.NoError(t, err)
	for _, id := range []string{active.ID, later.ID} {
		s := b.getSchedule(id)
		assert.Equal(t, stripe.SubscriptionScheduleStatusCanceled, s.Status, id)
		assert.Equal(t, jan01y24, s.CanceledAt, id)
	}
}

// TestScheduleSubscriptionEndedElsewhere: a schedule's subscription
// canceled directly cancels the schedule; one canceled by dunning (here
// after a single failed attempt: no retries) aborts it.
func TestScheduleSubscriptionEndedElsewhere(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	price := b.price("Plan", 2000, stripe.PriceRecurringIntervalMonth)

	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	sched := b.schedule(cust.ID, "release", phase(price.ID, 1, 3))
	n := len(b.events(nil))
	_, err := b.sc.V1Subscriptions.Cancel(ctx, sched.Subscription.ID, nil)
	require.NoError(t, err)
	sched = b.getSchedule(sched.ID)
	assert.Equal(t, stripe.SubscriptionScheduleStatusCanceled, sched.Status)
	assert.Equal(t, []string{"customer.subscription.deleted", "subscription_schedule.canceled"}, b.eventTypesAfter(n))

	r := b.as(t, testKey, http.MethodPost, "/_billclock/settings", "retry_days=&subscription_action=cancel", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	clock = b.clockAt(jan01y24)
	cust = b.customer(clock.ID)
	sched = b.schedule(cust.ID, "release", phase(price.ID, 1, 3))
	b.useCard(cust.ID, "pm_card_chargeCustomerFail")
	n = len(b.events(nil))
	b.advance(clock.ID, feb01y24+2*hour)
	sched = b.getSchedule(sched.ID)
	assert.Equal(t, stripe.SubscriptionScheduleStatusCanceled, sched.Status)
	assert.Equal(t, feb01y24+hour, sched.CanceledAt)
	types := b.eventTypesAfter(n)
	assert.Contains(t, types, "subscription_schedule.aborted")
	assert.NotContains(t, types, "subscription_schedule.canceled")
}
