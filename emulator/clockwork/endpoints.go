package clockwork

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// Endpoint is a webhook endpoint of an account, as stored: where and what
// to deliver. Dialects create and render them their own way (Stripe's
// webhook_endpoints API, a control route for Chargebee, Commet's
// /webhooks); the runtime delivers to them.
type Endpoint struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Description and Metadata are the user's notes.
	Description string `json:"description,omitempty"`
	// APIVersion is the dialect's version the endpoint's events are
	// rendered in (see Dialect.FormatDelivery).
	APIVersion string `json:"api_version"`
	// EnabledEvents are the dialect's event types the endpoint receives;
	// "*" is every type.
	EnabledEvents []string          `json:"enabled_events"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	// Secret signs deliveries (Stripe-Signature, X-Commet-Signature).
	Secret string `json:"secret"`
	// Username and Password, when set, are sent as Basic credentials
	// (Chargebee's webhooks).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Disabled endpoints receive nothing.
	Disabled bool  `json:"disabled,omitempty"`
	Created  int64 `json:"created"`
}

// Wants reports whether the endpoint receives events of type typ.
func (ep *Endpoint) Wants(typ string) bool {
	if ep.Disabled {
		return false
	}
	for _, e := range ep.EnabledEvents {
		if e == "*" || e == typ {
			return true
		}
	}
	return false
}

// Endpoint returns a webhook endpoint of the account.
func (l *Ledger) Endpoint(id string) (*Endpoint, error) {
	coll, err := l.Collection(EndpointsCollection)
	if err != nil {
		return nil, err
	}
	return loadEndpoint(coll, id)
}

func loadEndpoint(coll *store.Collection, id string) (*Endpoint, error) {
	raw, err := coll.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, billing.NotFoundError(KindEndpoint, id, "id")
	}
	if err != nil {
		return nil, err
	}
	var ep Endpoint
	if err := json.Unmarshal(raw, &ep); err != nil {
		return nil, fmt.Errorf("decode webhook endpoint %s: %w", id, err)
	}
	return &ep, nil
}

// PutEndpoint stores a webhook endpoint. Call Runtime.WakeDeliverer after
// the commit when it changes what is delivered (an endpoint enabled
// again).
func (l *Ledger) PutEndpoint(ep *Endpoint) error {
	l.endpoints = nil
	return l.Put(EndpointsCollection, ep.ID, ep.Created, ep)
}

// DeleteEndpoint deletes a webhook endpoint; deliveries still queued for
// it are dropped by the deliverer.
func (l *Ledger) DeleteEndpoint(id string) error {
	if _, err := l.Endpoint(id); err != nil {
		return err
	}
	coll, err := l.Collection(EndpointsCollection)
	if err != nil {
		return err
	}
	l.endpoints = nil
	return coll.Delete(id)
}

// Endpoints lists the account's webhook endpoints, once per transaction.
func (l *Ledger) Endpoints() ([]*Endpoint, error) {
	if l.endpoints != nil {
		return *l.endpoints, nil
	}
	coll, err := l.Collection(EndpointsCollection)
	if err != nil {
		return nil, err
	}
	var out []*Endpoint
	err = coll.Each(func(_ string, raw []byte) error {
		var ep Endpoint
		if err := json.Unmarshal(raw, &ep); err != nil {
			return err
		}
		out = append(out, &ep)
		return nil
	})
	l.endpoints = &out
	return out, err
}
