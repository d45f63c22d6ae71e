package stripe

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/billclock/billclock/emulator/clockwork"
)

// This file is what billclock's dashboard asks of the Stripe dialect
// (clockwork.Inspector): the API requests that retrieve an object and
// advance a test clock.

var _ clockwork.Inspector = (*Surface)(nil)

// Nouns are Stripe's: an account and its test clocks.
func (s *Surface) Nouns() (account, clock string) { return "account", "test clock" }

// inspectPaths are the retrieve routes of the kinds the dashboard shows.
var inspectPaths = map[string]string{
	clockwork.KindClock:        "/v1/test_helpers/test_clocks/",
	clockwork.KindCustomer:     "/v1/customers/",
	clockwork.KindSubscription: "/v1/subscriptions/",
	clockwork.KindInvoice:      "/v1/invoices/",
	clockwork.KindPayment:      "/v1/payment_intents/",
	clockwork.KindCharge:       "/v1/charges/",
	clockwork.KindEvent:        "/v1/events/",
}

// InspectRequest is GET /v1/{objects}/{id} with key.
func (s *Surface) InspectRequest(key, kind, id string) *http.Request {
	prefix, ok := inspectPaths[kind]
	if !ok {
		return nil
	}
	r, _ := http.NewRequest(http.MethodGet, prefix+url.PathEscape(id), nil)
	r.Header.Set("Authorization", "Bearer "+key)
	return r
}

// AdvanceRequest is POST /v1/test_helpers/test_clocks/{id}/advance with
// frozen_time=target.
func (s *Surface) AdvanceRequest(key, clock string, target int64) *http.Request {
	body := url.Values{"frozen_time": {strconv.FormatInt(target, 10)}}.Encode()
	r, _ := http.NewRequest(http.MethodPost, "/v1/test_helpers/test_clocks/"+url.PathEscape(clock)+"/advance",
		strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+key)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
