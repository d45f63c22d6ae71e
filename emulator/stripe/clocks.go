package stripe

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

const clocksCollection = "test_clocks"

// clockObject is a test clock on Stripe's wire.
type clockObject struct {
	ID            string        `json:"id"`
	Object        string        `json:"object"`
	Created       int64         `json:"created"`
	DeletesAfter  int64         `json:"deletes_after"`
	FrozenTime    int64         `json:"frozen_time"`
	Livemode      bool          `json:"livemode"`
	Name          *string       `json:"name"`
	Status        string        `json:"status"`
	StatusDetails statusDetails `json:"status_details"`
}

type statusDetails struct {
	Advancing *advancingDetails `json:"advancing,omitempty"`
}

type advancingDetails struct {
	TargetFrozenTime int64 `json:"target_frozen_time"`
}

// deletedObject is the stub Stripe answers a delete with.
type deletedObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

func renderClock(c *billing.Clock) *clockObject {
	o := &clockObject{ID: c.ID, Object: "test_helpers.test_clock", Created: c.Created, DeletesAfter: c.DeletesAfter(),
		FrozenTime: c.FrozenTime, Status: string(c.Status)}
	if c.Name != "" {
		name := c.Name
		o.Name = &name
	}
	if c.Status == billing.ClockAdvancing {
		o.StatusDetails.Advancing = &advancingDetails{TargetFrozenTime: c.TargetTime}
	}
	return o
}

// accountClocks opens the account's clock collection.
func accountClocks(tx *store.Tx, account string) (*store.Collection, error) {
	acct, err := tx.Account(account)
	if err != nil {
		return nil, err
	}
	return acct.Collection(clocksCollection)
}

func loadClock(clocks *store.Collection, id, param string) (*billing.Clock, error) {
	raw, err := clocks.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSuch("billingclock", id, param)
	}
	if err != nil {
		return nil, err
	}
	var c billing.Clock
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode clock %s: %w", id, err)
	}
	return &c, nil
}

func saveClock(clocks *store.Collection, c *billing.Clock) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return clocks.Put(c.ID, c.Created, raw)
}

func (s *Surface) createClock(c *call, tx *store.Tx) (any, error) {
	frozen := c.p.requiredTimestamp("frozen_time")
	name, _ := c.p.str("name")
	customer, hasCustomer := c.p.str("customer")
	if err := c.p.expand("status_details"); err != nil {
		return nil, err
	}
	if hasCustomer {
		// Attaching an existing customer needs customers, which billclock
		// does not have yet: every id is unknown.
		return nil, errNoSuch("customer", customer, "customer")
	}
	clock, err := billing.NewClock(clockwork.NewID("clock_", 24), name, frozen, c.now.Unix())
	if err != nil {
		return nil, err
	}
	clocks, err := accountClocks(tx, c.account)
	if err != nil {
		return nil, err
	}
	if err := saveClock(clocks, &clock); err != nil {
		return nil, err
	}
	if err := s.record(tx, c.account, c, billing.Event{Type: billing.EventClockCreated, Time: clock.Created, Object: &clock}); err != nil {
		return nil, err
	}
	return renderClock(&clock), nil
}

func (s *Surface) retrieveClock(c *call, tx *store.Tx) (any, error) {
	if err := c.p.expand("status_details"); err != nil {
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
	return renderClock(clock), nil
}

func (s *Surface) listClocks(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	if err := c.p.expand("status_details"); err != nil {
		return nil, err
	}
	clocks, err := accountClocks(tx, c.account)
	if err != nil {
		return nil, err
	}
	return listCollection(clocks, pg, "/v1/test_helpers/test_clocks", "billingclock", nil,
		func(raw []byte) (json.RawMessage, error) {
			var clock billing.Clock
			if err := json.Unmarshal(raw, &clock); err != nil {
				return nil, err
			}
			return json.Marshal(renderClock(&clock))
		})
}

func (s *Surface) deleteClock(c *call, tx *store.Tx) (any, error) {
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
	if err := s.removeClock(tx, c.account, clocks, clock, c, c.now.Unix()); err != nil {
		return nil, err
	}
	return &deletedObject{ID: clock.ID, Object: "test_helpers.test_clock", Deleted: true}, nil
}

func (s *Surface) advanceClock(c *call, tx *store.Tx) (any, error) {
	target := c.p.requiredTimestamp("frozen_time")
	if err := c.p.expand("status_details"); err != nil {
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
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	limit, err := l.engine().ClockAdvanceLimit(clock.ID, clock.FrozenTime)
	if err != nil {
		return nil, err
	}
	if err := clock.BeginAdvance(target, limit); err != nil {
		return nil, err
	}
	if err := saveClock(clocks, clock); err != nil {
		return nil, err
	}
	if err := s.advancer.schedule(tx, c.account, clock, c.now.Add(s.delay)); err != nil {
		return nil, err
	}
	if err := s.record(tx, c.account, c, billing.Event{Type: billing.EventClockAdvancing, Time: c.now.Unix(), Object: clock}); err != nil {
		return nil, err
	}
	if s.delay == 0 {
		// Due at once: start it now rather than on the worker's next scan.
		key := jobKey(c.account, clock.ID)
		c.after = append(c.after, func() { s.advancer.startNow(s.advancer.job(key)) })
	} else {
		c.after = append(c.after, s.advancer.wake)
	}
	return renderClock(clock), nil
}

// removeClock deletes a clock with its pending advance and records the
// deleted event; c is the API call that asked, or nil for the janitor.
func (s *Surface) removeClock(tx *store.Tx, account string, clocks *store.Collection, clock *billing.Clock, c *call, now int64) error {
	l, err := s.ledger(tx, account, c)
	if err != nil {
		return err
	}
	// Everything on the clock goes with it, in the clock's time.
	if err := l.engine().DeleteClockObjects(clock.ID, clock.FrozenTime); err != nil {
		return err
	}
	tl, err := l.acct.Timeline()
	if err != nil {
		return err
	}
	if err := tl.Clear(clock.ID); err != nil {
		return err
	}
	if err := clocks.Delete(clock.ID); err != nil {
		return err
	}
	if err := s.advancer.cancel(tx, account, clock.ID); err != nil {
		return err
	}
	return s.record(tx, account, c, billing.Event{Type: billing.EventClockDeleted, Time: now, Object: clock})
}
