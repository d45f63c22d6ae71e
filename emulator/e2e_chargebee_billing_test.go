package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
)

// cbGenesis is where the billing tests start afresh: 1 March 2026, a
// month of 31 days, and more than three months before cbWall.
var cbGenesis = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Unix()

// TestChargebeeCatalogAndCustomers: item families, items and item prices
// are created, retrieved and listed, each id once; customers carry a test
// gateway card (one that fails when stored is refused, and nothing is
// kept), are updated, listed page by page, and change card.
func TestChargebeeCatalogAndCustomers(t *testing.T) {
	t.Parallel()
	e := newCBEnv(t, emulator.Config{})
	e.catalog(t, "seat-monthly", 1500)
	ip := obj(t, e.do(t, http.MethodGet, "/api/v2/item_prices/seat-monthly", nil).ok(t), "item_price")
	assert.Equal(t, map[string]any{"id": "seat-monthly", "item_id": "item-seat-monthly", "item_family_id": "fam-seat-monthly",
		"pricing_model": "per_unit", "price": float64(1500), "period": float64(1), "period_unit": "month", "currency_code": "USD",
		"item_type": "plan", "object": "item_price"}, pick(ip, "id", "item_id", "item_family_id", "pricing_model", "price", "period",
		"period_unit", "currency_code", "item_type", "object"))
	assert.Equal(t, "plan", obj(t, e.do(t, http.MethodGet, "/api/v2/items/item-seat-monthly", nil).ok(t), "item")["type"])
	assert.Equal(t, "Family seat-monthly", obj(t, e.do(t, http.MethodGet, "/api/v2/item_families/fam-seat-monthly", nil).ok(t), "item_family")["name"])
	assert.Len(t, list(t, e.do(t, http.MethodGet, "/api/v2/items", nil).ok(t), "item"), 1)
	assert.Len(t, list(t, e.do(t, http.MethodGet, "/api/v2/item_families", nil).ok(t), "item_family"), 1)
	assert.Len(t, list(t, e.do(t, http.MethodGet, "/api/v2/item_prices", url.Values{"item_id[is]": {"item-seat-monthly"}}).ok(t), "item_price"), 1)
	assert.Empty(t, e.do(t, http.MethodGet, "/api/v2/item_prices", url.Values{"item_id[is]": {"other"}}).ok(t)["list"])
	e.do(t, http.MethodPost, "/api/v2/item_families", url.Values{"id": {"fam-seat-monthly"}, "name": {"Again"}}).
		apiError(t, http.StatusBadRequest, "duplicate_entry")
	e.do(t, http.MethodPost, "/api/v2/items", url.Values{"id": {"x"}, "name": {"X"}, "type": {"plan"}, "item_family_id": {"nope"}}).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/items", url.Values{"id": {"x"}, "name": {"X"}, "type": {"bundle"}, "item_family_id": {"fam-seat-monthly"}}).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/item_prices", url.Values{"id": {"p"}, "item_id": {"item-seat-monthly"}, "name": {"P"}, "price": {"1"}}).
		apiError(t, http.StatusBadRequest, "param_wrong_value") // a plan's price needs a period_unit
	e.do(t, http.MethodPost, "/api/v2/item_prices", url.Values{"id": {"seat-monthly"}, "item_id": {"item-seat-monthly"}, "name": {"P"},
		"period_unit": {"month"}}).apiError(t, http.StatusBadRequest, "duplicate_entry")
	e.do(t, http.MethodPost, "/api/v2/item_prices", url.Values{"id": {"p"}, "item_id": {"item-seat-monthly"}, "name": {"P"},
		"period_unit": {"fortnight"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/item_prices", url.Values{"id": {"p"}, "item_id": {"item-seat-monthly"}, "name": {"P"},
		"period_unit": {"month"}, "price": {"-1"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")

	// A card declined when stored: 402, and no customer is kept.
	declined := e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"bad"}, "card[number]": {"4119862760338320"},
		"card[expiry_month]": {"12"}, "card[expiry_year]": {"2040"}}).apiError(t, http.StatusPaymentRequired, "payment_method_verification_failed")
	assert.Equal(t, "payment", declined["type"])
	e.do(t, http.MethodGet, "/api/v2/customers/bad", nil).apiError(t, http.StatusNotFound, "resource_not_found")

	ada := e.customer(t, "ada", "5555555555554444")
	assert.Equal(t, "mastercard", obj(t, ada, "card")["card_type"])
	assert.Equal(t, "valid", obj(t, ada, "customer")["card_status"])
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"ada"}}).apiError(t, http.StatusBadRequest, "duplicate_entry")
	upd := obj(t, e.do(t, http.MethodPost, "/api/v2/customers/ada", url.Values{"last_name": {"Lovelace"}, "company": {"Engines"},
		"meta_data": {`{"tier":"gold"}`}}).ok(t), "customer")
	assert.Equal(t, "Lovelace", upd["last_name"])
	assert.Equal(t, "Ada", upd["first_name"], "what is not sent stays")
	assert.Equal(t, map[string]any{"tier": "gold"}, upd["meta_data"])
	card := obj(t, e.do(t, http.MethodPost, "/api/v2/customers/ada/credit_card", url.Values{"number": {"378282246310005"},
		"expiry_month": {"1"}, "expiry_year": {"2041"}}).ok(t), "card")
	assert.Equal(t, "american_express", card["card_type"])
	assert.Equal(t, "0005", card["last4"])
	e.do(t, http.MethodPost, "/api/v2/customers/ada/credit_card", url.Values{"number": {"4119862760338320"},
		"expiry_month": {"1"}, "expiry_year": {"2041"}}).apiError(t, http.StatusPaymentRequired, "payment_method_verification_failed")
	e.do(t, http.MethodPost, "/api/v2/customers/ada/credit_card", url.Values{}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	got := e.do(t, http.MethodGet, "/api/v2/customers/ada", nil).ok(t)
	assert.Equal(t, "0005", obj(t, got, "card")["last4"], "a refused card leaves the one before")

	for i := range 4 {
		e.customer(t, "c"+strconv.Itoa(i), "")
	}
	var ids []string
	offset := ""
	for range 10 {
		q := url.Values{"limit": {"2"}}
		if offset != "" {
			q.Set("offset", offset)
		}
		page := e.do(t, http.MethodGet, "/api/v2/customers", q).ok(t)
		for _, c := range list(t, page, "customer") {
			ids = append(ids, c["id"].(string))
		}
		next, _ := page["next_offset"].(string)
		if next == "" {
			break
		}
		offset = next
	}
	assert.Equal(t, []string{"c3", "c2", "c1", "c0", "ada"}, ids, "newest first, page by page")
}

func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// TestChargebeeSeatChanges: update_for_items prorates to the second over
// the current term. An increase with invoice_immediately=false, and a
// decrease with prorate=true (a credit note), go on the next invoice;
// prorate=false changes only the next renewal; subscription lists filter
// by customer and status.
func TestChargebeeSeatChanges(t *testing.T) {
	t.Parallel()
	e := newCBEnv(t, emulator.Config{})
	e.startAfresh(t, cbGenesis)
	e.catalog(t, "seat-monthly", 1000)
	e.customer(t, "ada", "4111111111111111")
	created := e.do(t, http.MethodPost, "/api/v2/customers/ada/subscription_for_items", url.Values{"id": {"sub-ada"},
		"subscription_items[item_price_id][0]": {"seat-monthly"}, "subscription_items[quantity][0]": {"5"},
		"meta_data": {`{"team":"blue"}`}}).ok(t)
	sub := obj(t, created, "subscription")
	assert.Equal(t, "sub-ada", sub["id"])
	assert.Equal(t, map[string]any{"team": "blue"}, sub["meta_data"])
	termEnd := num(t, sub, "current_term_end")
	require.EqualValues(t, cbGenesis+31*86400, termEnd)
	e.do(t, http.MethodPost, "/api/v2/customers/ada/subscription_for_items", url.Values{"id": {"sub-ada"},
		"subscription_items[item_price_id][0]": {"seat-monthly"}}).apiError(t, http.StatusBadRequest, "duplicate_entry")

	// +2 seats on day 10, to the next invoice.
	at := cbGenesis + 10*86400 + 1234
	e.travel(t, at)
	up := e.do(t, http.MethodPost, "/api/v2/subscriptions/sub-ada/update_for_items", url.Values{
		"subscription_items[item_price_id][0]": {"seat-monthly"}, "subscription_items[quantity][0]": {"7"},
		"invoice_immediately": {"false"}}).ok(t)
	assert.Nil(t, up["invoice"], "nothing invoiced at once")
	assert.EqualValues(t, 7, obj(t, up, "subscription")["subscription_items"].([]any)[0].(map[string]any)["quantity"])
	term := termEnd - cbGenesis
	prorate := func(qty, from int64) int64 { return roundHalfAway(qty*1000*(termEnd-from), term) }
	assert.EqualValues(t, prorate(7, at)-prorate(5, at), obj(t, e.do(t, http.MethodGet, "/api/v2/customers/ada", nil).ok(t), "customer")["unbilled_charges"])

	// -4 seats on day 20: a credit note for the unused time.
	at2 := cbGenesis + 20*86400 + 99
	e.travel(t, at2)
	down := e.do(t, http.MethodPost, "/api/v2/subscriptions/sub-ada/update_for_items", url.Values{
		"subscription_items[item_price_id][0]": {"seat-monthly"}, "subscription_items[quantity][0]": {"3"}, "prorate": {"true"}}).ok(t)
	assert.Nil(t, down["invoice"])
	notes := down["credit_notes"].([]any)
	require.Len(t, notes, 1)
	cn := notes[0].(map[string]any)
	assert.Equal(t, "refund_due", cn["status"])
	assert.EqualValues(t, prorate(7, at2), cn["total"])

	// The renewal bills 3 seats, the pending charges and the credit.
	e.travel(t, termEnd+60)
	invs := list(t, e.do(t, http.MethodGet, "/api/v2/invoices", url.Values{"subscription_id[is]": {"sub-ada"},
		"sort_by[asc]": {"date"}}).ok(t), "invoice")
	require.Len(t, invs, 2)
	renewal := invs[1]
	debits := prorate(7, at) + prorate(3, at2)
	credits := prorate(5, at) + prorate(7, at2)
	assert.EqualValues(t, 3*1000+debits, renewal["total"])
	assert.EqualValues(t, credits, renewal["credits_applied"])
	assert.EqualValues(t, 3*1000+debits-credits, renewal["amount_paid"])
	assert.Equal(t, "paid", renewal["status"])
	assert.Len(t, renewal["applied_credits"], 2)

	// prorate=false: nothing now, 6 seats from the next renewal.
	none := e.do(t, http.MethodPost, "/api/v2/subscriptions/sub-ada/update_for_items", url.Values{
		"subscription_items[item_price_id][0]": {"seat-monthly"}, "subscription_items[quantity][0]": {"6"}, "prorate": {"false"}}).ok(t)
	assert.Nil(t, none["invoice"])
	assert.Nil(t, none["credit_notes"])
	e.do(t, http.MethodPost, "/api/v2/subscriptions/sub-ada/update_for_items", url.Values{"end_of_term": {"true"}}).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/subscriptions/sub-ada/update_for_items", url.Values{
		"subscription_items[item_price_id][0]": {"seat-monthly"}, "subscription_items[quantity][0]": {"0"}}).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/subscriptions/nope/update_for_items", url.Values{}).apiError(t, http.StatusNotFound, "resource_not_found")

	e.customer(t, "bob", "4111111111111111")
	e.subscribe(t, "bob", "seat-monthly", 1)
	subs := list(t, e.do(t, http.MethodGet, "/api/v2/subscriptions", url.Values{"customer_id[is]": {"ada"}}).ok(t), "subscription")
	require.Len(t, subs, 1)
	assert.Equal(t, "sub-ada", subs[0]["id"])
	all := e.do(t, http.MethodGet, "/api/v2/subscriptions", url.Values{"status[in]": {`["active","non_renewing"]`}, "sort_by[asc]": {"created_at"}}).ok(t)
	entries := all["list"].([]any)
	require.Len(t, entries, 2)
	first := entries[0].(map[string]any)
	assert.Equal(t, "sub-ada", obj(t, first, "subscription")["id"], "oldest first")
	assert.Equal(t, "ada", obj(t, first, "customer")["id"], "each entry carries its customer")
	assert.NotNil(t, first["card"])

	// Cancellation at the end of the term, then at once.
	eot := obj(t, e.do(t, http.MethodPost, "/api/v2/subscriptions/sub-ada/cancel_for_items", url.Values{"end_of_term": {"true"}}).ok(t), "subscription")
	assert.Equal(t, "non_renewing", eot["status"])
	assert.EqualValues(t, eot["current_term_end"], eot["cancelled_at"])
	e.travel(t, num(t, eot, "current_term_end")+10)
	cancelled := obj(t, e.do(t, http.MethodGet, "/api/v2/subscriptions/sub-ada", nil).ok(t), "subscription")
	assert.Equal(t, "cancelled", cancelled["status"])
	assert.Nil(t, cancelled["cancel_reason"])
	e.do(t, http.MethodPost, "/api/v2/subscriptions/sub-ada/cancel_for_items", url.Values{}).apiError(t, http.StatusConflict, "invalid_state_for_request")
	bobSub := list(t, e.do(t, http.MethodGet, "/api/v2/subscriptions", url.Values{"customer_id[is]": {"bob"}}).ok(t), "subscription")[0]
	now := obj(t, e.do(t, http.MethodPost, "/api/v2/subscriptions/"+bobSub["id"].(string)+"/cancel_for_items", url.Values{}).ok(t), "subscription")
	assert.Equal(t, "cancelled", now["status"])
	assert.Len(t, list(t, e.do(t, http.MethodGet, "/api/v2/subscriptions", url.Values{"status[is]": {"cancelled"}}).ok(t), "subscription"), 2)
}

// roundHalfAway is a/b rounded half away from zero, for b > 0.
func roundHalfAway(a, b int64) int64 {
	if a < 0 {
		return -roundHalfAway(-a, b)
	}
	return (2*a + b) / (2 * b)
}

// TestChargebeeDunning: with the site's settings (retries 2 and 5 days
// after the first failure, the subscription left active) a renewal paid by
// 4005 5192 0000 0004 fails with "Insufficient funds", is retried on
// schedule while the subscription stays active and the invoice is
// payment_due, then is not_paid; collect_payment with that card fails
// (402, the failed transaction kept) and after a card update recovers it.
func TestChargebeeDunning(t *testing.T) {
	t.Parallel()
	e := newCBEnv(t, emulator.Config{})
	key := "Basic " + base64.StdEncoding.EncodeToString([]byte(cbKey+":"))
	def := e.send(t, http.MethodGet, "/_billclock/settings", nil, key, nil).ok(t)
	assert.Equal(t, []any{1.0, 4.0, 7.0, 8.0, 9.0}, def["retry_days"], "Chargebee's documented example is the default")
	assert.Equal(t, "cancel", def["subscription_action"])
	e.send(t, http.MethodPost, "/_billclock/settings", url.Values{"retry_days": {"3,2"}}, key, nil).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.send(t, http.MethodPost, "/_billclock/settings", url.Values{"subscription_action": {"pause"}}, key, nil).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	set := e.send(t, http.MethodPost, "/_billclock/settings", url.Values{"retry_days": {"2,5"},
		"subscription_action": {"leave_active"}}, key, nil).ok(t)
	assert.Equal(t, []any{2.0, 5.0}, set["retry_days"])

	e.startAfresh(t, cbGenesis)
	e.catalog(t, "seat-monthly", 1000)
	e.customer(t, "ada", "4005519200000004")
	e.do(t, http.MethodPost, "/api/v2/customers/ada/subscription_for_items", url.Values{
		"subscription_items[item_price_id][0]": {"seat-monthly"}, "subscription_items[quantity][0]": {"2"}}).
		apiError(t, http.StatusPaymentRequired, "payment_processing_failed")
	assert.Empty(t, e.do(t, http.MethodGet, "/api/v2/subscriptions", nil).ok(t)["list"], "a declined first payment creates nothing")
	e.do(t, http.MethodPost, "/api/v2/customers/ada/credit_card", url.Values{"number": {"4111111111111111"},
		"expiry_month": {"1"}, "expiry_year": {"2041"}}).ok(t)
	sub := obj(t, e.subscribe(t, "ada", "seat-monthly", 2), "subscription")
	e.do(t, http.MethodPost, "/api/v2/customers/ada/credit_card", url.Values{"number": {"4005519200000004"},
		"expiry_month": {"1"}, "expiry_year": {"2041"}}).ok(t)
	renewal := num(t, sub, "current_term_end")
	e.travel(t, renewal+3*86400)
	due := list(t, e.do(t, http.MethodGet, "/api/v2/invoices", url.Values{"status[is]": {"payment_due"}}).ok(t), "invoice")
	require.Len(t, due, 1)
	inv := due[0]
	assert.Equal(t, "in_progress", inv["dunning_status"])
	assert.EqualValues(t, renewal+5*86400, inv["next_retry_at"])
	assert.EqualValues(t, 2000, inv["amount_due"])
	assert.Len(t, inv["dunning_attempts"], 2, "the first attempt and the retry 2 days after it")
	s := obj(t, e.do(t, http.MethodGet, "/api/v2/subscriptions/"+sub["id"].(string), nil).ok(t), "subscription")
	assert.Equal(t, "active", s["status"])
	assert.EqualValues(t, 1, s["due_invoices_count"])
	assert.EqualValues(t, 2000, s["total_dues"])

	e.travel(t, renewal+6*86400)
	id := inv["id"].(string)
	np := obj(t, e.do(t, http.MethodGet, "/api/v2/invoices/"+id, nil).ok(t), "invoice")
	assert.Equal(t, "not_paid", np["status"])
	assert.Equal(t, "exhausted", np["dunning_status"])
	assert.Nil(t, np["next_retry_at"])
	s = obj(t, e.do(t, http.MethodGet, "/api/v2/subscriptions/"+sub["id"].(string), nil).ok(t), "subscription")
	assert.Equal(t, "active", s["status"], "left active, as the settings say")

	failed := e.do(t, http.MethodPost, "/api/v2/invoices/"+id+"/collect_payment", url.Values{}).
		apiError(t, http.StatusPaymentRequired, "payment_processing_failed")
	assert.Contains(t, failed["message"], "Insufficient funds")
	np = obj(t, e.do(t, http.MethodGet, "/api/v2/invoices/"+id, nil).ok(t), "invoice")
	assert.Len(t, np["dunning_attempts"], 3, "a manual attempt is no dunning attempt")
	e.do(t, http.MethodPost, "/api/v2/customers/ada/credit_card", url.Values{"number": {"6011111111111117"},
		"expiry_month": {"1"}, "expiry_year": {"2041"}}).ok(t)
	paid := e.do(t, http.MethodPost, "/api/v2/invoices/"+id+"/collect_payment", url.Values{}).ok(t)
	pi := obj(t, paid, "invoice")
	assert.Equal(t, "paid", pi["status"])
	assert.Equal(t, "success", pi["dunning_status"])
	assert.EqualValues(t, 2000, pi["amount_paid"])
	txn := obj(t, paid, "transaction")
	assert.Equal(t, "success", txn["status"])
	assert.EqualValues(t, 2000, txn["amount"])
	assert.Equal(t, "************1117", txn["masked_card_number"])
	e.do(t, http.MethodPost, "/api/v2/invoices/"+id+"/collect_payment", url.Values{}).apiError(t, http.StatusConflict, "invalid_state_for_request")
	e.do(t, http.MethodPost, "/api/v2/invoices/"+id+"/collect_payment", url.Values{"payment_source_id": {"pm_nope"}}).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/invoices/nope/collect_payment", url.Values{}).apiError(t, http.StatusNotFound, "resource_not_found")
}

// TestChargebeeEventsAndWebhooks: events list newest first or oldest
// first, by type and time, page by page; a webhook endpoint (the control
// route) gets each event it wants, as Chargebee's event JSON, with its
// Basic credentials or none; idempotency keys replay answers.
func TestChargebeeEventsAndWebhooks(t *testing.T) {
	t.Parallel()
	type delivery struct {
		user, pass string
		hasAuth    bool
		event      map[string]any
	}
	var mu sync.Mutex
	got := map[string][]delivery{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var ev map[string]any
		json.Unmarshal(raw, &ev)
		user, pass, ok := r.BasicAuth()
		mu.Lock()
		got[r.URL.Path] = append(got[r.URL.Path], delivery{user, pass, ok, ev})
		mu.Unlock()
	}))
	defer receiver.Close()
	e := newCBEnv(t, emulator.Config{})
	key := "Basic " + base64.StdEncoding.EncodeToString([]byte(cbKey+":"))
	e.send(t, http.MethodPost, "/_billclock/chargebee/webhook_endpoints", url.Values{"url": {"ftp://x"}}, key, nil).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.send(t, http.MethodPost, "/_billclock/chargebee/webhook_endpoints", url.Values{"url": {receiver.URL}, "event_types": {"invoice.paid"}}, key, nil).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	ep := obj(t, e.send(t, http.MethodPost, "/_billclock/chargebee/webhook_endpoints", url.Values{"url": {receiver.URL + "/auth"},
		"username": {"hook"}, "password": {"s3cret"}}, key, nil).ok(t), "webhook_endpoint")
	assert.Equal(t, true, ep["has_password"])
	assert.NotContains(t, ep, "password")
	e.send(t, http.MethodPost, "/_billclock/chargebee/webhook_endpoints", url.Values{"url": {receiver.URL + "/plain"},
		"event_types": {`["subscription_created","payment_succeeded"]`}}, key, nil).ok(t)
	assert.Len(t, list(t, e.send(t, http.MethodGet, "/_billclock/chargebee/webhook_endpoints", nil, key, nil).ok(t), "webhook_endpoint"), 2)

	e.startAfresh(t, cbGenesis)
	e.catalog(t, "seat-monthly", 1000)
	idem := http.Header{"Chargebee-Idempotency-Key": {"k-1"}}
	first := e.send(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"ada"}, "card[number]": {"4111111111111111"},
		"card[expiry_month]": {"12"}, "card[expiry_year]": {"2040"}}, key, idem)
	require.Equal(t, http.StatusOK, first.status, first.raw)
	again := e.send(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"ada"}, "card[number]": {"4111111111111111"},
		"card[expiry_month]": {"12"}, "card[expiry_year]": {"2040"}}, key, idem)
	assert.Equal(t, first.raw, again.raw)
	assert.Equal(t, "true", again.header.Get("Chargebee-Idempotency-Replayed"))
	e.send(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"bob"}}, key, idem).apiError(t, http.StatusBadRequest, "invalid_request")
	e.subscribe(t, "ada", "seat-monthly", 1)
	e.travel(t, cbGenesis+31*86400+1)

	all := list(t, e.do(t, http.MethodGet, "/api/v2/events", url.Values{"limit": {"100"}}).ok(t), "event")
	var types []string
	for _, ev := range all {
		types = append(types, ev["event_type"].(string))
	}
	assert.Equal(t, []string{"payment_succeeded", "invoice_generated", "subscription_renewed", "payment_succeeded",
		"invoice_generated", "subscription_created", "customer_created"}, types, "newest first")
	renewed := all[2]
	assert.Equal(t, "scheduled_job", renewed["source"])
	assert.Equal(t, "scheduled", renewed["webhook_status"])
	assert.EqualValues(t, cbGenesis+31*86400, renewed["occurred_at"])
	content := obj(t, renewed, "content")
	assert.Equal(t, "paid", obj(t, content, "invoice")["status"], "content shows the renewal as it ended")
	assert.EqualValues(t, cbGenesis+31*86400, obj(t, content, "subscription")["current_term_start"])
	one := e.do(t, http.MethodGet, "/api/v2/events/"+renewed["id"].(string), nil).ok(t)
	assert.Equal(t, renewed["id"], obj(t, one, "event")["id"])

	asc := list(t, e.do(t, http.MethodGet, "/api/v2/events", url.Values{"sort_by[asc]": {"occurred_at"}, "limit": {"2"}}).ok(t), "event")
	assert.Equal(t, "customer_created", asc[0]["event_type"])
	byType := list(t, e.do(t, http.MethodGet, "/api/v2/events", url.Values{"event_type[in]": {`["payment_succeeded","customer_created"]`}}).ok(t), "event")
	assert.Len(t, byType, 3)
	isType := list(t, e.do(t, http.MethodGet, "/api/v2/events", url.Values{"event_type[is]": {"subscription_created"}}).ok(t), "event")
	assert.Len(t, isType, 1)
	later := list(t, e.do(t, http.MethodGet, "/api/v2/events", url.Values{"occurred_at[after]": {strconv.FormatInt(cbGenesis, 10)}}).ok(t), "event")
	assert.Len(t, later, 3, "the renewal's events")
	earlier := list(t, e.do(t, http.MethodGet, "/api/v2/events", url.Values{"occurred_at[before]": {strconv.FormatInt(cbGenesis+1, 10)},
		"sort_by[asc]": {"occurred_at"}}).ok(t), "event")
	assert.Len(t, earlier, 4)
	page := e.do(t, http.MethodGet, "/api/v2/events", url.Values{"limit": {"5"}}).ok(t)
	rest := e.do(t, http.MethodGet, "/api/v2/events", url.Values{"limit": {"5"}, "offset": {page["next_offset"].(string)}}).ok(t)
	assert.Len(t, list(t, rest, "event"), 2)
	assert.Nil(t, rest["next_offset"])

	deadline := time.Now().Add(livenessWait)
	for {
		mu.Lock()
		n, m := len(got["/auth"]), len(got["/plain"])
		mu.Unlock()
		if n >= 7 && m >= 3 {
			break
		}
		require.True(t, time.Now().Before(deadline), "deliveries: %d and %d", n, m)
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got["/auth"], 7)
	for i, d := range got["/auth"] {
		assert.True(t, d.hasAuth)
		assert.Equal(t, "hook", d.user)
		assert.Equal(t, "s3cret", d.pass)
		assert.Equal(t, all[len(all)-1-i]["id"], d.event["id"], "delivered in order")
		assert.Equal(t, "v2", d.event["api_version"])
	}
	var plain []string
	for _, d := range got["/plain"] {
		assert.False(t, d.hasAuth, "no credentials, no Authorization header")
		plain = append(plain, d.event["event_type"].(string))
	}
	assert.Equal(t, []string{"subscription_created", "payment_succeeded", "payment_succeeded"}, plain)
	attempts := e.send(t, http.MethodGet, "/_billclock/webhook_attempts", url.Values{"limit": {"100"}}, key, nil).ok(t)
	assert.Len(t, attempts["list"], 10)
	e.send(t, http.MethodDelete, "/_billclock/chargebee/webhook_endpoints/"+ep["id"].(string), nil, key, nil).ok(t)
	e.send(t, http.MethodDelete, "/_billclock/chargebee/webhook_endpoints/"+ep["id"].(string), nil, key, nil).
		apiError(t, http.StatusNotFound, "resource_not_found")
}
