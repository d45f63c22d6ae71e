package stripe

import (
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
)

// subscriptionMessages words the engine's codes of backdating, pausing and
// subscription schedules (see engineMessages). Stripe documents none of
// these texts; they are billclock's, in Stripe's manner.
var subscriptionMessages = map[billing.Code]func(e *billing.Error) string{
	billing.CodeBackdateNotPast: func(e *billing.Error) string {
		return fmt.Sprintf("backdate_start_date must be in the past (before %d).", e.Max)
	},
	billing.CodeBackdateTooManyLines: func(e *billing.Error) string {
		return fmt.Sprintf("Backdating isn't supported when the invoice would have more than %d line items.", e.Max)
	},
	billing.CodePauseResumesAtNotFuture: func(*billing.Error) string {
		return "pause_collection[resumes_at] must be in the future."
	},
	billing.CodeNotPaused: func(e *billing.Error) string {
		return fmt.Sprintf("Only a paused subscription can be resumed; this subscription's status is `%s`.", e.Status)
	},
	billing.CodePaused: func(*billing.Error) string {
		return "This subscription is paused. Resume it with POST /v1/subscriptions/{subscription}/resume instead."
	},
	billing.CodePhaseNoEnd: func(e *billing.Error) string {
		return fmt.Sprintf("%s must have an end_date or a duration: only the last phase may leave both out.", e.Param)
	},
	billing.CodePhaseEndNotAfterStart: func(e *billing.Error) string {
		return fmt.Sprintf("The phase's end_date (%d) must be after its start_date (%d).", e.Max, e.Min)
	},
	billing.CodePhaseStartMismatch: func(e *billing.Error) string {
		return fmt.Sprintf("%s must be %d, the end of the phase before it (or the schedule's start). Phases must be contiguous.",
			e.Param, e.Min)
	},
	billing.CodePhaseTrialOutside: func(e *billing.Error) string {
		return fmt.Sprintf("%s must be within its phase, after %d and at most %d; with trial=true it must be the phase's end.",
			e.Param, e.Min, e.Max)
	},
	billing.CodePhaseEnded: func(e *billing.Error) string {
		return fmt.Sprintf("The current phase would end in the past (%d): phases must end in the future.", e.Max)
	},
	billing.CodeScheduleStatus: func(e *billing.Error) string {
		return fmt.Sprintf("You cannot %s a subscription schedule that is in the `%s` status.", e.Value, e.Status)
	},
	billing.CodeHasSchedule: func(e *billing.Error) string {
		return fmt.Sprintf("The subscription %s is already managed by a subscription schedule.", e.ID)
	},
}
