// Package store persists billclock's state in a bbolt file.
//
// The layout is deliberately plain: every account (one API key) owns a bucket
// holding one bucket per collection ("test_clocks", "events", ...). A
// collection keeps its records by id and an index ordered by (created,
// insertion sequence), which is the order Stripe lists objects in. Records are
// opaque bytes (JSON in practice) to this package.
//
// The store never reads the wall clock: callers pass every time they need.
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned when a record, or a cursor's record, does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrLocked is returned by Open when another process holds the database file.
var ErrLocked = errors.New("store: database is locked by another process")

// ErrPanicked is returned by Batch to a writer whose function panicked; the
// error's text goes on with the panic's value and stack.
var ErrPanicked = errors.New("store: panic in transaction")

// Options configure Open. A nil *Options means defaults.
type Options struct {
	// LockTimeout bounds the wait for another process's file lock.
	// Zero means one second.
	LockTimeout time.Duration
	// NoSync skips fsync; only for throwaway databases in tests.
	NoSync bool
	// BeforeCommit, if set, runs before every read-write transaction
	// commits. An error it returns aborts the commit as a failed write to
	// the file would, and is returned to the writers. Tests inject disk
	// errors (ENOSPC, EIO) with it.
	BeforeCommit func() error
}

// DB is an open billclock database.
type DB struct {
	bolt         *bolt.DB
	beforeCommit func() error

	// Group commit state for Batch.
	mu         sync.Mutex
	pending    []*batchCall
	committing bool
}

var (
	bucketAccounts = []byte("accounts")
	bucketQueues   = []byte("queues")
	bucketMeta     = []byte("meta")
)

// Open opens the database file at path, creating it if it does not exist.
// An existing file is checked before use (see Check): a damaged one gives
// ErrCorrupt, a file that is not a billclock database ErrNotBillclock, and
// neither is written to. A database from before billclock kept a header
// gets one.
func Open(path string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := create(path, opts); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", path, err)
		}
	}
	b, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	return &DB{bolt: b, beforeCommit: opts.BeforeCommit}, nil
}

// Close closes the database, waiting for open transactions to finish.
func (db *DB) Close() error { return db.bolt.Close() }

// Path is the database file's path.
func (db *DB) Path() string { return db.bolt.Path() }

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(*Tx) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx}) })
}

// Update runs fn in a read-write transaction committed on its own.
func (db *DB) Update(fn func(*Tx) error) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		t := &Tx{tx: tx}
		if err := fn(t); err != nil {
			return err
		}
		if err := t.done(); err != nil {
			return err
		}
		return db.precommit()
	})
}

// precommit runs the BeforeCommit hook, if any.
func (db *DB) precommit() error {
	if db.beforeCommit == nil {
		return nil
	}
	return db.beforeCommit()
}

// Batch runs fn in a read-write transaction that may be shared with other
// concurrent Batch calls, so that many writers pay for one fsync (group
// commit). Unlike bbolt's own Batch it never waits for company: a lone
// writer commits at once, and writers that arrive during a commit share the
// next one. fn may be run more than once and must have no effect outside the
// transaction. If fn fails, the transaction is rolled back, fn's error is
// returned to its caller alone and the other calls are run again.
func (db *DB) Batch(fn func(*Tx) error) error {
	c := &batchCall{fn: fn, done: make(chan error, 1)}
	db.mu.Lock()
	db.pending = append(db.pending, c)
	if !db.committing {
		db.committing = true
		go db.commitLoop()
	}
	db.mu.Unlock()
	return <-c.done
}

type batchCall struct {
	fn   func(*Tx) error
	done chan error
}

// maxBatch bounds how many calls share one transaction.
const maxBatch = 256

func (db *DB) commitLoop() {
	for {
		db.mu.Lock()
		n := min(len(db.pending), maxBatch)
		if n == 0 {
			db.committing = false
			db.mu.Unlock()
			return
		}
		batch := db.pending[:n:n]
		db.pending = db.pending[n:]
		db.mu.Unlock()
		db.commit(batch)
	}
}

func (db *DB) commit(batch []*batchCall) {
	for len(batch) > 0 {
		failed := -1
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			t := &Tx{tx: tx}
			for i, c := range batch {
				if err := safeCall(c.fn, t); err != nil {
					failed = i
					return err
				}
			}
			return db.precommit()
		})
		if failed < 0 {
			for _, c := range batch {
				c.done <- err
			}
			return
		}
		// The calls before the failed one saw a consistent state; the failed
		// one's error stands, and the rest go again without it.
		batch[failed].done <- err
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}

// safeCall runs fn, then the transaction's OnDone functions, turning a
// panic into an error: a bug in one writer must not take down the commit
// loop that every writer waits on.
func safeCall(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrPanicked, r, debug.Stack())
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	return t.done()
}

// Tx is a transaction. Bytes read through it are valid only until it ends.
type Tx struct {
	tx     *bolt.Tx
	locals map[any]any
	onDone []func() error
}

// Local returns the value the transaction holds under key, made by mk at
// its first use: what the users of one transaction share for as long as
// it lasts (every function a Batch runs in it sees the same values).
func (tx *Tx) Local(key any, mk func() any) any {
	if v, ok := tx.locals[key]; ok {
		return v
	}
	if tx.locals == nil {
		tx.locals = map[any]any{}
	}
	v := mk()
	tx.locals[key] = v
	return v
}

// OnDone registers fn to run, in a read-write transaction, each time a
// function given the transaction (by Update or Batch) returns without
// error, before the next one runs or the transaction commits: writes held
// back meanwhile are made then. An error from fn fails that function, as
// its own error would.
func (tx *Tx) OnDone(fn func() error) {
	tx.onDone = append(tx.onDone, fn)
}

func (tx *Tx) done() error {
	for _, fn := range tx.onDone {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

// Writable reports whether the transaction may write.
func (tx *Tx) Writable() bool { return tx.tx.Writable() }

// Account returns the account named key. In a read-only transaction an
// account that was never written reads as empty; in a writable one it is
// created.
func (tx *Tx) Account(key string) (*Account, error) {
	root := tx.tx.Bucket(bucketAccounts)
	b := root.Bucket([]byte(key))
	if b == nil && tx.tx.Writable() {
		var err error
		if b, err = root.CreateBucket([]byte(key)); err != nil {
			return nil, fmt.Errorf("store: create account: %w", err)
		}
	}
	return &Account{tx: tx, b: b}, nil
}

// Accounts calls fn with the key of every account.
func (tx *Tx) Accounts(fn func(key string) error) error {
	return tx.tx.Bucket(bucketAccounts).ForEachBucket(func(k []byte) error { return fn(string(k)) })
}

// Queue returns the named queue, creating it in a writable transaction.
func (tx *Tx) Queue(name string) (*Queue, error) {
	root := tx.tx.Bucket(bucketQueues)
	b := root.Bucket([]byte(name))
	if b == nil && tx.tx.Writable() {
		var err error
		if b, err = root.CreateBucket([]byte(name)); err != nil {
			return nil, fmt.Errorf("store: create queue: %w", err)
		}
	}
	return &Queue{b: b}, nil
}

// Account is one API key's isolated namespace.
type Account struct {
	tx *Tx
	b  *bolt.Bucket // nil: the account does not exist yet (read-only tx)
}

// Collection returns the named collection of the account.
func (a *Account) Collection(name string) (*Collection, error) {
	if a.b == nil {
		return &Collection{}, nil
	}
	b := a.b.Bucket([]byte(name))
	if b == nil && a.tx.tx.Writable() {
		var err error
		if b, err = a.b.CreateBucket([]byte(name)); err != nil {
			return nil, fmt.Errorf("store: create collection: %w", err)
		}
		for _, sub := range [][]byte{subRecords, subIndex} {
			if _, err := b.CreateBucket(sub); err != nil {
				return nil, fmt.Errorf("store: create collection: %w", err)
			}
		}
	}
	if b == nil {
		return &Collection{}, nil
	}
	index := b.Bucket(subIndex)
	// Index keys mostly grow (created, then insertion order), so pages can
	// be filled instead of split in half: fewer pages written per insert.
	// bbolt forgets the setting with the transaction: set it every time.
	index.FillPercent = 0.9
	return &Collection{records: b.Bucket(subRecords), index: index, seq: b}, nil
}

// Queue is a persistent set of keyed jobs, such as pending clock advances.
type Queue struct {
	b *bolt.Bucket
}

// Put stores (or replaces) the job under key.
func (q *Queue) Put(key string, value []byte) error { return q.b.Put([]byte(key), value) }

// Delete removes the job under key; a missing key is not an error.
func (q *Queue) Delete(key string) error { return q.b.Delete([]byte(key)) }

// Get returns the job under key, or ErrNotFound.
func (q *Queue) Get(key string) ([]byte, error) {
	if q.b == nil {
		return nil, ErrNotFound
	}
	v := q.b.Get([]byte(key))
	if v == nil {
		return nil, ErrNotFound
	}
	return v, nil
}

// ForEach calls fn for every job in key order.
func (q *Queue) ForEach(fn func(key string, value []byte) error) error {
	if q.b == nil {
		return nil
	}
	return q.b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
}

// Append adds value at the end of group's FIFO in the queue.
func (q *Queue) Append(group string, value []byte) (key string, err error) {
	seq, err := q.b.NextSequence()
	if err != nil {
		return "", err
	}
	k := binary.BigEndian.AppendUint64(groupKey(group), seq)
	return string(k), q.b.Put(k, value)
}

// Head returns the first entry of group's FIFO, or ErrNotFound when the
// group is empty.
func (q *Queue) Head(group string) (key string, value []byte, err error) {
	if q.b == nil {
		return "", nil, ErrNotFound
	}
	prefix := groupKey(group)
	c := q.b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) == len(prefix)+8 { // not a longer group sharing the prefix
			return string(k), v, nil
		}
	}
	return "", nil, ErrNotFound
}

// Heads calls fn with the first entry of every group made by Append, in
// group order, without visiting the rest of each group.
func (q *Queue) Heads(fn func(group, key string, value []byte) error) error {
	if q.b == nil {
		return nil
	}
	c := q.b.Cursor()
	for k, v := c.First(); k != nil; {
		if len(k) < 9 || k[len(k)-9] != 0 {
			k, v = c.Next() // not an Append entry
			continue
		}
		group := string(k[:len(k)-9])
		if err := fn(group, string(k), v); err != nil {
			return err
		}
		// Skip the rest of the group: every key of it starts with
		// group + "\x00", so group + "\x01" sorts after them all.
		k, v = c.Seek(append([]byte(group), 1))
	}
	return nil
}
