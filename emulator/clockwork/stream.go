package clockwork

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/billclock/billclock/store"
)

// The event stream: a subscription to an account's new events, in the
// order they were recorded, from the moment it was made. It is the one
// channel under every live view of events (the Stripe CLI's `stripe
// listen`, `billclock listen`).
//
// A stream holds no events: it is a position in the account's event log
// (store.Position), and each Next reads what was appended after it, in a
// short read transaction, at the reader's own pace. A commit that stored
// events for an account with streams only wakes them (a token in a channel
// of one), so a slow reader or one that stops reading holds up no writer,
// no advance and no webhook delivery, and costs no memory: it just falls
// behind in the log. Events pruned by retention before a reader got to
// them are skipped.

// Stream limits: how many streams may be open, and how much one Next
// returns.
const (
	// MaxStreamsPerAccount bounds the streams open on one account.
	MaxStreamsPerAccount = 32
	// MaxStreams bounds the streams open on the server.
	MaxStreams = 1024
	// streamBatchBytes bounds the stored bytes one Next returns, unless
	// its first event alone is larger.
	streamBatchBytes = 4 << 20
)

// ErrTooManyStreams refuses a subscription beyond MaxStreamsPerAccount or
// MaxStreams.
var ErrTooManyStreams = errors.New("clockwork: too many event streams open")

// ErrStreamClosed is what Next returns once the stream was closed, by its
// owner or because the runtime stopped.
var ErrStreamClosed = errors.New("clockwork: event stream closed")

// StreamEvent is an event read from a stream.
type StreamEvent struct {
	ID string
	// Type is the dialect's name of the event.
	Type string
	// Stored is the event as stored (see Dialect.FormatDelivery); the
	// bytes are the reader's own.
	Stored []byte
}

// Stream is a subscription to an account's new events (see
// Runtime.Subscribe). Next is meant for one goroutine at a time; Close may
// be called from any.
type Stream struct {
	rt      *Runtime
	account string
	// wake holds a token when events may have been stored since the last
	// read.
	wake      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	mu  sync.Mutex // guards pos
	pos store.Position
}

// streams is the runtime's table of open streams.
type streams struct {
	mu        sync.Mutex
	byAccount map[string]map[*Stream]struct{}
	open      atomic.Int64 // number of open streams, read without mu
	closed    bool
	// reading counts the Next calls inside a read transaction, which
	// close waits for so that the database can close after it.
	reading sync.WaitGroup
}

// Subscribe opens a stream of the account's events recorded from now on.
// It fails with ErrTooManyStreams beyond the limits, and with
// ErrStreamClosed once the runtime has stopped. Close the stream when done.
func (rt *Runtime) Subscribe(account string) (*Stream, error) {
	s := &Stream{rt: rt, account: account, wake: make(chan struct{}, 1), done: make(chan struct{})}
	h := &rt.streams
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		return nil, ErrStreamClosed
	case h.open.Load() >= MaxStreams || len(h.byAccount[account]) >= MaxStreamsPerAccount:
		h.mu.Unlock()
		return nil, ErrTooManyStreams
	}
	if h.byAccount == nil {
		h.byAccount = map[string]map[*Stream]struct{}{}
	}
	if h.byAccount[account] == nil {
		h.byAccount[account] = map[*Stream]struct{}{}
	}
	// Registered before the position is read: an event committed in
	// between is after the position, and its wake-up finds the stream.
	h.byAccount[account][s] = struct{}{}
	h.open.Add(1)
	h.reading.Add(1)
	h.mu.Unlock()
	defer h.reading.Done()

	err := rt.db.View(func(tx *store.Tx) error {
		acct, err := tx.Account(account)
		if err != nil {
			return err
		}
		events, err := acct.Collection(EventsCollection)
		if err != nil {
			return err
		}
		s.pos = events.End()
		return nil
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Next returns the events recorded after the last ones it returned (at
// first, after the subscription), oldest first, at most max of them
// (max ≤ 0: no limit on the count) and about 4 MiB; it waits until there
// is at least one, ctx ends or the stream is closed (ErrStreamClosed).
func (s *Stream) Next(ctx context.Context, max int) ([]StreamEvent, error) {
	for {
		evs, err := s.read(max)
		if err != nil || len(evs) > 0 {
			return evs, err
		}
		select {
		case <-s.wake:
		case <-s.done:
			return nil, ErrStreamClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// read reads what follows the stream's position, in one read transaction.
func (s *Stream) read(max int) ([]StreamEvent, error) {
	h := &s.rt.streams
	h.mu.Lock()
	select {
	case <-s.done:
		h.mu.Unlock()
		return nil, ErrStreamClosed
	default:
	}
	h.reading.Add(1)
	h.mu.Unlock()
	defer h.reading.Done()

	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StreamEvent
	err := s.rt.db.View(func(tx *store.Tx) error {
		acct, err := tx.Account(s.account)
		if err != nil {
			return err
		}
		events, err := acct.Collection(EventsCollection)
		if err != nil {
			return err
		}
		// The dialect, which reads the events' types, is looked up only
		// for an event: an account may have none yet, nor a dialect.
		var d Dialect
		size := 0
		pos, err := events.Tail(s.pos, func(id string, stored []byte) (bool, error) {
			if max > 0 && len(out) == max || len(out) > 0 && size+len(stored) > streamBatchBytes {
				return false, nil
			}
			if d == nil {
				if d, err = s.rt.dialectOf(tx, s.account); err != nil {
					return false, err
				}
			}
			typ, _, err := d.EventHead(stored)
			if err != nil {
				return false, fmt.Errorf("event %s: %w", id, err)
			}
			size += len(stored)
			out = append(out, StreamEvent{ID: id, Type: typ, Stored: bytes.Clone(stored)})
			return true, nil
		})
		s.pos = pos
		return err
	})
	return out, err
}

// Done is closed once the stream is closed.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Close ends the stream: a Next waiting returns ErrStreamClosed. It is
// safe to call more than once.
func (s *Stream) Close() {
	s.closeOnce.Do(func() {
		h := &s.rt.streams
		h.mu.Lock()
		if subs := h.byAccount[s.account]; subs != nil {
			if _, ok := subs[s]; ok {
				delete(subs, s)
				h.open.Add(-1)
			}
			if len(subs) == 0 {
				delete(h.byAccount, s.account)
			}
		}
		close(s.done)
		h.mu.Unlock()
	})
}

// recorded is told by StoreEvent that tx stores an event of account: the
// account's streams are woken once tx has committed.
func (h *streams) recorded(tx *store.Tx, account string) {
	if h.open.Load() == 0 {
		return
	}
	h.mu.Lock()
	_, ok := h.byAccount[account]
	h.mu.Unlock()
	if ok {
		tx.OnCommit(func() { h.notify(account) })
	}
}

// notify wakes every stream of account, without ever waiting.
func (h *streams) notify(account string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.byAccount[account] {
		select {
		case s.wake <- struct{}{}:
		default: // already woken
		}
	}
}

// close closes every stream and refuses new ones, then waits for the reads
// in progress: after it the database may close.
func (h *streams) close() {
	h.mu.Lock()
	h.closed = true
	var all []*Stream
	for _, subs := range h.byAccount {
		for s := range subs {
			all = append(all, s)
		}
	}
	h.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
	h.reading.Wait()
}
