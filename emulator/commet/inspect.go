package commet

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/billclock/billclock/emulator/clockwork"
)

// This file is what billclock's dashboard asks of the Commet dialect
// (clockwork.Inspector): the API requests, in CurrentVersion, that
// retrieve an object and advance the organization's test clock. Commet's
// API has no route for payments, charges or events: the dashboard shows
// a payment's invoice, and an event as webhooks deliver it.

var _ clockwork.Inspector = (*Surface)(nil)

// Nouns are Commet's: an organization and its test clock.
func (s *Surface) Nouns() (account, clock string) { return "organization", "test clock" }

// InspectRequest is the GET of the object with x-api-key.
func (s *Surface) InspectRequest(key, kind, id string) *http.Request {
	var path string
	switch kind {
	case clockwork.KindClock:
		path = "/api/v1/test-clock"
	case clockwork.KindCustomer:
		path = "/api/v1/customers/" + url.PathEscape(id)
	case clockwork.KindSubscription:
		path = "/api/v1/subscriptions/" + url.PathEscape(id)
	case clockwork.KindInvoice:
		path = "/api/v1/invoices/" + url.PathEscape(id)
	default:
		return nil
	}
	r, _ := http.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("x-api-key", key)
	r.Header.Set("commet-version", CurrentVersion)
	return r
}

// AdvanceRequest is POST /api/v1/test-clock {"frozenTime": target}: a
// clock run.
func (s *Surface) AdvanceRequest(key, _ string, target int64) *http.Request {
	body, _ := json.Marshal(map[string]string{"frozenTime": iso(target)})
	r, _ := http.NewRequest(http.MethodPost, "/api/v1/test-clock", strings.NewReader(string(body)))
	r.Header.Set("x-api-key", key)
	r.Header.Set("commet-version", CurrentVersion)
	r.Header.Set("Content-Type", "application/json")
	return r
}
