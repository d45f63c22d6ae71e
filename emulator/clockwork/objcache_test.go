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

// TestDecodeCacheFollowsTheStore: an object read in one transaction is
// not decoded again in the next while its stored bytes are the same, and
// a change to them, by the ledger or behind its back (another writer, a
// transaction rolled back), is what the next read sees. What readers get
// is theirs to change.
func TestDecodeCacheFollowsTheStore(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "fk_")
	const key = "fk_test_cache"
	cust := &billing.Customer{ID: "cus_1", Created: 100, Email: "a@example.test", Metadata: map[string]string{"k": "v"}}
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return nil, l.PutCustomer(cust) })
	read := func() *billing.Customer {
		var c *billing.Customer
		view(t, rt, d, key, func(l *Ledger) error {
			var err error
			c, err = l.Customer("cus_1")
			return err
		})
		return c
	}
	first := read()
	assert.Equal(t, cust, first)
	k := decodeKey{key, CustomersCollection, "cus_1"}
	kept, ok := rt.objects.m[k]
	require.True(t, ok, "the decoded customer is kept")
	first.Metadata["k"] = "changed by a reader"
	first.Email = "changed@example.test"
	assert.Equal(t, cust, read(), "a reader's copy is its own")
	assert.Same(t, kept, rt.objects.m[k], "read again from the kept copy")

	// Written by a ledger.
	cust.Email = "b@example.test"
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return nil, l.PutCustomer(cust) })
	assert.Equal(t, "b@example.test", read().Email)

	// Written behind the ledger's back, as raw bytes.
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := l.Collection(CustomersCollection)
		if err != nil {
			return nil, err
		}
		return nil, c.Put("cus_1", 100, []byte(`{"id":"cus_1","created":100,"email":"raw@example.test"}`))
	})
	assert.Equal(t, &billing.Customer{ID: "cus_1", Created: 100, Email: "raw@example.test"}, read())

	// A transaction that read its own write and rolled back.
	err := rt.DB().Update(func(tx *store.Tx) error {
		l, err := rt.Ledger(tx, d, key, nil)
		require.NoError(t, err)
		c, err := l.Customer("cus_1")
		require.NoError(t, err)
		c.Email = "rolled-back@example.test"
		require.NoError(t, l.PutCustomer(c))
		coll, err := l.Collection(CustomersCollection)
		require.NoError(t, err)
		raw, err := coll.Get("cus_1")
		require.NoError(t, err)
		var decoded billing.Customer
		require.NoError(t, json.Unmarshal(raw, &decoded))
		rt.objects.keep(k, raw, &decoded) // as a later read in it would
		return fmt.Errorf("roll back")
	})
	require.Error(t, err)
	assert.Equal(t, "raw@example.test", read().Email)
}

// The cache keeps at most its budget of encodings, and concurrent readers
// and writers are safe (go test -race).
func TestDecodeCacheBudget(t *testing.T) {
	c := newDecodeCache(100)
	for i := range 50 {
		c.keep(decodeKey{"a", "c", fmt.Sprint(i)}, make([]byte, 10), i)
		assert.LessOrEqual(t, c.size, 100)
	}
	assert.Len(t, c.m, 10)
	c.keep(decodeKey{"a", "c", "big"}, make([]byte, 101), "too big")
	_, ok := c.lookup(decodeKey{"a", "c", "big"}, make([]byte, 101))
	assert.False(t, ok, "an encoding larger than the budget is not kept")
	c.keep(decodeKey{"a", "c", "49"}, []byte("0123456789"), "again")
	assert.LessOrEqual(t, c.size, 100)
	obj, ok := c.lookup(decodeKey{"a", "c", "49"}, []byte("0123456789"))
	assert.True(t, ok)
	assert.Equal(t, "again", obj)

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := decodeKey{"a", "c", fmt.Sprint((g + i) % 20)}
				c.keep(k, []byte(k.id), i)
				c.lookup(k, []byte(k.id))
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, c.size, 100)
}
