package stripe

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// ledger is the runtime's ledger of one account in one transaction, with
// the Stripe dialect's own records and lookups.
type ledger struct {
	*clockwork.Ledger
	// base is the server's address, for the links to pages (see pages.go).
	base string
}

// ledger returns the ledger of account in tx for the API call c (nil for
// work outside a request).
func (s *Surface) ledger(tx *store.Tx, account string, c *call) (*ledger, error) {
	l, err := s.rt.Ledger(tx, s, account, c.request())
	if err != nil {
		return nil, err
	}
	return s.wrap(l), nil
}

// intentOptionsCollection holds each direct PaymentIntent's Stripe-only
// settings (intentOptions), by PaymentIntent id.
const intentOptionsCollection = "payment_intent_options"

// intentOptions returns PaymentIntent id's Stripe-only settings; a
// PaymentIntent without any (an invoice's) gets the zero settings.
func (l *ledger) intentOptions(id string) (*intentOptions, error) {
	coll, err := l.Collection(intentOptionsCollection)
	if err != nil {
		return nil, err
	}
	raw, err := coll.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return &intentOptions{}, nil
	}
	if err != nil {
		return nil, err
	}
	var o intentOptions
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("decode options of %s: %w", id, err)
	}
	return &o, nil
}

// putIntentOptions stores PaymentIntent id's Stripe-only settings.
func (l *ledger) putIntentOptions(id string, created int64, o *intentOptions) error {
	return l.Put(intentOptionsCollection, id, created, o)
}
