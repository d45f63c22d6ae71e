package commet

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file is what the runtime asks of the Commet dialect (see
// clockwork.Dialect): its name, ids, defaults and events' stored and
// delivered form.

// Name is the dialect's name, recorded on the accounts of Commet keys.
func (s *Surface) Name() string { return "commet" }

// idPrefixes maps the engine's prefixes to Commet's, where they differ.
var idPrefixes = map[string]string{
	"in_":      "inv_",
	"unitchg_": "seatevt_",
}

// NewID returns a fresh id: the engine's prefix (or Commet's for it)
// followed by 20 base62 characters, time-sorted.
func (s *Surface) NewID(prefix string) string {
	if p, ok := idPrefixes[prefix]; ok {
		prefix = p
	}
	return clockwork.NewID(prefix, 20)
}

// RetryDays are Commet's dunning retries: days 1, 3, 5 and 7 after the
// original failure.
var retryDays = []int64{1, 3, 5, 7}

// DefaultPolicy is Commet's dunning: retries 1, 3, 5 and 7 days after the
// first failure, then the subscription is canceled and the invoice
// uncollectible; renewal invoices are issued and charged at once.
func (s *Surface) DefaultPolicy() billing.DunningPolicy {
	p := billing.DunningPolicy{SubscriptionAction: billing.FinalCancel, InvoiceAction: billing.InvoiceMarkUncollectible}
	for _, d := range retryDays {
		p.RetryAfter = append(p.RetryAfter, d*86400)
	}
	return p
}

// ClockLifetime is 0: an organization's test clock never expires.
func (s *Surface) ClockLifetime() time.Duration { return 0 }

// storedEvent is an event as stored: the envelope delivered to webhooks,
// with the runtime's id, type and time beside it.
type storedEvent struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Created int64           `json:"created"`
	Body    json.RawMessage `json:"body"`
}

// envelope is Commet's webhook payload.
type envelope struct {
	Event          string          `json:"event"`
	Timestamp      string          `json:"timestamp"`
	OrganizationID string          `json:"organizationId"`
	Mode           string          `json:"mode"`
	APIVersion     string          `json:"apiVersion"`
	Data           json.RawMessage `json:"data"`
}

// EventHead reads a stored event's type and created time.
func (s *Surface) EventHead(stored []byte) (string, int64, error) {
	var e storedEvent
	err := json.Unmarshal(stored, &e)
	return e.Type, e.Created, err
}

// FormatDelivery delivers the envelope, in the endpoint's API version,
// signed as Commet signs: X-Commet-Signature is the hex HMAC-SHA256 of the
// raw body under the endpoint's secret.
func (s *Surface) FormatDelivery(ep *clockwork.Endpoint, stored []byte, _ time.Time) ([]byte, http.Header, error) {
	var e storedEvent
	if err := json.Unmarshal(stored, &e); err != nil {
		return nil, nil, err
	}
	body := []byte(e.Body)
	if ep.APIVersion != "" && ep.APIVersion != CurrentVersion {
		var env envelope
		if err := json.Unmarshal(e.Body, &env); err != nil {
			return nil, nil, err
		}
		env.APIVersion = ep.APIVersion
		var err error
		if body, err = json.Marshal(env); err != nil {
			return nil, nil, err
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Commet-Webhooks/1.0 (billclock)")
	h.Set("X-Commet-Signature", signature(ep.Secret, body))
	h.Set("X-Commet-Event", e.Type)
	return body, h, nil
}

// signature is the hex HMAC-SHA256 of body under secret.
func signature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// organizationID is the stable id of the organization of API key key,
// from which the key cannot be read back.
func organizationID(key string) string {
	sum := sha256.Sum256([]byte("billclock commet organization\x00" + key))
	out := make([]byte, 20)
	for i := range out {
		out[i] = clockwork.IDAlphabet[int(sum[i])%len(clockwork.IDAlphabet)]
	}
	return "org_" + string(out)
}
