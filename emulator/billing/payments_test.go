package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One attempt per kind of card: what it leaves behind and what it returns.
func TestAttemptOutcomes(t *testing.T) {
	visa := &PaymentMethod{ID: "pm_ok", Type: "card"}
	failing := &PaymentMethod{ID: "pm_fail", Type: "card", Behavior: CardBehavior{DeclineCharges: DeclineGeneric}}
	threeDS := &PaymentMethod{ID: "pm_3ds", Type: "card", Behavior: CardBehavior{RequiresAuthentication: true}}
	cases := []struct {
		name       string
		pm         *PaymentMethod
		reason     DeclineReason
		status     PaymentStatus
		charge     ChargeStatus // "" when no charge is made
		eventTypes []EventType
	}{
		{"succeeds", visa, "", PaymentSucceeded, ChargeSucceeded, []EventType{EventChargeSucceeded, EventPaymentSucceeded}},
		{"declined", failing, DeclineGeneric, PaymentRequiresPaymentMethod, ChargeFailed, []EventType{EventChargeFailed, EventPaymentFailed}},
		{"needs authentication", threeDS, DeclineAuthenticationRequired, PaymentRequiresAction, "", []EventType{EventPaymentRequiresAction}},
		{"nothing to charge", nil, DeclineNoPaymentMethod, PaymentRequiresPaymentMethod, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newMemLedger()
			e := &Engine{L: l}
			p := &Payment{ID: "pay_1", Amount: 1200, Currency: "usd", Status: PaymentRequiresPaymentMethod}
			decl, err := e.attempt(p, tc.pm, 100)
			require.NoError(t, err)
			var types []EventType
			for _, ev := range l.events {
				types = append(types, ev.Type)
			}
			assert.Equal(t, tc.eventTypes, types)
			stored, err := l.Payment("pay_1")
			require.NoError(t, err)
			assert.Equal(t, tc.status, stored.Status)
			if tc.charge == "" {
				assert.Empty(t, stored.LatestCharge)
			} else {
				ch, err := l.Charge(stored.LatestCharge)
				require.NoError(t, err)
				assert.Equal(t, tc.charge, ch.Status)
			}
			assert.Equal(t, tc.reason == "", chargeable(tc.pm), "chargeable must predict attempt")
			if tc.reason == "" {
				assert.Nil(t, decl)
				assert.EqualValues(t, 1200, stored.AmountReceived)
				return
			}
			require.NotNil(t, decl)
			assert.Equal(t, tc.reason, decl.Reason)
			assert.Equal(t, tc.status, decl.Payment.Status)
			assert.Equal(t, tc.pm, decl.PaymentMethod)
			assert.Equal(t, tc.charge != "", decl.Charge != nil)
			require.NotNil(t, stored.LastError)
			assert.Equal(t, tc.reason, stored.LastError.Reason)
		})
	}
}
