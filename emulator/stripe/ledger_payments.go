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

// openByID opens the account's ledger and loads, with load, the object
// the path's id names.
func openByID[T any](s *Surface, c *call, tx *store.Tx, load func(*ledger, string) (*T, error)) (*ledger, *T, error) {
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, nil, err
	}
	v, err := load(l, c.vars["id"])
	if err != nil {
		return nil, nil, err
	}
	return l, v, nil
}

// openCollection opens the account's ledger and its collection name, for
// a list.
func (s *Surface) openCollection(c *call, tx *store.Tx, name string) (*ledger, *store.Collection, error) {
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, nil, err
	}
	coll, err := l.Collection(name)
	if err != nil {
		return nil, nil, err
	}
	return l, coll, nil
}

// retrieveByID serves the retrieve of an object nothing of which expands
// (expand[] may name only the paths in expandable): load finds the object
// the path names and render gives its wire shape.
func retrieveByID[T, W any](s *Surface, c *call, tx *store.Tx, load func(*ledger, string) (*T, error),
	render func(*T) W, expandable ...string) (any, error) {
	if err := c.p.expand(expandable...); err != nil {
		return nil, err
	}
	_, v, err := openByID(s, c, tx, load)
	if err != nil {
		return nil, err
	}
	return render(v), nil
}

// onClock is openByID for an action on the object, which also reads the
// time the object lives in: that of its clock (clock names it) or the
// wall clock. A clock in the middle of an advance refuses the action.
func onClock[T any](s *Surface, c *call, tx *store.Tx, load func(*ledger, string) (*T, error),
	clock func(*T) string) (*ledger, *T, int64, error) {
	l, v, err := openByID(s, c, tx, load)
	if err != nil {
		return nil, nil, 0, err
	}
	now, err := l.TimeOn(clock(v), c.now.Unix())
	return l, v, now, err
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
