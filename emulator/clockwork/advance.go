package clockwork

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// advanceQueue is the store queue of pending clock advances. A job is
// written in the same transaction that marks its clock advancing and removed
// in the one that makes it ready, so a crash in between leaves the job to be
// finished after restart.
const advanceQueue = "clock_advances"

// maxParallelAdvances bounds how many clocks advance at once.
const maxParallelAdvances = 4

type advanceJob struct {
	jobAccount
	Clock  string `json:"clock"`
	Target int64  `json:"target"`
	// NotBefore (wall time, Unix nanoseconds) honours --advance-delay.
	NotBefore int64 `json:"not_before"`
	// Reached is the simulated time of the latest task applied so far and
	// Tasks how many tasks the committed chunks applied: the advance's
	// progress, for GET /_billclock/test_clocks/{id}/progress.
	Reached int64 `json:"reached,omitempty"`
	Tasks   int64 `json:"tasks,omitempty"`
}

func jobKey(account, clock string) string { return account + "\x00" + clock }

// splitJobKey is jobKey's inverse; clock ids hold no NUL byte.
func splitJobKey(key string) (account, clock string) {
	i := strings.LastIndexByte(key, 0)
	if i < 0 {
		return "", key
	}
	return key[:i], key[i+1:]
}

// advancer finishes clock advances in the background.
type advancer struct {
	*dueWork
	rt *Runtime
}

func newAdvancer(rt *Runtime) *advancer {
	a := &advancer{rt: rt}
	a.dueWork = newDueWork("advance", maxParallelAdvances, rt.log, rt.now, a.scan)
	return a
}

// schedule queues the advance of clock, which BeginAdvance has just marked.
func (a *advancer) schedule(tx *store.Tx, account string, clock *billing.Clock, notBefore time.Time) error {
	q, err := tx.Queue(advanceQueue)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(advanceJob{jobAccount: newJobAccount(account), Clock: clock.ID, Target: clock.TargetTime, NotBefore: notBefore.UnixNano()})
	if err != nil {
		return err
	}
	return q.Put(jobKey(account, clock.ID), raw)
}

// cancel drops the pending advance of a clock, if any.
func (a *advancer) cancel(tx *store.Tx, account, clock string) error {
	q, err := tx.Queue(advanceQueue)
	if err != nil {
		return err
	}
	return q.Delete(jobKey(account, clock))
}

// job is the work of finishing the advance queued under key. A transient
// error (a full disk, an I/O error) is returned, and dueWork tries again
// later: the advance resumes from its last committed chunk, as after a
// crash, and the clock stays advancing meanwhile. Only an error no retry
// can cure marks the clock internal_failure.
func (a *advancer) job(key string) dueJob {
	account, clock := splitJobKey(key)
	job := dueJob{key: key, attrs: []any{"clock", clock, "account", AccountLabel(account)}, secret: account}
	job.run = func(context.Context) error {
		err := a.apply(key)
		if err == nil || !hopeless(err) {
			return err
		}
		a.rt.log.Error("advance failed: the clock is left in internal_failure", job.logAttrs("err", job.redact(err.Error()))...)
		return a.fail(key)
	}
	return job
}

// hopeless reports whether err means the advance can never be applied,
// however often it is tried: a stored object that does not decode (a
// corrupt database), an engine that refuses the state it finds, or a panic
// (a bug that would recur). Anything else is taken as transient: the
// store's I/O errors (ENOSPC, EIO, EDQUOT) and bbolt's errors on write.
func hopeless(err error) bool {
	var syntax *json.SyntaxError
	var mistyped *json.UnmarshalTypeError
	var refused *billing.Error
	return errors.As(err, &syntax) || errors.As(err, &mistyped) || errors.As(err, &refused) ||
		errors.Is(err, store.ErrPanicked)
}

// scan finds the advances due now and when the next one falls due.
func (a *advancer) scan(now time.Time) ([]dueJob, time.Duration, error) {
	var due []dueJob
	next := time.Duration(-1)
	err := a.rt.db.View(func(tx *store.Tx) error {
		q, err := tx.Queue(advanceQueue)
		if err != nil {
			return err
		}
		return q.ForEach(func(key string, raw []byte) error {
			var job advanceJob
			if err := json.Unmarshal(raw, &job); err != nil {
				// Due at once: the job fails its clock, instead of this
				// job stopping every other advance.
				due = append(due, a.job(key))
				return nil
			}
			if wait := time.Unix(0, job.NotBefore).Sub(now); wait > 0 {
				if next < 0 || wait < next {
					next = wait
				}
				return nil
			}
			due = append(due, a.job(key))
			return nil
		})
	})
	return due, next, err
}

// advanceChunk bounds the engine tasks applied in one transaction, so that
// a large advance neither holds every change in memory nor blocks other
// writers for long.
const advanceChunk = 1000

// apply finishes one advance: the engine's work between the clock's two
// times runs in time order, in chunks of one transaction each (see step).
func (a *advancer) apply(key string) error {
	for {
		finished, err := a.step(key, advanceChunk)
		if err != nil || finished {
			return err
		}
	}
}

// step applies the next chunk, at most budget tasks, of the advance queued
// under key, in one transaction; the last chunk moves the clock, records
// its ready event and removes the job. Each chunk removes the tasks it
// applied and records its progress in the job, so a crash between chunks
// resumes where it stopped: nothing is missed and nothing is applied twice.
// finished reports that nothing of the advance is left.
func (a *advancer) step(key string, budget int) (finished bool, err error) {
	err = a.rt.db.Batch(func(tx *store.Tx) error {
		finished = true
		q, err := tx.Queue(advanceQueue)
		if err != nil {
			return err
		}
		raw, err := q.Get(key)
		if errors.Is(err, store.ErrNotFound) {
			return nil // finished or cancelled meanwhile
		}
		if err != nil {
			return err
		}
		var job advanceJob
		if err := json.Unmarshal(raw, &job); err != nil {
			return err
		}
		l, err := a.rt.backgroundLedger(tx, job.account())
		if err != nil {
			return err
		}
		clock, err := l.Clock(job.Clock)
		var missing *billing.Error
		if errors.As(err, &missing) {
			return q.Delete(key) // the clock was deleted meanwhile
		}
		if err != nil {
			return err
		}
		if clock.Status != billing.ClockAdvancing || clock.TargetTime != job.Target {
			return q.Delete(key) // stale job
		}
		if clock.FailNextAdvance {
			// Armed by Ledger.ArmAdvanceFailure: the advance ends here,
			// with nothing of it applied.
			return a.markFailed(tx, l.account, clock.ID)
		}
		done, err := l.run(clock.ID, job.Target, budget)
		if err != nil {
			finished = false
			return err
		}
		job.Tasks += l.tasksRun
		job.Reached = max(job.Reached, l.lastTaskAt)
		if !done {
			finished = false
			raw, err := json.Marshal(job)
			if err != nil {
				return err
			}
			return q.Put(key, raw)
		}
		if err := q.Delete(key); err != nil {
			return err
		}
		clock.AdvanceTasks = job.Tasks
		for _, ev := range billing.Advance(clock, a.rt.now().Unix()) {
			if err := l.Emit(ev); err != nil {
				return err
			}
		}
		return l.PutClock(clock)
	})
	a.rt.deliverer.wake()
	return finished, err
}

// fail gives up on the advance queued under key: like Stripe, the clock is
// left in internal_failure.
func (a *advancer) fail(key string) error {
	account, clock := splitJobKey(key)
	return a.rt.db.Update(func(tx *store.Tx) error { return a.markFailed(tx, account, clock) })
}

// markFailed puts a clock in internal_failure in tx: its pending advance,
// if any, is dropped and the clock's internal-failure event is recorded.
// It is the one way to fail a clock, for a hopeless advance and for one
// armed by ArmAdvanceFailure alike. A clock that does not exist or does
// not decode is left as it is.
func (a *advancer) markFailed(tx *store.Tx, account, clockID string) error {
	job, _, _ := a.progress(tx, account, clockID) // a job that does not decode counts no tasks
	if err := a.cancel(tx, account, clockID); err != nil {
		return err
	}
	l, err := a.rt.backgroundLedger(tx, account)
	if err != nil {
		return err
	}
	clock, err := l.Clock(clockID)
	if err != nil {
		return nil
	}
	clock.FailAdvance()
	clock.AdvanceTasks = job.Tasks // committed chunks stay applied
	if err := l.PutClock(clock); err != nil {
		return err
	}
	return l.Record(billing.Event{Type: billing.EventClockInternalFailure, Time: a.rt.now().Unix(), Object: clock})
}

// progress returns the queued advance of a clock, with its progress; ok is
// false when none is queued.
func (a *advancer) progress(tx *store.Tx, account, clock string) (job advanceJob, ok bool, err error) {
	q, err := tx.Queue(advanceQueue)
	if err != nil {
		return job, false, err
	}
	raw, err := q.Get(jobKey(account, clock))
	if errors.Is(err, store.ErrNotFound) {
		return job, false, nil
	}
	if err != nil {
		return job, false, err
	}
	if err := json.Unmarshal(raw, &job); err != nil {
		return advanceJob{}, false, err
	}
	return job, true, nil
}
