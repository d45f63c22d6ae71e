package stripe

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// dueWork runs background jobs kept in a store queue when they fall due:
// at most one job per key at a time and, if limit is set, at most limit at
// once. The advancer and the webhook deliverer are both one.
//
// Starting a job never waits: a job that cannot start now (its key is busy,
// or the limit is reached) is left in its queue, and the end of every job
// triggers a new scan that finds it again. So one slow job holds up only
// the later jobs of its own key.
type dueWork struct {
	name string
	log  *slog.Logger
	// scan lists the jobs due now and how long until the next one falls
	// due (negative: none pending).
	scan  func(now time.Time) (due []dueJob, next time.Duration, err error)
	now   func() time.Time
	limit int // 0: no limit

	wakeup  chan struct{}
	mu      sync.Mutex
	ctx     context.Context // run's, once it runs
	stopped bool            // run is returning: start nothing more
	busy    map[string]bool
	running int
	wg      sync.WaitGroup
}

// dueJob is one job found due by a scan.
type dueJob struct {
	key string
	run func(ctx context.Context) error
}

func newDueWork(name string, limit int, log *slog.Logger, now func() time.Time,
	scan func(time.Time) ([]dueJob, time.Duration, error)) *dueWork {
	return &dueWork{name: name, log: log, scan: scan, now: now, limit: limit, wakeup: make(chan struct{}, 1),
		busy: map[string]bool{}}
}

// wake makes the worker scan its queue now.
func (w *dueWork) wake() {
	select {
	case w.wakeup <- struct{}{}:
	default:
	}
}

// run scans and starts due jobs until ctx ends, then waits for the jobs in
// progress.
func (w *dueWork) run(ctx context.Context) error {
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.stopped = true
		w.mu.Unlock()
		w.wg.Wait()
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next := w.dispatch(ctx)
		if next >= 0 {
			timer.Reset(next)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.wakeup:
		case <-timer.C:
		}
	}
}

func (w *dueWork) dispatch(ctx context.Context) time.Duration {
	due, next, err := w.scan(w.now())
	if err != nil {
		w.log.Error(w.name+" queue", "err", err)
		next = time.Second
	}
	for _, job := range due {
		w.start(ctx, job)
	}
	return next
}

// start runs job in the background unless a job of the same key is
// running, the limit is reached or ctx has ended.
func (w *dueWork) start(ctx context.Context, job dueJob) {
	w.mu.Lock()
	if w.stopped || ctx.Err() != nil || w.busy[job.key] || w.limit > 0 && w.running >= w.limit {
		w.mu.Unlock()
		return
	}
	w.busy[job.key] = true
	w.running++
	w.wg.Add(1)
	w.mu.Unlock()
	go func() {
		defer w.wg.Done()
		defer w.wake() // the queue moved, or a slot is free: look again
		defer w.done(job.key)
		defer func() {
			if r := recover(); r != nil {
				w.log.Error(w.name+" panicked", "job", job.key, "panic", r, "stack", string(debug.Stack()))
			}
		}()
		if err := job.run(ctx); err != nil {
			w.log.Error(w.name+" failed", "job", job.key, "err", err)
		}
	}()
}

// startNow runs a job known to be due at once, without waiting for a scan
// of the queue; before run has started it only wakes the worker.
func (w *dueWork) startNow(job dueJob) {
	w.mu.Lock()
	ctx := w.ctx
	w.mu.Unlock()
	if ctx == nil {
		w.wake()
		return
	}
	w.start(ctx, job)
}

func (w *dueWork) done(key string) {
	w.mu.Lock()
	delete(w.busy, key)
	w.running--
	w.mu.Unlock()
}

// jobAccount is the account a queued job acts for. To the store an account
// key is any bytes, but a JSON string cannot carry bytes that are not UTF-8
// (encoding/json replaces them), so the key is kept as bytes: base64 under
// "account_key". Legacy is the JSON string "account" of jobs written before;
// it is read, never written.
type jobAccount struct {
	Key    []byte `json:"account_key,omitempty"`
	Legacy string `json:"account,omitempty"`
}

func newJobAccount(key string) jobAccount { return jobAccount{Key: []byte(key)} }

// account is the account key, byte for byte.
func (a jobAccount) account() string {
	if a.Key != nil {
		return string(a.Key)
	}
	return a.Legacy
}
