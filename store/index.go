package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Index is a set of (group, id) pairs within an account, such as
// "subscriptions of clock X" or "pending invoice items of customer Y",
// walked group by group in insertion order.
type Index struct {
	fwd *bolt.Bucket // group \x00 seq(8) -> id
	rev *bolt.Bucket // group \x00 id -> forward key
}

var (
	subForward = []byte("fwd")
	subReverse = []byte("rev")
)

// Index returns the named index of the account.
func (a *Account) Index(name string) (*Index, error) {
	b, err := a.bucket("index:" + name)
	if err != nil || b == nil {
		return &Index{}, err
	}
	x := &Index{fwd: b.Bucket(subForward), rev: b.Bucket(subReverse)}
	if x.fwd == nil {
		if x.fwd, err = b.CreateBucket(subForward); err != nil {
			return nil, err
		}
		if x.rev, err = b.CreateBucket(subReverse); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// bucket returns a named sub-bucket of the account, created in writable
// transactions; nil when absent in a read-only one.
func (a *Account) bucket(name string) (*bolt.Bucket, error) {
	if a.b == nil {
		return nil, nil
	}
	b := a.b.Bucket([]byte(name))
	if b == nil && a.tx.tx.Writable() {
		var err error
		if b, err = a.b.CreateBucket([]byte(name)); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", name, err)
		}
	}
	return b, nil
}

func groupKey(group string, rest ...byte) []byte {
	k := make([]byte, 0, len(group)+1+len(rest))
	return append(append(append(k, group...), 0), rest...)
}

// Add puts id in group; adding it again keeps its first place.
func (x *Index) Add(group, id string) error {
	rk := groupKey(group, []byte(id)...)
	if x.rev.Get(rk) != nil {
		return nil
	}
	seq, err := x.fwd.NextSequence()
	if err != nil {
		return err
	}
	fk := binary.BigEndian.AppendUint64(groupKey(group), seq)
	if err := x.fwd.Put(fk, []byte(id)); err != nil {
		return err
	}
	return x.rev.Put(rk, fk)
}

// Has reports whether id is in group.
func (x *Index) Has(group, id string) bool {
	return x.rev != nil && x.rev.Get(groupKey(group, []byte(id)...)) != nil
}

// Remove takes id out of group; a missing pair is not an error.
func (x *Index) Remove(group, id string) error {
	rk := groupKey(group, []byte(id)...)
	fk := x.rev.Get(rk)
	if fk == nil {
		return nil
	}
	if err := x.fwd.Delete(bytes.Clone(fk)); err != nil {
		return err
	}
	return x.rev.Delete(rk)
}

// Each calls fn with every id in group, in insertion order. fn must not
// change the index.
func (x *Index) Each(group string, fn func(id string) error) error {
	if x.fwd == nil {
		return nil
	}
	prefix := groupKey(group)
	c := x.fwd.Cursor()
	for k, v := c.Seek(prefix); k != nil && len(k) == len(prefix)+8 && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(string(v)); err != nil {
			return err
		}
	}
	return nil
}

// IDs returns the ids in group, in insertion order.
func (x *Index) IDs(group string) ([]string, error) {
	var ids []string
	err := x.Each(group, func(id string) error { ids = append(ids, id); return nil })
	return ids, err
}
