package billing

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// methodsFixture is an engine over a memLedger with one customer on a clock.
func methodsFixture(t *testing.T) (*memLedger, *Engine, *Customer) {
	l := newMemLedger()
	cust := &Customer{ID: "cus_0001", Created: 100, Clock: "clock_1"}
	require.NoError(t, l.PutCustomer(cust))
	return l, &Engine{L: l}, cust
}

func eventTypesOf(l *memLedger) []EventType {
	var out []EventType
	for _, ev := range l.events {
		out = append(out, ev.Type)
	}
	return out
}

func newVisa(t *testing.T, e *Engine, behavior CardBehavior) *PaymentMethod {
	pm := &PaymentMethod{Card: Card{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034, Funding: "credit"}, Behavior: behavior}
	require.NoError(t, e.CreatePaymentMethod(pm, 50))
	return pm
}

func TestAttachPaymentMethod(t *testing.T) {
	l, e, cust := methodsFixture(t)
	pm := newVisa(t, e, CardBehavior{})
	assert.Equal(t, "pm_0001", pm.ID)
	assert.Equal(t, "card", pm.Type)

	require.NoError(t, e.AttachPaymentMethod(pm, cust, 200))
	stored, err := l.PaymentMethod(pm.ID)
	require.NoError(t, err)
	assert.Equal(t, cust.ID, stored.Customer)
	assert.Equal(t, "clock_1", stored.Clock)
	assert.EqualValues(t, 50, stored.Created, "attaching keeps the creation time")
	require.Equal(t, []EventType{EventPaymentMethodAttached}, eventTypesOf(l))
	assert.EqualValues(t, 200, l.events[0].Time)

	// Again to the same customer: nothing happens.
	require.NoError(t, e.AttachPaymentMethod(stored, cust, 300))
	assert.Len(t, l.events, 1)

	// To someone else: refused.
	other := &Customer{ID: "cus_0002"}
	var pmErr *PaymentMethodError
	require.ErrorAs(t, e.AttachPaymentMethod(stored, other, 300), &pmErr)
	assert.Equal(t, PaymentMethodOtherCustomer, pmErr.Problem)
}

func TestAttachDeclinedCardStoresNothing(t *testing.T) {
	l, e, cust := methodsFixture(t)
	pm := newVisa(t, e, CardBehavior{DeclineOnAttach: DeclineInsufficientFunds})
	err := e.AttachPaymentMethod(pm, cust, 200)
	var decl *Declined
	require.ErrorAs(t, err, &decl)
	assert.Equal(t, DeclineInsufficientFunds, decl.Reason)
	assert.Equal(t, pm.ID, decl.PaymentMethod.ID)
	assert.Nil(t, decl.Charge)
	stored, err := l.PaymentMethod(pm.ID)
	require.NoError(t, err)
	assert.Empty(t, stored.Customer)
	assert.Empty(t, l.events)
}

func TestDetachPaymentMethod(t *testing.T) {
	l, e, cust := methodsFixture(t)
	pm := newVisa(t, e, CardBehavior{})
	require.NoError(t, e.AttachPaymentMethod(pm, cust, 200))
	cust.DefaultPaymentMethod = pm.ID
	require.NoError(t, l.PutCustomer(cust))
	l.events = nil

	require.NoError(t, e.DetachPaymentMethod(pm, 300))
	stored, err := l.PaymentMethod(pm.ID)
	require.NoError(t, err)
	assert.Empty(t, stored.Customer)
	assert.EqualValues(t, 300, stored.DetachedAt)
	c, err := l.Customer(cust.ID)
	require.NoError(t, err)
	assert.Empty(t, c.DefaultPaymentMethod, "the customer's default is gone with it")
	require.Equal(t, []EventType{EventPaymentMethodDetached, EventCustomerUpdated}, eventTypesOf(l))
	assert.Equal(t, pm.ID, l.events[1].Before.(*Customer).DefaultPaymentMethod)

	// A detached payment method is done with.
	var pmErr *PaymentMethodError
	require.ErrorAs(t, e.DetachPaymentMethod(stored, 400), &pmErr)
	assert.Equal(t, PaymentMethodNotAttached, pmErr.Problem)
	require.ErrorAs(t, e.AttachPaymentMethod(stored, cust, 400), &pmErr)
	assert.Equal(t, PaymentMethodDetached, pmErr.Problem)
	require.ErrorAs(t, CheckUsable(stored, cust.ID, "payment_method"), &pmErr)
	assert.Equal(t, PaymentMethodDetached, pmErr.Problem)
	require.ErrorAs(t, CheckDefault(stored, cust.ID, "x"), &pmErr)
	assert.Equal(t, PaymentMethodNotAttached, pmErr.Problem)
}

func TestDetachKeepsAnotherDefault(t *testing.T) {
	l, e, cust := methodsFixture(t)
	a, b := newVisa(t, e, CardBehavior{}), newVisa(t, e, CardBehavior{})
	require.NoError(t, e.AttachPaymentMethod(a, cust, 200))
	require.NoError(t, e.AttachPaymentMethod(b, cust, 200))
	cust.DefaultPaymentMethod = a.ID
	require.NoError(t, l.PutCustomer(cust))
	l.events = nil
	require.NoError(t, e.DetachPaymentMethod(b, 300))
	assert.Equal(t, []EventType{EventPaymentMethodDetached}, eventTypesOf(l))
	c, err := l.Customer(cust.ID)
	require.NoError(t, err)
	assert.Equal(t, a.ID, c.DefaultPaymentMethod)
}

func TestUpdatePaymentMethod(t *testing.T) {
	l, e, cust := methodsFixture(t)
	pm := newVisa(t, e, CardBehavior{})
	name := "Jenny Rosen"
	ch := PaymentMethodChange{BillingDetails: BillingDetailsChange{Name: &name, Address: map[string]string{"city": "Berlin"}},
		Metadata: map[string]string{"k": "v"}}
	var pmErr *PaymentMethodError
	require.ErrorAs(t, e.UpdatePaymentMethod(pm, ch, 100), &pmErr, "an unattached payment method cannot be updated")
	assert.Equal(t, PaymentMethodNotAttached, pmErr.Problem)

	require.NoError(t, e.AttachPaymentMethod(pm, cust, 200))
	l.events = nil
	require.NoError(t, e.UpdatePaymentMethod(pm, ch, 300))
	stored, err := l.PaymentMethod(pm.ID)
	require.NoError(t, err)
	assert.Equal(t, "Jenny Rosen", stored.BillingDetails.Name)
	assert.Equal(t, map[string]string{"city": "Berlin"}, stored.BillingDetails.Address)
	assert.Equal(t, map[string]string{"k": "v"}, stored.Metadata)
	require.Equal(t, []EventType{EventPaymentMethodUpdated}, eventTypesOf(l))
	assert.Empty(t, l.events[0].Before.(*PaymentMethod).BillingDetails.Name)

	// The same change again changes nothing and says nothing.
	require.NoError(t, e.UpdatePaymentMethod(stored, ch, 400))
	assert.Len(t, l.events, 1)

	// "" clears.
	empty := ""
	require.NoError(t, e.UpdatePaymentMethod(stored, PaymentMethodChange{BillingDetails: BillingDetailsChange{Name: &empty,
		Address: map[string]string{"city": ""}}}, 500))
	assert.Empty(t, stored.BillingDetails.Name)
	assert.Nil(t, stored.BillingDetails.Address)
}

func TestCheckUsable(t *testing.T) {
	pm := &PaymentMethod{ID: "pm_1", Customer: "cus_a"}
	assert.NoError(t, CheckUsable(pm, "cus_a", "p"))
	var pmErr *PaymentMethodError
	require.ErrorAs(t, CheckUsable(pm, "cus_b", "p"), &pmErr)
	assert.Equal(t, PaymentMethodOtherCustomer, pmErr.Problem)
	require.ErrorAs(t, CheckUsable(pm, "", "p"), &pmErr, "a customer's card pays only for that customer")
	assert.NoError(t, CheckUsable(&PaymentMethod{ID: "pm_2"}, "cus_b", "p"), "an unattached card pays for anyone")
	assert.NoError(t, CheckDefault(pm, "cus_a", "p"))
	assert.True(t, errors.As(CheckDefault(&PaymentMethod{ID: "pm_2"}, "cus_a", "p"), &pmErr))
}
