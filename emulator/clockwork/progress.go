package clockwork

import (
	"github.com/billclock/billclock/emulator/billing"
)

// Progress is how far a clock's advance has got: the answer of the control
// route GET /_billclock/test_clocks/{id}/progress, the same for every
// dialect. Stripe shows an advancing clock at its old frozen_time until
// the whole advance is done; this shows the work in between.
type Progress struct {
	Object string `json:"object"`
	Clock  string `json:"clock"`
	Status string `json:"status"`
	// ReachedTime is the simulated time the advance's work has reached:
	// the time of the latest task applied, the frozen time before the
	// first and once the clock is ready.
	ReachedTime      int64 `json:"reached_time"`
	TargetFrozenTime int64 `json:"target_frozen_time"`
	// TasksDone counts the tasks (renewals, invoice finalizations, payment
	// retries, trial notices...) the advance has applied, or the latest
	// advance applied once it has ended.
	TasksDone int64 `json:"tasks_done"`
}

// Progress reports how far the advance of clock id has got, from the
// chunks of it that have committed.
func (l *Ledger) Progress(id string) (*Progress, error) {
	clock, err := l.Clock(id)
	if err != nil {
		return nil, err
	}
	p := &Progress{Object: "billclock.test_clock_progress", Clock: clock.ID, Status: string(clock.Status),
		ReachedTime: clock.FrozenTime, TargetFrozenTime: clock.FrozenTime, TasksDone: clock.AdvanceTasks}
	if clock.Status == billing.ClockAdvancing {
		p.TargetFrozenTime, p.TasksDone = clock.TargetTime, 0
		job, ok, err := l.rt.advancer.progress(l.tx, l.account, clock.ID)
		if err != nil {
			return nil, err
		}
		if ok && job.Target == clock.TargetTime {
			p.ReachedTime = max(p.ReachedTime, job.Reached)
			p.TasksDone = job.Tasks
		}
	}
	return p, nil
}

// RunDue applies the work of clock that falls due up to until, in time
// order, at most budget tasks (budget ≤ 0: no limit), in the ledger's
// transaction; done reports whether nothing due is left. An advance does
// this in the background (QueueAdvance); a dialect calls it for work run
// on demand (Commet's 2026-07-11 process-billing, after a PutClock that
// moved the clock). A TaskObserver dialect sees each task.
func (l *Ledger) RunDue(clock string, until int64, budget int) (done bool, err error) {
	return l.run(clock, until, budget)
}

// run is RunDue; with a TaskObserver dialect it applies one task at a time
// and shows each to the dialect with the events it caused.
func (l *Ledger) run(clock string, until int64, budget int) (done bool, err error) {
	obs, ok := l.d.(TaskObserver)
	if !ok {
		return l.Engine().Run(clock, until, budget)
	}
	eng := l.Engine()
	// One slice collects every task's events in turn: a renewal causes a
	// dozen, and a slice grown anew for each task cost as much as the
	// observing.
	events := make([]billing.Event, 0, 16)
	for n := 0; budget <= 0 || n < budget; n++ {
		clear(events)
		events = events[:0]
		l.observed, l.lastTask = &events, nil
		done, err := eng.Run(clock, until, 1)
		l.observed = nil
		if err != nil || done {
			return done, err
		}
		if err := obs.ObserveTask(l, *l.lastTask, events); err != nil {
			return false, err
		}
	}
	return false, nil
}
