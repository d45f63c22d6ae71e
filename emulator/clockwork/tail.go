package clockwork

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Request tails: a live feed of the API requests made with an account's
// key, once answered (the Stripe CLI's `stripe logs tail`). Nothing is
// stored: a request is handed to the tails open on its account when it is
// published, and to no one otherwise.
//
// Publishing never waits: each tail has a buffer of TailBuffer records,
// and a record that finds it full is dropped for that tail (and counted),
// so a reader that is slow or gone holds up no request. When no tail is
// open, publishing costs one atomic load.

// Tail limits.
const (
	// MaxTailsPerAccount bounds the tails open on one account.
	MaxTailsPerAccount = 32
	// MaxTails bounds the tails open on the server.
	MaxTails = 1024
	// TailBuffer is how many records a tail holds for its reader before
	// it drops new ones.
	TailBuffer = 256
)

// ErrTooManyTails refuses a tail beyond MaxTailsPerAccount or MaxTails.
var ErrTooManyTails = errors.New("clockwork: too many request tails open")

// RequestRecord is one answered API request, as a tail sees it: never its
// key nor its body.
type RequestRecord struct {
	Method string
	// Path is the request's path, without its query.
	Path      string
	Status    int
	RequestID string
	// Time is when the request arrived (wall time).
	Time time.Time
	// RemoteIP is the address the request came from.
	RemoteIP string
	// Detail is what the dialect adds (the Stripe dialect: a summary of
	// the error of a failed request).
	Detail any
}

// Tail is a live feed of an account's requests (see Runtime.Tail).
type Tail struct {
	h       *tails
	account string
	match   func(*RequestRecord) bool
	records chan RequestRecord
	done    chan struct{}
	once    sync.Once
	dropped atomic.Int64
}

// tails is the runtime's table of open tails.
type tails struct {
	mu        sync.RWMutex
	byAccount map[string]map[*Tail]struct{}
	open      atomic.Int64 // number of open tails, read without mu
	closed    bool
}

// Tail opens a feed of the requests made with account's key from now on
// that match (nil: all). It fails with ErrTooManyTails beyond the limits,
// and with ErrStreamClosed once the runtime has stopped. Close the tail
// when done.
func (rt *Runtime) Tail(account string, match func(*RequestRecord) bool) (*Tail, error) {
	h := &rt.tails
	t := &Tail{h: h, account: account, match: match, records: make(chan RequestRecord, TailBuffer), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, ErrStreamClosed
	case h.open.Load() >= MaxTails || len(h.byAccount[account]) >= MaxTailsPerAccount:
		return nil, ErrTooManyTails
	}
	if h.byAccount == nil {
		h.byAccount = map[string]map[*Tail]struct{}{}
	}
	if h.byAccount[account] == nil {
		h.byAccount[account] = map[*Tail]struct{}{}
	}
	h.byAccount[account][t] = struct{}{}
	h.open.Add(1)
	return t, nil
}

// Tailed reports whether a tail is open on account: a dialect asks before
// it gathers a record to publish.
func (rt *Runtime) Tailed(account string) bool {
	h := &rt.tails
	if h.open.Load() == 0 {
		return false
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.byAccount[account]) > 0
}

// PublishRequest hands rec to the tails open on account that match it,
// without waiting: a tail whose buffer is full misses it.
func (rt *Runtime) PublishRequest(account string, rec RequestRecord) {
	h := &rt.tails
	if h.open.Load() == 0 {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for t := range h.byAccount[account] {
		if t.match != nil && !t.match(&rec) {
			continue
		}
		select {
		case t.records <- rec:
		default:
			t.dropped.Add(1)
		}
	}
}

// Records is the feed; it is never closed (see Done).
func (t *Tail) Records() <-chan RequestRecord { return t.records }

// Done is closed when the tail is closed, by its owner or because the
// runtime stopped.
func (t *Tail) Done() <-chan struct{} { return t.done }

// Dropped is how many records the tail missed because its buffer was full.
func (t *Tail) Dropped() int64 { return t.dropped.Load() }

// Close ends the tail. It may be called more than once, from any
// goroutine.
func (t *Tail) Close() {
	t.once.Do(func() {
		h := t.h
		h.mu.Lock()
		if subs := h.byAccount[t.account]; subs != nil {
			if _, ok := subs[t]; ok {
				delete(subs, t)
				h.open.Add(-1)
			}
			if len(subs) == 0 {
				delete(h.byAccount, t.account)
			}
		}
		h.mu.Unlock()
		close(t.done)
	})
}

// close ends every tail, and refuses new ones.
func (h *tails) close() {
	h.mu.Lock()
	h.closed = true
	var all []*Tail
	for _, subs := range h.byAccount {
		for t := range subs {
			all = append(all, t)
		}
	}
	h.mu.Unlock()
	for _, t := range all {
		t.Close()
	}
}
