package stripe

import (
	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// clockProgressObject is the answer of the control route
// GET /_billclock/test_clocks/{id}/progress: how far a clock's advance has
// got. Stripe shows an advancing clock at its old frozen_time until the
// whole advance is done; this shows the work in between.
type clockProgressObject struct {
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

// clockProgress serves GET /_billclock/test_clocks/{id}/progress.
func (s *Surface) clockProgress(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	clocks, err := accountClocks(tx, c.account)
	if err != nil {
		return nil, err
	}
	clock, err := loadClock(clocks, c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	p := &clockProgressObject{Object: "billclock.test_clock_progress", Clock: clock.ID, Status: string(clock.Status),
		ReachedTime: clock.FrozenTime, TargetFrozenTime: clock.FrozenTime, TasksDone: clock.AdvanceTasks}
	if clock.Status == billing.ClockAdvancing {
		p.TargetFrozenTime, p.TasksDone = clock.TargetTime, 0
		job, ok, err := s.advancer.progress(tx, c.account, clock.ID)
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
