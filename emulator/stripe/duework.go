package stripe

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// dueWork runs background jobs kept in a store queue when they fall due:
// at most one job per key at a time and at most a fixed number at once. The
// advancer and the webhook deliverer are both one.
type dueWork struct {
	name string
	log  *slog.Logger
	// scan lists the jobs due now and how long until the next one falls
	// due (negative: none pending).
	scan func(now time.Time) (due []dueJob, next time.Duration, err error)
	now  func() time.Time

	wakeup chan struct{}
	mu     sync.Mutex
	ctx    context.Context // run's, once it runs
	busy   map[string]bool
	slots  chan struct{}
	wg     sync.WaitGroup
}

// dueJob is one job found due by a scan.
type dueJob struct {
	key string
	run func(ctx context.Context) error
}

func newDueWork(name string, parallel int, log *slog.Logger, now func() time.Time,
	scan func(time.Time) ([]dueJob, time.Duration, error)) *dueWork {
	return &dueWork{name: name, log: log, scan: scan, now: now, wakeup: make(chan struct{}, 1),
		busy: map[string]bool{}, slots: make(chan struct{}, parallel)}
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
	defer w.wg.Wait()
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
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
		if !w.start(ctx, job) {
			break
		}
	}
	return next
}

// start runs job in the background unless a job of the same key is
// running; it returns false once ctx has ended.
func (w *dueWork) start(ctx context.Context, job dueJob) bool {
	w.mu.Lock()
	busy := w.busy[job.key]
	w.busy[job.key] = true
	w.mu.Unlock()
	if busy {
		return true
	}
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		w.done(job.key)
		return false
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer w.wake() // the queue moved: look again
		defer func() { <-w.slots }()
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
	return true
}

// startNow runs a job known to be due at once, without waiting for a scan
// of the queue; before run has started it only wakes the worker.
func (w *dueWork) startNow(job dueJob) {
	w.mu.Lock()
	ctx := w.ctx
	w.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		w.wake()
		return
	}
	w.start(ctx, job)
}

func (w *dueWork) done(key string) {
	w.mu.Lock()
	delete(w.busy, key)
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
