package clockwork

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// This file is what billclock's dashboard (emulator/dashboard) reads of
// the runtime: the dialects and the accounts, each account's clocks, and
// what happened on a clock (invoices, payments, charges, its advances),
// all as stored, in read-only transactions. The dashboard shows objects in
// their provider's shape and moves clocks through the dialect's own API
// (Inspector), so that what it shows and does is what the API shows and
// does.

// Inspector is a Dialect whose objects billclock's dashboard shows and
// whose clocks it advances. It names the requests of its own API that
// retrieve an object and advance a clock; the dashboard makes them
// in-process with the account's key.
type Inspector interface {
	// Nouns names an account and a clock in the provider's words
	// ("site" and "time machine" for Chargebee).
	Nouns() (account, clock string)
	// InspectRequest returns the request of the dialect's API that
	// retrieves object id of kind (KindClock, KindCustomer,
	// KindSubscription, KindInvoice, KindPayment, KindCharge or KindEvent)
	// with key's credentials; nil when the API has no such route.
	InspectRequest(key, kind, id string) *http.Request
	// AdvanceRequest returns the request of the dialect's API that moves
	// clock to target (Unix seconds) with key's credentials.
	AdvanceRequest(key, clock string, target int64) *http.Request
}

// Dialects are the registered dialects, the default first.
func (rt *Runtime) Dialects() []Dialect { return append([]Dialect(nil), rt.dialects...) }

// AccountDialect is the dialect of account: the one it recorded at its
// first write, or for an account that recorded none, Stripe's.
func (rt *Runtime) AccountDialect(tx *store.Tx, account string) (Dialect, error) {
	return rt.dialectOf(tx, account)
}

// Clocks calls fn for every clock of the account, oldest first.
func (l *Ledger) Clocks(fn func(*billing.Clock) error) error {
	coll, err := l.Collection(ClocksCollection)
	if err != nil {
		return err
	}
	return coll.Each(func(_ string, data []byte) error {
		var c billing.Clock
		if err := json.Unmarshal(data, &c); err != nil {
			return err
		}
		return fn(&c)
	})
}

// onClock calls fn with every record of a collection whose "clock" field
// is clock, oldest first; the others are skipped without being decoded.
func (l *Ledger) onClock(collection, clock string, fn func(data []byte) error) error {
	coll, err := l.Collection(collection)
	if err != nil {
		return err
	}
	mark := []byte(`"clock":` + strconv.Quote(clock))
	return coll.Each(func(_ string, data []byte) error {
		if !bytes.Contains(data, mark) {
			return nil
		}
		return fn(data)
	})
}

// InvoicesOnClock calls fn for every invoice on clock, oldest first.
func (l *Ledger) InvoicesOnClock(clock string, fn func(*billing.Invoice) error) error {
	return l.onClock(InvoicesCollection, clock, func(data []byte) error {
		var inv billing.Invoice
		if err := json.Unmarshal(data, &inv); err != nil {
			return err
		}
		if inv.Clock != clock {
			return nil
		}
		return fn(&inv)
	})
}

// PaymentsOnClock calls fn for every payment on clock, oldest first.
func (l *Ledger) PaymentsOnClock(clock string, fn func(*billing.Payment) error) error {
	return l.onClock(PaymentsCollection, clock, func(data []byte) error {
		var p billing.Payment
		if err := json.Unmarshal(data, &p); err != nil {
			return err
		}
		if p.Clock != clock {
			return nil
		}
		return fn(&p)
	})
}

// ChargesOnClock calls fn for every charge (payment attempt) on clock,
// oldest first.
func (l *Ledger) ChargesOnClock(clock string, fn func(*billing.Charge) error) error {
	return l.onClock(ChargesCollection, clock, func(data []byte) error {
		var ch billing.Charge
		if err := json.Unmarshal(data, &ch); err != nil {
			return err
		}
		if ch.Clock != clock {
			return nil
		}
		return fn(&ch)
	})
}

// EachEvent calls fn with every stored event of the account, in the order
// they were recorded, with its id. The bytes are valid only during fn.
func (l *Ledger) EachEvent(fn func(id string, stored []byte) error) error {
	coll, err := l.Collection(EventsCollection)
	if err != nil {
		return err
	}
	return coll.Each(fn)
}
