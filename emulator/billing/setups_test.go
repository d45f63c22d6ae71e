package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memLedger keeps setups and refunds too.
var (
	_ SetupLedger  = (*memLedger)(nil)
	_ RefundLedger = (*memLedger)(nil)
)

func (m *memLedger) Setup(id string) (*Setup, error) {
	var s Setup
	return &s, m.get(id, "setup", &s)
}
func (m *memLedger) PutSetup(s *Setup) error { return m.put(s.ID, s) }
func (m *memLedger) Refund(id string) (*Refund, error) {
	var r Refund
	return &r, m.get(id, "refund", &r)
}
func (m *memLedger) PutRefund(r *Refund) error { return m.put(r.ID, r) }

func TestCreateSetup(t *testing.T) {
	l, e, cust := methodsFixture(t)
	s, err := e.CreateSetup(NewSetup{Customer: cust, Description: "save a card"}, 1000)
	require.NoError(t, err)
	assert.Equal(t, SetupRequiresPaymentMethod, s.Status)
	assert.Equal(t, "clock_1", s.Clock, "a customer's setup lives on the customer's clock")
	assert.EqualValues(t, 1000, s.Created)
	pm := newVisa(t, e, CardBehavior{})
	s2, err := e.CreateSetup(NewSetup{PaymentMethod: pm}, 1000)
	require.NoError(t, err)
	assert.Equal(t, SetupRequiresConfirmation, s2.Status)
	assert.Equal(t, []EventType{EventSetupCreated, EventSetupCreated}, eventTypesOf(l))

	// Someone else's card cannot be saved for this customer.
	other := &Customer{ID: "cus_other"}
	require.NoError(t, l.PutCustomer(other))
	require.NoError(t, e.AttachPaymentMethod(pm, other, 1000))
	_, err = e.CreateSetup(NewSetup{Customer: cust, PaymentMethod: pm}, 1000)
	var pmErr *PaymentMethodError
	require.ErrorAs(t, err, &pmErr)
	assert.Equal(t, PaymentMethodOtherCustomer, pmErr.Problem)
}

// Each kind of card, confirmed for a customer.
func TestConfirmSetupOutcomes(t *testing.T) {
	cases := []struct {
		name     string
		behavior CardBehavior
		status   SetupStatus
		declined DeclineReason
		attached bool
		events   []EventType
	}{
		{"succeeds and attaches", CardBehavior{}, SetupSucceeded, "", true,
			[]EventType{EventPaymentMethodAttached, EventSetupSucceeded}},
		{"declined charges are saved", CardBehavior{DeclineCharges: DeclineGeneric}, SetupSucceeded, "", true,
			[]EventType{EventPaymentMethodAttached, EventSetupSucceeded}},
		{"declined when stored", CardBehavior{DeclineOnAttach: DeclineInsufficientFunds}, SetupRequiresPaymentMethod,
			DeclineInsufficientFunds, false, []EventType{EventSetupFailed}},
		{"3DS waits", CardBehavior{RequiresAuthentication: true}, SetupRequiresAction, "", false,
			[]EventType{EventSetupRequiresAction}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, e, cust := methodsFixture(t)
			pm := newVisa(t, e, tc.behavior)
			s, err := e.CreateSetup(NewSetup{Customer: cust, PaymentMethod: pm}, 1000)
			require.NoError(t, err)
			l.events = nil
			decl, err := e.ConfirmSetup(s, nil, 1500)
			require.NoError(t, err)
			assert.Equal(t, tc.events, eventTypesOf(l))
			stored, err := l.Setup(s.ID)
			require.NoError(t, err)
			assert.Equal(t, tc.status, stored.Status)
			if tc.declined != "" {
				require.NotNil(t, decl)
				assert.Equal(t, tc.declined, decl.Reason)
				assert.Equal(t, pm.ID, decl.PaymentMethod.ID)
				require.NotNil(t, stored.LastError)
				assert.Equal(t, &PaymentError{Reason: tc.declined, PaymentMethod: pm.ID}, stored.LastError)
				assert.Empty(t, stored.PaymentMethod, "a failed setup waits for another payment method")
			} else {
				assert.Nil(t, decl)
				assert.Nil(t, stored.LastError)
				assert.Equal(t, pm.ID, stored.PaymentMethod)
			}
			spm, err := l.PaymentMethod(pm.ID)
			require.NoError(t, err)
			if tc.attached {
				assert.Equal(t, cust.ID, spm.Customer)
				assert.Equal(t, "clock_1", spm.Clock)
			} else {
				assert.Empty(t, spm.Customer)
			}
			for _, ev := range l.events {
				assert.EqualValues(t, 1500, ev.Time)
			}
		})
	}
}

func TestConfirmSetupWithoutCustomer(t *testing.T) {
	l, e, _ := methodsFixture(t)
	pm := newVisa(t, e, CardBehavior{})
	s, err := e.CreateSetup(NewSetup{}, 1000)
	require.NoError(t, err)
	var stateErr *SetupStateError
	_, err = e.ConfirmSetup(s, nil, 1000)
	require.ErrorAs(t, err, &stateErr)
	assert.True(t, stateErr.MissingPaymentMethod)

	decl, err := e.ConfirmSetup(s, pm, 1100)
	require.NoError(t, err)
	assert.Nil(t, decl)
	assert.Equal(t, SetupSucceeded, s.Status)
	assert.Equal(t, pm.ID, s.PaymentMethod)
	spm, err := l.PaymentMethod(pm.ID)
	require.NoError(t, err)
	assert.Empty(t, spm.Customer, "a setup of no customer attaches to no one")

	// A setup that succeeded can be neither confirmed again, nor changed,
	// nor canceled; its metadata can still change.
	_, err = e.ConfirmSetup(s, nil, 1200)
	require.ErrorAs(t, err, &stateErr)
	assert.Equal(t, ActionConfirm, stateErr.Action)
	assert.Equal(t, SetupSucceeded, stateErr.Setup.Status)
	require.ErrorAs(t, e.CancelSetup(s, "", 1200), &stateErr)
	require.ErrorAs(t, e.UpdateSetup(s, SetupChange{PaymentMethod: newVisa(t, e, CardBehavior{})}), &stateErr)
	require.NoError(t, e.UpdateSetup(s, SetupChange{Metadata: map[string]string{"k": "v"}}))
	assert.Equal(t, map[string]string{"k": "v"}, s.Metadata)
}

func TestUpdateAndCancelSetup(t *testing.T) {
	l, e, cust := methodsFixture(t)
	s, err := e.CreateSetup(NewSetup{}, 1000)
	require.NoError(t, err)
	pm := newVisa(t, e, CardBehavior{})
	require.NoError(t, e.UpdateSetup(s, SetupChange{Customer: cust, PaymentMethod: pm}))
	assert.Equal(t, SetupRequiresConfirmation, s.Status)
	assert.Equal(t, cust.ID, s.Customer)
	assert.Equal(t, "clock_1", s.Clock)

	// The customer, once set, cannot change.
	err = e.UpdateSetup(s, SetupChange{Customer: &Customer{ID: "cus_other"}})
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, Invalid, be.Kind)
	assert.Equal(t, "customer", be.Param)

	l.events = nil
	require.NoError(t, e.CancelSetup(s, "abandoned", 1300))
	assert.Equal(t, SetupCanceled, s.Status)
	assert.EqualValues(t, 1300, s.CanceledAt)
	assert.Equal(t, "abandoned", s.CancellationReason)
	assert.Equal(t, []EventType{EventSetupCanceled}, eventTypesOf(l))
	var stateErr *SetupStateError
	_, err = e.ConfirmSetup(s, nil, 1400)
	require.ErrorAs(t, err, &stateErr)
	assert.Equal(t, SetupCanceled, stateErr.Setup.Status)
}

// A ledger that keeps no setups refuses them rather than losing them.
func TestSetupNeedsSetupLedger(t *testing.T) {
	e := &Engine{L: struct{ Ledger }{newMemLedger()}}
	_, err := e.CreateSetup(NewSetup{}, 1000)
	require.Error(t, err)
}
