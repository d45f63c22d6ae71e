package stripe

import (
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
)

// describeInterval words a billing interval as Stripe does in its texts:
// "month", "3 months".
func describeInterval(iv billing.Interval) string {
	if iv.Count == 1 {
		return string(iv.Unit)
	}
	return fmt.Sprintf("%d %ss", iv.Count, iv.Unit)
}
