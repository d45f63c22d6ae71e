package clockwork

import (
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// txObjects is what the ledgers of one account share in one transaction:
// the objects decoded or stored in it (see decoded), and the writes held
// back. A renewal collected at once puts its invoice three times (a draft,
// finalized, then paid) and its payment and invoice payment twice; each
// is written once, as it last stood, when the function given the
// transaction returns (store.Tx.OnDone), or as soon as anything reads its
// collection's records as stored (Ledger.Collection). Reads of one object
// never wait for that: what is held is kept, and handed out from there.
//
// New objects of a collection are written in the order they were first
// put, so they are listed as if each had been written at once.
type txObjects struct {
	acct     *store.Account
	custs    decoded[billing.Customer]
	subs     decoded[billing.Subscription]
	invs     decoded[billing.Invoice]
	pms      decoded[billing.PaymentMethod]
	payments decoded[billing.Payment]
	charges  decoded[billing.Charge]
	invPays  decoded[billing.InvoicePayment]
	// clocks are written at once: advances and requests read them as
	// stored, and they change a few times per transaction at most.
	clocks decoded[billing.Clock]
}

// held is a collection's held writes.
type held interface {
	holding() bool
	write(c *store.Collection) error
	clear()
}

type txObjectsKey struct{ account string }

// objectsOf returns the txObjects of account (acct) in tx; in a writable
// transaction they write what they hold when each function given tx
// returns.
func objectsOf(tx *store.Tx, acct *store.Account, account string) *txObjects {
	return tx.Local(txObjectsKey{account}, func() any {
		o := &txObjects{acct: acct,
			custs:    decoded[billing.Customer]{coll: CustomersCollection, kind: KindCustomer, copy: copyCustomer},
			subs:     decoded[billing.Subscription]{coll: SubscriptionsCollection, kind: KindSubscription, copy: copySubscription},
			invs:     decoded[billing.Invoice]{coll: InvoicesCollection, kind: KindInvoice, copy: copyInvoice},
			pms:      decoded[billing.PaymentMethod]{coll: PaymentMethodsCollection, kind: KindPaymentMethod, copy: copyPaymentMethod},
			payments: decoded[billing.Payment]{coll: PaymentsCollection, kind: KindPayment, copy: copyPayment},
			charges:  decoded[billing.Charge]{coll: ChargesCollection, kind: KindCharge, copy: copyCharge},
			invPays:  decoded[billing.InvoicePayment]{coll: InvoicePaymentsCollection, kind: KindInvoicePayment, copy: copyInvoicePayment},
			clocks:   decoded[billing.Clock]{coll: ClocksCollection, kind: KindClock, copy: copyClock}}
		if tx.Writable() {
			tx.OnDone(o.writeAll)
		}
		return o
	}).(*txObjects)
}

// heldIn returns the held writes of collection name, or nil for a
// collection whose writes are never held.
func (o *txObjects) heldIn(name string) held {
	switch name {
	case CustomersCollection:
		return &o.custs
	case SubscriptionsCollection:
		return &o.subs
	case InvoicesCollection:
		return &o.invs
	case PaymentMethodsCollection:
		return &o.pms
	case PaymentsCollection:
		return &o.payments
	case ChargesCollection:
		return &o.charges
	case InvoicePaymentsCollection:
		return &o.invPays
	}
	return nil
}

// heldCollections are the collections whose writes are held back.
var heldCollections = []string{CustomersCollection, SubscriptionsCollection, InvoicesCollection,
	PaymentMethodsCollection, PaymentsCollection, ChargesCollection, InvoicePaymentsCollection}

// writeAll writes every held object.
func (o *txObjects) writeAll() error {
	for _, name := range heldCollections {
		h := o.heldIn(name)
		if !h.holding() {
			continue
		}
		c, err := o.acct.Collection(name)
		if err != nil {
			return err
		}
		if err := h.write(c); err != nil {
			return err
		}
	}
	return nil
}

// forgetAll forgets every object kept or held: the collections they are
// in were dropped.
func (o *txObjects) forgetAll() {
	for _, name := range heldCollections {
		o.heldIn(name).clear()
	}
}

// hold puts v, object id of d's collection, in l's transaction: kept at
// once, written later (see txObjects). A read-only transaction refuses it,
// as the store would.
func hold[T any](l *Ledger, d *decoded[T], id string, created int64, v *T) error {
	if !l.tx.Writable() {
		return fmt.Errorf("store: put %s: read-only transaction", id)
	}
	if _, kept := d.m[id]; !kept {
		if err := d.trim(l); err != nil {
			return err
		}
	}
	d.put(id, created, v)
	return nil
}
