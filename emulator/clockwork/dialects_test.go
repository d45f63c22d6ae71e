package clockwork

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// delivery is a webhook request a receiver got.
type delivery struct {
	event     fakeEvent
	signature string
	user      string
	body      []byte
}

// receiver records the deliveries it gets and answers 200.
func receiver(t *testing.T) (*httptest.Server, <-chan delivery) {
	got := make(chan delivery, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{signature: r.Header.Get("X-Fake-Signature"), body: body}
		d.user, _, _ = r.BasicAuth()
		json.Unmarshal(body, &d.event)
		got <- d
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// TestTwoDialectsShareTheRuntime: two dialects over one runtime, each
// with its own accounts. Each account's events are rendered by its own
// dialect, in requests and in the background (an advance), and delivered
// in its format; the control routes answer each dialect's keys through
// that dialect, failure injection included, and the first dialect answers
// requests no dialect claims.
func TestTwoDialectsShareTheRuntime(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	first, second := newFake(rt, "first", "fk_"), newFake(rt, "second", "sk2_")
	rt.Register(first)
	rt.Register(second)
	r := mux.NewRouter()
	rt.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	runRuntime(t, rt)
	rc, got := receiver(t)

	const key = "sk2_site"
	var clock string
	update(t, rt, second, key, func(l *Ledger) (func(), error) {
		if err := l.PutEndpoint(&Endpoint{ID: "we_1", URL: rc.URL, EnabledEvents: []string{"*"}, Secret: "whsec_2",
			Username: "hook", Password: "pw"}); err != nil {
			return nil, err
		}
		c, err := newClock(l, frozen0)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		return nil, subscribe(l, clock, frozen0, 1)
	})

	// The control routes go to the dialect of the key.
	status, body := getJSON(t, srv, "/_billclock/test_clocks/"+clock+"/progress", key)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "ready", body["status"])
	status, body = getJSON(t, srv, "/_billclock/test_clocks/"+clock+"/progress", "fk_other")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "first", body["dialect"], "the first dialect's account has no such clock")
	status, body = getJSON(t, srv, "/_billclock/settings", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "first", body["dialect"], "a request no dialect claims goes to the first")
	status, body = getJSON(t, srv, "/_billclock/no/such/route", key)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "second", body["dialect"], "a 404 in the dialect of the key")
	status, body = getJSON(t, srv, "/_billclock/settings", key)
	require.Equal(t, http.StatusOK, status, body)
	assert.EqualValues(t, billing.FinalizeDelay, body["finalize_delay"], "the dialect's default policy")

	// Failure injection works for the second dialect's clock: its next
	// advance fails, with the failure event in its dialect's shape.
	status, body = sendJSON(t, srv, http.MethodPost, "/_billclock/test_clocks/"+clock+"/fail_next_advance", key)
	require.Equal(t, http.StatusOK, status, body)
	update(t, rt, second, key, func(l *Ledger) (func(), error) { return advance(l, clock, frozen0+40*86400) })
	waitFor(t, "the advance to fail", func() bool { return clockStatus(t, rt, second, key, clock) != billing.ClockAdvancing })
	assert.Equal(t, billing.ClockInternalFailure, clockStatus(t, rt, second, key, clock))
	failures := eventsOf(t, rt, second, key, string(billing.EventClockInternalFailure))
	require.Len(t, failures, 1)
	assert.Equal(t, "second", failures[0].Dialect)

	// Every event of the account, from requests and from the background
	// alike, was rendered by its dialect and delivered in its format, in
	// order.
	events := eventsOf(t, rt, second, key)
	require.NotEmpty(t, events)
	for i, want := range events {
		assert.Equal(t, "second", want.Dialect, want.Type)
		d := <-got
		assert.Equal(t, want, d.event, "delivery %d", i)
		mac := hmac.New(sha256.New, []byte("whsec_2"))
		mac.Write(d.body)
		assert.Equal(t, hex.EncodeToString(mac.Sum(nil)), d.signature)
		assert.Equal(t, "hook", d.user)
	}

	// The account is the second dialect's: the first cannot open it.
	require.NoError(t, rt.DB().View(func(tx *store.Tx) error {
		_, err := rt.Ledger(tx, first, key, nil)
		assert.ErrorIs(t, err, ErrOtherDialect)
		_, err = rt.Ledger(tx, second, key, nil)
		assert.NoError(t, err)
		return nil
	}))
}

// TestAccountsWithoutADialectAreStripes: an account written before
// accounts recorded their dialect belongs to Stripe's (legacyDialect),
// even when another dialect is registered first; a write through its
// dialect records it.
func TestAccountsWithoutADialectAreStripes(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	other, stripe := newFake(rt, "other", "ok_"), newFake(rt, "stripe", "sk_")
	rt.Register(other)
	rt.Register(stripe)
	const key = "sk_test_legacy"
	require.NoError(t, rt.DB().Update(func(tx *store.Tx) error {
		acct, err := tx.Account(key)
		if err != nil {
			return err
		}
		clocks, err := acct.Collection(ClocksCollection)
		if err != nil {
			return err
		}
		raw, _ := json.Marshal(billing.Clock{ID: "clock_old", Created: 1, FrozenTime: frozen0, Status: billing.ClockReady})
		return clocks.Put("clock_old", 1, raw)
	}))
	dialectOf := func() (Dialect, string) {
		var d Dialect
		var recorded string
		require.NoError(t, rt.DB().View(func(tx *store.Tx) (err error) {
			if d, err = rt.dialectOf(tx, key); err != nil {
				return err
			}
			recorded, err = recordedDialect(tx, key)
			return err
		}))
		return d, recorded
	}
	d, recorded := dialectOf()
	assert.Equal(t, "stripe", d.Name())
	assert.Empty(t, recorded)

	update(t, rt, stripe, key, func(l *Ledger) (func(), error) { return advance(l, "clock_old", frozen0+86400) })
	d, recorded = dialectOf()
	assert.Equal(t, "stripe", d.Name())
	assert.Equal(t, "stripe", recorded, "recorded at the first write")
	runRuntime(t, rt)
	waitFor(t, "the advance", func() bool { return clockStatus(t, rt, stripe, key, "clock_old") == billing.ClockReady })
	ready := eventsOf(t, rt, stripe, key, string(billing.EventClockReady))
	require.Len(t, ready, 1)
	assert.Equal(t, "stripe", ready[0].Dialect)
}
