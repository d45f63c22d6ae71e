package stripe

import (
	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// resumeSubscription is POST /v1/subscriptions/{id}/resume: a subscription
// paused when its trial ended without a payment method starts again.
func (s *Surface) resumeSubscription(c *call, tx *store.Tx) (any, error) {
	anchor, _ := c.p.enum("billing_cycle_anchor", "now", "unchanged")
	behavior, date := c.p.prorationParams()
	ex, err := c.p.expansions(subscriptionExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	sub, now, err := s.subscriptionNow(l, c, c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	opts := billing.ResumeOptions{KeepAnchor: anchor == "unchanged", ProrationBehavior: behavior, ProrationDate: date}
	if sub, err = l.Engine().ResumeSubscription(sub.ID, opts, now); err != nil {
		return nil, err
	}
	return subscriptionView(l, sub, ex)
}
