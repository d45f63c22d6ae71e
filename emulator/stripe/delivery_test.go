package stripe

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A scan of the delivery queue made before a delivery committed hands out
// the same job again once that delivery is done: running it must not send
// the event a second time.
func TestStaleDeliveryJobIsNotSentTwice(t *testing.T) {
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(recv.Close)
	s, srv := newTestSurface(t, time.Now)
	const key = "sk_test_stale"
	status, we := doCall(t, srv, "POST", "/v1/webhook_endpoints", key, url.Values{"url": {recv.URL},
		"enabled_events[]": {"*"}})
	require.Equal(t, http.StatusOK, status, we)
	status, _ = doCall(t, srv, "POST", "/v1/customers", key, url.Values{"email": {"a@example.com"}})
	require.Equal(t, http.StatusOK, status)

	due, _, err := s.deliverer.scan(time.Now())
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.NoError(t, due[0].run(t.Context()))
	require.EqualValues(t, 1, hits.Load())

	require.NoError(t, due[0].run(t.Context()))
	assert.EqualValues(t, 1, hits.Load(), "the event was sent again")
}
