package clockwork

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// storedInvoices lists the invoices of l as stored, newest first.
func storedInvoices(t testing.TB, l *Ledger) []billing.Invoice {
	t.Helper()
	c, err := l.Collection(InvoicesCollection)
	require.NoError(t, err)
	var out []billing.Invoice
	_, err = c.List(store.Page{Limit: 1000}, nil, func(raw []byte) error {
		var inv billing.Invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			return err
		}
		out = append(out, inv)
		return nil
	})
	require.NoError(t, err)
	return out
}

// TestHeldWritesReadAsWritten: what a ledger puts is held back and
// written once, yet every reader in the transaction, after it and at any
// later time sees each object as last put, and new objects list in the
// order they were first put, as when every put was written at once.
func TestHeldWritesReadAsWritten(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "fk_")
	const key = "fk_test_held"
	invoice := func(id string, status billing.InvoiceStatus) *billing.Invoice {
		return &billing.Invoice{ID: id, Customer: "cus_1", Created: 100, Status: status, Currency: "usd"}
	}
	// Many invoices of one created time, put in no particular order: they
	// list newest first, in the reverse of the order they were put in.
	// There are more than a transaction keeps (maxKept): the first ones
	// are written and forgotten on the way, and put again afterwards.
	const n = 2*maxKept + 17
	var many, manyListed []string
	for i := range n {
		id := fmt.Sprintf("in_%03d", (i*17)%n)
		many, manyListed = append(many, id), append([]string{id}, manyListed...)
	}
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		for _, id := range many {
			require.NoError(t, l.PutInvoice(invoice(id, billing.InvoiceDraft)))
		}
		for _, id := range many[:10] {
			inv, err := l.Invoice(id)
			require.NoError(t, err)
			assert.Equal(t, billing.InvoiceDraft, inv.Status)
			inv.Status = billing.InvoiceOpen
			require.NoError(t, l.PutInvoice(inv))
		}
		return nil, nil
	})
	view(t, rt, d, key, func(l *Ledger) error {
		var ids []string
		open := 0
		for _, inv := range storedInvoices(t, l) {
			ids = append(ids, inv.ID)
			if inv.Status == billing.InvoiceOpen {
				open++
			}
		}
		assert.Equal(t, manyListed, ids)
		assert.Equal(t, 10, open, "each as last put")
		return nil
	})
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		for _, id := range many {
			c, err := l.Collection(InvoicesCollection)
			require.NoError(t, err)
			require.NoError(t, c.Delete(id))
			l.invs.forget(id)
		}
		for _, id := range []string{"in_c", "in_a", "in_b"} {
			require.NoError(t, l.PutInvoice(invoice(id, billing.InvoiceDraft)))
		}
		require.NoError(t, l.PutInvoice(invoice("in_a", billing.InvoiceOpen)))
		got, err := l.Invoice("in_a")
		require.NoError(t, err)
		assert.Equal(t, billing.InvoiceOpen, got.Status, "read back as last put")

		// Another ledger of the account in the transaction reads it too,
		// and what it puts is what the first reads.
		other, err := rt.Ledger(l.tx, d, key, nil)
		require.NoError(t, err)
		got, err = other.Invoice("in_a")
		require.NoError(t, err)
		assert.Equal(t, billing.InvoiceOpen, got.Status)
		require.NoError(t, other.PutInvoice(invoice("in_b", billing.InvoicePaid)))
		got, err = l.Invoice("in_b")
		require.NoError(t, err)
		assert.Equal(t, billing.InvoicePaid, got.Status)

		// Reading the collection as stored writes what is held first.
		var ids []string
		for _, inv := range storedInvoices(t, l) {
			ids = append(ids, inv.ID+"="+string(inv.Status))
		}
		assert.Equal(t, []string{"in_b=paid", "in_a=open", "in_c=draft"}, ids,
			"newest first: the order they were first put in")

		require.NoError(t, l.PutInvoice(invoice("in_c", billing.InvoiceVoid)))
		require.NoError(t, l.PutInvoice(invoice("in_d", billing.InvoiceDraft)))
		return nil, nil
	})
	// Written as the transaction's function returned.
	view(t, rt, d, key, func(l *Ledger) error {
		var ids []string
		for _, inv := range storedInvoices(t, l) {
			ids = append(ids, inv.ID+"="+string(inv.Status))
		}
		assert.Equal(t, []string{"in_d=draft", "in_b=paid", "in_a=open", "in_c=void"}, ids)
		return nil
	})

	// A function that fails leaves nothing of what it held.
	err := rt.DB().Update(func(tx *store.Tx) error {
		l, err := rt.Ledger(tx, d, key, nil)
		require.NoError(t, err)
		require.NoError(t, l.PutInvoice(invoice("in_e", billing.InvoiceDraft)))
		return fmt.Errorf("the request failed")
	})
	require.EqualError(t, err, "the request failed")
	view(t, rt, d, key, func(l *Ledger) error {
		_, err := l.Invoice("in_e")
		assert.Error(t, err)
		return nil
	})

	// A read-only transaction refuses a put, as the store does.
	view(t, rt, d, key, func(l *Ledger) error {
		assert.ErrorContains(t, l.PutInvoice(invoice("in_f", billing.InvoiceDraft)), "read-only transaction")
		return nil
	})

	// Functions batched in one transaction: each one's writes are made as
	// it returns, and each sees the others'.
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = rt.DB().Batch(func(tx *store.Tx) error {
				l, err := rt.Ledger(tx, d, key, nil)
				if err != nil {
					return err
				}
				cust := &billing.Customer{ID: "cus_shared", Created: 100}
				if c, err := l.Customer("cus_shared"); err == nil {
					cust = c
				}
				cust.NextInvoiceSequence++
				return l.PutCustomer(cust)
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	view(t, rt, d, key, func(l *Ledger) error {
		c, err := l.Customer("cus_shared")
		require.NoError(t, err)
		assert.Equal(t, 10, c.NextInvoiceSequence, "no increment lost")
		return nil
	})
}

// A purge drops what is held with the rest.
func TestHeldWritesArePurged(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "fk_")
	const key = "fk_test_held_purge"
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		if err := l.PutCustomer(&billing.Customer{ID: "cus_1", Created: 100}); err != nil {
			return nil, err
		}
		return nil, l.PurgeCustomerData()
	})
	view(t, rt, d, key, func(l *Ledger) error {
		_, err := l.Customer("cus_1")
		assert.Error(t, err, "the purged customer is not written afterwards")
		return nil
	})
}
