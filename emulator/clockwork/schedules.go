package clockwork

import "github.com/billclock/billclock/emulator/billing"

// SchedulesCollection holds an account's subscription schedules.
const SchedulesCollection = "subscription_schedules"

// KindSchedule names subscription schedules in not-found errors.
const KindSchedule = "subscription_schedule"

// schedulesByClock files schedules under their clock ("" for none).
const schedulesByClock = "subscription_schedules_by_clock"

var _ billing.ScheduleLedger = (*Ledger)(nil)

// SubscriptionSchedule returns a subscription schedule
// (billing.ScheduleLedger).
func (l *Ledger) SubscriptionSchedule(id string) (*billing.SubscriptionSchedule, error) {
	var s billing.SubscriptionSchedule
	return &s, l.Get(SchedulesCollection, KindSchedule, id, &s)
}

// PutSubscriptionSchedule stores a subscription schedule and files it
// under its clock.
func (l *Ledger) PutSubscriptionSchedule(s *billing.SubscriptionSchedule) error {
	if err := l.Put(SchedulesCollection, s.ID, s.Created, s); err != nil {
		return err
	}
	x, err := l.index(schedulesByClock)
	if err != nil {
		return err
	}
	return x.Add(s.Clock, s.ID)
}

// SchedulesOnClock calls fn for every subscription schedule on clock.
func (l *Ledger) SchedulesOnClock(clock string, fn func(*billing.SubscriptionSchedule) error) error {
	return eachIndexed(l, schedulesByClock, clock, l.SubscriptionSchedule, fn)
}
