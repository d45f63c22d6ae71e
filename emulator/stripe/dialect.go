package stripe

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file is what the runtime asks of the Stripe dialect (see
// clockwork.Dialect): its name, its keys, its ids, its defaults and its
// events' stored and delivered form.

// Name is the dialect's name, recorded on the accounts of Stripe keys.
func (s *Surface) Name() string { return "stripe" }

// Claims reports whether r carries a Stripe key (sk_, rk_ or pk_, test or
// live), in a Bearer or Basic Authorization header.
func (s *Surface) Claims(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	var key string
	switch {
	case strings.HasPrefix(auth, "Bearer "):
		key = strings.TrimSpace(auth[len("Bearer "):])
	case strings.HasPrefix(auth, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[len("Basic "):]))
		if err != nil {
			return false
		}
		key, _, _ = strings.Cut(string(raw), ":")
	}
	for _, p := range []string{"sk_", "rk_", "pk_"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// NewID returns a fresh id in Stripe's style for an object whose id starts
// with prefix: 14 characters after the prefix for customers, subscription
// items and products, 24 for the rest; a coupon's (kind "coupon_") is 8
// characters without a prefix.
func (s *Surface) NewID(prefix string) string {
	switch prefix {
	case "cus_", "si_", "prod_":
		return clockwork.NewID(prefix, 14)
	case "coupon_":
		// Stripe's coupon ids have no prefix: eight random characters.
		return clockwork.NewSecret("", 8)
	}
	return clockwork.NewID(prefix, 24)
}

// DefaultPolicy is a new account's dunning policy: retries 1, 2, 2, 2, 2, 2
// and 3 days after the attempt before (8 attempts within 14 days,
// billclock's fixed stand-in for Smart Retries' "8 tries within 2 weeks"),
// then cancel the subscription and leave the invoice open; the
// upcoming-invoice notice 3 days before a renewal, and renewal invoices
// finalized an hour after they are made.
func (s *Surface) DefaultPolicy() billing.DunningPolicy { return defaultPolicy() }

func defaultPolicy() billing.DunningPolicy {
	p := billing.DunningPolicy{SubscriptionAction: billing.FinalCancel, InvoiceAction: billing.InvoiceLeaveOpen,
		UpcomingNotice: 3 * 86400, FinalizeDelay: billing.FinalizeDelay}
	var after int64
	for _, d := range []int{1, 2, 2, 2, 2, 2, 3} {
		after += int64(d) * 86400
		p.RetryAfter = append(p.RetryAfter, after)
	}
	return p
}

// ClockLifetime is Stripe's: test clocks are deleted 30 days after their
// creation (deletes_after).
func (s *Surface) ClockLifetime() time.Duration { return billing.ClockLifetime }

// EventHead reads a stored Stripe event's type and created.
func (s *Surface) EventHead(stored []byte) (typ string, created int64, err error) {
	var head struct {
		Type    string `json:"type"`
		Created int64  `json:"created"`
	}
	err = json.Unmarshal(stored, &head)
	return head.Type, head.Created, err
}

// FormatDelivery delivers a stored event as Stripe does: the event JSON,
// in the endpoint's API version, signed with the endpoint's secret in
// Stripe-Signature.
func (s *Surface) FormatDelivery(ep *clockwork.Endpoint, stored []byte, sent time.Time) ([]byte, http.Header, error) {
	body := stored
	if ep.APIVersion != DefaultAPIVersion {
		body = bytes.Replace(body, []byte(`"api_version":"`+DefaultAPIVersion+`"`),
			[]byte(`"api_version":`+strconv.Quote(ep.APIVersion)), 1)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	h.Set("Stripe-Signature", sign(ep.Secret, sent.Unix(), body))
	return body, h, nil
}

// sign is Stripe's webhook signature header for body sent at t.
func sign(secret string, t int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", t)
	mac.Write(body)
	return "t=" + strconv.FormatInt(t, 10) + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// AdjustPending changes a stored event's pending_webhooks by delta.
func (s *Surface) AdjustPending(stored []byte, delta int) ([]byte, error) {
	var e eventObject
	if err := json.Unmarshal(stored, &e); err != nil {
		return nil, err
	}
	e.PendingWebhooks = max(0, e.PendingWebhooks+delta)
	return e.encode()
}
