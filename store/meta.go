package store

import (
	"bytes"
	"fmt"
)

// Meta returns a copy of the database-wide metadata value under key (such
// as a migration's marker), or nil if there is none.
func (tx *Tx) Meta(key string) []byte {
	return bytes.Clone(tx.tx.Bucket(bucketMeta).Get([]byte(key)))
}

// SetMeta stores value under key in the database-wide metadata.
func (tx *Tx) SetMeta(key string, value []byte) error {
	if err := tx.tx.Bucket(bucketMeta).Put([]byte(key), value); err != nil {
		return fmt.Errorf("store: set meta %s: %w", key, err)
	}
	return nil
}
