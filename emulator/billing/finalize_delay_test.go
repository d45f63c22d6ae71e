package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFinalizeDelayIsThePolicys: a renewal invoice stays a draft for the
// account's FinalizeDelay (Stripe's hour), and with no delay it is
// finalized and paid at the period boundary itself, as Chargebee's are.
func TestFinalizeDelayIsThePolicys(t *testing.T) {
	const start = 1704067200   // 2024-01-01T00:00:00Z
	const renewal = 1706745600 // 2024-02-01T00:00:00Z
	for _, tc := range []struct {
		name  string
		delay int64
	}{{"Stripe's hour", FinalizeDelay}, {"at once", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScenario(t, start)
			s.l.policy.FinalizeDelay = tc.delay
			s.product("prod_seats", "Seats")
			s.price("price_seat", "prod_seats", 1000, Month, 1)
			_, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_seat"}}}, s.now)
			require.NoError(t, err)
			s.advance(renewal)
			invs := s.l.invoices()
			require.Len(t, invs, 2)
			inv := invs[1]
			assert.Equal(t, ReasonSubscriptionCycle, inv.BillingReason)
			if tc.delay == 0 {
				assert.Equal(t, InvoicePaid, inv.Status, "finalized and paid at the boundary")
				assert.Equal(t, int64(renewal), inv.PaidAt)
				return
			}
			assert.Equal(t, InvoiceDraft, inv.Status, "a draft until the delay has passed")
			assert.Equal(t, int64(renewal+tc.delay), inv.AutomaticallyFinalizesAt)
			s.advance(renewal + tc.delay)
			assert.Equal(t, InvoicePaid, s.l.invoices()[1].Status)
			assert.Equal(t, int64(renewal+tc.delay), s.l.invoices()[1].PaidAt)
		})
	}
}
