package clockwork

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/store"
)

// seedEvents stores n events of assorted types and created times with
// StoreEvent, in one transaction, and returns their ids oldest first.
func seedEvents(t testing.TB, rt *Runtime, d Dialect, account string, n int, types []string, rng *rand.Rand) []string {
	t.Helper()
	var ids []string
	update(t, rt, d, account, func(l *Ledger) (func(), error) {
		for range n {
			e := fakeEvent{ID: NewID("evt_", 24), Created: 1_700_000_000 + rng.Int64N(50), Type: types[rng.IntN(len(types))]}
			raw, err := json.Marshal(e)
			if err != nil {
				return nil, err
			}
			if err := l.StoreEvent(e.ID, e.Type, e.Created, raw); err != nil {
				return nil, err
			}
			ids = append(ids, e.ID)
		}
		return nil, nil
	})
	return ids
}

// createdRange is a filter on created: an exact value or gt/gte/lt/lte
// bounds (unset: nil), as Stripe's created filter.
type createdRange struct{ eq, gt, gte, lt, lte *int64 }

func (f createdRange) match(v int64) bool {
	switch {
	case f.eq != nil && v != *f.eq,
		f.gt != nil && v <= *f.gt, f.gte != nil && v < *f.gte,
		f.lt != nil && v >= *f.lt, f.lte != nil && v > *f.lte:
		return false
	}
	return true
}

func (f createdRange) filter() func(int64) bool {
	if f.eq == nil && f.gt == nil && f.gte == nil && f.lt == nil && f.lte == nil {
		return nil
	}
	return f.match
}

// listBoth lists a page of events that f selects twice: by decoding every
// event, as before the groups existed, and by ListEvents' group walk; it
// returns each page's ids with has_more.
func listBoth(t testing.TB, l *Ledger, f EventFilter, pg store.Page) (scan, walk []string) {
	t.Helper()
	require.True(t, GroupsReady(l.tx), "ListEvents walks the groups")
	events, err := l.Collection(EventsCollection)
	require.NoError(t, err)
	page := func(list func(emit func([]byte) error) (bool, error)) []string {
		var out []string
		more, err := list(func(raw []byte) error {
			var e fakeEvent
			require.NoError(t, json.Unmarshal(raw, &e))
			out = append(out, e.ID)
			return nil
		})
		require.NoError(t, err, "filter %+v, page %+v", f, pg)
		return append(out, fmt.Sprintf("has_more=%t", more))
	}
	scan = page(func(emit func([]byte) error) (bool, error) { return events.List(pg, l.eventMatcher(f), emit) })
	walk = page(func(emit func([]byte) error) (bool, error) { return l.ListEvents(f, pg, emit) })
	return scan, walk
}

// TestEventListByGroupsMatchesScan checks the group walks that answer
// filtered event lists against decoding every event, over random filters
// and pages.
func TestEventListByGroupsMatchesScan(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	require.NoError(t, rt.Prepare())
	const key = "tk_groups"
	rng := rand.New(rand.NewPCG(1, 2))
	ids := seedEvents(t, rt, d, key, 400, []string{"invoice.created", "invoice.paid", "invoiceitem.created", "customer.created",
		"customer.subscription.updated", "test_helpers.test_clock.ready", "price.created"}, rng)
	patterns := []string{"invoice.created", "invoice.paid", "invoice.*", "invoice*", "customer.*", "*", "no.such.type",
		"test_helpers.test_clock.ready", "price.created", "", "c*", "invoice.paid*"}
	bound := func() *int64 {
		if rng.IntN(3) > 0 {
			return nil
		}
		v := 1_700_000_000 + rng.Int64N(60) - 5
		return &v
	}
	nonEmpty := 0
	view(t, rt, d, key, func(l *Ledger) error {
		for range 600 {
			var f EventFilter
			for range rng.IntN(4) {
				f.Types = append(f.Types, patterns[rng.IntN(len(patterns))])
			}
			created := createdRange{gt: bound(), gte: bound(), lt: bound(), lte: bound()}
			if rng.IntN(8) == 0 {
				created = createdRange{eq: bound()}
			}
			f.Created = created.filter()
			pg := store.Page{Limit: 1 + rng.IntN(15)}
			switch rng.IntN(4) {
			case 1:
				pg.StartingAfter = ids[rng.IntN(len(ids))]
			case 2:
				pg.EndingBefore = ids[rng.IntN(len(ids))]
			}
			scan, walk := listBoth(t, l, f, pg)
			require.Equal(t, scan, walk, "types %q, created %+v, page %+v", f.Types, created, pg)
			if len(walk) > 1 {
				nonEmpty++
			}
		}
		return nil
	})
	assert.Greater(t, nonEmpty, 200, "the filters found something often enough to mean something")
}

// FuzzEventListFilters compares the group walks with decoding every event
// for arbitrary type patterns (any bytes), created bounds and pages.
func FuzzEventListFilters(f *testing.F) {
	for _, seed := range []string{"invoice.*", "invoice*,customer.created", "*", "no.such.type", "", "type:\x00*", "\xff*,a\x00b"} {
		f.Add(seed, int64(1_700_000_010), int64(1_700_000_040), uint8(10), uint16(0), uint8(0))
	}
	rt := newTestRuntime(f, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	require.NoError(f, rt.Prepare())
	const key = "tk_fuzz"
	// Stored types are valid UTF-8; the patterns may be any bytes.
	ids := seedEvents(f, rt, d, key, 300, []string{"invoice.created", "invoice.paid", "invoiceitem.created", "customer.created",
		"invoice"}, rand.New(rand.NewPCG(5, 6)))
	f.Fuzz(func(t *testing.T, patterns string, gte, lt int64, limit uint8, cursor uint16, dir uint8) {
		var types []string
		if patterns != "" {
			types = strings.Split(patterns, ",")
		}
		created := createdRange{gte: &gte, lt: &lt}
		pg := store.Page{Limit: 1 + int(limit)%100}
		switch dir % 3 {
		case 1:
			pg.StartingAfter = ids[int(cursor)%len(ids)]
		case 2:
			pg.EndingBefore = ids[int(cursor)%len(ids)]
		}
		view(t, rt, d, key, func(l *Ledger) error {
			scan, walk := listBoth(t, l, EventFilter{Types: types, Created: created.match}, pg)
			require.Equal(t, scan, walk, "types %q, page %+v", types, pg)
			return nil
		})
	})
}
