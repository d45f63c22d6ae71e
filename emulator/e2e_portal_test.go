package emulator_test

// The Billing Portal end to end: configurations and sessions with
// stripe-go (every answer checked against Stripe's spec by the conformance
// transport, and the events' objects against their schemas), and the
// portal page over plain HTTP, without a key, each of its actions checked
// through the API.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func (b *billingEnv) portalConfigs(p *stripe.BillingPortalConfigurationListParams) []*stripe.BillingPortalConfiguration {
	b.t.Helper()
	if p == nil {
		p = &stripe.BillingPortalConfigurationListParams{}
	}
	var out []*stripe.BillingPortalConfiguration
	for pc, err := range b.sc.V1BillingPortalConfigurations.List(b.t.Context(), p).All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, pc)
	}
	return out
}

func configIDs(pcs []*stripe.BillingPortalConfiguration) []string {
	var out []string
	for _, pc := range pcs {
		out = append(out, pc.ID)
	}
	return out
}

// teamProduct makes a product with two monthly prices, Basic at 10.00 and
// Pro at 20.00.
func (b *billingEnv) teamProduct() (prod *stripe.Product, basic, pro *stripe.Price) {
	b.t.Helper()
	ctx := b.t.Context()
	prod, err := b.sc.V1Products.Create(ctx, &stripe.ProductCreateParams{Name: stripe.String("Team")})
	require.NoError(b.t, err)
	mk := func(nick string, amount int64) *stripe.Price {
		p, err := b.sc.V1Prices.Create(ctx, &stripe.PriceCreateParams{Product: stripe.String(prod.ID), Currency: stripe.String("usd"),
			UnitAmount: stripe.Int64(amount), Nickname: stripe.String(nick),
			Recurring: &stripe.PriceCreateRecurringParams{Interval: stripe.String("month")}})
		require.NoError(b.t, err)
		return p
	}
	return prod, mk("Basic", 1000), mk("Pro", 2000)
}

// teamConfig creates a configuration letting customers switch between
// basic and pro, hold 1 to 10 seats (invoiced at once), and cancel as
// mode says.
func (b *billingEnv) teamConfig(prod *stripe.Product, basic, pro *stripe.Price, mode string) *stripe.BillingPortalConfiguration {
	b.t.Helper()
	pc, err := b.sc.V1BillingPortalConfigurations.Create(b.t.Context(), &stripe.BillingPortalConfigurationCreateParams{
		BusinessProfile:  &stripe.BillingPortalConfigurationCreateBusinessProfileParams{Headline: stripe.String("Team plans")},
		DefaultReturnURL: stripe.String("https://example.com/account"),
		Name:             stripe.String("Team portal"),
		Metadata:         map[string]string{"tier": "team"},
		Features: &stripe.BillingPortalConfigurationCreateFeaturesParams{
			CustomerUpdate: &stripe.BillingPortalConfigurationCreateFeaturesCustomerUpdateParams{Enabled: stripe.Bool(true),
				AllowedUpdates: stripe.StringSlice([]string{"email", "name"})},
			InvoiceHistory:      &stripe.BillingPortalConfigurationCreateFeaturesInvoiceHistoryParams{Enabled: stripe.Bool(false)},
			PaymentMethodUpdate: &stripe.BillingPortalConfigurationCreateFeaturesPaymentMethodUpdateParams{Enabled: stripe.Bool(true)},
			SubscriptionCancel: &stripe.BillingPortalConfigurationCreateFeaturesSubscriptionCancelParams{Enabled: stripe.Bool(true),
				Mode: stripe.String(mode), ProrationBehavior: stripe.String("none"),
				CancellationReason: &stripe.BillingPortalConfigurationCreateFeaturesSubscriptionCancelCancellationReasonParams{
					Enabled: stripe.Bool(true), Options: stripe.StringSlice([]string{"too_expensive", "unused"})}},
			SubscriptionUpdate: &stripe.BillingPortalConfigurationCreateFeaturesSubscriptionUpdateParams{Enabled: stripe.Bool(true),
				DefaultAllowedUpdates: stripe.StringSlice([]string{"price", "quantity"}),
				ProrationBehavior:     stripe.String("always_invoice"),
				Products: []*stripe.BillingPortalConfigurationCreateFeaturesSubscriptionUpdateProductParams{{
					Product: stripe.String(prod.ID), Prices: stripe.StringSlice([]string{basic.ID, pro.ID}),
					AdjustableQuantity: &stripe.BillingPortalConfigurationCreateFeaturesSubscriptionUpdateProductAdjustableQuantityParams{
						Enabled: stripe.Bool(true), Minimum: stripe.Int64(1), Maximum: stripe.Int64(10)}}}},
		},
	})
	require.NoError(b.t, err)
	return pc
}

func TestPortalConfigurations(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()

	// The built-in default is there before anything is made.
	all := b.portalConfigs(nil)
	require.Len(t, all, 1)
	def := all[0]
	assert.True(t, strings.HasPrefix(def.ID, "bpc_"), def.ID)
	assert.True(t, def.IsDefault)
	assert.True(t, def.Active)
	f := def.Features
	assert.True(t, f.PaymentMethodUpdate.Enabled)
	assert.True(t, f.InvoiceHistory.Enabled)
	assert.False(t, f.CustomerUpdate.Enabled)
	assert.True(t, f.SubscriptionCancel.Enabled)
	assert.Equal(t, stripe.BillingPortalConfigurationFeaturesSubscriptionCancelModeAtPeriodEnd, f.SubscriptionCancel.Mode)
	assert.True(t, f.SubscriptionUpdate.Enabled)
	assert.Equal(t, []stripe.BillingPortalConfigurationFeaturesSubscriptionUpdateDefaultAllowedUpdate{"quantity"},
		f.SubscriptionUpdate.DefaultAllowedUpdates)
	assert.Equal(t, stripe.BillingPortalConfigurationFeaturesSubscriptionUpdateProrationBehaviorCreateProrations,
		f.SubscriptionUpdate.ProrationBehavior)
	got, err := b.sc.V1BillingPortalConfigurations.Retrieve(ctx, def.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, def.Created, got.Created)

	// One of our own, with every feature the spec names.
	prod, basic, pro := b.teamProduct()
	pc := b.teamConfig(prod, basic, pro, "immediately")
	assert.False(t, pc.IsDefault)
	assert.True(t, pc.Active)
	assert.Equal(t, "Team portal", pc.Name)
	assert.Equal(t, "Team plans", pc.BusinessProfile.Headline)
	assert.Equal(t, "https://example.com/account", pc.DefaultReturnURL)
	assert.Equal(t, map[string]string{"tier": "team"}, pc.Metadata)
	assert.True(t, pc.Features.CustomerUpdate.Enabled)
	assert.Equal(t, []stripe.BillingPortalConfigurationFeaturesCustomerUpdateAllowedUpdate{"email", "name"},
		pc.Features.CustomerUpdate.AllowedUpdates)
	assert.False(t, pc.Features.InvoiceHistory.Enabled)
	assert.Equal(t, stripe.BillingPortalConfigurationFeaturesSubscriptionCancelModeImmediately, pc.Features.SubscriptionCancel.Mode)
	assert.True(t, pc.Features.SubscriptionCancel.CancellationReason.Enabled)
	assert.Len(t, pc.Features.SubscriptionCancel.CancellationReason.Options, 2)
	su := pc.Features.SubscriptionUpdate
	assert.Equal(t, stripe.BillingPortalConfigurationFeaturesSubscriptionUpdateProrationBehaviorAlwaysInvoice, su.ProrationBehavior)
	require.Len(t, su.Products, 1)
	assert.Equal(t, prod.ID, su.Products[0].Product)
	assert.Equal(t, []string{basic.ID, pro.ID}, su.Products[0].Prices)
	require.NotNil(t, su.Products[0].AdjustableQuantity)
	assert.Equal(t, int64(10), su.Products[0].AdjustableQuantity.Maximum)
	evs := b.events(&stripe.EventListParams{Type: stripe.String("billing_portal.configuration.created")})
	require.Len(t, evs, 2, "the default's and ours")
	assert.Equal(t, def.ID, evs[0].Data.Object["id"])
	assert.Equal(t, pc.ID, evs[1].Data.Object["id"])
	for _, ev := range evs {
		b.checkEventObject(ev)
	}

	got, err = b.sc.V1BillingPortalConfigurations.Retrieve(ctx, pc.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, pc.Features.SubscriptionUpdate.Products, got.Features.SubscriptionUpdate.Products)

	// Update: what is sent changes, the rest stays.
	up, err := b.sc.V1BillingPortalConfigurations.Update(ctx, pc.ID, &stripe.BillingPortalConfigurationUpdateParams{
		Active: stripe.Bool(false), Metadata: map[string]string{"owner": "ops"},
		Features: &stripe.BillingPortalConfigurationUpdateFeaturesParams{
			SubscriptionCancel: &stripe.BillingPortalConfigurationUpdateFeaturesSubscriptionCancelParams{
				Mode: stripe.String("at_period_end")}}})
	require.NoError(t, err)
	assert.False(t, up.Active)
	assert.Equal(t, stripe.BillingPortalConfigurationFeaturesSubscriptionCancelModeAtPeriodEnd, up.Features.SubscriptionCancel.Mode)
	assert.True(t, up.Features.SubscriptionCancel.Enabled)
	assert.Equal(t, map[string]string{"tier": "team", "owner": "ops"}, up.Metadata)
	assert.Equal(t, su.Products, up.Features.SubscriptionUpdate.Products)
	assert.GreaterOrEqual(t, up.Updated, pc.Updated)
	evs = b.events(&stripe.EventListParams{Type: stripe.String("billing_portal.configuration.updated")})
	require.Len(t, evs, 1)
	b.checkEventObject(evs[0])
	assert.Equal(t, true, evs[0].Data.PreviousAttributes["active"])

	// Lists and their filters.
	assert.Equal(t, []string{pc.ID, def.ID}, configIDs(b.portalConfigs(nil)), "newest first")
	assert.Equal(t, []string{def.ID}, configIDs(b.portalConfigs(&stripe.BillingPortalConfigurationListParams{IsDefault: stripe.Bool(true)})))
	assert.Equal(t, []string{pc.ID}, configIDs(b.portalConfigs(&stripe.BillingPortalConfigurationListParams{Active: stripe.Bool(false)})))
	assert.Equal(t, []string{def.ID}, configIDs(b.portalConfigs(&stripe.BillingPortalConfigurationListParams{Active: stripe.Bool(true)})))

	// Refusals.
	_, err = b.sc.V1BillingPortalConfigurations.Retrieve(ctx, "bpc_nope", nil)
	se := stripeError(t, err, http.StatusNotFound)
	assert.Contains(t, se.Msg, "No such configuration: 'bpc_nope'")
	_, err = b.sc.V1BillingPortalConfigurations.Update(ctx, def.ID, &stripe.BillingPortalConfigurationUpdateParams{Active: stripe.Bool(false)})
	assert.Equal(t, "active", stripeError(t, err, http.StatusBadRequest).Param, "the default cannot be deactivated")
	_, other, _ := b.teamProduct()
	for _, c := range []struct {
		p     *stripe.BillingPortalConfigurationCreateParams
		param string
	}{
		{&stripe.BillingPortalConfigurationCreateParams{Name: stripe.String("none")}, "features"},
		{&stripe.BillingPortalConfigurationCreateParams{Features: &stripe.BillingPortalConfigurationCreateFeaturesParams{
			SubscriptionCancel: &stripe.BillingPortalConfigurationCreateFeaturesSubscriptionCancelParams{Enabled: stripe.Bool(true),
				Mode: stripe.String("someday")}}}, "features[subscription_cancel][mode]"},
		{&stripe.BillingPortalConfigurationCreateParams{Features: &stripe.BillingPortalConfigurationCreateFeaturesParams{
			SubscriptionUpdate: &stripe.BillingPortalConfigurationCreateFeaturesSubscriptionUpdateParams{Enabled: stripe.Bool(true),
				DefaultAllowedUpdates: stripe.StringSlice([]string{"price"}),
				Products: []*stripe.BillingPortalConfigurationCreateFeaturesSubscriptionUpdateProductParams{{
					Product: stripe.String(prod.ID), Prices: stripe.StringSlice([]string{other.ID})}}}}},
			"features[subscription_update][products][0][prices][0]"},
	} {
		_, err := b.sc.V1BillingPortalConfigurations.Create(ctx, c.p)
		assert.Equal(t, c.param, stripeError(t, err, http.StatusBadRequest).Param)
	}
	assert.Len(t, b.portalConfigs(nil), 2, "a refused create makes nothing")
}

func TestPortalSessions(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	price := b.price("Seat", 1000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 2, nil)

	// Without a configuration: the account's default.
	ps, err := b.sc.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID),
		ReturnURL: stripe.String("https://example.com/account")})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(ps.ID, "bps_"), ps.ID)
	assert.Equal(t, cust.ID, ps.Customer)
	assert.Equal(t, frozen0, ps.Created, "made in the customer's clock time")
	assert.Equal(t, "https://example.com/account", ps.ReturnURL)
	assert.Nil(t, ps.Flow)
	assert.True(t, strings.HasPrefix(ps.URL, b.srv.URL()+"/p/session/test_"), ps.URL)
	def := b.portalConfigs(&stripe.BillingPortalConfigurationListParams{IsDefault: stripe.Bool(true)})
	require.Len(t, def, 1)
	require.NotNil(t, ps.Configuration)
	assert.Equal(t, def[0].ID, ps.Configuration.ID)
	evs := b.events(&stripe.EventListParams{Type: stripe.String("billing_portal.session.created")})
	require.Len(t, evs, 1)
	assert.Equal(t, ps.ID, evs[0].Data.Object["id"])

	// The configuration, expanded; its default_return_url when none is given.
	prod, basic, pro := b.teamProduct()
	team := b.teamConfig(prod, basic, pro, "immediately")
	p := &stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID), Configuration: stripe.String(team.ID)}
	p.AddExpand("configuration")
	ps2, err := b.sc.V1BillingPortalSessions.Create(ctx, p)
	require.NoError(t, err)
	require.NotNil(t, ps2.Configuration.Features)
	assert.Equal(t, team.ID, ps2.Configuration.ID)
	assert.Equal(t, "Team portal", ps2.Configuration.Name)
	assert.Equal(t, "https://example.com/account", ps2.ReturnURL)
	assert.NotEqual(t, ps.URL, ps2.URL)

	// A flow, and where it goes after.
	ps3, err := b.sc.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID),
		FlowData: &stripe.BillingPortalSessionCreateFlowDataParams{Type: stripe.String("subscription_cancel"),
			SubscriptionCancel: &stripe.BillingPortalSessionCreateFlowDataSubscriptionCancelParams{Subscription: stripe.String(sub.ID)},
			AfterCompletion: &stripe.BillingPortalSessionCreateFlowDataAfterCompletionParams{Type: stripe.String("redirect"),
				Redirect: &stripe.BillingPortalSessionCreateFlowDataAfterCompletionRedirectParams{
					ReturnURL: stripe.String("https://example.com/after-cancel")}}}})
	require.NoError(t, err)
	require.NotNil(t, ps3.Flow)
	assert.Equal(t, stripe.BillingPortalSessionFlowTypeSubscriptionCancel, ps3.Flow.Type)
	require.NotNil(t, ps3.Flow.SubscriptionCancel)
	assert.Equal(t, sub.ID, ps3.Flow.SubscriptionCancel.Subscription)
	assert.Equal(t, stripe.BillingPortalSessionFlowAfterCompletionTypeRedirect, ps3.Flow.AfterCompletion.Type)
	assert.Equal(t, "https://example.com/after-cancel", ps3.Flow.AfterCompletion.Redirect.ReturnURL)

	// Refusals.
	other := b.customer("")
	otherSub := b.subscribe(other.ID, price.ID, 1, nil)
	noCancel, err := b.sc.V1BillingPortalConfigurations.Create(ctx, &stripe.BillingPortalConfigurationCreateParams{
		Features: &stripe.BillingPortalConfigurationCreateFeaturesParams{
			InvoiceHistory: &stripe.BillingPortalConfigurationCreateFeaturesInvoiceHistoryParams{Enabled: stripe.Bool(true)}}})
	require.NoError(t, err)
	_, err = b.sc.V1BillingPortalConfigurations.Update(ctx, team.ID, &stripe.BillingPortalConfigurationUpdateParams{Active: stripe.Bool(false)})
	require.NoError(t, err)
	cancelFlow := func(subID string) *stripe.BillingPortalSessionCreateFlowDataParams {
		return &stripe.BillingPortalSessionCreateFlowDataParams{Type: stripe.String("subscription_cancel"),
			SubscriptionCancel: &stripe.BillingPortalSessionCreateFlowDataSubscriptionCancelParams{Subscription: stripe.String(subID)}}
	}
	for _, c := range []struct {
		p      *stripe.BillingPortalSessionCreateParams
		status int
		param  string
	}{
		{&stripe.BillingPortalSessionCreateParams{ReturnURL: stripe.String("https://example.com")}, http.StatusBadRequest, "customer"},
		{&stripe.BillingPortalSessionCreateParams{Customer: stripe.String("cus_nope")}, http.StatusNotFound, "customer"},
		{&stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID), Configuration: stripe.String("bpc_nope")},
			http.StatusNotFound, "configuration"},
		{&stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID), Configuration: stripe.String(team.ID)},
			http.StatusBadRequest, "configuration"},
		{&stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID), Configuration: stripe.String(noCancel.ID),
			FlowData: cancelFlow(sub.ID)}, http.StatusBadRequest, "flow_data[type]"},
		{&stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID), FlowData: cancelFlow(otherSub.ID)},
			http.StatusBadRequest, "flow_data[subscription_cancel][subscription]"},
		{&stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID),
			FlowData: &stripe.BillingPortalSessionCreateFlowDataParams{Type: stripe.String("subscription_cancel")}},
			http.StatusBadRequest, "flow_data[subscription_cancel]"},
		{&stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID), ReturnURL: stripe.String("not a url")},
			http.StatusBadRequest, "return_url"},
	} {
		_, err := b.sc.V1BillingPortalSessions.Create(ctx, c.p)
		assert.Equal(t, c.param, stripeError(t, err, c.status).Param)
	}
	assert.Len(t, b.events(&stripe.EventListParams{Type: stripe.String("billing_portal.session.created")}), 3,
		"a refused create makes no session")
}

// TestPortalPage: the portal page over plain HTTP, without a key. The
// default configuration's page shows the plan, the card and the invoices,
// and changes the card; a configuration of our own switches the price
// (invoiced at once), bounds the seats and cancels at once; a flow
// session redirects where it was told; a configuration without a feature
// refuses it on the page.
func TestPortalPage(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	prod, basic, pro := b.teamProduct()
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, basic.ID, 2, nil)
	item := sub.Items.Data[0].ID
	inv := b.latestInvoice(sub.ID)
	session := func(p *stripe.BillingPortalSessionCreateParams) string {
		p.Customer = stripe.String(cust.ID)
		ps, err := b.sc.V1BillingPortalSessions.Create(ctx, p)
		require.NoError(t, err)
		return ps.URL
	}

	home := session(&stripe.BillingPortalSessionCreateParams{ReturnURL: stripe.String("https://example.com/account")})
	pg := getPage(t, home)
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	for _, want := range []string{"Team", "$20.00 / month", "Renews 23 Dec 2024.", "jenny@example.com", "visa •••• 4242",
		inv.Number, inv.HostedInvoiceURL, inv.InvoicePDF, `href="https://example.com/account"`, "Cancel plan"} {
		assert.Contains(t, pg.Body, want)
	}
	assert.NotContains(t, pg.Body, `<select name="price"`, "the default changes quantities only")

	// A new card: the customer's default, and the subscription's.
	before := len(b.events(nil))
	pg = postPage(t, home, url.Values{"action": {"update_payment_method"}, "card": {"5555 5555 5555 4444"}, "exp": {"12 / 34"}})
	require.Equal(t, http.StatusSeeOther, pg.Status, pg.Body)
	u, err := url.Parse(home)
	require.NoError(t, err)
	assert.Equal(t, u.Path+"?done=payment_method", pg.Header.Get("Location"))
	assert.Contains(t, getPage(t, b.srv.URL()+pg.Header.Get("Location")).Body, "Your payment method was updated.")
	c, err := b.sc.V1Customers.Retrieve(ctx, cust.ID, &stripe.CustomerRetrieveParams{
		Params: stripe.Params{Expand: stripe.StringSlice([]string{"invoice_settings.default_payment_method"})}})
	require.NoError(t, err)
	require.NotNil(t, c.InvoiceSettings.DefaultPaymentMethod)
	assert.Equal(t, "4444", c.InvoiceSettings.DefaultPaymentMethod.Card.Last4)
	types := billingTypes(b.eventsAfter(before))
	assert.Contains(t, types, "payment_method.attached")
	assert.Contains(t, types, "customer.updated")
	// A declined card is refused on the page, with Stripe's message.
	pg = postPage(t, home, url.Values{"action": {"update_payment_method"}, "card": {"4000 0000 0000 0002"}})
	assert.Equal(t, http.StatusPaymentRequired, pg.Status)
	assert.Contains(t, pg.Body, "Your card was declined.")

	// Our own configuration: switch to Pro, invoiced at once.
	team := b.teamConfig(prod, basic, pro, "immediately")
	teamURL := session(&stripe.BillingPortalSessionCreateParams{Configuration: stripe.String(team.ID)})
	pg = getPage(t, teamURL)
	require.Equal(t, http.StatusOK, pg.Status)
	assert.Contains(t, pg.Body, "$20.00 / month (Pro)")
	assert.Contains(t, pg.Body, "Cancel plan now")
	assert.NotContains(t, pg.Body, "Invoice history", "the configuration hides it")
	pg = postPage(t, teamURL, url.Values{"action": {"update_subscription"}, "subscription": {sub.ID}, "item": {item},
		"quantity": {"11"}})
	assert.Equal(t, http.StatusBadRequest, pg.Status)
	assert.Contains(t, pg.Body, "The quantity must be between 1 and 10.")
	assert.Equal(t, int64(2), b.subscription(sub.ID).Items.Data[0].Quantity)
	before = len(b.events(nil))
	pg = postPage(t, teamURL, url.Values{"action": {"update_subscription"}, "subscription": {sub.ID}, "item": {item},
		"price": {pro.ID}, "quantity": {"2"}})
	require.Equal(t, http.StatusSeeOther, pg.Status, pg.Body)
	switched := b.subscription(sub.ID)
	assert.Equal(t, pro.ID, switched.Items.Data[0].Price.ID)
	assert.Equal(t, int64(2), switched.Items.Data[0].Quantity)
	types = billingTypes(b.eventsAfter(before))
	assert.Contains(t, types, "customer.subscription.updated")
	assert.Contains(t, types, "invoice.paid", "always_invoice bills the change at once")
	proration := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionUpdate, proration.BillingReason)
	assert.Equal(t, int64(2000), proration.AmountPaid, "a whole period's difference, on its first day")

	// A flow session sends the customer where it was told.
	flowURL := session(&stripe.BillingPortalSessionCreateParams{
		FlowData: &stripe.BillingPortalSessionCreateFlowDataParams{Type: stripe.String("subscription_cancel"),
			SubscriptionCancel: &stripe.BillingPortalSessionCreateFlowDataSubscriptionCancelParams{Subscription: stripe.String(sub.ID)},
			AfterCompletion: &stripe.BillingPortalSessionCreateFlowDataAfterCompletionParams{Type: stripe.String("redirect"),
				Redirect: &stripe.BillingPortalSessionCreateFlowDataAfterCompletionRedirectParams{
					ReturnURL: stripe.String("https://example.com/after-cancel")}}}})
	pg = postPage(t, flowURL, url.Values{"action": {"cancel_subscription"}, "subscription": {sub.ID}})
	require.Equal(t, http.StatusSeeOther, pg.Status, pg.Body)
	assert.Equal(t, "https://example.com/after-cancel", pg.Header.Get("Location"))
	assert.True(t, b.subscription(sub.ID).CancelAtPeriodEnd, "the default configuration cancels at period end")
	pg = postPage(t, flowURL, url.Values{"action": {"renew_subscription"}, "subscription": {sub.ID}})
	require.Equal(t, http.StatusSeeOther, pg.Status, pg.Body)
	assert.False(t, b.subscription(sub.ID).CancelAtPeriodEnd)

	// A configuration without cancellation refuses it.
	plain, err := b.sc.V1BillingPortalConfigurations.Create(ctx, &stripe.BillingPortalConfigurationCreateParams{
		Features: &stripe.BillingPortalConfigurationCreateFeaturesParams{
			InvoiceHistory: &stripe.BillingPortalConfigurationCreateFeaturesInvoiceHistoryParams{Enabled: stripe.Bool(true)}}})
	require.NoError(t, err)
	plainURL := session(&stripe.BillingPortalSessionCreateParams{Configuration: stripe.String(plain.ID)})
	assert.NotContains(t, getPage(t, plainURL).Body, "Cancel plan")
	pg = postPage(t, plainURL, url.Values{"action": {"cancel_subscription"}, "subscription": {sub.ID}})
	assert.Equal(t, http.StatusForbidden, pg.Status)
	assert.Contains(t, pg.Body, "This portal&#39;s configuration does not let you cancel the subscription.")
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)

	// Cancel at once, with the team configuration.
	before = len(b.events(nil))
	pg = postPage(t, teamURL, url.Values{"action": {"cancel_subscription"}, "subscription": {sub.ID}})
	require.Equal(t, http.StatusSeeOther, pg.Status, pg.Body)
	assert.Contains(t, getPage(t, b.srv.URL()+pg.Header.Get("Location")).Body, "Your subscription was canceled.")
	canceled := b.subscription(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusCanceled, canceled.Status)
	assert.Equal(t, frozen0, canceled.CanceledAt)
	assert.Contains(t, billingTypes(b.eventsAfter(before)), "customer.subscription.deleted")
	assert.Contains(t, getPage(t, teamURL).Body, "No subscriptions.")

	// Someone else's subscription is not this page's to change.
	other := b.customer("")
	otherSub := b.subscribe(other.ID, basic.ID, 1, nil)
	pg = postPage(t, home, url.Values{"action": {"cancel_subscription"}, "subscription": {otherSub.ID}})
	assert.Equal(t, http.StatusNotFound, pg.Status)
	assert.False(t, b.subscription(otherSub.ID).CancelAtPeriodEnd)
}
