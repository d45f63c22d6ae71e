package stripe

import (
	"encoding/json"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

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
	clock, err := billing.NewClock(s.NewID("clock_"), name, frozen, c.now.Unix())
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if err := l.PutClock(&clock); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: billing.EventClockCreated, Time: clock.Created, Object: &clock}); err != nil {
		return nil, err
	}
	return renderClock(&clock), nil
}

func (s *Surface) retrieveClock(c *call, tx *store.Tx) (any, error) {
	return retrieveByID(s, c, tx, (*ledger).Clock, renderClock, "status_details")
}

func (s *Surface) listClocks(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	if err := c.p.expand("status_details"); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	clocks, err := l.Collection(clockwork.ClocksCollection)
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
	l, clock, err := openByID(s, c, tx, (*ledger).Clock)
	if err != nil {
		return nil, err
	}
	if err := l.DeleteClock(clock, c.now.Unix()); err != nil {
		return nil, err
	}
	return &deletedObject{ID: clock.ID, Object: "test_helpers.test_clock", Deleted: true}, nil
}

func (s *Surface) advanceClock(c *call, tx *store.Tx) (any, error) {
	target := c.p.requiredTimestamp("frozen_time")
	if err := c.p.expand("status_details"); err != nil {
		return nil, err
	}
	l, clock, err := openByID(s, c, tx, (*ledger).Clock)
	if err != nil {
		return nil, err
	}
	limit, err := l.Engine().ClockAdvanceLimit(clock.ID, clock.FrozenTime)
	if err != nil {
		return nil, err
	}
	if err := clock.BeginAdvance(target, limit); err != nil {
		return nil, err
	}
	start, err := l.QueueAdvance(clock)
	if err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: billing.EventClockAdvancing, Time: c.now.Unix(), Object: clock}); err != nil {
		return nil, err
	}
	c.after = append(c.after, start)
	return renderClock(clock), nil
}
