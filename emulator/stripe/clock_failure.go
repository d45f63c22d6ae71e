package stripe

import (
	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// failNextAdvance serves POST /_billclock/test_clocks/{id}/fail_next_advance,
// a control route: the clock's next advance ends in internal_failure, as
// Stripe's clocks sometimes do, so that users can test how they handle it.
// It answers with the clock, unchanged to the eye until it advances.
func (s *Surface) failNextAdvance(c *call, tx *store.Tx) (any, error) {
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
	if err := clock.ArmAdvanceFailure(); err != nil {
		return nil, err
	}
	if err := saveClock(clocks, clock); err != nil {
		return nil, err
	}
	return renderClock(clock), nil
}

// failArmedAdvance ends the advance of a clock armed by failNextAdvance, in
// the transaction that would have applied its first chunk: nothing of the
// advance is applied, the job is dropped, the clock is left in
// internal_failure and test_helpers.test_clock.internal_failure is
// recorded.
func (a *advancer) failArmedAdvance(tx *store.Tx, account string, clock *billing.Clock) error {
	return a.markFailed(tx, account, clock.ID)
}
