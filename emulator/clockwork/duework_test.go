package clockwork

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
