package chargebee

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/billclock/billclock/emulator/clockwork"
)

// This file is what billclock's dashboard asks of the Chargebee dialect
// (clockwork.Inspector): the API requests that retrieve an object and
// move the site's time machine. Transactions and payment intents have no
// retrieve route here: the dashboard shows their invoice instead.

var _ clockwork.Inspector = (*Surface)(nil)

// Nouns are Chargebee's: a site and its time machine.
func (s *Surface) Nouns() (account, clock string) { return "site", "time machine" }

// inspectPaths are the retrieve routes of the kinds the dashboard shows.
var inspectPaths = map[string]string{
	clockwork.KindClock:        APIPrefix + "/time_machines/",
	clockwork.KindCustomer:     APIPrefix + "/customers/",
	clockwork.KindSubscription: APIPrefix + "/subscriptions/",
	clockwork.KindInvoice:      APIPrefix + "/invoices/",
	clockwork.KindEvent:        APIPrefix + "/events/",
}

// InspectRequest is GET /api/v2/{objects}/{id} with the site's key.
func (s *Surface) InspectRequest(key, kind, id string) *http.Request {
	prefix, ok := inspectPaths[kind]
	if !ok {
		return nil
	}
	r, _ := http.NewRequest(http.MethodGet, prefix+url.PathEscape(id), nil)
	r.SetBasicAuth(key, "")
	return r
}

// AdvanceRequest is POST /api/v2/time_machines/delorean/travel_forward
// with destination_time=target.
func (s *Surface) AdvanceRequest(key, clock string, target int64) *http.Request {
	body := url.Values{"destination_time": {strconv.FormatInt(target, 10)}}.Encode()
	r, _ := http.NewRequest(http.MethodPost, APIPrefix+"/time_machines/"+url.PathEscape(clock)+"/travel_forward",
		strings.NewReader(body))
	r.SetBasicAuth(key, "")
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
