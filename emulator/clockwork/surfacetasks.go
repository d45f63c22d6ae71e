package clockwork

import "github.com/billclock/billclock/emulator/billing"

// TaskRunner is a Dialect with work of its own on clocks (Stripe's
// Checkout Sessions expire at their expires_at): it schedules a
// billing.TaskSurface task through the ledger (Ledger.Schedule), and the
// engine hands the task back here when its clock (or, on no clock, the
// wall clock) reaches it, in time order with the billing work.
type TaskRunner interface {
	// RunTask does task t in the transaction of ledger l.
	RunTask(l *Ledger, t billing.Task) error
}

var _ billing.SurfaceTasks = (*Ledger)(nil)

// RunSurfaceTask hands a TaskSurface task to the ledger's dialect
// (billing.SurfaceTasks); a dialect that runs none drops it.
func (l *Ledger) RunSurfaceTask(t billing.Task) error {
	if r, ok := l.d.(TaskRunner); ok {
		return r.RunTask(l, t)
	}
	return nil
}
