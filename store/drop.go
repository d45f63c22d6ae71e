package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Dropping removes one of an account's collections, indexes or its
// timeline whole, with every record, group and entry in it, at the cost of
// freeing its pages rather than deleting each key: what a dialect needs to
// wipe an account's data at once (Chargebee's start_afresh). What is
// dropped reads as empty afterwards, and is made anew by its next write.

// DropCollection removes the named collection of the account; a collection
// that does not exist is not an error. Collections returned before the drop
// must not be used after it.
func (a *Account) DropCollection(name string) error { return a.drop(name) }

// DropIndex removes the named index of the account; an index that does not
// exist is not an error.
func (a *Account) DropIndex(name string) error { return a.drop("index:" + name) }

// DropTimeline removes every payload of every clock of the account's
// timeline.
func (a *Account) DropTimeline() error { return a.drop("timeline") }

func (a *Account) drop(name string) error {
	if a.b == nil {
		return nil
	}
	if !a.tx.tx.Writable() {
		return fmt.Errorf("store: drop %s: read-only transaction", name)
	}
	err := a.b.DeleteBucket([]byte(name))
	if errors.Is(err, bolt.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: drop %s: %w", name, err)
	}
	return nil
}
