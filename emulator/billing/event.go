package billing

// EventType names something that happened, in billing terms; each surface
// maps it to its provider's event name.
type EventType string

// Event types.
const (
	EventClockCreated   EventType = "clock.created"
	EventClockAdvancing EventType = "clock.advancing"
	EventClockReady     EventType = "clock.ready"
	EventClockDeleted   EventType = "clock.deleted"
	// EventClockInternalFailure: an advance could not be applied.
	EventClockInternalFailure EventType = "clock.internal_failure"
)

// Event is a state change for the surfaces to record and deliver. Object is
// a snapshot of the object it concerns, after the change.
type Event struct {
	Type   EventType
	Time   int64
	Object any
	// Before, when set, is a snapshot of the object before the change, so
	// that surfaces can tell what changed (Stripe's previous_attributes).
	Before any
}

// Advance completes the advance of clock c, which must be advancing, and
// returns the events it caused in time order, ending with the clock's ready
// event stamped at now (wall time). Billing work on objects attached to the
// clock is done here, between the clock's two times.
func Advance(c *Clock, now int64) []Event {
	c.FinishAdvance()
	snapshot := *c
	return []Event{{Type: EventClockReady, Time: now, Object: &snapshot}}
}
