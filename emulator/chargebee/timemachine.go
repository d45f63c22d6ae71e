package chargebee

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// A site's time machine is the runtime's clock machineID: its frozen time
// is the destination time (the site's "now"), its target the destination
// of a travel under way; the genesis time is kept beside it (siteRecord).
// A site is made at its first request, with a machine that has succeeded
// at the real time of that request.

// machineID is the one time machine of every site, and the id of its
// clock.
const machineID = "delorean"

// siteSetting is the settings record of the site's own state.
const siteSetting = "chargebee_site"

// siteRecord is what the site keeps beside its clock.
type siteRecord struct {
	GenesisTime int64 `json:"genesis_time"`
}

// Time machine statuses.
const (
	travelInProgress = "in_progress"
	travelSucceeded  = "succeeded"
	travelFailed     = "failed"
)

// timeMachineObject is a time machine on Chargebee's wire.
type timeMachineObject struct {
	Name             string `json:"name"`
	TimeTravelStatus string `json:"time_travel_status"`
	GenesisTime      int64  `json:"genesis_time"`
	DestinationTime  int64  `json:"destination_time"`
	FailureCode      string `json:"failure_code,omitempty"`
	FailureReason    string `json:"failure_reason,omitempty"`
	// ErrorJSON is a JSON object in a string, with http_code: what
	// chargebee-go unmarshals and the Java and PHP clients read.
	ErrorJSON string `json:"error_json,omitempty"`
	Object    string `json:"object"`
}

// failure is the reason a failed travel gives.
const (
	failureCode   = "time_travel_failed"
	failureReason = "The time travel could not be completed. Start afresh to use the site again."
)

func renderTimeMachine(c *billing.Clock, site siteRecord) *timeMachineObject {
	o := &timeMachineObject{Name: machineID, Object: "time_machine", GenesisTime: site.GenesisTime,
		DestinationTime: c.FrozenTime, TimeTravelStatus: travelSucceeded}
	switch c.Status {
	case billing.ClockAdvancing:
		o.TimeTravelStatus, o.DestinationTime = travelInProgress, c.TargetTime
	case billing.ClockInternalFailure:
		o.TimeTravelStatus, o.FailureCode, o.FailureReason = travelFailed, failureCode, failureReason
		raw, _ := json.Marshal(map[string]any{"message": failureReason, "type": typeOperationFailed,
			"api_error_code": "internal_error", "error_code": failureCode, "http_code": 500, "http_status_code": 500})
		o.ErrorJSON = string(raw)
	}
	return o
}

// ensureSite makes the request's site, with its time machine, at its
// first request.
func (s *Surface) ensureSite(c *call) error {
	if _, ok := s.sites.Load(c.account); ok {
		return nil
	}
	exists := false
	err := s.db.View(func(tx *store.Tx) error {
		l, err := s.rt.Ledger(tx, s, c.account, nil)
		if err != nil {
			return err
		}
		_, err = l.Clock(machineID)
		exists = err == nil
		return nil
	})
	if err == nil && !exists {
		err = s.db.Batch(func(tx *store.Tx) error {
			l, err := s.rt.Ledger(tx, s, c.account, c.request())
			if err != nil {
				return err
			}
			if _, err := l.Clock(machineID); err == nil {
				return nil
			}
			now := c.now.Unix()
			clock, err := billing.NewClock(machineID, "", now, now)
			if err != nil {
				return err
			}
			if err := l.PutClock(&clock); err != nil {
				return err
			}
			return l.PutSetting(siteSetting, siteRecord{GenesisTime: now})
		})
	}
	if err != nil {
		return err
	}
	s.sites.Store(c.account, struct{}{})
	return nil
}

// machine returns the site's clock and record.
func (c *call) machine() (*billing.Clock, siteRecord, error) {
	var site siteRecord
	clock, err := c.l.Clock(machineID)
	if err != nil {
		return nil, site, err
	}
	if _, err := c.l.Setting(siteSetting, &site); err != nil {
		return nil, site, err
	}
	return clock, site, nil
}

// siteNow is the site's "now": its machine's destination time. A change
// of the site's customer data (change) is refused while the machine
// travels or after it failed.
func (c *call) siteNow(change bool) (int64, error) {
	clock, err := c.l.Clock(machineID)
	if err != nil {
		return 0, err
	}
	if change {
		switch clock.Status {
		case billing.ClockAdvancing:
			return 0, errTravelling()
		case billing.ClockInternalFailure:
			return 0, errState("The time machine delorean failed: only start_afresh is accepted until it has succeeded again.")
		}
	}
	return clock.FrozenTime, nil
}

// machineName checks the machine named in the path.
func (c *call) machineName() error {
	if name := c.vars["name"]; name != machineID {
		return errNotFound("time machine", name)
	}
	return nil
}

func (s *Surface) retrieveTimeMachine(c *call) (any, error) {
	if err := c.machineName(); err != nil {
		return nil, err
	}
	clock, site, err := c.machine()
	if err != nil {
		return nil, err
	}
	return map[string]any{"time_machine": renderTimeMachine(clock, site)}, nil
}

// defaultGenesisAge is how far back start_afresh goes without a
// genesis_time.
const defaultGenesisMonths = 6

// startAfresh deletes the site's customer data (customers, subscriptions,
// invoices, transactions, credit notes, events), keeps its catalog and
// settings, and takes the site back to genesis_time (by default six months
// before now): the machine is in_progress until the worker is done.
func (s *Surface) startAfresh(c *call) (any, error) {
	if err := c.machineName(); err != nil {
		return nil, err
	}
	genesis, ok := c.p.timestamp("genesis_time")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if !ok {
		genesis = c.now.UTC().AddDate(0, -defaultGenesisMonths, 0).Unix()
	}
	if genesis >= c.now.Unix() {
		return nil, errParam("genesis_time", fmt.Sprintf("must be in the past (before %s)", c.now.UTC().Format(time.RFC3339)))
	}
	clock, site, err := c.machine()
	if err != nil {
		return nil, err
	}
	if clock.Status == billing.ClockAdvancing {
		return nil, errState("The time machine delorean is travelling: wait until it has succeeded before starting afresh.")
	}
	if err := c.l.PurgeCustomerData(); err != nil {
		return nil, err
	}
	acct, err := c.l.Tx().Account(c.account)
	if err != nil {
		return nil, err
	}
	for _, coll := range siteDataCollections {
		if err := acct.DropCollection(coll); err != nil {
			return nil, err
		}
	}
	start, err := c.l.QueueRestart(clock, genesis)
	if err != nil {
		return nil, err
	}
	site.GenesisTime = genesis
	if err := c.l.PutSetting(siteSetting, site); err != nil {
		return nil, err
	}
	c.after = append(c.after, start)
	return map[string]any{"time_machine": renderTimeMachine(clock, site)}, nil
}

// travelForward takes the site to destination_time, which must lie after
// the machine's destination time and not after the real present, running
// everything that falls due on the way in time order: the machine is
// in_progress until the worker is done.
func (s *Surface) travelForward(c *call) (any, error) {
	if err := c.machineName(); err != nil {
		return nil, err
	}
	dest, ok := c.p.timestamp("destination_time")
	if !ok {
		c.p.fail(errRequired("destination_time"))
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	clock, site, err := c.machine()
	if err != nil {
		return nil, err
	}
	switch clock.Status {
	case billing.ClockAdvancing:
		return nil, errState("The time machine delorean is travelling already: wait until it has succeeded.")
	case billing.ClockInternalFailure:
		return nil, errState("The time machine delorean failed: only start_afresh is accepted.")
	}
	if dest <= clock.FrozenTime || dest > c.now.Unix() {
		return nil, errParam("destination_time", fmt.Sprintf("must be after the time machine's destination time (%d) and not after the present (%d)",
			clock.FrozenTime, c.now.Unix()))
	}
	if err := clock.BeginAdvance(dest, billing.MaxTimestamp); err != nil {
		return nil, err
	}
	start, err := c.l.QueueAdvance(clock)
	if err != nil {
		return nil, err
	}
	c.after = append(c.after, start)
	return map[string]any{"time_machine": renderTimeMachine(clock, site)}, nil
}
