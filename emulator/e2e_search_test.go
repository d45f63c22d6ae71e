package emulator_test

// End-to-end tests of Stripe's search routes (GET /v1/{resource}/search):
// the query language over the fields Stripe documents for each resource,
// paging through next_page, and Stripe's errors, with stripe-go.

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// searchIDs runs a search through stripe-go's auto-pager and returns the
// ids found, in order.
func searchIDs[T any](t *testing.T, list *stripe.V1SearchList[T], id func(T) string) []string {
	t.Helper()
	out := []string{}
	for v, err := range list.All(t.Context()) {
		require.NoError(t, err)
		out = append(out, id(v))
	}
	return out
}

func (b *billingEnv) searchCustomers(query string) []string {
	b.t.Helper()
	return searchIDs(b.t, b.sc.V1Customers.Search(b.t.Context(), &stripe.CustomerSearchParams{SearchParams: stripe.SearchParams{Query: query}}),
		func(c *stripe.Customer) string { return c.ID })
}

func TestSearchCustomers(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	mk := func(p *stripe.CustomerCreateParams) string {
		c, err := b.sc.V1Customers.Create(ctx, p)
		require.NoError(t, err)
		return c.ID
	}
	jenny := mk(&stripe.CustomerCreateParams{Email: stripe.String("Jenny.Rosen@example.com"), Name: stripe.String("Jenny Rosen"),
		Metadata: map[string]string{"plan": "pro", "team": "a"}})
	john := mk(&stripe.CustomerCreateParams{Email: stripe.String("john@example.org"), Name: stripe.String("John O'Neil"),
		Metadata: map[string]string{"plan": "free"}})
	onClock := mk(&stripe.CustomerCreateParams{Email: stripe.String("clock@example.com"), TestClock: stripe.String(clock.ID),
		Metadata: map[string]string{"plan": "pro"}})
	bare := mk(&stripe.CustomerCreateParams{})

	// Results come newest first; the clock's customer was created in the
	// clock's time, 2024, before the others.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{`email:'jenny.rosen@example.com'`, []string{jenny}},
		{`email:"JENNY.ROSEN@EXAMPLE.COM"`, []string{jenny}},
		{`email~'example.com'`, []string{jenny, onClock}},
		{`email~'rosen'`, []string{jenny}},
		{`name:"John O'Neil"`, []string{john}},
		{`name:'John O\'Neil'`, []string{john}},
		{`-email~'example.com'`, []string{bare, john}},
		{`metadata['plan']:'pro'`, []string{jenny, onClock}},
		{`metadata["plan"]:'pro' AND metadata['team']:'a'`, []string{jenny}},
		{`metadata['plan']:'PRO'`, []string{}},
		{`metadata['team']:null`, []string{bare, john, onClock}},
		{`-metadata['team']:null`, []string{jenny}},
		{`email:null`, []string{bare}},
		{`metadata['plan']:'free' OR email~'jenny'`, []string{john, jenny}},
		{`created:` + fmt.Sprint(frozen0), []string{onClock}},
		{`created<` + fmt.Sprint(frozen0+1), []string{onClock}},
		{`created>` + fmt.Sprint(frozen0) + ` -email:null`, []string{john, jenny}},
		{`phone:null`, []string{bare, john, jenny, onClock}},
		{`email:'nobody@example.com'`, []string{}},
	} {
		assert.Equal(t, tc.want, b.searchCustomers(tc.query), tc.query)
	}

	// A deleted customer is found no more.
	_, err := b.sc.V1Customers.Delete(ctx, john, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{}, b.searchCustomers(`email~'example.org'`))
}

// Pages of a search: next_page until has_more is false, and total_count
// when expanded.
func TestSearchPaging(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	var want []string
	for i := range 7 {
		c, err := b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String(fmt.Sprintf("p%d@paging.test", i))})
		require.NoError(t, err)
		want = append([]string{c.ID}, want...)
	}
	_, err := b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String("other@example.com")})
	require.NoError(t, err)

	// stripe-go's auto-pager follows next_page.
	list := b.sc.V1Customers.Search(ctx, &stripe.CustomerSearchParams{SearchParams: stripe.SearchParams{
		Query: `email~'paging.test'`, Limit: stripe.Int64(3)}})
	assert.Equal(t, want, searchIDs(t, list, func(c *stripe.Customer) string { return c.ID }))

	// Page by page, as the wire shows it.
	q := url.Values{"query": {`email~'paging.test'`}, "limit": {"3"}, "expand[]": {"total_count"}}
	var got []string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 3)
		r := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/customers/search?" + q.Encode(), Key: testKey}).object(t)
		assert.Equal(t, "search_result", r["object"])
		assert.Equal(t, "/v1/customers/search", r["url"])
		assert.EqualValues(t, 7, r["total_count"])
		for _, c := range r["data"].([]any) {
			got = append(got, c.(map[string]any)["id"].(string))
		}
		if r["has_more"] == false {
			assert.Nil(t, r["next_page"])
			assert.Equal(t, 2, pages)
			break
		}
		next, ok := r["next_page"].(string)
		require.True(t, ok, "has_more with a next_page")
		q.Set("page", next)
	}
	assert.Equal(t, want, got)

	// Without expand, no total_count.
	r := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/customers/search?query=" + url.QueryEscape(`email~'paging'`), Key: testKey}).object(t)
	assert.NotContains(t, r, "total_count")
	assert.Len(t, r["data"], 7)

	// A page billclock never handed out.
	r2 := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/customers/search?query=created>0&page=bogus", Key: testKey})
	assert.Equal(t, "page", r2.apiError(t, http.StatusBadRequest).Param)
}

func TestSearchErrors(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	for _, tc := range []struct{ path, msg string }{
		{"/v1/customers/search?query=asdf", "We were unable to parse your search query. Try using the format " +
			"`metadata[\"key\"]:\"value\"` to query for metadata or key:\"value\" to query for other fields."},
		{"/v1/prices/search?query=" + url.QueryEscape(`foo:"bar"`), "Field `foo` is an unsupported search field for resource " +
			"`prices`. See http://stripe.com/docs/search#query-fields-for-prices for a list of supported fields."},
		{"/v1/customers/search?query=" + url.QueryEscape(`email:'a' AND name:'b' OR phone:'c'`),
			"A search query cannot combine AND and OR: join every clause with the same one (parentheses are not supported)."},
		{"/v1/customers/search?query=" + url.QueryEscape(`email~'ab'`),
			"A substring search (~) needs a value of at least 3 characters; `email~'ab'` has 2."},
		{"/v1/customers/search", "Missing required param: query."},
		{"/v1/customers/search?query=created>0&limit=101", "This value must be less than or equal to 100 (it currently is '101')."},
		{"/v1/customers/search?query=created>0&starting_after=cus_x", "Received unknown parameter: starting_after"},
		{"/v1/customers/search?query=created>0&expand[]=data.nope", "This property cannot be expanded (nope)."},
	} {
		r := b.raw(t, rawRequest{Method: http.MethodGet, Path: tc.path, Key: testKey})
		assert.Equal(t, tc.msg, r.apiError(t, http.StatusBadRequest).Message, tc.path)
	}
	// stripe-go reports it as any API error.
	for _, err := range b.sc.V1Products.Search(ctx, &stripe.ProductSearchParams{SearchParams: stripe.SearchParams{Query: "name"}}).All(ctx) {
		stripeError(t, err, http.StatusBadRequest)
	}
}

// Every other resource, on the fields Stripe documents for it.
func TestSearchOtherResources(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)

	// Products and prices.
	pro, err := b.sc.V1Products.Create(ctx, &stripe.ProductCreateParams{Name: stripe.String("Pro Plan"),
		Description: stripe.String("For teams"), Metadata: map[string]string{"tier": "2"}})
	require.NoError(t, err)
	old, err := b.sc.V1Products.Create(ctx, &stripe.ProductCreateParams{Name: stripe.String("Legacy"), Active: stripe.Bool(false)})
	require.NoError(t, err)
	monthly, err := b.sc.V1Prices.Create(ctx, &stripe.PriceCreateParams{Product: stripe.String(pro.ID), Currency: stripe.String("usd"),
		UnitAmount: stripe.Int64(2000), LookupKey: stripe.String("pro_monthly"),
		Recurring: &stripe.PriceCreateRecurringParams{Interval: stripe.String("month")}})
	require.NoError(t, err)
	once, err := b.sc.V1Prices.Create(ctx, &stripe.PriceCreateParams{Product: stripe.String(pro.ID), Currency: stripe.String("eur"),
		UnitAmount: stripe.Int64(500), Metadata: map[string]string{"kind": "setup"}})
	require.NoError(t, err)
	products := func(q string) []string {
		return searchIDs(t, b.sc.V1Products.Search(ctx, &stripe.ProductSearchParams{SearchParams: stripe.SearchParams{Query: q}}),
			func(p *stripe.Product) string { return p.ID })
	}
	prices := func(q string) []string {
		return searchIDs(t, b.sc.V1Prices.Search(ctx, &stripe.PriceSearchParams{SearchParams: stripe.SearchParams{Query: q}}),
			func(p *stripe.Price) string { return p.ID })
	}
	assert.Equal(t, []string{pro.ID}, products(`active:'true'`))
	assert.Equal(t, []string{old.ID}, products(`active:false`))
	assert.Equal(t, []string{pro.ID}, products(`name~'plan' description:'for teams' metadata['tier']:'2'`))
	assert.Equal(t, []string{old.ID, pro.ID}, products(`url:null shippable:null`))
	assert.Equal(t, []string{monthly.ID}, prices(`type:'recurring'`))
	assert.Equal(t, []string{once.ID}, prices(`type:'one_time'`))
	assert.Equal(t, []string{once.ID, monthly.ID}, prices(`product:'`+pro.ID+`' active:'true'`))
	assert.Equal(t, []string{monthly.ID}, prices(`lookup_key:'pro_monthly'`))
	assert.Equal(t, []string{once.ID}, prices(`currency:'EUR' OR metadata['kind']:'setup'`))

	// Subscriptions, invoices, PaymentIntents and charges on a clock.
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, monthly.ID, 2, func(p *stripe.SubscriptionCreateParams) {
		p.Metadata = map[string]string{"order": "A-1"}
	})
	other := b.subscribe(b.customer(clock.ID).ID, monthly.ID, 1, nil)
	_, err = b.sc.V1Subscriptions.Cancel(ctx, other.ID, nil)
	require.NoError(t, err)
	subs := func(q string) []string {
		return searchIDs(t, b.sc.V1Subscriptions.Search(ctx, &stripe.SubscriptionSearchParams{SearchParams: stripe.SearchParams{Query: q}}),
			func(s *stripe.Subscription) string { return s.ID })
	}
	assert.Equal(t, []string{sub.ID}, subs(`status:'active'`))
	assert.Equal(t, []string{other.ID}, subs(`status:'canceled'`))
	assert.Equal(t, []string{other.ID}, subs(`canceled_at>0`))
	assert.Equal(t, []string{sub.ID}, subs(`metadata['order']:'A-1' created:`+fmt.Sprint(frozen0)))
	assert.Equal(t, []string{other.ID, sub.ID}, subs(`-status:'incomplete'`))

	inv := b.latestInvoice(sub.ID)
	invoices := func(q string) []string {
		return searchIDs(t, b.sc.V1Invoices.Search(ctx, &stripe.InvoiceSearchParams{SearchParams: stripe.SearchParams{Query: q}}),
			func(i *stripe.Invoice) string { return i.ID })
	}
	assert.Equal(t, []string{inv.ID}, invoices(`subscription:'`+sub.ID+`'`))
	assert.Equal(t, []string{inv.ID}, invoices(`total:4000 status:'paid' customer:'`+cust.ID+`'`))
	assert.Equal(t, []string{inv.ID}, invoices(`total>2000`))
	assert.Equal(t, []string{inv.ID}, invoices(`number:'`+inv.Number+`' currency:'usd'`))
	assert.Equal(t, []string{}, invoices(`last_finalization_error_code:'x' OR receipt_number:'1'`))

	pi, err := b.pay(cust.ID, "pm_card_mastercard", 1234, func(p *stripe.PaymentIntentCreateParams) {
		p.Metadata = map[string]string{"order": "B-2"}
	})
	require.NoError(t, err)
	_, err = b.pay(cust.ID, "pm_card_chargeDeclined", 999, nil)
	declined := stripeError(t, err, http.StatusPaymentRequired)
	intents := func(q string) []string {
		return searchIDs(t, b.sc.V1PaymentIntents.Search(ctx, &stripe.PaymentIntentSearchParams{SearchParams: stripe.SearchParams{Query: q}}),
			func(p *stripe.PaymentIntent) string { return p.ID })
	}
	invoicePI := b.paymentIntentOf(inv.ID)
	assert.Equal(t, []string{pi.ID}, intents(`metadata['order']:'B-2'`))
	assert.Equal(t, []string{declined.PaymentIntent.ID}, intents(`status:'requires_payment_method'`))
	assert.Equal(t, []string{pi.ID, invoicePI.ID}, intents(`status:'succeeded' customer:'`+cust.ID+`'`))
	assert.Equal(t, []string{pi.ID}, intents(`amount>=1234 amount<1235`))

	charges := func(q string) []string {
		return searchIDs(t, b.sc.V1Charges.Search(ctx, &stripe.ChargeSearchParams{SearchParams: stripe.SearchParams{Query: q}}),
			func(c *stripe.Charge) string { return c.ID })
	}
	chID := pi.LatestCharge.ID
	assert.Equal(t, []string{chID}, charges(`payment_method_details.card.last4:4444`))
	assert.Equal(t, []string{chID}, charges(`payment_method_details.card.brand:'mastercard' payment_method_details.card.exp_year:2034`))
	assert.Equal(t, []string{declined.ChargeID}, charges(`status:'failed'`))
	assert.Equal(t, []string{}, charges(`refunded:'true'`))
	_, err = b.sc.V1Refunds.Create(ctx, &stripe.RefundCreateParams{Charge: stripe.String(chID)})
	require.NoError(t, err)
	assert.Equal(t, []string{chID}, charges(`refunded:'true'`))
	assert.Equal(t, []string{chID}, charges(`refunded:'true' OR payment_method_details.card.last4:4444`))
	assert.Equal(t, []string{}, charges(`disputed:'true'`))
	assert.Equal(t, []string{}, charges(`billing_details.address.postal_code:'12345'`))
	assert.Len(t, charges(`amount>0 currency:'usd' customer:'`+cust.ID+`'`), 3)

	// Expansions of the results, as in lists.
	list := b.sc.V1Charges.Search(ctx, &stripe.ChargeSearchParams{SearchParams: stripe.SearchParams{Query: `status:'failed'`},
		Expand: []*string{stripe.String("data.customer")}})
	for c, err := range list.All(ctx) {
		require.NoError(t, err)
		assert.Equal(t, cust.Email, c.Customer.Email)
	}
}
