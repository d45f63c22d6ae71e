package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/store"
)

func openTemp(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "test.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func put(t *testing.T, db *store.DB, account, coll, id string, created int64) {
	t.Helper()
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		a, err := tx.Account(account)
		if err != nil {
			return err
		}
		c, err := a.Collection(coll)
		if err != nil {
			return err
		}
		return c.Put(id, created, []byte(id))
	}))
}

func list(t *testing.T, db *store.DB, account, coll string, p store.Page) ([]string, bool, error) {
	t.Helper()
	var ids []string
	var more bool
	err := db.View(func(tx *store.Tx) error {
		a, err := tx.Account(account)
		if err != nil {
			return err
		}
		c, err := a.Collection(coll)
		if err != nil {
			return err
		}
		more, err = c.List(p, nil, func(d []byte) error { ids = append(ids, string(d)); return nil })
		return err
	})
	return ids, more, err
}

func TestGetPutDelete(t *testing.T) {
	db := openTemp(t)
	put(t, db, "acct", "things", "a", 10)
	put(t, db, "acct", "things", "a", 99) // replace keeps place and takes new data
	err := db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		v, err := c.Get("a")
		require.NoError(t, err)
		assert.Equal(t, "a", string(v))
		_, err = c.Get("nope")
		assert.ErrorIs(t, err, store.ErrNotFound)
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		require.NoError(t, c.Delete("a"))
		assert.ErrorIs(t, c.Delete("a"), store.ErrNotFound)
		return nil
	}))
	ids, more, err := list(t, db, "acct", "things", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.False(t, more)
}

func TestAccountsAreIsolated(t *testing.T) {
	db := openTemp(t)
	put(t, db, "one", "things", "a", 1)
	ids, _, err := list(t, db, "two", "things", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, ids)
	_, _, err = list(t, db, "two", "things", store.Page{Limit: 10, StartingAfter: "a"})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestListOrderAndCursors(t *testing.T) {
	db := openTemp(t)
	// Six records, several sharing a created second, one in the distant past
	// and one before 1970: newest first, ties in insertion order reversed.
	for i, created := range []int64{100, 100, 100, -5, 200, 100} {
		put(t, db, "acct", "things", fmt.Sprintf("r%d", i), created)
	}
	all := []string{"r4", "r5", "r2", "r1", "r0", "r3"}

	cases := []struct {
		name string
		page store.Page
		want []string
		more bool
	}{
		{"first page", store.Page{Limit: 2}, all[:2], true},
		{"all", store.Page{Limit: 10}, all, false},
		{"exact fit", store.Page{Limit: 6}, all, false},
		{"starting_after", store.Page{Limit: 2, StartingAfter: "r5"}, []string{"r2", "r1"}, true},
		{"starting_after to end", store.Page{Limit: 5, StartingAfter: "r1"}, []string{"r0", "r3"}, false},
		{"starting_after last", store.Page{Limit: 5, StartingAfter: "r3"}, nil, false},
		{"ending_before", store.Page{Limit: 2, EndingBefore: "r0"}, []string{"r2", "r1"}, true},
		{"ending_before to start", store.Page{Limit: 5, EndingBefore: "r2"}, []string{"r4", "r5"}, false},
		{"ending_before first", store.Page{Limit: 5, EndingBefore: "r4"}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ids, more, err := list(t, db, "acct", "things", tc.page)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ids)
			assert.Equal(t, tc.more, more)
		})
	}
	_, _, err := list(t, db, "acct", "things", store.Page{Limit: 2, StartingAfter: "ghost"})
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = list(t, db, "acct", "things", store.Page{Limit: 2, EndingBefore: "ghost"})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestListFilter(t *testing.T) {
	db := openTemp(t)
	for i := range 10 {
		put(t, db, "acct", "things", fmt.Sprintf("r%d", i), int64(i))
	}
	var ids []string
	var more bool
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		var err error
		even := func(d []byte) (bool, error) { return (d[1]-'0')%2 == 0, nil }
		more, err = c.List(store.Page{Limit: 3}, even, func(d []byte) error { ids = append(ids, string(d)); return nil })
		return err
	}))
	assert.Equal(t, []string{"r8", "r6", "r4"}, ids)
	assert.True(t, more)
}

func TestSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := store.Open(path, nil)
	require.NoError(t, err)
	put(t, db, "acct", "things", "a", 1)
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		q, err := tx.Queue("jobs")
		if err != nil {
			return err
		}
		return q.Put("k", []byte("job"))
	}))
	require.NoError(t, db.Close())

	db, err = store.Open(path, nil)
	require.NoError(t, err)
	defer db.Close()
	ids, _, err := list(t, db, "acct", "things", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, ids)
	require.NoError(t, db.View(func(tx *store.Tx) error {
		q, _ := tx.Queue("jobs")
		v, err := q.Get("k")
		assert.Equal(t, "job", string(v))
		return err
	}))
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := store.Open(path, nil)
	require.NoError(t, err)
	defer db.Close()
	start := time.Now()
	_, err = store.Open(path, &store.Options{LockTimeout: 200 * time.Millisecond})
	assert.ErrorIs(t, err, store.ErrLocked)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestBatchCommitsConcurrentWrites(t *testing.T) {
	db := openTemp(t)
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Batch(func(tx *store.Tx) error {
				a, err := tx.Account("acct")
				if err != nil {
					return err
				}
				c, err := a.Collection("things")
				if err != nil {
					return err
				}
				if i%10 == 0 {
					// A failing call must not take the others down, nor
					// leave its own write behind.
					if err := c.Put(fmt.Sprintf("bad%d", i), 0, nil); err != nil {
						return err
					}
					return fmt.Errorf("call %d fails", i)
				}
				return c.Put(fmt.Sprintf("r%d", i), int64(i), []byte("x"))
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i%10 == 0 {
			assert.EqualError(t, err, fmt.Sprintf("call %d fails", i))
		} else {
			assert.NoError(t, err)
		}
	}
	ids, _, err := list(t, db, "acct", "things", store.Page{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, ids, 90)
	var count int
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		return c.Each(func(id string, _ []byte) error {
			if id[0] == 'b' {
				return errors.New("failed call left a write: " + id)
			}
			count++
			return nil
		})
	}))
	assert.Equal(t, 90, count)
}

func TestIndex(t *testing.T) {
	db := openTemp(t)
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		x, err := a.Index("by_clock")
		require.NoError(t, err)
		for _, id := range []string{"c", "a", "b"} {
			require.NoError(t, x.Add("clock_1", id))
		}
		require.NoError(t, x.Add("clock_1", "c"), "re-adding keeps the first place")
		require.NoError(t, x.Add("clock_10", "z"))
		require.NoError(t, x.Add("", "w"))
		require.NoError(t, x.Remove("clock_1", "a"))
		require.NoError(t, x.Remove("clock_1", "missing"))
		return nil
	}))
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		x, _ := a.Index("by_clock")
		ids, err := x.IDs("clock_1")
		require.NoError(t, err)
		assert.Equal(t, []string{"c", "b"}, ids)
		ids, _ = x.IDs("")
		assert.Equal(t, []string{"w"}, ids)
		ids, _ = x.IDs("clock_")
		assert.Empty(t, ids)
		none, _ := tx.Account("other")
		y, err := none.Index("by_clock")
		require.NoError(t, err)
		ids, _ = y.IDs("clock_1")
		assert.Empty(t, ids)
		return nil
	}))
}

func TestTimeline(t *testing.T) {
	db := openTemp(t)
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		tl, err := a.Timeline()
		require.NoError(t, err)
		for _, e := range []struct {
			clock string
			at    int64
			p     string
		}{{"c1", 200, "late"}, {"c1", 100, "first"}, {"c1", 100, "second"}, {"c1", -50, "past"}, {"c2", 10, "other clock"}, {"", 5, "wall"}} {
			require.NoError(t, tl.Add(e.clock, e.at, []byte(e.p)))
		}
		next, ok := tl.Next("c1")
		assert.True(t, ok)
		assert.EqualValues(t, -50, next)
		var got []string
		for {
			p, ok, err := tl.PopDue("c1", 150)
			require.NoError(t, err)
			if !ok {
				break
			}
			got = append(got, string(p))
		}
		assert.Equal(t, []string{"past", "first", "second"}, got)
		next, ok = tl.Next("c1")
		assert.True(t, ok)
		assert.EqualValues(t, 200, next)
		require.NoError(t, tl.Clear("c1"))
		_, ok = tl.Next("c1")
		assert.False(t, ok)
		p, ok, _ := tl.PopDue("c2", 10)
		assert.True(t, ok)
		assert.Equal(t, "other clock", string(p))
		p, ok, _ = tl.PopDue("", 100)
		assert.True(t, ok)
		assert.Equal(t, "wall", string(p))
		return nil
	}))
}

func TestQueueGroups(t *testing.T) {
	db := openTemp(t)
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		q, err := tx.Queue("deliveries")
		require.NoError(t, err)
		for _, e := range []struct{ group, v string }{{"a\x00we_2", "a2-1"}, {"a\x00we_1", "a1-1"}, {"a\x00we_2", "a2-2"},
			{"a\x00we_1", "a1-2"}, {"b\x00we_1", "b1-1"}, {"a\x00we_10", "a10-1"}} {
			_, err := q.Append(e.group, []byte(e.v))
			require.NoError(t, err)
		}
		var heads []string
		var firstKey string
		require.NoError(t, q.Heads(func(group, key string, v []byte) error {
			heads = append(heads, group+"="+string(v))
			if firstKey == "" {
				firstKey = key
			}
			return nil
		}))
		assert.Equal(t, []string{"a\x00we_1=a1-1", "a\x00we_10=a10-1", "a\x00we_2=a2-1", "b\x00we_1=b1-1"}, heads)
		require.NoError(t, q.Delete(firstKey))
		heads = nil
		require.NoError(t, q.Heads(func(group, key string, v []byte) error {
			heads = append(heads, string(v))
			return nil
		}))
		assert.Equal(t, []string{"a1-2", "a10-1", "a2-1", "b1-1"}, heads, "removing a head exposes the next in its group")

		key, v, err := q.Head("a\x00we_1")
		require.NoError(t, err)
		assert.Equal(t, "a1-2", string(v))
		raw, err := q.Get(key)
		require.NoError(t, err)
		assert.Equal(t, "a1-2", string(raw))
		_, v, err = q.Head("a\x00we_10")
		require.NoError(t, err)
		assert.Equal(t, "a10-1", string(v))
		require.NoError(t, q.Delete(key))
		_, _, err = q.Head("a\x00we_1")
		assert.ErrorIs(t, err, store.ErrNotFound, "emptied group")
		_, _, err = q.Head("a\x00we_3")
		assert.ErrorIs(t, err, store.ErrNotFound, "unknown group")
		return nil
	}))
}

func TestBatchSurvivesAPanickingCall(t *testing.T) {
	db := openTemp(t)
	err := db.Batch(func(tx *store.Tx) error { panic("boom") })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "panic in transaction: boom")
	assert.ErrorIs(t, err, store.ErrPanicked)
	require.NoError(t, db.Batch(func(tx *store.Tx) error {
		a, err := tx.Account("acct")
		if err != nil {
			return err
		}
		c, err := a.Collection("things")
		if err != nil {
			return err
		}
		return c.Put("after", 1, []byte("x"))
	}), "the commit loop goes on after a panic")
}

func TestBeforeCommitFailureRollsBackEveryWriter(t *testing.T) {
	diskFull := errors.New("write: no space left on device")
	var fail sync.Map
	db, err := store.Open(filepath.Join(t.TempDir(), "test.db"), &store.Options{BeforeCommit: func() error {
		if _, ok := fail.Load("on"); ok {
			return diskFull
		}
		return nil
	}})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	fail.Store("on", true)
	write := func(id string) error {
		return db.Update(func(tx *store.Tx) error {
			a, err := tx.Account("acct")
			if err != nil {
				return err
			}
			c, err := a.Collection("things")
			if err != nil {
				return err
			}
			return c.Put(id, 1, []byte(id))
		})
	}
	require.ErrorIs(t, write("a"), diskFull)
	require.ErrorIs(t, db.Batch(func(tx *store.Tx) error {
		a, err := tx.Account("acct")
		if err != nil {
			return err
		}
		c, err := a.Collection("things")
		if err != nil {
			return err
		}
		return c.Put("b", 1, []byte("b"))
	}), diskFull)
	ids, _, err := list(t, db, "acct", "things", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, ids, "a failed commit leaves nothing behind")

	fail.Delete("on")
	require.NoError(t, write("c"))
	ids, _, err = list(t, db, "acct", "things", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"c"}, ids)
}

// A transaction's locals are shared by everything that uses it, and its
// OnDone functions run as each function given it returns without error,
// before the commit; one that fails fails that function alone.
func TestTxLocalsAndOnDone(t *testing.T) {
	db := openTemp(t)
	type key struct{}
	// held writes the records a function held back, in its transaction.
	held := func(tx *store.Tx) *[]string {
		return tx.Local(key{}, func() any {
			pending := &[]string{}
			tx.OnDone(func() error {
				defer func() { *pending = nil }()
				a, err := tx.Account("acct")
				if err != nil {
					return err
				}
				c, err := a.Collection("things")
				if err != nil {
					return err
				}
				for _, id := range *pending {
					if id == "bad" {
						return fmt.Errorf("cannot write %s", id)
					}
					if err := c.Put(id, 1, []byte(id)); err != nil {
						return err
					}
				}
				return nil
			})
			return pending
		}).(*[]string)
	}
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		*held(tx) = append(*held(tx), "u1")
		*held(tx) = append(*held(tx), "u2")
		assert.Len(t, *held(tx), 2, "one value per key and transaction")
		return nil
	}))
	assert.EqualError(t, db.Update(func(tx *store.Tx) error {
		*held(tx) = append(*held(tx), "bad")
		return nil
	}), "cannot write bad")
	assert.EqualError(t, db.Update(func(tx *store.Tx) error {
		*held(tx) = append(*held(tx), "u3")
		return errors.New("the function failed")
	}), "the function failed")

	// In a batch, each function's held writes are made before the next
	// one runs; a function whose OnDone fails is rolled back alone.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Batch(func(tx *store.Tx) error {
				if i == 7 {
					*held(tx) = append(*held(tx), "bad")
					return nil
				}
				*held(tx) = append(*held(tx), fmt.Sprintf("b%02d", i))
				if len(*held(tx)) != 1 {
					return fmt.Errorf("an earlier function's writes are still held: %v", *held(tx))
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i == 7 {
			assert.EqualError(t, err, "cannot write bad")
		} else {
			assert.NoError(t, err, i)
		}
	}
	ids, _, err := list(t, db, "acct", "things", store.Page{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, ids, 21, "u1, u2 and 19 of the batch")
	assert.NotContains(t, ids, "bad")
	assert.NotContains(t, ids, "u3")
}

// A read transaction under way does not hold up a write that grows the
// file (bbolt maps a growing file anew, which waits for every reader,
// unless the file was mapped large enough from the start).
func TestGrowingWriteDoesNotWaitForReaders(t *testing.T) {
	db := openTemp(t)
	reading, release := make(chan struct{}), make(chan struct{})
	readDone := make(chan error, 1)
	go func() {
		readDone <- db.View(func(tx *store.Tx) error {
			close(reading)
			<-release
			return nil
		})
	}()
	<-reading
	written := make(chan error, 1)
	go func() {
		value := make([]byte, 64<<10)
		for i := range 8 { // about 32 MiB over 8 commits
			if err := db.Update(func(tx *store.Tx) error {
				a, err := tx.Account("acct")
				if err != nil {
					return err
				}
				c, err := a.Collection("big")
				if err != nil {
					return err
				}
				for j := range 64 {
					if err := c.Put(fmt.Sprintf("r%d-%d", i, j), 1, value); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	select {
	case err := <-written:
		close(release)
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Error("the writes waited for the read transaction to end")
		close(release)
		require.NoError(t, <-written)
	}
	require.NoError(t, <-readDone)
}
