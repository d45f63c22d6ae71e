package clockwork

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
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
//
// A job that fails (an error or a panic: a full disk, say) stays in its
// queue and its key rests before the next try, for retryMin at first and
// twice as long after each failure in a row, up to retryMax; a success
// ends the rest. So a fault that persists costs one try and one log line
// per key and rest, not a busy loop.
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
	resting map[string]*rest // keys whose last job failed
	wg      sync.WaitGroup
}

// Bounds of the rest of a key whose job failed.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 30 * time.Second
)

// rest is the backoff of a key after failures in a row.
type rest struct {
	failures int
	until    time.Time
}

// dueJob is one job found due by a scan.
type dueJob struct {
	// key is never logged: it may hold an API key.
	key string
	// attrs name the job in log lines (slog key-value pairs).
	attrs []any
	// secret (an API key) is blanked out of the errors and panics of the
	// job before they are logged.
	secret string
	run    func(ctx context.Context) error
}

// logAttrs are the job's log attributes followed by more.
func (j dueJob) logAttrs(more ...any) []any {
	return append(append([]any{}, j.attrs...), more...)
}

// redact blanks j.secret out of text.
func (j dueJob) redact(text string) string {
	if j.secret == "" {
		return text
	}
	return strings.ReplaceAll(text, j.secret, "[api key]")
}

func newDueWork(name string, limit int, log *slog.Logger, now func() time.Time,
	scan func(time.Time) ([]dueJob, time.Duration, error)) *dueWork {
	return &dueWork{name: name, log: log, scan: scan, now: now, limit: limit, wakeup: make(chan struct{}, 1),
		busy: map[string]bool{}, resting: map[string]*rest{}}
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
	now := w.now()
	due, next, err := w.scan(now)
	if err != nil {
		w.log.Error(w.name+" queue", "err", err)
		next = time.Second
	}
	for _, job := range due {
		if wait := w.start(ctx, job); wait > 0 && (next < 0 || wait < next) {
			next = wait
		}
	}
	w.forgetRests(now)
	return next
}

// start runs job in the background unless a job of the same key is
// running, the limit is reached or ctx has ended. If the key is resting
// after a failure, it returns how long until it may run.
func (w *dueWork) start(ctx context.Context, job dueJob) time.Duration {
	now := w.now()
	w.mu.Lock()
	if r := w.resting[job.key]; r != nil && r.until.After(now) {
		w.mu.Unlock()
		return r.until.Sub(now)
	}
	if w.stopped || ctx.Err() != nil || w.busy[job.key] || w.limit > 0 && w.running >= w.limit {
		w.mu.Unlock()
		return 0
	}
	w.busy[job.key] = true
	w.running++
	w.wg.Add(1)
	w.mu.Unlock()
	go func() {
		defer w.wg.Done()
		defer w.wake() // the queue moved, or a slot is free: look again
		err := w.runJob(ctx, job)
		if ctx.Err() != nil {
			err = nil // shutting down: not the job's failure
		}
		w.done(job, err)
	}()
	return 0
}

// runJob runs job, turning a panic into an error.
func (w *dueWork) runJob(ctx context.Context, job dueJob) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return job.run(ctx)
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

// done frees job's key and, if the job failed, makes the key rest.
func (w *dueWork) done(job dueJob, err error) {
	w.mu.Lock()
	delete(w.busy, job.key)
	w.running--
	if err == nil {
		delete(w.resting, job.key)
		w.mu.Unlock()
		return
	}
	r := w.resting[job.key]
	if r == nil {
		r = &rest{}
		w.resting[job.key] = r
	}
	r.failures++
	failures := r.failures
	wait := min(retryMin<<min(failures-1, 20), retryMax)
	r.until = w.now().Add(wait)
	w.mu.Unlock()
	w.log.Error(w.name+" failed", job.logAttrs("err", job.redact(err.Error()), "failures", failures, "retry_in", wait)...)
}

// forgetRests drops the rests of keys that have not run for a while after
// their rest ended: their jobs are gone (a key still queued runs again as
// soon as its rest ends).
func (w *dueWork) forgetRests(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, r := range w.resting {
		if !w.busy[key] && now.Sub(r.until) > retryMax {
			delete(w.resting, key)
		}
	}
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
