package store

import (
	"bytes"
	"encoding/binary"
	"math"

	bolt "go.etcd.io/bbolt"
)

// Timeline holds an account's work that falls due at points in time, per
// clock, ordered by time and then insertion order: the engine's task queue.
type Timeline struct {
	b *bolt.Bucket // clock \x00 time(8) seq(8) -> payload
}

// Timeline returns the account's timeline.
func (a *Account) Timeline() (*Timeline, error) {
	b, err := a.bucket("timeline")
	return &Timeline{b: b}, err
}

// Add schedules payload for time at on clock ("" for the wall clock).
func (tl *Timeline) Add(clock string, at int64, payload []byte) error {
	seq, err := tl.b.NextSequence()
	if err != nil {
		return err
	}
	k := binary.BigEndian.AppendUint64(groupKey(clock), uint64(at)^(1<<63))
	k = binary.BigEndian.AppendUint64(k, seq)
	return tl.b.Put(k, payload)
}

// PopDue removes and returns the earliest payload of clock due at or before
// until; ok is false when there is none.
func (tl *Timeline) PopDue(clock string, until int64) (payload []byte, ok bool, err error) {
	at, payload, ok := tl.peek(clock)
	if !ok || at > until {
		return nil, false, nil
	}
	c := tl.b.Cursor()
	c.Seek(groupKey(clock))
	payload = bytes.Clone(payload)
	return payload, true, c.Delete()
}

// Next returns the time of clock's earliest payload; ok is false if none.
func (tl *Timeline) Next(clock string) (at int64, ok bool) {
	at, _, ok = tl.peek(clock)
	return at, ok
}

func (tl *Timeline) peek(clock string) (int64, []byte, bool) {
	if tl.b == nil {
		return math.MaxInt64, nil, false
	}
	prefix := groupKey(clock)
	k, v := tl.b.Cursor().Seek(prefix)
	if k == nil || len(k) != len(prefix)+16 || !bytes.HasPrefix(k, prefix) {
		return math.MaxInt64, nil, false
	}
	return int64(binary.BigEndian.Uint64(k[len(prefix):]) ^ (1 << 63)), v, true
}

// Clear removes every payload of clock.
func (tl *Timeline) Clear(clock string) error {
	if tl.b == nil {
		return nil
	}
	prefix := groupKey(clock)
	c := tl.b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if len(k) != len(prefix)+16 {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
