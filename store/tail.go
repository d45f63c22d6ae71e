package store

import (
	"bytes"
)

// Position is a place in a collection's listing order, between two
// records: Tail reads the records after it. The zero Position is before
// the first record. A Position stays valid whatever is deleted meanwhile.
type Position struct {
	key string // sort key of the last record passed; "" before the first
}

// End is the position after the collection's newest record: reading from
// it gives only records added later.
func (c *Collection) End() Position {
	if c.index == nil {
		return Position{}
	}
	k, _ := c.index.Cursor().Last()
	return Position{key: string(k)}
}

// Tail calls fn for the records after from, oldest first, until fn returns
// false or an error, and returns the position after the last record fn
// accepted (fn returning true). Records that Append adds later always come
// after every position taken before (their stamps never decrease), so a
// reader that keeps the position Tail returns sees each appended record
// once, in insertion order, even when older ones are pruned meanwhile.
// fn must not change the collection, and data is valid only in the
// transaction.
func (c *Collection) Tail(from Position, fn func(id string, data []byte) (bool, error)) (Position, error) {
	if c.index == nil {
		return from, nil
	}
	cur := c.index.Cursor()
	var k, id []byte
	if from.key == "" {
		k, id = cur.First()
	} else {
		k, id = cur.Seek([]byte(from.key))
		if k != nil && bytes.Equal(k, []byte(from.key)) {
			k, id = cur.Next()
		}
	}
	at := from
	for ; k != nil; k, id = cur.Next() {
		ok, err := fn(string(id), c.records.Get(id)[sortKeyLen:])
		if err != nil {
			return at, err
		}
		if !ok {
			break
		}
		at = Position{key: string(k)}
	}
	return at, nil
}

// OnCommit registers fn to run after the transaction has committed, once
// the write is durable; it never runs if the transaction rolls back (nor
// for a read-only transaction). fn must be quick and must not start a
// transaction: it runs on the committing goroutine.
func (tx *Tx) OnCommit(fn func()) {
	if tx.tx.Writable() {
		tx.tx.OnCommit(fn)
	}
}
