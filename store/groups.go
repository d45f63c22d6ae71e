package store

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// A collection's records may belong to groups (such as "events of type
// invoice.paid"), so that a listing filtered by group costs in proportion to
// its answer rather than to the whole collection. Each group is kept in the
// collection's own listing order, so group listings take the same cursors
// as List, and each member carries a tag, an int64 the caller chooses (such
// as a created time) that a listing can filter on without reading records.
var (
	subGroups = []byte("groups") // group \x00 sortKey -> tag(8) ++ id
	// Keyed by sort key, not id: records of an Append-only collection
	// then join at the end of this bucket instead of at random places.
	subMembers = []byte("members") // sortKey -> groups joined by \x00
)

// memberKey is a member's key in the groups bucket: the group, a NUL,
// then the record's sort key.
func memberKey(group string, sk []byte) []byte {
	return append(groupKey(group), sk...)
}

// bucketIn returns the named sub-bucket of the collection, created when
// create is set (writable transactions only); nil when absent.
func (c *Collection) bucketIn(name []byte, create bool) (*bolt.Bucket, error) {
	if c.seq == nil {
		return nil, nil
	}
	b := c.seq.Bucket(name)
	if b == nil && create {
		var err error
		if b, err = c.seq.CreateBucket(name); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", name, err)
		}
	}
	return b, nil
}

// SetGroups makes the record id a member of exactly groups (none: of no
// group), with tag. Group names must not contain NUL.
func (c *Collection) SetGroups(id string, tag int64, groups ...string) error {
	if c.records == nil || !c.seq.Writable() {
		return fmt.Errorf("store: set groups of %s: read-only transaction", id)
	}
	rec := c.records.Get([]byte(id))
	if rec == nil {
		return ErrNotFound
	}
	if err := checkGroupNames(groups); err != nil {
		return err
	}
	sk := bytes.Clone(rec[:sortKeyLen])
	if err := c.leaveGroups(sk); err != nil {
		return err
	}
	return c.joinGroups(id, sk, tag, groups)
}

func checkGroupNames(groups []string) error {
	for _, g := range groups {
		if strings.IndexByte(g, 0) >= 0 {
			return fmt.Errorf("store: group name %q contains NUL", g)
		}
	}
	return nil
}

// joinGroups makes the record id, whose sort key is sk and which is in no
// group, a member of groups with tag.
func (c *Collection) joinGroups(id string, sk []byte, tag int64, groups []string) error {
	if len(groups) == 0 {
		return nil
	}
	gb, err := c.bucketIn(subGroups, true)
	if err != nil {
		return err
	}
	mb, err := c.bucketIn(subMembers, true)
	if err != nil {
		return err
	}
	gb.FillPercent = 0.9 // members are mostly added at the end of their group
	mb.FillPercent = 0.9
	entry := binary.BigEndian.AppendUint64(nil, uint64(tag))
	entry = append(entry, id...)
	for _, g := range groups {
		if err := gb.Put(memberKey(g, sk), entry); err != nil {
			return err
		}
	}
	return mb.Put(sk, []byte(strings.Join(groups, "\x00")))
}

// leaveGroups removes the record whose sort key is sk from every group.
func (c *Collection) leaveGroups(sk []byte) error {
	mb, err := c.bucketIn(subMembers, false)
	if err != nil || mb == nil {
		return err
	}
	member := mb.Get(sk)
	if member == nil {
		return nil
	}
	gb := c.seq.Bucket(subGroups)
	for _, g := range strings.Split(string(member), "\x00") {
		if err := gb.Delete(memberKey(g, sk)); err != nil {
			return err
		}
	}
	return mb.Delete(sk)
}

// Grouped reports whether the record id is a member of any group.
func (c *Collection) Grouped(id string) bool {
	mb, _ := c.bucketIn(subMembers, false)
	if mb == nil {
		return false
	}
	rec := c.records.Get([]byte(id))
	return rec != nil && mb.Get(rec[:sortKeyLen]) != nil
}

// Groups returns the names of the groups with at least one member that
// start with prefix, in byte order. It costs one seek per group, not one
// step per member.
func (c *Collection) Groups(prefix string) ([]string, error) {
	gb, _ := c.bucketIn(subGroups, false)
	if gb == nil {
		return nil, nil
	}
	var out []string
	cur := gb.Cursor()
	for k, _ := cur.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); {
		if len(k) < sortKeyLen+1 || k[len(k)-sortKeyLen-1] != 0 {
			return nil, fmt.Errorf("store: malformed group key %q", k)
		}
		g := k[:len(k)-sortKeyLen-1]
		if bytes.HasPrefix(g, []byte(prefix)) { // not when prefix ends in the NUL
			out = append(out, string(g))
		}
		// Every key of g starts with g + "\x00": g + "\x01" sorts after them.
		k, _ = cur.Seek(append(bytes.Clone(g), 1))
	}
	return out, nil
}

// Query selects the records of a group listing.
type Query struct {
	// Groups lists the records that are members of any of these groups;
	// a record in several of them is listed once.
	Groups []string
	// Tag, if not nil, keeps only members whose tag it accepts. It is
	// checked before the record is read.
	Tag func(tag int64) bool
	// Match, if not nil, keeps only records it accepts.
	Match func(data []byte) (bool, error)
}

// ListGroups is List over the members of q.Groups: the same order, cursors
// (a cursor may name any record of the collection, member or not), limit
// and hasMore. It walks each group from the cursor and merges the walks in
// order, so its cost follows the members it visits, not the collection.
func (c *Collection) ListGroups(q Query, p Page, emit func(data []byte) error) (hasMore bool, err error) {
	if p.Limit <= 0 {
		return false, fmt.Errorf("store: list: limit %d", p.Limit)
	}
	var from []byte // the cursor's sort key
	for _, cursor := range []string{p.StartingAfter, p.EndingBefore} {
		if cursor == "" {
			continue
		}
		if c.records == nil {
			return false, ErrNotFound
		}
		rec := c.records.Get([]byte(cursor))
		if rec == nil {
			return false, ErrNotFound
		}
		from = rec[:sortKeyLen]
	}
	gb, _ := c.bucketIn(subGroups, false)
	if gb == nil {
		return false, nil
	}
	ascending := p.EndingBefore != ""
	w := &merge{ascending: ascending}
	groups := slices.Clone(q.Groups)
	slices.Sort(groups)
	for _, g := range slices.Compact(groups) {
		if gw := newGroupWalk(gb, g, from, ascending); gw.key != nil {
			w.walks = append(w.walks, gw)
		}
	}
	heap.Init(w)
	var window [][]byte
	var last []byte
	for w.Len() > 0 {
		gw := w.walks[0]
		sk, entry := gw.key[len(gw.prefix):], gw.val
		dup := last != nil && bytes.Equal(sk, last)
		last = sk
		if gw.step() {
			heap.Fix(w, 0)
		} else {
			heap.Pop(w)
		}
		if dup || q.Tag != nil && !q.Tag(int64(binary.BigEndian.Uint64(entry))) {
			continue
		}
		rec := c.records.Get(entry[8:])
		if rec == nil {
			return false, fmt.Errorf("store: group member %q has no record", entry[8:])
		}
		data := rec[sortKeyLen:]
		if q.Match != nil {
			ok, err := q.Match(data)
			if err != nil {
				return false, err
			}
			if !ok {
				continue
			}
		}
		if len(window) == p.Limit {
			hasMore = true
			break
		}
		window = append(window, data)
	}
	if ascending {
		slices.Reverse(window)
	}
	for _, data := range window {
		if err := emit(data); err != nil {
			return false, err
		}
	}
	return hasMore, nil
}

// groupWalk walks one group's members from a cursor, newest first or (for
// ascending) oldest first.
type groupWalk struct {
	cur       *bolt.Cursor
	prefix    []byte
	ascending bool
	key, val  []byte // current member; key nil when done
}

// newGroupWalk positions a walk of group just past the sort key from (from
// nil: at the group's newest member, or oldest for ascending).
func newGroupWalk(gb *bolt.Bucket, group string, from []byte, ascending bool) *groupWalk {
	w := &groupWalk{cur: gb.Cursor(), prefix: groupKey(group), ascending: ascending}
	var k, v []byte
	switch {
	case ascending && from == nil:
		k, v = w.cur.Seek(w.prefix)
	case ascending:
		start := append(bytes.Clone(w.prefix), from...)
		if k, v = w.cur.Seek(start); bytes.Equal(k, start) {
			k, v = w.cur.Next()
		}
	default:
		// The first key at or after the bound; the member before it is
		// the newest one below the bound.
		bound := append(bytes.Clone(w.prefix), from...)
		if from == nil {
			bound = append(bytes.Clone(w.prefix[:len(w.prefix)-1]), 1)
		}
		if k, _ = w.cur.Seek(bound); k == nil {
			k, v = w.cur.Last()
		} else {
			k, v = w.cur.Prev()
		}
	}
	w.set(k, v)
	return w
}

func (w *groupWalk) set(k, v []byte) {
	if k == nil || len(k) != len(w.prefix)+sortKeyLen || !bytes.HasPrefix(k, w.prefix) {
		w.key, w.val = nil, nil
		return
	}
	w.key, w.val = k, v
}

// step moves to the next member and reports whether there is one.
func (w *groupWalk) step() bool {
	if w.ascending {
		w.set(w.cur.Next())
	} else {
		w.set(w.cur.Prev())
	}
	return w.key != nil
}

// merge is a heap of group walks whose top is the walk with the next
// member in listing order.
type merge struct {
	walks     []*groupWalk
	ascending bool
}

func (m *merge) Len() int { return len(m.walks) }
func (m *merge) Less(i, j int) bool {
	a, b := m.walks[i], m.walks[j]
	c := bytes.Compare(a.key[len(a.prefix):], b.key[len(b.prefix):])
	if m.ascending {
		return c < 0
	}
	return c > 0
}
func (m *merge) Swap(i, j int) { m.walks[i], m.walks[j] = m.walks[j], m.walks[i] }
func (m *merge) Push(x any)    { m.walks = append(m.walks, x.(*groupWalk)) }
func (m *merge) Pop() any {
	w := m.walks[len(m.walks)-1]
	m.walks = m.walks[:len(m.walks)-1]
	return w
}
