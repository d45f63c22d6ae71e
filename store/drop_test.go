package store_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/store"
)

// TestDrop: a dropped collection, index or timeline reads as empty, in the
// same transaction and after the commit, and is made anew by its next
// write; other collections and other accounts keep theirs.
func TestDrop(t *testing.T) {
	db := openTemp(t)
	for _, acct := range []string{"acct", "other"} {
		put(t, db, acct, "customers", "cus_1", 1)
		put(t, db, acct, "products", "prod_1", 1)
	}
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		x, err := a.Index("by_clock")
		require.NoError(t, err)
		require.NoError(t, x.Add("c1", "cus_1"))
		tl, err := a.Timeline()
		require.NoError(t, err)
		require.NoError(t, tl.Add("c1", 10, []byte("task")))
		c, err := a.Collection("customers")
		require.NoError(t, err)
		require.NoError(t, c.SetGroups("cus_1", 0, "g"))
		return nil
	}))
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		require.NoError(t, a.DropCollection("customers"))
		require.NoError(t, a.DropIndex("by_clock"))
		require.NoError(t, a.DropTimeline())
		require.NoError(t, a.DropCollection("never_made"), "dropping what does not exist is no error")
		c, err := a.Collection("customers")
		require.NoError(t, err)
		_, err = c.Get("cus_1")
		assert.ErrorIs(t, err, store.ErrNotFound, "gone within the transaction")
		return c.Put("cus_2", 2, []byte("cus_2"))
	}))
	ids, _, err := list(t, db, "acct", "customers", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"cus_2"}, ids, "made anew by its next write")
	ids, _, err = list(t, db, "acct", "products", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"prod_1"}, ids, "other collections are kept")
	ids, _, err = list(t, db, "other", "customers", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"cus_1"}, ids, "other accounts are kept")
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		x, err := a.Index("by_clock")
		require.NoError(t, err)
		got, err := x.IDs("c1")
		require.NoError(t, err)
		assert.Empty(t, got)
		tl, err := a.Timeline()
		require.NoError(t, err)
		_, ok := tl.Next("c1")
		assert.False(t, ok)
		assert.Error(t, a.DropCollection("products"), "a read-only transaction drops nothing")
		return nil
	}))
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		tl, err := a.Timeline()
		require.NoError(t, err)
		require.NoError(t, tl.Add("c1", 20, []byte("again")))
		x, err := a.Index("by_clock")
		require.NoError(t, err)
		return x.Add("c1", "cus_2")
	}))
}
