package stripe

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/store"
)

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDueWorkFailingJobsRest: a job that keeps failing, by error or panic,
// is retried with doubling rests and logged under its attributes with its
// secret blanked out; a success ends the rest.
func TestDueWorkFailingJobsRest(t *testing.T) {
	const secret = "sk_test_dueWorkSecret"
	var logs lockedBuffer
	var mu sync.Mutex
	var runs []time.Time
	failing, succeeded := true, false
	var w *dueWork
	w = newDueWork("test work", 0, slog.New(slog.NewTextHandler(&logs, nil)), time.Now,
		func(time.Time) ([]dueJob, time.Duration, error) {
			mu.Lock()
			defer mu.Unlock()
			if succeeded {
				return nil, -1, nil // the queue is empty
			}
			return []dueJob{{key: secret + "\x00job", attrs: []any{"job", "j1"}, secret: secret,
				run: func(context.Context) error {
					mu.Lock()
					defer mu.Unlock()
					runs = append(runs, time.Now())
					switch {
					case !failing:
						succeeded = true
						return nil
					case len(runs)%2 == 0:
						panic("boom for " + secret)
					default:
						return errors.New("disk full for " + secret)
					}
				}}}, -1, nil
		})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(runs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for count() < 4 {
		require.True(t, time.Now().Before(deadline), "the failing job was not retried")
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	for i := 1; i < 4; i++ {
		// Rests of 100, 200, 400 ms: at least that much between runs.
		assert.GreaterOrEqual(t, runs[i].Sub(runs[i-1]), retryMin<<(i-1), "run %d", i)
	}
	failing = false
	mu.Unlock()
	w.wake()
	deadline = time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		resting := len(w.resting)
		w.mu.Unlock()
		if resting == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "a success did not end the rest")
		time.Sleep(10 * time.Millisecond)
	}

	log := logs.String()
	assert.Contains(t, log, `msg="test work failed" job=j1 err="disk full for [api key]" failures=1 retry_in=100ms`)
	assert.Contains(t, log, `err="panic: boom for [api key]`)
	assert.Contains(t, log, "failures=2 retry_in=200ms")
	assert.NotContains(t, log, secret)
}

// TestReadPanicIsA500: a panic while serving a read answers Stripe's 500
// envelope and is logged without the API key.
func TestReadPanicIsA500(t *testing.T) {
	const key = "sk_test_readPanicSecret"
	db, err := store.Open(t.TempDir()+"/t.db", &store.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	var logs lockedBuffer
	s := New(Options{DB: db, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r := mux.NewRouter()
	r.HandleFunc("/v1/boom", s.read(func(c *call, _ *store.Tx) (any, error) {
		panic("a bug met " + c.account)
	}))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/boom", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	assert.Contains(t, body.String(), `"type":"api_error"`)
	log := logs.String()
	assert.Contains(t, log, `msg="internal error"`)
	assert.Contains(t, log, "a bug met [api key]")
	assert.Contains(t, log, "account="+accountLabel(key))
	assert.False(t, strings.Contains(log, key), "the log holds the key:\n%s", log)
}
