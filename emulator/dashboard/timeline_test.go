package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// count counts the elements of the timeline's HTML with class names
// starting with class (such as `attempt failed`).
func count(html, class string) int {
	return len(regexp.MustCompile(`class="`+regexp.QuoteMeta(class)+`[ "]`).FindAllString(html, -1))
}

// TestTimelineDunning: a subscription whose trial ends into a card that
// fails shows its trial, then past due from the first failed payment
// until the retries are exhausted and it is canceled, then canceled; the
// first attempt and its seven retries, each failed; the open invoice; the
// clock's advance; and the events about it, with their types to filter.
func TestTimelineDunning(t *testing.T) {
	s := newStack(t, clockwork.Options{})
	clock, sub, _ := s.stripeWorld(stripeKey, "pm_card_chargeCustomerFail", 7)
	s.advanceStripe(stripeKey, clock, jan1+40*86400)

	rec := s.send(local, http.MethodGet, "/_billclock/dashboard/"+clockwork.AccountLabel(stripeKey)+"/clocks/"+clock+"/timeline", nil, "")
	require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
	html := rec.Body.String()
	assert.Contains(t, html, `data-subscription="`+sub+`"`)
	for _, kind := range []string{"trial", "past_due", "canceled"} {
		assert.Equal(t, 1, count(html, "stretch "+kind), "one %s stretch", kind)
	}
	assert.Zero(t, count(html, "stretch unpaid"))
	assert.Equal(t, 8, count(html, "attempt failed"), "the first attempt and seven retries (Stripe's default schedule)")
	assert.Zero(t, count(html, "attempt succeeded"))
	assert.Equal(t, 1, count(html, "invoice paid"), "the trial's invoice, of nothing")
	assert.Equal(t, 1, count(html, "invoice open"), "the trial's end, left open when the subscription is canceled")
	assert.Contains(t, html, "$45.00")
	assert.Contains(t, html, "retry 7")
	assert.Equal(t, 1, count(html, "move ready"), "the one advance")
	assert.Contains(t, html, "2026-01-01 00:00 → 2026-02-10 00:00: ready")
	assert.Contains(t, html, `value="invoice.payment_failed"`, "a filter for the type")
	assert.Equal(t, 8, strings.Count(html, `data-type="invoice.payment_failed" tabindex="0"`),
		"eight invoice.payment_failed events in the list")
}

// TestTimelineLayoutMath checks the derivation on its own: periods from
// the invoices' lines and the current one, each cut where the next
// begins and at the subscription's end; past due until paid.
func TestTimelineLayoutMath(t *testing.T) {
	day := int64(86400)
	s := &billing.Subscription{ID: "sub_1", Status: billing.StatusCanceled, StartDate: 0, Created: 0,
		PeriodStart: 60 * day, PeriodEnd: 90 * day, EndedAt: 75 * day, TrialStart: 0, TrialEnd: 10 * day}
	invoices := []*billing.Invoice{
		{ID: "in_1", Lines: []billing.InvoiceLine{{Billed: billing.Billed{Kind: billing.LineTrial}, PeriodStart: 0, PeriodEnd: 10 * day}}},
		{ID: "in_2", Lines: []billing.InvoiceLine{{Billed: billing.Billed{Kind: billing.LinePeriod}, PeriodStart: 10 * day, PeriodEnd: 40 * day},
			{Billed: billing.Billed{Kind: billing.LineProrationDebit}, PeriodStart: 20 * day, PeriodEnd: 40 * day}},
			FirstFailureAt: 10 * day, PaidAt: 12 * day},
		// A new billing cycle anchor at day 30 cut the period short.
		{ID: "in_3", Lines: []billing.InvoiceLine{{Billed: billing.Billed{Kind: billing.LinePeriod}, PeriodStart: 30 * day, PeriodEnd: 60 * day}},
			FirstFailureAt: 30 * day},
	}
	assert.Equal(t, []span{
		{0, 10 * day, "period"}, {10 * day, 30 * day, "period"}, {30 * day, 60 * day, "period"}, {60 * day, 75 * day, "period"},
	}, periods(s, invoices, 80*day))
	assert.Equal(t, []span{
		{0, 10 * day, "trial"}, {10 * day, 12 * day, "past_due"}, {30 * day, 75 * day, "past_due"}, {75 * day, 80 * day, "canceled"},
	}, stretches(s, invoices, 80*day))
}

func TestMentions(t *testing.T) {
	ids := map[string]bool{"cus_1": true, "in_2": true}
	for text, want := range map[string]bool{
		`{"id":"evt_1","data":{"object":{"customer":"cus_1"}}}`:  true,
		`{"id":"evt_1","data":{"object":{"customer":"cus_12"}}}`: false,
		`{"a":"x\"cus_1\"y","b":"in_3"}`:                         false, // inside an escaped string
		`{"a":"x\\","b":"in_2"}`:                                 true,  // after an escaped backslash
		`{"cus_1":1}`:                                            true,  // keys count too: harmless
		`{"a":"unterminated`:                                     false,
		`"in_2`:                                                  false,
	} {
		assert.Equal(t, want, mentions([]byte(text), ids), text)
	}
}

func TestAdvanceTarget(t *testing.T) {
	jan31 := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC).Unix()
	for form, want := range map[string]time.Time{
		"by=hour":                        time.Date(2026, 1, 31, 11, 0, 0, 0, time.UTC),
		"by=day":                         time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC),
		"by=week":                        time.Date(2026, 2, 7, 10, 0, 0, 0, time.UTC),
		"by=month":                       time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC), // the month's last day, as billing months go
		"to=2026-03-01":                  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"to=2026-03-01T12:30":            time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		"to=2026-03-01T12:30:05":         time.Date(2026, 3, 1, 12, 30, 5, 0, time.UTC),
		"to=2026-03-01T12:30:00Z":        time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		"to=2026-03-01T12:30:00%2B01:00": time.Date(2026, 3, 1, 11, 30, 0, 0, time.UTC),
	} {
		v, err := url.ParseQuery(form)
		require.NoError(t, err)
		got, err := target(v, jan31)
		if assert.NoError(t, err, form) {
			assert.Equal(t, want.Unix(), got, "%s: %s", form, time.Unix(got, 0).UTC())
		}
	}
	for _, form := range []string{"", "by=year", "to=tomorrow", "to=2026-13-01"} {
		v, _ := url.ParseQuery(form)
		_, err := target(v, jan31)
		assert.Error(t, err, form)
	}
}

// TestAdvanceThroughTheAPI: the dashboard's advance is the dialect's own
// advance request: Stripe's refusal of a move too far comes back with
// Stripe's message, and an accepted one moves the clock, for each
// dialect.
func TestAdvanceThroughTheAPI(t *testing.T) {
	w := newWorld(t, clockwork.Options{})
	advance := func(key, clock, form string) (int, advanceAnswer) {
		t.Helper()
		rec := w.send(local, http.MethodPost, "/_billclock/dashboard/"+clockwork.AccountLabel(key)+"/clocks/"+clock+"/advance",
			http.Header{"X-Billclock-Dashboard": {"1"}, "Content-Type": {"application/x-www-form-urlencoded"}}, form)
		var ans advanceAnswer
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &ans), "%s", rec.Body)
		return rec.Code, ans
	}
	status, ans := advance(stripeKey, w.clock, "to=2026-06-01")
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, http.StatusBadRequest, ans.APIStatus)
	assert.Contains(t, ans.Error, "two intervals", "Stripe's own words: %s", ans.Error)
	assert.Equal(t, "POST /v1/test_helpers/test_clocks/"+w.clock+"/advance", ans.APIRequest)

	for key, clock := range map[string]string{stripeKey: w.clock, cbKey: "delorean", commetKey: "org_test_clock"} {
		var before clockStatus
		base := "/_billclock/dashboard/" + clockwork.AccountLabel(key) + "/clocks/" + clock
		require.NoError(t, json.Unmarshal(w.send(local, http.MethodGet, base+"/status", nil, "").Body.Bytes(), &before))
		status, ans := advance(key, clock, "by=day")
		require.Equal(t, http.StatusOK, status, "%s: %+v %s", clock, ans, ans.Response)
		assert.Equal(t, before.FrozenTime+86400, ans.Target, clock)
		deadline := time.Now().Add(20 * time.Second)
		for {
			var st clockStatus
			require.NoError(t, json.Unmarshal(w.send(local, http.MethodGet, base+"/status", nil, "").Body.Bytes(), &st))
			if st.Status == "ready" && st.FrozenTime == ans.Target {
				assert.Positive(t, st.Moves, clock)
				break
			}
			require.True(t, time.Now().Before(deadline), "%s never got to its target: %+v", clock, st)
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestObjectJSON: an item's JSON is the dialect's API's answer; where the
// API has no route for the kind, the page says what it shows instead.
func TestObjectJSON(t *testing.T) {
	w := newWorld(t, clockwork.Options{})
	get := func(key, kind, id string) (int, objectAnswer) {
		t.Helper()
		rec := w.send(local, http.MethodGet, "/_billclock/dashboard/"+clockwork.AccountLabel(key)+"/objects/"+kind+"/"+id, nil, "")
		var ans objectAnswer
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &ans), "%s", rec.Body)
		return rec.Code, ans
	}
	status, inv := get(stripeKey, "invoice", w.invoice)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "GET /v1/invoices/"+w.invoice, inv.APIRequest)
	var body map[string]any
	require.NoError(t, json.Unmarshal(inv.Body, &body))
	assert.Equal(t, "invoice", body["object"])
	assert.Equal(t, w.invoice, body["id"])

	status, sub := get(cbKey, "subscription", w.cbSub)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "GET /api/v2/subscriptions/"+w.cbSub, sub.APIRequest)
	require.NoError(t, json.Unmarshal(sub.Body, &body))
	assert.Equal(t, w.cbSub, body["subscription"].(map[string]any)["id"], "Chargebee's envelope: %s", sub.Body)

	status, tm := get(cbKey, "clock", "delorean")
	require.Equal(t, http.StatusOK, status)
	require.NoError(t, json.Unmarshal(tm.Body, &body))
	assert.Equal(t, "delorean", body["time_machine"].(map[string]any)["name"], "%s", tm.Body)

	// A Chargebee payment attempt: no transactions route, so its invoice.
	var charge, invoice string
	w.view(cbKey, func(l *clockwork.Ledger) error {
		return l.ChargesOnClock("delorean", func(ch *billing.Charge) error { charge, invoice = ch.ID, ch.Invoice; return nil })
	})
	require.NotEmpty(t, charge)
	status, ch := get(cbKey, "charge", charge)
	require.Equal(t, http.StatusOK, status, "%+v", ch)
	assert.Equal(t, "GET /api/v2/invoices/"+invoice, ch.APIRequest)
	assert.Contains(t, ch.Note, "Chargebee's API has no route for a charge")

	// A Commet event: no events route, so the webhook's payload.
	var event string
	w.view(commetKey, func(l *clockwork.Ledger) error {
		return l.EachEvent(func(id string, _ []byte) error { event = id; return nil })
	})
	require.NotEmpty(t, event)
	status, ev := get(commetKey, "event", event)
	require.Equal(t, http.StatusOK, status, "%+v", ev)
	assert.Contains(t, ev.Note, "as webhooks deliver it")
	require.NoError(t, json.Unmarshal(ev.Body, &body))
	assert.NotEmpty(t, body["event"], "Commet's webhook envelope: %s", ev.Body)

	for _, path := range []string{"objects/product/prod_1", "objects/invoice/in_x:y", "objects/invoice/in_nope"} {
		rec := w.send(local, http.MethodGet, "/_billclock/dashboard/"+clockwork.AccountLabel(stripeKey)+"/"+path, nil, "")
		assert.Equal(t, http.StatusNotFound, rec.Code, "%s: %s", path, rec.Body)
	}
}

// TestTimelineRowsKeepTheirItems: with several subscriptions on a clock,
// each row holds its own periods, invoices and attempts.
func TestTimelineRowsKeepTheirItems(t *testing.T) {
	s := newStack(t, clockwork.Options{})
	clock, first, _ := s.stripeWorld(stripeKey, "pm_card_visa", 0)
	var subs = []string{first}
	for range 2 {
		cus := s.stripe(stripeKey, "/v1/customers", url.Values{"test_clock": {clock}, "payment_method": {"pm_card_visa"},
			"invoice_settings[default_payment_method]": {"pm_card_visa"}})["id"].(string)
		price := s.stripe(stripeKey, "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"700"},
			"recurring[interval]": {"month"}, "product_data[name]": {"Other"}})["id"].(string)
		subs = append(subs, s.stripe(stripeKey, "/v1/subscriptions", url.Values{"customer": {cus}, "items[0][price]": {price}})["id"].(string))
	}
	rec := s.send(local, http.MethodGet, "/_billclock/dashboard/"+clockwork.AccountLabel(stripeKey)+"/clocks/"+clock+"/timeline", nil, "")
	require.Equal(t, http.StatusOK, rec.Code)
	html := rec.Body.String()
	for _, sub := range subs {
		i := strings.Index(html, `data-subscription="`+sub+`"`)
		require.Positive(t, i, sub)
		end := strings.Index(html[i+1:], `<g class="row `) // the next row
		require.Positive(t, end)
		row := html[i : i+1+end]
		assert.Equal(t, 1, count(row, "period"), "%s has its period", sub)
		assert.Equal(t, 1, count(row, "invoice paid"), "%s has its invoice", sub)
		assert.Equal(t, 1, count(row, "attempt succeeded"), "%s has its payment", sub)
	}
}
