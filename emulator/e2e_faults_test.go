package emulator_test

// Storage faults: the store's BeforeCommit seam fails commits as a full
// disk would, while the background workers run.

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// logBuffer collects a server's log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger logs everything, debug included, into b.
func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// disk is a switchable storage fault for emulator.Config.BeforeCommit.
type disk struct {
	full   atomic.Bool
	failed atomic.Int64 // commits refused so far
}

func (d *disk) beforeCommit() error {
	if d.full.Load() {
		d.failed.Add(1)
		return &os.PathError{Op: "write", Path: "billclock.db", Err: syscall.ENOSPC}
	}
	return nil
}

// TestWebhookDiskFullWhileRecordingADelivery: when the outcome of a
// delivery cannot be stored, the event is not sent again and again: the
// deliverer retries storing the outcome, with backoff, and once the disk
// has room the queue goes on, with the event delivered once.
func TestWebhookDiskFullWhileRecordingADelivery(t *testing.T) {
	t.Parallel()
	var d disk
	var logs logBuffer
	b := startBilling(t, emulator.Config{BeforeCommit: d.beforeCommit, Logger: logs.logger()})
	var fill sync.Once
	rc := newReceiver(t, func(context.Context, *stripe.Event, int) int {
		fill.Do(func() { d.full.Store(true) }) // the disk fills while the first event is being taken
		return 200
	})
	we := b.endpoint(rc, "*")
	cust := b.customer("")
	rc.waitFor(5*time.Second, "the customer.created event", func(got []arrival) bool { return len(got) >= 1 })

	// The disk stays full for a while: storing the outcome is retried,
	// with backoff, and the event is not sent again.
	const fullFor = 1500 * time.Millisecond
	time.Sleep(fullFor)
	assert.Len(t, rc.got(), 1, "the event was sent again while its outcome could not be stored")
	failed := d.failed.Load()
	assert.GreaterOrEqual(t, failed, int64(2), "storing the outcome was not retried")
	// Backoff from 100 ms, doubling, allows a handful of tries in 1.5 s;
	// without it there were thousands.
	assert.Less(t, failed, int64(30), "retries do not back off")
	assert.Less(t, strings.Count(logs.String(), "level=ERROR"), 30, "one error line per retry at most:\n%s", logs.String())

	d.full.Store(false)
	_, err := b.sc.V1Customers.Update(t.Context(), cust.ID, &stripe.CustomerUpdateParams{Name: stripe.String("after")})
	require.NoError(t, err)
	evs := b.delivered(30 * time.Second)
	require.Len(t, evs, 2)
	assert.Equal(t, eventIDs(evs), rc.ids(), "each event once, in order")
	atts := b.attempts(t, we.ID)
	require.Len(t, atts, 2)
	for i, att := range atts {
		assert.Equal(t, evs[i].ID, att.Event)
		assert.Equal(t, "succeeded", att.Outcome)
		assert.Equal(t, 1, att.Attempt)
	}
}
