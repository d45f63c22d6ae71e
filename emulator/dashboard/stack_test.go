package dashboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/chargebee"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/emulator/commet"
	"github.com/billclock/billclock/emulator/stripe"
	"github.com/billclock/billclock/store"
)

// stack is billclock's HTTP surface in-process, wired as emulator/server.go
// wires it (the dialects, the dashboard, the runtime's routes), with its
// background work running: requests can come from any remote address.
type stack struct {
	t  testing.TB
	rt *clockwork.Runtime
	h  http.Handler
}

func newStack(t testing.TB, opts clockwork.Options) *stack {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "t.db"), &store.Options{NoSync: true})
	require.NoError(t, err)
	opts.DB = db
	rt := clockwork.New(opts)
	rt.Register(stripe.New(rt, stripe.Options{}))
	rt.Register(chargebee.New(rt, chargebee.Options{}))
	rt.Register(commet.New(rt))
	require.NoError(t, rt.Prepare())
	r := mux.NewRouter()
	New(rt).Routes(r)
	rt.Routes(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		db.Close()
	})
	return &stack{t: t, rt: rt, h: r}
}

// from is where a request comes from and the Host it names.
type from struct{ remote, host string }

var (
	local  = from{"127.0.0.1:50000", "127.0.0.1:12800"}
	remote = from{"192.0.2.10:50000", "billclock.example:12800"}
)

// send serves one request and returns the answer.
func (s *stack) send(f from, method, path string, header http.Header, body string) *httptest.ResponseRecorder {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr, req.Host = f.remote, f.host
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func bearer(key string) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }

func basic(key string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))}}
}

// api calls a dialect's API (from loopback) and requires a 2xx JSON
// answer, which it decodes.
func (s *stack) api(method, path string, header http.Header, contentType, body string) map[string]any {
	s.t.Helper()
	h := header.Clone()
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	rec := s.send(local, method, path, h, body)
	require.Less(s.t, rec.Code, 300, "%s %s: %s", method, path, rec.Body)
	var out map[string]any
	require.NoError(s.t, json.Unmarshal(rec.Body.Bytes(), &out), "%s", rec.Body)
	return out
}

func (s *stack) stripe(key, path string, form url.Values) map[string]any {
	s.t.Helper()
	return s.api(http.MethodPost, path, bearer(key), "application/x-www-form-urlencoded", form.Encode())
}

// Keys of the accounts the tests make: long enough that a masked key shows
// its last four characters, and each ending differently.
const (
	stripeKey  = "sk_test_dashboardAlpha000000000001"
	stripeKey2 = "sk_test_dashboardBravo000000000002"
	cbKey      = "test_dashboardsite000000000000003"
	commetKey  = "ck_dashboardorg00000000000000000004"
)

// jan1 is 2026-01-01T00:00:00Z, where the tests' clocks start.
const jan1 = 1767225600

// stripeWorld makes a test clock with a customer paying with card
// (pm_card_visa, or pm_card_chargeCustomerFail to fail every renewal)
// subscribed monthly at 15.00 × 3 seats, and returns the ids of the
// clock, the subscription and its first invoice.
func (s *stack) stripeWorld(key, card string, trialDays int) (clock, sub, invoice string) {
	s.t.Helper()
	clock = s.stripe(key, "/v1/test_helpers/test_clocks", url.Values{"frozen_time": {strconv.Itoa(jan1)}, "name": {"demo"}})["id"].(string)
	cus := s.stripe(key, "/v1/customers", url.Values{"test_clock": {clock}, "email": {"ada@example.com"}, "payment_method": {card},
		"invoice_settings[default_payment_method]": {card}})["id"].(string)
	price := s.stripe(key, "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1500"}, "recurring[interval]": {"month"},
		"product_data[name]": {"Seats"}})["id"].(string)
	form := url.Values{"customer": {cus}, "items[0][price]": {price}, "items[0][quantity]": {"3"}}
	if trialDays > 0 {
		form.Set("trial_period_days", strconv.Itoa(trialDays))
	}
	created := s.stripe(key, "/v1/subscriptions", form)
	return clock, created["id"].(string), created["latest_invoice"].(string)
}

// advanceStripe advances a Stripe clock through the API and waits until
// it is ready.
func (s *stack) advanceStripe(key, clock string, to int64) {
	s.t.Helper()
	s.stripe(key, "/v1/test_helpers/test_clocks/"+clock+"/advance", url.Values{"frozen_time": {strconv.FormatInt(to, 10)}})
	s.waitReady(bearer(key), "/v1/test_helpers/test_clocks/"+clock)
}

// waitReady polls path until the clock it names is ready.
func (s *stack) waitReady(h http.Header, path string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec := s.send(local, http.MethodGet, path, h, "")
		require.Equal(s.t, http.StatusOK, rec.Code, "%s", rec.Body)
		if bytes.Contains(rec.Body.Bytes(), []byte(`"ready"`)) || bytes.Contains(rec.Body.Bytes(), []byte(`"succeeded"`)) {
			return
		}
		require.True(s.t, time.Now().Before(deadline), "the clock at %s never got ready: %s", path, rec.Body)
		time.Sleep(20 * time.Millisecond)
	}
}

// chargebeeWorld makes a site with a plan and a customer subscribed to it,
// started afresh six months ago (Chargebee's time machine travels only up
// to the present).
func (s *stack) chargebeeWorld(key string) (customer, sub string) {
	s.t.Helper()
	post := func(path string, form url.Values) map[string]any {
		return s.api(http.MethodPost, "/api/v2"+path, basic(key), "application/x-www-form-urlencoded", form.Encode())
	}
	post("/time_machines/delorean/start_afresh", url.Values{})
	s.waitReady(basic(key), "/api/v2/time_machines/delorean")
	post("/item_families", url.Values{"id": {"fam"}, "name": {"Family"}})
	post("/items", url.Values{"id": {"seat"}, "name": {"Seat"}, "type": {"plan"}, "item_family_id": {"fam"}})
	post("/item_prices", url.Values{"id": {"seat-monthly"}, "item_id": {"seat"}, "name": {"Seat monthly"},
		"pricing_model": {"per_unit"}, "price": {"1000"}, "period": {"1"}, "period_unit": {"month"}})
	post("/customers", url.Values{"id": {"ada"}, "first_name": {"Ada"}, "email": {"ada@example.com"},
		"card[number]": {"4111111111111111"}, "card[expiry_month]": {"12"}, "card[expiry_year]": {"2040"}})
	created := post("/customers/ada/subscription_for_items", url.Values{"subscription_items[item_price_id][0]": {"seat-monthly"},
		"subscription_items[quantity][0]": {"2"}})
	return "ada", created["subscription"].(map[string]any)["id"].(string)
}

// commetWorld makes an organization with a customer: its test clock comes
// with its first write.
func (s *stack) commetWorld(key string) {
	s.t.Helper()
	h := http.Header{"X-Api-Key": {key}}
	s.api(http.MethodPost, "/api/v1/customers", h, "application/json", `{"email":"ada@example.test","id":"ada"}`)
}

// view runs fn over the ledger of key's account, for reading.
func (s *stack) view(key string, fn func(l *clockwork.Ledger) error) {
	s.t.Helper()
	require.NoError(s.t, s.rt.DB().View(func(tx *store.Tx) error {
		d, err := s.rt.AccountDialect(tx, key)
		if err != nil {
			return err
		}
		l, err := s.rt.Ledger(tx, d, key, nil)
		if err != nil {
			return err
		}
		return fn(l)
	}))
}
