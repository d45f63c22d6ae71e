package emulator_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// TestErrorPathsNeverLogTheKey drives the server's error paths with a
// distinctive API key and checks that neither the key nor a webhook secret
// reaches the log, at debug level: advances and deliveries on a full disk,
// endpoints that fail, refuse or hang, requests that fail inside, and an
// advance over a corrupt database.
func TestErrorPathsNeverLogTheKey(t *testing.T) {
	t.Parallel()
	const key = "sk_test_LogSecretK3y0123456789"
	var d disk
	var logs logBuffer
	cfg := emulator.Config{BeforeCommit: d.beforeCommit, Logger: logs.logger(), Webhooks: clockwork.WebhookOptions{
		Attempts: 2, RetryDelay: 50 * time.Millisecond, Timeout: 200 * time.Millisecond}}
	e := start(t, cfg)
	b := &billingEnv{env: e, sc: e.client(key)}

	// Endpoints that answer 500, refuse connections and hang, and one
	// whose deliveries meet a full disk.
	var secrets []string
	failing := newReceiver(t, func(context.Context, *stripe.Event, int) int { return http.StatusInternalServerError })
	secrets = append(secrets, b.endpoint(failing, "*").Secret)
	hanging := newReceiver(t, func(ctx context.Context, _ *stripe.Event, _ int) int { <-ctx.Done(); return 200 })
	secrets = append(secrets, b.endpoint(hanging, "*").Secret)
	we, err := b.sc.V1WebhookEndpoints.Create(t.Context(), &stripe.WebhookEndpointCreateParams{
		URL: stripe.String(refusedURL), EnabledEvents: stripe.StringSlice([]string{"*"})})
	require.NoError(t, err)
	secrets = append(secrets, we.Secret)
	clock := b.clockAt(frozen0)
	price := b.price("Seats", 1000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	b.subscribe(cust.ID, price.ID, 2, nil)
	var fill = make(chan struct{}, 1)
	fill <- struct{}{}
	ok := newReceiver(t, func(context.Context, *stripe.Event, int) int {
		select {
		case <-fill:
			d.fill(0, -1) // the outcome of this delivery meets a full disk
		default:
		}
		return 200
	})
	secrets = append(secrets, b.endpoint(ok, "*").Secret)

	_, err = b.sc.V1Products.Create(t.Context(), &stripe.ProductCreateParams{Name: stripe.String("Other")})
	require.NoError(t, err)
	ok.waitFor(5*time.Second, "a delivery", func(got []arrival) bool { return len(got) > 0 })
	time.Sleep(300 * time.Millisecond) // storing its outcome fails a few times

	// Requests that fail inside: writes on the full disk, with and
	// without an idempotency key.
	_, err = b.sc.V1Customers.Create(t.Context(), &stripe.CustomerCreateParams{Email: stripe.String("x@example.com")})
	stripeError(t, err, http.StatusInternalServerError)
	p := &stripe.CustomerCreateParams{Email: stripe.String("y@example.com")}
	p.SetIdempotencyKey("log-test-1")
	_, err = b.sc.V1Customers.Create(t.Context(), p)
	stripeError(t, err, http.StatusInternalServerError)

	// A restart on the full disk: the janitor's sweep fails too.
	e.srv.Restart()
	b.sc = e.client(key)
	eventually(t, 5*time.Second, "the sweep to fail", func() bool { return strings.Contains(logs.String(), `msg=sweep`) })
	d.free()
	b.delivered(30 * time.Second)

	// The clock with a subscription is advanced onto a full disk. No
	// delivery is pending: the advance request is the only writer.
	d.fill(1, -1) // the advance request commits, its work does not
	_, err = b.sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen0 + 31*86400)})
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, clockStatus(t, b.sc, clock.ID))
	d.free()
	require.Equal(t, stripe.TestHelpersTestClockStatusReady, waitReady(t, b.sc, clock.ID).Status)
	b.delivered(30 * time.Second)

	// An advance over a corrupt database: a stored task that does not
	// decode.
	e.srv.Stop()
	db, err := store.Open(e.srv.DBPath(), nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		acct, err := tx.Account(key)
		if err != nil {
			return err
		}
		tl, err := acct.Timeline()
		if err != nil {
			return err
		}
		return tl.Add(clock.ID, frozen0+32*86400, []byte(`{"kind":`))
	}))
	require.NoError(t, db.Close())
	e.srv.Restart()
	b.sc = e.client(key)
	_, err = b.sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen0 + 33*86400)})
	require.NoError(t, err)
	require.Equal(t, stripe.TestHelpersTestClockStatusInternalFailure, waitReady(t, b.sc, clock.ID).Status)
	e.srv.Stop()

	log := logs.String()
	// The error paths were taken and logged, naming the account by a hash.
	sum := sha256.Sum256([]byte(key))
	account := "account=acct_" + hex.EncodeToString(sum[:])[:8]
	for _, want := range []string{
		`msg="webhook delivery failed"`, `msg="advance failed"`, `msg="internal error"`,
		`msg="advance failed: the clock is left in internal_failure"`, "clock=" + clock.ID, account,
		`msg=sweep`, "no space left on device", "msg=request",
	} {
		assert.Contains(t, log, want)
	}
	for _, secret := range append(secrets, key, key[len("sk_test_"):]) {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q:\n%s", secret, log)
		}
	}
}

func clockStatus(t *testing.T, sc *stripe.Client, id string) stripe.TestHelpersTestClockStatus {
	t.Helper()
	c, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), id, nil)
	require.NoError(t, err)
	return c.Status
}
