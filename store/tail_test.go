package store_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/store"
)

// appendRec appends a record stamped at.
func appendRec(t *testing.T, db *store.DB, id string, at int64) {
	t.Helper()
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		c := collection(t, tx)
		return c.Append(id, at, []byte("data-"+id))
	}))
}

func collection(t *testing.T, tx *store.Tx) *store.Collection {
	t.Helper()
	a, err := tx.Account("acct")
	require.NoError(t, err)
	c, err := a.Collection("events")
	require.NoError(t, err)
	return c
}

// tail reads every record after from, and the position after them.
func tail(t *testing.T, db *store.DB, from store.Position) ([]string, store.Position) {
	t.Helper()
	var ids []string
	var at store.Position
	require.NoError(t, db.View(func(tx *store.Tx) error {
		var err error
		at, err = collection(t, tx).Tail(from, func(id string, data []byte) (bool, error) {
			assert.Equal(t, "data-"+id, string(data))
			ids = append(ids, id)
			return true, nil
		})
		return err
	}))
	return ids, at
}

func TestTail(t *testing.T) {
	db := openTemp(t)

	// An empty (even missing) collection: nothing, and its end is the start.
	ids, at := tail(t, db, store.Position{})
	assert.Empty(t, ids)
	assert.Equal(t, store.Position{}, at)

	appendRec(t, db, "a", 100)
	appendRec(t, db, "b", 100)
	var end store.Position
	require.NoError(t, db.View(func(tx *store.Tx) error { end = collection(t, tx).End(); return nil }))

	ids, at = tail(t, db, store.Position{})
	assert.Equal(t, []string{"a", "b"}, ids)
	assert.Equal(t, end, at, "Tail ends at the end")

	// Only what is appended after the end, in insertion order, even with
	// an earlier stamp (the stamp never decreases).
	appendRec(t, db, "c", 50)
	appendRec(t, db, "d", 200)
	ids, at = tail(t, db, end)
	assert.Equal(t, []string{"c", "d"}, ids)
	ids, _ = tail(t, db, at)
	assert.Empty(t, ids)

	// A position survives the pruning of the records before and at it.
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		n, _, err := collection(t, tx).Prune(150, 10, nil)
		assert.Equal(t, 3, n) // a, b, c
		return err
	}))
	appendRec(t, db, "e", 300)
	ids, _ = tail(t, db, end)
	assert.Equal(t, []string{"d", "e"}, ids)

	// fn stops the walk; the position is after the last record it took.
	var stopAt store.Position
	require.NoError(t, db.View(func(tx *store.Tx) error {
		var err error
		stopAt, err = collection(t, tx).Tail(end, func(id string, _ []byte) (bool, error) { return id == "d", nil })
		return err
	}))
	ids, _ = tail(t, db, stopAt)
	assert.Equal(t, []string{"e"}, ids)
}

func TestOnCommit(t *testing.T) {
	db := openTemp(t)
	var ran atomic.Int32
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		tx.OnCommit(func() { ran.Add(1) })
		assert.Zero(t, ran.Load(), "ran before the commit")
		return nil
	}))
	assert.EqualValues(t, 1, ran.Load())

	// Not for a rolled back transaction, nor for a read-only one.
	boom := errors.New("boom")
	assert.ErrorIs(t, db.Update(func(tx *store.Tx) error {
		tx.OnCommit(func() { ran.Add(1) })
		return boom
	}), boom)
	require.NoError(t, db.View(func(tx *store.Tx) error {
		tx.OnCommit(func() { ran.Add(1) })
		return nil
	}))
	// Batch's transactions run them too.
	require.NoError(t, db.Batch(func(tx *store.Tx) error {
		tx.OnCommit(func() { ran.Add(1) })
		return nil
	}))
	assert.EqualValues(t, 2, ran.Load())
}
