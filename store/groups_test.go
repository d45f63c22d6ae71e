package store_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/billclock/billclock/store"
)

// things runs fn on the "things" collection of account "acct" in a
// read-write transaction.
func things(t *testing.T, db *store.DB, fn func(c *store.Collection) error) {
	t.Helper()
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		a, err := tx.Account("acct")
		if err != nil {
			return err
		}
		c, err := a.Collection("things")
		if err != nil {
			return err
		}
		return fn(c)
	}))
}

// listGroups lists q over "things" of account in a read-only transaction.
func listGroups(t *testing.T, db *store.DB, account string, q store.Query, p store.Page) ([]string, bool, error) {
	t.Helper()
	var ids []string
	var more bool
	err := db.View(func(tx *store.Tx) error {
		a, err := tx.Account(account)
		if err != nil {
			return err
		}
		c, err := a.Collection("things")
		if err != nil {
			return err
		}
		more, err = c.ListGroups(q, p, func(d []byte) error { ids = append(ids, string(d)); return nil })
		return err
	})
	return ids, more, err
}

func TestListGroups(t *testing.T) {
	db := openTemp(t)
	// Listing order (newest first): r4 r5 r2 r1 r0 r3, as in
	// TestListOrderAndCursors; tags are the record numbers.
	groups := map[string][]string{
		"r0": {"type:a"}, "r1": {"type:b"}, "r2": {"type:a", "type:ab"}, "r3": {"type:b"},
		"r4": {"type:a"}, "r5": nil,
	}
	things(t, db, func(c *store.Collection) error {
		for i, created := range []int64{100, 100, 100, -5, 200, 100} {
			id := fmt.Sprintf("r%d", i)
			require.NoError(t, c.Put(id, created, []byte(id)))
			require.NoError(t, c.SetGroups(id, int64(i), groups[id]...))
		}
		return nil
	})
	odd := func(tag int64) bool { return tag%2 == 1 }
	notR4 := func(d []byte) (bool, error) { return string(d) != "r4", nil }
	cases := []struct {
		name string
		q    store.Query
		page store.Page
		want []string
		more bool
	}{
		{"one group", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 10}, []string{"r4", "r2", "r0"}, false},
		{"first page", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 2}, []string{"r4", "r2"}, true},
		{"exact fit", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 3}, []string{"r4", "r2", "r0"}, false},
		{"union in listing order", store.Query{Groups: []string{"type:b", "type:a"}}, store.Page{Limit: 10},
			[]string{"r4", "r2", "r1", "r0", "r3"}, false},
		{"a record in two groups is listed once", store.Query{Groups: []string{"type:ab", "type:a", "type:a"}}, store.Page{Limit: 10},
			[]string{"r4", "r2", "r0"}, false},
		{"no such group", store.Query{Groups: []string{"type:zz"}}, store.Page{Limit: 10}, nil, false},
		{"no groups", store.Query{}, store.Page{Limit: 10}, nil, false},
		{"starting_after a member", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 10, StartingAfter: "r2"},
			[]string{"r0"}, false},
		{"starting_after a non-member", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 1, StartingAfter: "r5"},
			[]string{"r2"}, true},
		{"starting_after the oldest", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 10, StartingAfter: "r3"}, nil, false},
		{"starting_after past every member", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 10, StartingAfter: "r0"}, nil, false},
		{"ending_before a member", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 10, EndingBefore: "r0"},
			[]string{"r4", "r2"}, false},
		{"ending_before keeps the closest", store.Query{Groups: []string{"type:a", "type:b"}}, store.Page{Limit: 2, EndingBefore: "r3"},
			[]string{"r1", "r0"}, true},
		{"ending_before a non-member", store.Query{Groups: []string{"type:b"}}, store.Page{Limit: 10, EndingBefore: "r5"}, nil, false},
		{"ending_before the newest", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 10, EndingBefore: "r4"}, nil, false},
		{"tag filter", store.Query{Groups: []string{"type:a", "type:b"}, Tag: odd}, store.Page{Limit: 1},
			[]string{"r1"}, true},
		{"match filter", store.Query{Groups: []string{"type:a"}, Match: notR4}, store.Page{Limit: 10}, []string{"r2", "r0"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ids, more, err := listGroups(t, db, "acct", tc.q, tc.page)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ids)
			assert.Equal(t, tc.more, more)
		})
	}
	for _, p := range []store.Page{{Limit: 1, StartingAfter: "ghost"}, {Limit: 1, EndingBefore: "ghost"}} {
		_, _, err := listGroups(t, db, "acct", store.Query{Groups: []string{"type:a"}}, p)
		assert.ErrorIs(t, err, store.ErrNotFound, "an unknown cursor")
		_, _, err = listGroups(t, db, "acct", store.Query{}, p)
		assert.ErrorIs(t, err, store.ErrNotFound, "an unknown cursor, even with no group to walk")
		_, _, err = listGroups(t, db, "nobody", store.Query{Groups: []string{"type:a"}}, p)
		assert.ErrorIs(t, err, store.ErrNotFound, "an unknown cursor in an account that does not exist")
	}
	ids, more, err := listGroups(t, db, "nobody", store.Query{Groups: []string{"type:a"}}, store.Page{Limit: 3})
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.False(t, more)
	_, _, err = listGroups(t, db, "acct", store.Query{Groups: []string{"type:a"}}, store.Page{})
	assert.Error(t, err, "a limit is required")

	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		for prefix, want := range map[string][]string{
			"":           {"type:a", "type:ab", "type:b"},
			"type:a":     {"type:a", "type:ab"},
			"type:b":     {"type:b"},
			"type:c":     nil,
			"type:a\x00": nil,
		} {
			got, err := c.Groups(prefix)
			require.NoError(t, err)
			assert.Equal(t, want, got, "groups with prefix %q", prefix)
		}
		assert.True(t, c.Grouped("r0"))
		assert.False(t, c.Grouped("r5"))
		return nil
	}))
}

func TestSetGroupsReplacesAndDeleteLeaves(t *testing.T) {
	db := openTemp(t)
	things(t, db, func(c *store.Collection) error {
		for i := range 3 {
			id := fmt.Sprintf("r%d", i)
			require.NoError(t, c.Put(id, int64(i), []byte(id)))
			require.NoError(t, c.SetGroups(id, 0, "g1", "g2"))
		}
		require.NoError(t, c.SetGroups("r1", 0, "g3"), "replaces r1's groups")
		require.NoError(t, c.Delete("r2"))
		require.NoError(t, c.SetGroups("r0", 0), "no groups: leaves them all")
		assert.False(t, c.Grouped("r0"))
		require.NoError(t, c.Put("r1", 99, []byte("r1 v2")), "a replaced record keeps its groups")
		require.NoError(t, c.Put("r3", 3, []byte("r3")))
		require.NoError(t, c.SetGroups("r3", 0, ""), "the empty group name")
		return nil
	})
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		assert.True(t, c.Grouped("r3"), "read back in another transaction")
		return nil
	}))
	ids, _, err := listGroups(t, db, "acct", store.Query{Groups: []string{""}}, store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"r3"}, ids)
	things(t, db, func(c *store.Collection) error { return c.Delete("r3") })
	for g, want := range map[string][]string{"g1": nil, "g2": nil, "g3": {"r1 v2"}} {
		ids, _, err := listGroups(t, db, "acct", store.Query{Groups: []string{g}}, store.Page{Limit: 10})
		require.NoError(t, err)
		assert.Equal(t, want, ids, g)
	}
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		got, err := c.Groups("")
		assert.Equal(t, []string{"g3"}, got, "empty groups are gone")
		return err
	}))

	things(t, db, func(c *store.Collection) error {
		assert.ErrorIs(t, c.SetGroups("ghost", 0, "g1"), store.ErrNotFound)
		assert.ErrorContains(t, c.SetGroups("r1", 0, "bad\x00group"), "NUL")
		return nil
	})
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		assert.Error(t, c.SetGroups("r1", 0, "g1"), "read-only transaction")
		return nil
	}))
}

// TestListGroupsMatchesFilteredList checks ListGroups against List with a
// filter over random collections, groups, tags, deletions and pages.
func TestListGroupsMatchesFilteredList(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	groupNames := []string{"type:a", "type:b", "type:c", "type:d", "other"}
	for round := range 8 {
		db, err := store.Open(filepath.Join(t.TempDir(), "test.db"), &store.Options{NoSync: true})
		require.NoError(t, err)
		// The model: each record's groups and tag.
		member := map[string][]string{}
		tags := map[string]int64{}
		var ids []string
		things(t, db, func(c *store.Collection) error {
			for i := range 200 {
				id := fmt.Sprintf("r%03d", i)
				ids = append(ids, id)
				if err := c.Put(id, rng.Int64N(20)-5, []byte(id)); err != nil {
					return err
				}
				var gs []string
				for _, g := range groupNames {
					if rng.IntN(3) == 0 {
						gs = append(gs, g)
					}
				}
				member[id], tags[id] = gs, rng.Int64N(10)
				if err := c.SetGroups(id, tags[id], gs...); err != nil {
					return err
				}
			}
			for range 30 {
				id := ids[rng.IntN(len(ids))]
				if _, ok := member[id]; !ok {
					continue
				}
				if rng.IntN(2) == 0 {
					if err := c.Delete(id); err != nil {
						return err
					}
					delete(member, id)
					continue
				}
				gs := []string{groupNames[rng.IntN(len(groupNames))]}
				member[id], tags[id] = gs, rng.Int64N(10)
				if err := c.SetGroups(id, tags[id], gs...); err != nil {
					return err
				}
			}
			return nil
		})
		var live []string
		for _, id := range ids {
			if _, ok := member[id]; ok {
				live = append(live, id)
			}
		}
		for range 200 {
			var q store.Query
			for _, g := range groupNames {
				if rng.IntN(3) == 0 {
					q.Groups = append(q.Groups, g)
				}
			}
			if rng.IntN(2) == 0 {
				lo := rng.Int64N(10)
				q.Tag = func(tag int64) bool { return tag >= lo }
			}
			p := store.Page{Limit: 1 + rng.IntN(12)}
			switch rng.IntN(3) {
			case 1:
				p.StartingAfter = live[rng.IntN(len(live))]
			case 2:
				p.EndingBefore = live[rng.IntN(len(live))]
			}
			match := func(d []byte) (bool, error) {
				id := string(d)
				if q.Tag != nil && !q.Tag(tags[id]) {
					return false, nil
				}
				for _, g := range member[id] {
					if slices.Contains(q.Groups, g) {
						return true, nil
					}
				}
				return false, nil
			}
			var want []string
			var wantMore bool
			require.NoError(t, db.View(func(tx *store.Tx) error {
				a, _ := tx.Account("acct")
				c, _ := a.Collection("things")
				var err error
				wantMore, err = c.List(p, match, func(d []byte) error { want = append(want, string(d)); return nil })
				return err
			}))
			got, gotMore, err := listGroups(t, db, "acct", q, p)
			require.NoError(t, err)
			desc := fmt.Sprintf("round %d: groups %v, page %+v", round, q.Groups, p)
			require.Equal(t, want, got, desc)
			require.Equal(t, wantMore, gotMore, desc)
		}
		require.NoError(t, db.Close())
	}
}

func TestAppendListsInInsertionOrder(t *testing.T) {
	db := openTemp(t)
	// The clock goes back between the second and third record: the third
	// is stamped as the second, so it still lists after it.
	things(t, db, func(c *store.Collection) error {
		for i, at := range []int64{100, 200, 150, 300} {
			id := fmt.Sprintf("r%d", i)
			if err := c.Append(id, at, []byte(id)); err != nil {
				return err
			}
		}
		return c.Append("r1", 0, []byte("r1 v2")) // replaces in place
	})
	ids, _, err := list(t, db, "acct", "things", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"r3", "r2", "r1 v2", "r0"}, ids)

	// The third record was stamped 200, so pruning before 201 takes it.
	things(t, db, func(c *store.Collection) error {
		n, more, err := c.Prune(201, 10, nil)
		assert.Equal(t, 3, n)
		assert.False(t, more)
		return err
	})
	ids, _, err = list(t, db, "acct", "things", store.Page{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{"r3"}, ids)
}

func TestPrune(t *testing.T) {
	db := openTemp(t)
	things(t, db, func(c *store.Collection) error {
		for i := range 10 {
			id := fmt.Sprintf("r%d", i)
			if err := c.Append(id, int64(100+i), []byte(id)); err != nil {
				return err
			}
			if err := c.SetGroups(id, 0, "all"); err != nil {
				return err
			}
		}
		return nil
	})
	prune := func(before int64, limit int, keep func(string, []byte) (bool, error)) (n int, more bool) {
		things(t, db, func(c *store.Collection) error {
			var err error
			n, more, err = c.Prune(before, limit, keep)
			return err
		})
		return n, more
	}
	remaining := func() []string {
		ids, _, err := listGroups(t, db, "acct", store.Query{Groups: []string{"all"}}, store.Page{Limit: 100})
		require.NoError(t, err)
		plain, _, err := list(t, db, "acct", "things", store.Page{Limit: 100})
		require.NoError(t, err)
		require.Equal(t, plain, ids, "pruned records leave their groups")
		return ids
	}

	n, more := prune(100, 5, nil)
	assert.Equal(t, 0, n, "nothing is older than 100")
	assert.False(t, more)

	n, more = prune(106, 2, nil)
	assert.Equal(t, 2, n, "the limit bounds one call")
	assert.True(t, more)
	assert.Equal(t, []string{"r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2"}, remaining(), "oldest first")

	keepR3 := func(id string, data []byte) (bool, error) { return id == "r3" && string(data) == "r3", nil }
	n, more = prune(106, 10, keepR3)
	assert.Equal(t, 3, n)
	assert.False(t, more, "stops at the first record young enough")
	assert.Equal(t, []string{"r9", "r8", "r7", "r6", "r3"}, remaining())

	n, more = prune(107, 1, keepR3)
	assert.Equal(t, 0, n, "a kept record counts against the limit")
	assert.True(t, more)

	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, _ := tx.Account("acct")
		c, _ := a.Collection("things")
		_, _, err := c.Prune(1000, 10, nil)
		assert.Error(t, err, "read-only transaction")
		none, _ := tx.Account("nobody")
		c, _ = none.Collection("things")
		n, _, err := c.Prune(1000, 10, nil)
		assert.Zero(t, n)
		return err
	}))
}

func TestScan(t *testing.T) {
	db := openTemp(t)
	things(t, db, func(c *store.Collection) error {
		for i, created := range []int64{5, 1, 3} {
			id := "r" + strconv.Itoa(i)
			if err := c.Put(id, created, []byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	scan := func(after string, n int) ([]string, error) {
		var got []string
		err := db.View(func(tx *store.Tx) error {
			a, _ := tx.Account("acct")
			c, _ := a.Collection("things")
			return c.Scan(after, func(id string, data []byte) (bool, error) {
				got = append(got, id+"="+string(data))
				return len(got) < n, nil
			})
		})
		return got, err
	}
	got, err := scan("", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"r1=r1", "r2=r2", "r0=r0"}, got, "oldest first")
	got, err = scan("r1", 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"r2=r2"}, got, "after a cursor, until fn says stop")
	got, err = scan("r0", 10)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = scan("ghost", 10)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestMeta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := store.Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		assert.Nil(t, tx.Meta("migration"))
		return tx.SetMeta("migration", []byte("done"))
	}))
	require.NoError(t, db.Close())
	db, err = store.Open(path, nil)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *store.Tx) error {
		assert.Equal(t, "done", string(tx.Meta("migration")))
		assert.Error(t, tx.SetMeta("other", []byte("x")), "read-only transaction")
		return nil
	}))
}

// BenchmarkListGroupsRare lists a group holding 20 of 200,000 records.
func BenchmarkListGroupsRare(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), &store.Options{NoSync: true})
	require.NoError(b, err)
	defer db.Close()
	const n = 200_000
	for start := 0; start < n; start += 10_000 {
		require.NoError(b, db.Update(func(tx *store.Tx) error {
			a, _ := tx.Account("acct")
			c, _ := a.Collection("things")
			for i := start; i < start+10_000; i++ {
				id := "r" + strconv.Itoa(i)
				if err := c.Append(id, int64(i), []byte(strings.Repeat("x", 100))); err != nil {
					return err
				}
				g := "type:common" + strconv.Itoa(i%5)
				if i%(n/20) == 0 {
					g = "type:rare"
				}
				if err := c.SetGroups(id, int64(i), g); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	for b.Loop() {
		require.NoError(b, db.View(func(tx *store.Tx) error {
			a, _ := tx.Account("acct")
			c, _ := a.Collection("things")
			_, err := c.ListGroups(store.Query{Groups: []string{"type:rare"}}, store.Page{Limit: 10}, func([]byte) error { return nil })
			return err
		}))
	}
}

// AppendGrouped leaves the database exactly as Append then SetGroups do,
// byte for byte, for new records and for ones it replaces.
func TestAppendGroupedIsAppendThenSetGroups(t *testing.T) {
	type op struct {
		id     string
		at     int64
		tag    int64
		groups []string
	}
	ops := []op{
		{"e1", 100, 7, []string{"all", "type:a"}},
		{"e2", 90, 8, []string{"all", "type:b"}}, // the clock went back
		{"e3", 300, 9, nil},
		{"e1", 400, 10, []string{"all", "type:c"}}, // replaced: leaves type:a
		{"e4", 500, 11, []string{"all", "type:a", "type:ab"}},
		{"e2", 0, 12, nil}, // replaced: leaves every group
	}
	dump := func(grouped bool) string {
		path := filepath.Join(t.TempDir(), "test.db")
		db, err := store.Open(path, nil)
		require.NoError(t, err)
		for _, o := range ops {
			things(t, db, func(c *store.Collection) error {
				data := []byte(fmt.Sprintf("%s@%d", o.id, o.at))
				if grouped {
					return c.AppendGrouped(o.id, o.at, data, o.tag, o.groups...)
				}
				if err := c.Append(o.id, o.at, data); err != nil {
					return err
				}
				return c.SetGroups(o.id, o.tag, o.groups...)
			})
		}
		require.NoError(t, db.Close())
		return dumpFile(t, path)
	}
	want := dump(false)
	assert.Contains(t, want, "type:ab")
	assert.Equal(t, want, dump(true))

	db := openTemp(t)
	things(t, db, func(c *store.Collection) error {
		assert.ErrorContains(t, c.AppendGrouped("x", 1, []byte("x"), 0, "a\x00b"), "contains NUL")
		assert.False(t, c.Grouped("x"), "a bad group name stores nothing")
		return nil
	})
}

// dumpFile lists every bucket, key and value of the bbolt file at path, in
// order, with bucket sequences.
func dumpFile(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	var out strings.Builder
	var walk func(prefix string, b *bolt.Bucket)
	walk = func(prefix string, b *bolt.Bucket) {
		fmt.Fprintf(&out, "%s seq=%d\n", prefix, b.Sequence())
		require.NoError(t, b.ForEach(func(k, v []byte) error {
			if v == nil {
				walk(fmt.Sprintf("%s/%q", prefix, k), b.Bucket(k))
				return nil
			}
			fmt.Fprintf(&out, "%s %q = %q\n", prefix, k, v)
			return nil
		}))
	}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			walk(fmt.Sprintf("%q", name), b)
			return nil
		})
	}))
	return out.String()
}
