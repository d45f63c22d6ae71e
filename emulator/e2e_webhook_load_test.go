package emulator_test

// Webhook delivery under load and against misbehaving endpoints: many
// endpoints on several accounts, concurrent writers, hanging and dead
// receivers. Each receiver counts every POST it gets, per event id.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// accountEvents lists every event id of the account behind c, oldest
// first, and counts the webhooks still pending.
func accountEvents(t *testing.T, c *emulatortest.Client) (ids []string, pending int) {
	t.Helper()
	var newestFirst []string
	after := ""
	for {
		q := url.Values{"limit": {"100"}}
		if after != "" {
			q.Set("starting_after", after)
		}
		page, err := c.Call(http.MethodGet, "/v1/events", q)
		require.NoError(t, err)
		for _, d := range page["data"].([]any) {
			ev := d.(map[string]any)
			newestFirst = append(newestFirst, ev["id"].(string))
			pending += int(ev["pending_webhooks"].(float64))
		}
		if page["has_more"] != true {
			return reversed(newestFirst), pending
		}
		after = newestFirst[len(newestFirst)-1]
	}
}

// createEndpoint registers a webhook endpoint for rc on the account behind
// c and hands its secret to rc.
// refusedURL is an endpoint whose connections are refused: nothing
// listens on port 1. (A port picked with net.Listen and then closed is
// soon handed to another test's receiver, which then gets deliveries
// signed with a secret it does not know.)
const refusedURL = "http://127.0.0.1:1/webhooks"

func createEndpoint(t *testing.T, c *emulatortest.Client, rc *receiver) string {
	t.Helper()
	we, err := c.Call(http.MethodPost, "/v1/webhook_endpoints", url.Values{"url": {rc.URL}, "enabled_events[]": {"*"}})
	require.NoError(t, err)
	rc.setSecret(we["secret"].(string))
	return we["id"].(string)
}

// TestWebhookEachEventOnceUnderLoad: with many endpoints on several
// accounts and writers creating events concurrently, every endpoint gets
// every event of its account exactly once, in order.
func TestWebhookEachEventOnceUnderLoad(t *testing.T) {
	t.Parallel()
	const (
		accounts            = 4
		endpointsPerAccount = 6
		writersPerAccount   = 4
		eventsPerAccount    = 120
	)
	// A delivery that timed out would rightly be sent again: the timeout
	// is far longer than any delivery takes, however loaded the machine,
	// so that each event arriving once shows the deliverer's own work.
	srv := emulatortest.Start(t, emulator.Config{NoSync: true, Webhooks: clockwork.WebhookOptions{Timeout: 5 * time.Minute}})
	type account struct {
		c         *emulatortest.Client
		receivers []*receiver
	}
	var accts []*account
	for a := range accounts {
		acct := &account{c: emulatortest.NewClient(srv.URL(), fmt.Sprintf("sk_test_load%d", a), writersPerAccount)}
		for range endpointsPerAccount {
			rc := newReceiver(t, nil)
			createEndpoint(t, acct.c, rc)
			acct.receivers = append(acct.receivers, rc)
		}
		accts = append(accts, acct)
	}

	var wg sync.WaitGroup
	for _, acct := range accts {
		for w := range writersPerAccount {
			wg.Go(func() {
				for i := w; i < eventsPerAccount; i += writersPerAccount {
					if _, err := acct.c.Call(http.MethodPost, "/v1/customers", url.Values{"email": {"c" + strconv.Itoa(i) + "@example.com"}}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	events := make([][]string, len(accts))
	for a, acct := range accts {
		eventually(t, 5*time.Minute, "every webhook delivered", func() bool {
			ids, pending := accountEvents(t, acct.c)
			events[a] = ids
			return pending == 0
		})
		require.Len(t, events[a], eventsPerAccount)
	}
	// Stop the server, so that no delivery is still on its way, then count.
	srv.Stop()
	for a, acct := range accts {
		for e, rc := range acct.receivers {
			dups := 0
			for _, g := range rc.got() {
				if g.N > 1 {
					dups++
				}
			}
			assert.Zero(t, dups, "account %d endpoint %d: %d events arrived more than once", a, e, dups)
			assert.Equal(t, events[a], rc.ids(), "account %d endpoint %d: each event once, in order", a, e)
		}
	}
}

// TestWebhookHangingEndpointsDoNotDelayOthers: dozens of endpoints that
// never answer, on several accounts, with endpoints that refuse connections
// or answer 500, do not delay a healthy endpoint on another account: its
// events arrive long before the hanging deliveries time out.
func TestWebhookHangingEndpointsDoNotDelayOthers(t *testing.T) {
	t.Parallel()
	const (
		timeout           = 2 * time.Minute // far longer than the test waits
		accounts          = 4
		hangingPerAccount = 10
		healthyEvents     = 5
		generousWait      = 30 * time.Second // generous, and far below the timeout
	)
	srv := emulatortest.Start(t, emulator.Config{NoSync: true, Webhooks: clockwork.WebhookOptions{
		Timeout: timeout, RetryDelay: 50 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond}})

	var hanging atomic.Int32
	hang := func(ctx context.Context, _ *stripe.Event, n int) int {
		if n == 1 {
			hanging.Add(1)
		}
		<-ctx.Done() // released when the test ends
		return http.StatusOK
	}
	var hangers []*receiver
	for a := range accounts {
		c := emulatortest.NewClient(srv.URL(), fmt.Sprintf("sk_test_hang%d", a), 1)
		for range hangingPerAccount {
			rc := newReceiver(t, hang)
			createEndpoint(t, c, rc)
			hangers = append(hangers, rc)
		}
		failing := newReceiver(t, func(context.Context, *stripe.Event, int) int { return http.StatusInternalServerError })
		createEndpoint(t, c, failing)
		_, err := c.Call(http.MethodPost, "/v1/webhook_endpoints", url.Values{"url": {refusedURL}, "enabled_events[]": {"*"}})
		require.NoError(t, err)
		for range 2 {
			_, err := c.Call(http.MethodPost, "/v1/customers", nil)
			require.NoError(t, err)
		}
	}
	// At least 16 hanging at once: as many as the shared pool of delivery
	// slots billclock once had, which they then filled.
	eventually(t, generousWait, "many endpoints hanging", func() bool { return hanging.Load() >= 16 })

	healthyClient := emulatortest.NewClient(srv.URL(), "sk_test_healthy", 1)
	healthy := newReceiver(t, nil)
	createEndpoint(t, healthyClient, healthy)
	for range healthyEvents {
		_, err := healthyClient.Call(http.MethodPost, "/v1/customers", nil)
		require.NoError(t, err)
	}
	healthy.waitFor(generousWait, "every event of the healthy account",
		func(got []arrival) bool { return len(got) >= healthyEvents })
	want, _ := accountEvents(t, healthyClient)
	require.Len(t, want, healthyEvents)
	assert.Equal(t, want, healthy.ids(), "each event once, in order")

	// Every hanging endpoint got its first event meanwhile: none waits
	// for another.
	eventually(t, generousWait, "every hanging endpoint tried", func() bool {
		return hanging.Load() == accounts*hangingPerAccount
	})
	for _, rc := range hangers {
		assert.Len(t, rc.got(), 1, "a hanging endpoint gets its next event only after the first times out")
	}
	assert.Equal(t, want, healthy.ids(), "each event once, in order")
}
