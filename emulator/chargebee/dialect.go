package chargebee

import (
	"net/http"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file is what the runtime asks of the Chargebee dialect (see
// clockwork.Dialect): its name, its keys, its ids, its defaults and its
// events' delivered form.

// Name is the dialect's name, recorded on the accounts of Chargebee keys.
func (s *Surface) Name() string { return "chargebee" }

// Claims reports whether r carries a Chargebee key (test_ or live_) as
// the username of Basic authentication.
func (s *Surface) Claims(r *http.Request) bool {
	key, ok := apiKey(r.Header.Get("Authorization"))
	return ok && (strings.HasPrefix(key, "test_") || strings.HasPrefix(key, "live_"))
}

// idLength is the length of the ids billclock makes for Chargebee objects
// (Chargebee's own are 14 to 17 alphanumerics, such as 169lQ5SsNCAlh1V8x).
const idLength = 17

// NewID returns a fresh id in Chargebee's style: customers, subscriptions
// and invoices have bare ids; transactions are txn_, line items li_,
// payment sources pm_, credit notes cn_ and events ev_.
func (s *Surface) NewID(kind string) string {
	switch kind {
	case "cus_", "sub_", "in_":
		return clockwork.NewID("", idLength)
	case "ch_":
		return clockwork.NewID("txn_", idLength)
	case "il_":
		return clockwork.NewID("li_", idLength)
	case "ii_":
		return clockwork.NewID("cn_", idLength)
	}
	return clockwork.NewID(kind, idLength)
}

// Retries of the default dunning: Chargebee's documented example of a
// schedule, 1, 4, 7, 8 and 9 days after the first failed attempt.
var defaultRetryDays = []int64{1, 4, 7, 8, 9}

// DefaultPolicy is a new site's dunning: retries 1, 4, 7, 8 and 9 days
// after the first failure, while the subscription stays active and its
// invoice payment_due; then the invoice is not_paid and the subscription
// cancelled (cancel_reason not_paid). Invoices are collected as they are
// made, with no draft period.
func (s *Surface) DefaultPolicy() billing.DunningPolicy {
	p := billing.DunningPolicy{SubscriptionAction: billing.FinalCancel, InvoiceAction: billing.InvoiceMarkUncollectible,
		StayActiveWhileRetrying: true, FinalizeDelay: 0}
	for _, d := range defaultRetryDays {
		p.RetryAfter = append(p.RetryAfter, d*86400)
	}
	return p
}

// ClockLifetime is 0: a site's time machine never expires.
func (s *Surface) ClockLifetime() time.Duration { return 0 }

// FormatDelivery delivers a stored event as Chargebee does: the event
// JSON, with the endpoint's Basic credentials when it has some.
func (s *Surface) FormatDelivery(ep *clockwork.Endpoint, stored []byte, _ time.Time) ([]byte, http.Header, error) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", "ChargeBee")
	if ep.Username != "" || ep.Password != "" {
		r := http.Request{Header: h}
		r.SetBasicAuth(ep.Username, ep.Password)
	}
	return stored, h, nil
}
