package clockwork

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// newCustomer records a customer's created event, for update.
func newCustomer(l *Ledger) (func(), error) { return nil, customerCreated(l) }

// waitLong polls cond until it holds, for at most a minute.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "still waiting for %s", what)
		time.Sleep(10 * time.Millisecond)
	}
}

// nextWithin is Next, bounded by a generous timeout so a broken stream
// fails the test instead of hanging it.
func nextWithin(t *testing.T, s *Stream, max int) []StreamEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := s.Next(ctx, max)
	require.NoError(t, err)
	return evs
}

// readAll reads from s until it has n events.
func readAll(t *testing.T, s *Stream, n int) []StreamEvent {
	t.Helper()
	var out []StreamEvent
	for len(out) < n {
		out = append(out, nextWithin(t, s, 0)...)
	}
	require.Len(t, out, n)
	return out
}

func ids(evs []StreamEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// TestStreamFromNowInOrder: a stream gives the account's events recorded
// after it was opened, each once, in the order they were recorded, with
// their type and stored form; not those of before, nor other accounts'.
func TestStreamFromNowInOrder(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key, other = "tk_stream", "tk_other"
	update(t, rt, d, key, newCustomer) // before: not streamed

	s, err := rt.Subscribe(key)
	require.NoError(t, err)
	defer s.Close()
	update(t, rt, d, other, newCustomer)
	var clock string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := newClock(l, frozen0)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		return nil, customerCreated(l)
	})
	update(t, rt, d, key, newCustomer)

	got := readAll(t, s, 3)
	all := eventsOf(t, rt, d, key)
	require.Len(t, all, 4)
	assert.Equal(t, []string{all[1].ID, all[2].ID, all[3].ID}, ids(got))
	assert.Equal(t, []string{string(billing.EventClockCreated), string(billing.EventCustomerCreated), string(billing.EventCustomerCreated)},
		[]string{got[0].Type, got[1].Type, got[2].Type})
	var stored fakeEvent
	require.NoError(t, json.Unmarshal(got[0].Stored, &stored))
	assert.Equal(t, all[1], stored)
	assert.Equal(t, clock, stored.Object)

	// Nothing more: Next waits until ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	evs, err := s.Next(ctx, 0)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, evs)

	// max bounds one Next; the rest follow.
	for range 5 {
		update(t, rt, d, key, newCustomer)
	}
	first := nextWithin(t, s, 2)
	assert.Len(t, first, 2)
	rest := readAll(t, s, 3)
	all = eventsOf(t, rt, d, key)
	assert.Equal(t, ids([]StreamEvent{{ID: all[4].ID}, {ID: all[5].ID}, {ID: all[6].ID}, {ID: all[7].ID}, {ID: all[8].ID}}),
		append(ids(first), ids(rest)...))
}

// TestStreamWaitsForCommit: a Next waiting is woken by a commit that
// stored events, and a rolled back transaction's events never appear.
func TestStreamWaitsForCommit(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_wait"
	s, err := rt.Subscribe(key)
	require.NoError(t, err)
	defer s.Close()

	boom := errors.New("boom")
	err = rt.DB().Update(func(tx *store.Tx) error {
		l, err := rt.Ledger(tx, d, key, nil)
		if err != nil {
			return err
		}
		if err := customerCreated(l); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)

	got := make(chan []StreamEvent, 1)
	go func() {
		evs, _ := s.Next(context.Background(), 0)
		got <- evs
	}()
	update(t, rt, d, key, newCustomer)
	select {
	case evs := <-got:
		all := eventsOf(t, rt, d, key)
		require.Len(t, all, 1)
		assert.Equal(t, []string{all[0].ID}, ids(evs))
	case <-time.After(10 * time.Second):
		t.Fatal("Next was not woken by the commit")
	}
}

// TestStreamLimits: streams beyond the per-account limit are refused, a
// closed one frees its place, and a closed stream's Next ends.
func TestStreamLimits(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	var open []*Stream
	for range MaxStreamsPerAccount {
		s, err := rt.Subscribe("tk_many")
		require.NoError(t, err)
		open = append(open, s)
	}
	_, err := rt.Subscribe("tk_many")
	assert.ErrorIs(t, err, ErrTooManyStreams)
	other, err := rt.Subscribe("tk_another")
	require.NoError(t, err, "another account has its own limit")
	other.Close()

	waiting := make(chan error, 1)
	go func() {
		_, err := open[0].Next(context.Background(), 0)
		waiting <- err
	}()
	open[0].Close()
	open[0].Close() // twice is fine
	select {
	case <-open[0].Done():
	default:
		t.Error("Done is not closed after Close")
	}
	select {
	case err := <-waiting:
		assert.ErrorIs(t, err, ErrStreamClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not end when the stream closed")
	}
	s, err := rt.Subscribe("tk_many")
	require.NoError(t, err, "a closed stream frees its place")
	s.Close()
	for _, s := range open[1:] {
		s.Close()
	}
}

// TestStreamEndsWithRuntime: when the runtime stops, its streams end and
// no new one opens.
func TestStreamEndsWithRuntime(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	s, err := rt.Subscribe("tk_end")
	require.NoError(t, err)
	waiting := make(chan error, 1)
	go func() {
		_, err := s.Next(context.Background(), 0)
		waiting <- err
	}()
	cancel()
	require.NoError(t, <-done)
	select {
	case err := <-waiting:
		assert.ErrorIs(t, err, ErrStreamClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not end with the runtime")
	}
	_, err = rt.Subscribe("tk_end")
	assert.ErrorIs(t, err, ErrStreamClosed)
}

// TestStreamReaderHoldsNothing: streams that are never read hold up
// neither a clock advance nor webhook deliveries, and a reader that comes
// back later gets every event, in order.
func TestStreamReaderHoldsNothing(t *testing.T) {
	var delivered atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		delivered.Add(1)
	}))
	t.Cleanup(recv.Close)
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	runRuntime(t, rt)
	const key = "tk_slow"
	var idle []*Stream
	for range 4 {
		s, err := rt.Subscribe(key)
		require.NoError(t, err)
		defer s.Close()
		idle = append(idle, s)
	}

	var clock string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		if err := l.PutEndpoint(&Endpoint{ID: "we_slow", URL: recv.URL, EnabledEvents: []string{"*"}, Secret: "s"}); err != nil {
			return nil, err
		}
		c, err := newClock(l, frozen0)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		return nil, subscribe(l, clock, frozen0, 15)
	})
	// Two monthly renewals of 15 subscriptions: more than a hundred events.
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, frozen0+60*86400) })
	// Generous waits: the machine may be loaded, and this is no timing test.
	waitLong(t, "the advance", func() bool { return clockStatus(t, rt, d, key, clock) == billing.ClockReady })
	n := 0
	view(t, rt, d, key, func(l *Ledger) error {
		events, err := l.Collection(EventsCollection)
		if err != nil {
			return err
		}
		return events.Each(func(string, []byte) error { n++; return nil })
	})
	require.Greater(t, n, 100)
	waitLong(t, "every delivery", func() bool { return int(delivered.Load()) == n })

	got := readAll(t, idle[0], n)
	var want []string
	view(t, rt, d, key, func(l *Ledger) error {
		events, err := l.Collection(EventsCollection)
		if err != nil {
			return err
		}
		return events.Each(func(id string, _ []byte) error { want = append(want, id); return nil })
	})
	assert.Equal(t, want, ids(got))
}
