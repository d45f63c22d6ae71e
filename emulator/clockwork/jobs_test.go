package clockwork

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

const frozen0 = 1732320000 // 2024-11-23T00:00:00Z

// TestJobsKeepAccountsThatAreNotUTF8: an account key that is not valid
// UTF-8 goes through the advance and delivery queues unchanged, so its
// clock finishes advancing and its webhooks are delivered.
func TestJobsKeepAccountsThatAreNotUTF8(t *testing.T) {
	const account = "tk_\xff\xfe\x80acct" // not valid UTF-8
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)

	arrived := make(chan string, 16)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev fakeEvent
		json.Unmarshal(body, &ev)
		arrived <- ev.Type
	}))
	t.Cleanup(rcv.Close)

	var id string
	update(t, rt, d, account, func(l *Ledger) (func(), error) {
		if err := l.PutEndpoint(&Endpoint{ID: "we_1", URL: rcv.URL, EnabledEvents: []string{string(billing.EventClockReady)},
			Secret: "whsec_x"}); err != nil {
			return nil, err
		}
		c, err := newClock(l, frozen0)
		if err != nil {
			return nil, err
		}
		id = c.ID
		return nil, nil
	})
	update(t, rt, d, account, func(l *Ledger) (func(), error) { return advance(l, id, frozen0+86400) })

	// The queued jobs name the account byte for byte.
	require.NoError(t, rt.DB().View(func(tx *store.Tx) error {
		aq, err := tx.Queue(advanceQueue)
		require.NoError(t, err)
		raw, err := aq.Get(jobKey(account, id))
		require.NoError(t, err)
		var aj advanceJob
		require.NoError(t, json.Unmarshal(raw, &aj))
		assert.Equal(t, []byte(account), []byte(aj.account()), "advance job account")
		return nil
	}))

	runRuntime(t, rt)
	var c *billing.Clock
	waitFor(t, "the clock to be ready", func() bool {
		view(t, rt, d, account, func(l *Ledger) (err error) {
			c, err = l.Clock(id)
			return err
		})
		require.Contains(t, []billing.ClockStatus{billing.ClockAdvancing, billing.ClockReady}, c.Status)
		return c.Status == billing.ClockReady
	})
	assert.Equal(t, int64(frozen0+86400), c.FrozenTime)
	select {
	case typ := <-arrived:
		assert.Equal(t, string(billing.EventClockReady), typ)
	case <-time.After(10 * time.Second):
		t.Fatal("the ready event was never delivered")
	}
}

// TestJobAccountReadsTheOldForm: jobs written before accounts were stored
// as bytes (a JSON string under "account") still name their account.
func TestJobAccountReadsTheOldForm(t *testing.T) {
	var aj advanceJob
	require.NoError(t, json.Unmarshal([]byte(`{"account":"sk_test_old","clock":"clock_1","target":5,"not_before":1}`), &aj))
	assert.Equal(t, "sk_test_old", aj.account())
	assert.Equal(t, "clock_1", aj.Clock)
	var dj deliveryJob
	require.NoError(t, json.Unmarshal([]byte(`{"account":"sk_test_old","endpoint":"we_1","event":"evt_1","attempts":2,"next_attempt":7}`), &dj))
	assert.Equal(t, "sk_test_old", dj.account())
	assert.Equal(t, 2, dj.Attempts)

	for _, key := range []string{"sk_test_new", "sk_test_\xff\x00\xfe", ""} {
		raw, err := json.Marshal(deliveryJob{jobAccount: newJobAccount(key), Endpoint: "we_1"})
		require.NoError(t, err)
		var back deliveryJob
		require.NoError(t, json.Unmarshal(raw, &back))
		assert.Equal(t, []byte(key), []byte(back.account()), "%s", raw)
	}
}

// clockStatus is the status of clock id of account.
func clockStatus(t *testing.T, rt *Runtime, d Dialect, account, id string) billing.ClockStatus {
	t.Helper()
	var status billing.ClockStatus
	view(t, rt, d, account, func(l *Ledger) error {
		c, err := l.Clock(id)
		if err == nil {
			status = c.Status
		}
		return err
	})
	return status
}

// TestAdvanceOfACorruptClockFails: a stored task that does not decode is
// a state no retry can cure, so the clock goes to internal_failure (with
// its event) instead of advancing forever.
func TestAdvanceOfACorruptClockFails(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_corrupt"
	var clock string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := newClock(l, frozen0)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		if err := subscribe(l, clock, frozen0, 1); err != nil {
			return nil, err
		}
		tl, err := l.acct.Timeline()
		if err != nil {
			return nil, err
		}
		return nil, tl.Add(clock, frozen0+86400, []byte(`{"kind":`)) // a task cut short
	})
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, frozen0+40*86400) })
	runRuntime(t, rt)

	waitFor(t, "the advance to end", func() bool { return clockStatus(t, rt, d, key, clock) != billing.ClockAdvancing })
	assert.Equal(t, billing.ClockInternalFailure, clockStatus(t, rt, d, key, clock))
	require.Len(t, eventsOf(t, rt, d, key, string(billing.EventClockInternalFailure)), 1)
	require.NoError(t, rt.DB().View(func(tx *store.Tx) error {
		q, err := tx.Queue(advanceQueue)
		require.NoError(t, err)
		_, err = q.Get(jobKey(key, clock))
		assert.ErrorIs(t, err, store.ErrNotFound, "the advance is no longer queued")
		return nil
	}))
}

// TestCorruptAdvanceJobFailsOnlyItsClock: a queued advance that does not
// decode fails its own clock and holds up no other advance.
func TestCorruptAdvanceJobFailsOnlyItsClock(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_corruptjob"
	var clocks []string
	for range 2 {
		update(t, rt, d, key, func(l *Ledger) (func(), error) {
			c, err := newClock(l, frozen0)
			if err != nil {
				return nil, err
			}
			clocks = append(clocks, c.ID)
			return advance(l, c.ID, frozen0+86400)
		})
	}
	require.NoError(t, rt.DB().Update(func(tx *store.Tx) error {
		q, err := tx.Queue(advanceQueue)
		require.NoError(t, err)
		return q.Put(jobKey(key, clocks[0]), []byte(`{"account_key":`))
	}))
	runRuntime(t, rt)
	waitFor(t, "both advances to end", func() bool {
		return clockStatus(t, rt, d, key, clocks[0]) != billing.ClockAdvancing &&
			clockStatus(t, rt, d, key, clocks[1]) != billing.ClockAdvancing
	})
	assert.Equal(t, billing.ClockInternalFailure, clockStatus(t, rt, d, key, clocks[0]))
	assert.Equal(t, billing.ClockReady, clockStatus(t, rt, d, key, clocks[1]))
}
