package emulator_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// TestEventRetention: with --retention 48h, an event recorded 49 hours ago
// in wall time is gone once the janitor has swept (it sweeps at start);
// a younger one stays.
func TestEventRetention(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64 // how far the server's wall clock runs ahead
	e := start(t, emulator.Config{Retention: 48 * time.Hour,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	sc := e.client(testKey)
	ctx := t.Context()
	customerCreated := func() []string {
		var ids []string
		for _, ev := range eventsOf(t, sc, &stripe.EventListParams{Type: stripe.String("customer.created")}) {
			ids = append(ids, ev.ID)
		}
		return ids
	}
	_, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String("old@example.com")})
	require.NoError(t, err)
	old := customerCreated()
	require.Len(t, old, 1)

	skew.Store(int64(47 * time.Hour))
	_, err = sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String("young@example.com")})
	require.NoError(t, err)
	young := customerCreated()[0]

	skew.Store(int64(49 * time.Hour))
	e.srv.Restart()
	sc = e.client(testKey)
	deadline := time.Now().Add(livenessWait)
	for {
		_, err := sc.V1Events.Retrieve(ctx, old[0], nil)
		var se *stripe.Error
		if errors.As(err, &se) && se.HTTPStatusCode == http.StatusNotFound {
			assert.Equal(t, "No such event: '"+old[0]+"'", se.Msg)
			break
		}
		require.NoError(t, err)
		require.True(t, time.Now().Before(deadline), "event %s still there 10s after the restart", old[0])
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, []string{young}, customerCreated())
	ev, err := sc.V1Events.Retrieve(ctx, young, nil)
	require.NoError(t, err)
	assert.Equal(t, young, ev.ID)
}
