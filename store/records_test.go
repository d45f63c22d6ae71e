package store_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/store"
)

// TestRecordsInListingOrder: Records visits every record once, and its
// positions sort the records as List lists them, ties at one created time
// included, and whatever their ids.
func TestRecordsInListingOrder(t *testing.T) {
	db := openTemp(t)
	for _, rec := range []struct {
		id      string
		created int64
	}{{"z1", 100}, {"a2", 300}, {"m3", 200}, {"b4", 300}, {"y5", -5}, {"c6", 300}} {
		put(t, db, "acct", "things", rec.id, rec.created)
	}
	// Replacing a record keeps its place.
	put(t, db, "acct", "things", "z1", 999)
	want, _, err := list(t, db, "acct", "things", store.Page{Limit: 100})
	require.NoError(t, err)

	type seen struct{ pos, id string }
	var got []seen
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, err := tx.Account("acct")
		if err != nil {
			return err
		}
		c, err := a.Collection("things")
		if err != nil {
			return err
		}
		return c.Records(func(pos, data []byte) error {
			got = append(got, seen{string(pos), string(data)})
			return nil
		})
	}))
	slices.SortFunc(got, func(a, b seen) int { return bytes.Compare([]byte(b.pos), []byte(a.pos)) })
	var ids []string
	for _, s := range got {
		ids = append(ids, s.id)
	}
	assert.Equal(t, want, ids)
	assert.Equal(t, []string{"c6", "b4", "a2", "m3", "z1", "y5"}, ids)

	// A collection never written to has no records.
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, err := tx.Account("acct")
		if err != nil {
			return err
		}
		c, err := a.Collection("nothing")
		if err != nil {
			return err
		}
		return c.Records(func([]byte, []byte) error { t.Error("a record in an empty collection"); return nil })
	}))
}
