package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var (
	subRecords = []byte("records")
	subIndex   = []byte("index")
)

// sortKeyLen is the length of the (created, sequence) prefix stored in front
// of every record and used as its key in the index.
const sortKeyLen = 16

// Collection holds one kind of object of one account, listed newest first.
type Collection struct {
	records *bolt.Bucket // id -> sortKey ++ data
	index   *bolt.Bucket // sortKey -> id
	seq     *bolt.Bucket // owner of the insertion sequence
}

func sortKey(created int64, seq uint64) []byte {
	k := make([]byte, sortKeyLen)
	// Flip the sign bit so that negative times sort before positive ones.
	binary.BigEndian.PutUint64(k, uint64(created)^(1<<63))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// Put inserts or replaces the record id. created orders the record in
// listings; on replace, the record keeps its original place.
func (c *Collection) Put(id string, created int64, data []byte) error {
	_, _, err := c.put(id, created, data)
	return err
}

// put is Put, returning the record's sort key and whether it is new.
func (c *Collection) put(id string, created int64, data []byte) (key []byte, added bool, err error) {
	if c.records == nil {
		return nil, false, fmt.Errorf("store: put %s: read-only transaction", id)
	}
	if old := c.records.Get([]byte(id)); old != nil {
		key = append([]byte(nil), old[:sortKeyLen]...)
	} else {
		seq, err := c.seq.NextSequence()
		if err != nil {
			return nil, false, err
		}
		key, added = sortKey(created, seq), true
		if err := c.index.Put(key, []byte(id)); err != nil {
			return nil, false, err
		}
	}
	v := make([]byte, 0, sortKeyLen+len(data))
	v = append(append(v, key...), data...)
	return key, added, c.records.Put([]byte(id), v)
}

// Get returns the record id, or ErrNotFound. The bytes are valid only inside
// the transaction.
func (c *Collection) Get(id string) ([]byte, error) {
	if c.records == nil {
		return nil, ErrNotFound
	}
	v := c.records.Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	return v[sortKeyLen:], nil
}

// Delete removes the record id, and its group memberships, or returns
// ErrNotFound.
func (c *Collection) Delete(id string) error {
	if c.records == nil {
		return ErrNotFound
	}
	v := c.records.Get([]byte(id))
	if v == nil {
		return ErrNotFound
	}
	if err := c.leaveGroups(v[:sortKeyLen]); err != nil {
		return err
	}
	if err := c.index.Delete(v[:sortKeyLen]); err != nil {
		return err
	}
	return c.records.Delete([]byte(id))
}

// stampOf is the created time in a sort key.
func stampOf(sk []byte) int64 { return int64(binary.BigEndian.Uint64(sk) ^ (1 << 63)) }

// Append inserts a new record at the end of the listing, stamped with the
// time at (such as the wall time it was recorded at), or with the newest
// record's stamp if that is later: a collection filled only by Append lists
// in insertion order and its stamps never decrease, whatever the clock
// did, so Prune can stop at the first record young enough to keep. An id
// that exists is replaced as by Put.
func (c *Collection) Append(id string, at int64, data []byte) error {
	_, _, err := c.put(id, c.appendStamp(at), data)
	return err
}

// appendStamp is the stamp Append gives a record appended at at.
func (c *Collection) appendStamp(at int64) int64 {
	if c.index != nil {
		if k, _ := c.index.Cursor().Last(); k != nil {
			at = max(at, stampOf(k))
		}
	}
	return at
}

// AppendGrouped is Append, then SetGroups(id, tag, groups...), in one
// pass: a new record is in no group yet, so nothing is looked up again or
// left. It is the cost of every event recorded.
func (c *Collection) AppendGrouped(id string, at int64, data []byte, tag int64, groups ...string) error {
	if err := checkGroupNames(groups); err != nil {
		return err
	}
	sk, added, err := c.put(id, c.appendStamp(at), data)
	if err != nil {
		return err
	}
	if !added {
		return c.SetGroups(id, tag, groups...)
	}
	return c.joinGroups(id, sk, tag, groups)
}

// Oldest returns the created time (the stamp of Append) of the oldest
// record; ok is false when the collection is empty.
func (c *Collection) Oldest() (created int64, ok bool) {
	if c.index == nil {
		return 0, false
	}
	k, _ := c.index.Cursor().First()
	if k == nil {
		return 0, false
	}
	return stampOf(k), true
}

// Prune deletes, oldest first, records whose created time (the stamp of
// Append) is before before, at most limit of them, and reports how many it
// deleted and whether it stopped at the limit with more possibly left. keep,
// if not nil, spares the records it accepts. It visits only the records it
// considers, not the whole collection.
func (c *Collection) Prune(before int64, limit int, keep func(id string, data []byte) (bool, error)) (deleted int, more bool, err error) {
	if c.index == nil {
		return 0, false, nil
	}
	if !c.seq.Writable() {
		return 0, false, fmt.Errorf("store: prune: read-only transaction")
	}
	var doomed []string
	cur := c.index.Cursor()
	visited := 0
	for k, id := cur.First(); k != nil && stampOf(k) < before; k, id = cur.Next() {
		if visited == limit {
			more = true
			break
		}
		visited++
		if keep != nil {
			ok, err := keep(string(id), c.records.Get(id)[sortKeyLen:])
			if err != nil {
				return 0, false, err
			}
			if ok {
				continue
			}
		}
		doomed = append(doomed, string(id))
	}
	// Deleting under a live cursor can make it skip keys: delete after.
	for _, id := range doomed {
		if err := c.Delete(id); err != nil {
			return 0, false, err
		}
	}
	return len(doomed), more, nil
}

// Scan calls fn for the records after the record named after (from the
// oldest when after is ""), oldest first, until fn returns false or an
// error. fn must not change the collection. A cursor that names no record
// gives ErrNotFound.
func (c *Collection) Scan(after string, fn func(id string, data []byte) (bool, error)) error {
	if c.index == nil {
		if after != "" {
			return ErrNotFound
		}
		return nil
	}
	cur := c.index.Cursor()
	k, id := cur.First()
	if after != "" {
		rec := c.records.Get([]byte(after))
		if rec == nil {
			return ErrNotFound
		}
		cur.Seek(rec[:sortKeyLen])
		k, id = cur.Next()
	}
	for ; k != nil; k, id = cur.Next() {
		ok, err := fn(string(id), c.records.Get(id)[sortKeyLen:])
		if err != nil || !ok {
			return err
		}
	}
	return nil
}

// Each calls fn for every record, oldest first, until fn returns an error.
func (c *Collection) Each(fn func(id string, data []byte) error) error {
	if c.index == nil {
		return nil
	}
	return c.index.ForEach(func(_, id []byte) error {
		return fn(string(id), c.records.Get(id)[sortKeyLen:])
	})
}

// Page selects a window of a listing, with Stripe's cursor semantics.
type Page struct {
	// Limit is the most records to return; it must be positive.
	Limit int
	// StartingAfter, when set, returns the records older than this id.
	StartingAfter string
	// EndingBefore, when set, returns the Limit records just newer than this
	// id. Results are still newest first.
	EndingBefore string
}

// List walks the collection newest first (for EndingBefore: the window just
// newer than the cursor, still emitted newest first). match, if not nil,
// filters records; emit receives up to p.Limit matching records. hasMore
// reports whether more matching records lie beyond the window. A cursor that
// names no record gives ErrNotFound.
func (c *Collection) List(p Page, match func(data []byte) (bool, error), emit func(data []byte) error) (hasMore bool, err error) {
	if p.Limit <= 0 {
		return false, fmt.Errorf("store: list: limit %d", p.Limit)
	}
	if c.index == nil {
		if p.StartingAfter != "" || p.EndingBefore != "" {
			return false, ErrNotFound
		}
		return false, nil
	}
	cur := c.index.Cursor()
	var k, id []byte
	var next func() ([]byte, []byte)
	switch {
	case p.EndingBefore != "":
		rec := c.records.Get([]byte(p.EndingBefore))
		if rec == nil {
			return false, ErrNotFound
		}
		k, id = cur.Seek(rec[:sortKeyLen])
		if k != nil && bytes.Equal(k, rec[:sortKeyLen]) {
			k, id = cur.Next()
		}
		next = cur.Next
	case p.StartingAfter != "":
		rec := c.records.Get([]byte(p.StartingAfter))
		if rec == nil {
			return false, ErrNotFound
		}
		cur.Seek(rec[:sortKeyLen])
		k, id = cur.Prev()
		next = cur.Prev
	default:
		k, id = cur.Last()
		next = cur.Prev
	}
	var window [][]byte
	for ; k != nil; k, id = next() {
		data := c.records.Get(id)[sortKeyLen:]
		if match != nil {
			ok, err := match(data)
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
	if p.EndingBefore != "" {
		for i, j := 0, len(window)-1; i < j; i, j = i+1, j-1 {
			window[i], window[j] = window[j], window[i]
		}
	}
	for _, data := range window {
		if err := emit(data); err != nil {
			return false, err
		}
	}
	return hasMore, nil
}
