package clockwork

import (
	"bytes"
	"sync"
)

// decodeCache keeps, across transactions, the objects ledgers decoded,
// each with the bytes it was decoded from. A ledger that reads an object
// compares the stored bytes with the kept ones and, when they are equal,
// takes a copy of the kept object instead of decoding them again: decoding
// is most of the cost of reading an object (a subscription decodes in
// several times the time it encodes in), and an advance reads every
// subscription the request that queued it read already, and every payment
// method the requests that made the subscriptions read. The comparison
// makes the cache safe whoever writes the store and whether the
// transaction that wrote commits: a changed object misses and is decoded.
//
// Kept objects are never changed: readers get copies (see copies.go).
type decodeCache struct {
	mu sync.Mutex
	m  map[decodeKey]*decodedEntry
	// size is the bytes of the kept encodings, at most budget; the
	// decoded objects take about as much again.
	size, budget int
}

type decodeKey struct{ account, coll, id string }

type decodedEntry struct {
	raw []byte
	obj any
}

// decodeCacheBudget bounds the encodings a runtime's decodeCache keeps.
const decodeCacheBudget = 8 << 20

func newDecodeCache(budget int) *decodeCache {
	return &decodeCache{m: map[decodeKey]*decodedEntry{}, budget: budget}
}

// lookup returns the kept object decoded from raw, if any.
func (c *decodeCache) lookup(k decodeKey, raw []byte) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	e := c.m[k]
	c.mu.Unlock()
	if e == nil || !bytes.Equal(e.raw, raw) {
		return nil, false
	}
	return e.obj, true
}

// keep keeps obj, decoded from raw (which it copies); obj must never be
// changed afterwards. When the budget is spent, arbitrary entries make
// room.
func (c *decodeCache) keep(k decodeKey, raw []byte, obj any) {
	if c == nil || len(raw) > c.budget {
		return
	}
	e := &decodedEntry{raw: bytes.Clone(raw), obj: obj}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[k]; old != nil {
		c.size -= len(old.raw)
		delete(c.m, k)
	}
	for victim, v := range c.m {
		if c.size+len(raw) <= c.budget {
			break
		}
		c.size -= len(v.raw)
		delete(c.m, victim)
	}
	c.m[k] = e
	c.size += len(raw)
}
