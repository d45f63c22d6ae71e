package emulator_test

// Customers as Stripe Billing's test suites create them: contact details,
// a custom id, an invoice prefix and sequence, an initial balance, and
// card sources added and removed through /v1/customers/{id}/sources.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func TestCustomerDetailsAndCustomID(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	p := &stripe.CustomerCreateParams{
		Email: stripe.String("ada@example.com"),
		Address: &stripe.AddressParams{Line1: stripe.String("1 Main St"), City: stripe.String("Springfield"),
			PostalCode: stripe.String("12345"), Country: stripe.String("US")},
		Shipping: &stripe.CustomerCreateShippingParams{Name: stripe.String("Ada"), Phone: stripe.String("+15555550100"),
			Address: &stripe.AddressParams{Line1: stripe.String("2 Dock Rd"), Country: stripe.String("US")}},
		Phone:               stripe.String("+15555550199"),
		PreferredLocales:    stripe.StringSlice([]string{"fr", "en"}),
		TaxExempt:           stripe.String("exempt"),
		InvoicePrefix:       stripe.String("ACME"),
		NextInvoiceSequence: stripe.Int64(7),
		Balance:             stripe.Int64(-500),
		InvoiceSettings:     &stripe.CustomerCreateInvoiceSettingsParams{Footer: stripe.String("Thank you")},
	}
	p.AddExtra("id", "cus_acme42")
	cust, err := b.sc.V1Customers.Create(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, "cus_acme42", cust.ID)
	assert.Equal(t, &stripe.Address{Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}, cust.Address)
	require.NotNil(t, cust.Shipping)
	assert.Equal(t, "Ada", cust.Shipping.Name)
	assert.Equal(t, "+15555550100", cust.Shipping.Phone)
	assert.Equal(t, "2 Dock Rd", cust.Shipping.Address.Line1)
	assert.Equal(t, "+15555550199", cust.Phone)
	assert.Equal(t, []string{"fr", "en"}, cust.PreferredLocales)
	assert.Equal(t, stripe.CustomerTaxExemptExempt, cust.TaxExempt)
	assert.Equal(t, "ACME", cust.InvoicePrefix)
	assert.EqualValues(t, 7, cust.NextInvoiceSequence)
	assert.EqualValues(t, -500, cust.Balance)
	assert.Equal(t, "Thank you", cust.InvoiceSettings.Footer)
	got, err := b.sc.V1Customers.Retrieve(ctx, "cus_acme42", nil)
	require.NoError(t, err)
	assert.Equal(t, cust.Address, got.Address)

	// The initial balance is a balance transaction of its own.
	var txns []*stripe.CustomerBalanceTransaction
	for bt, err := range b.sc.V1CustomerBalanceTransactions.List(ctx, &stripe.CustomerBalanceTransactionListParams{Customer: stripe.String(cust.ID)}).All(ctx) {
		require.NoError(t, err)
		txns = append(txns, bt)
	}
	require.Len(t, txns, 1)
	assert.Equal(t, stripe.CustomerBalanceTransactionTypeInitial, txns[0].Type)
	assert.EqualValues(t, -500, txns[0].Amount)
	assert.EqualValues(t, -500, txns[0].EndingBalance)
	assert.Equal(t, stripe.Currency("usd"), txns[0].Currency)

	// The same id again: Stripe's error, and the first customer is kept.
	dup := &stripe.CustomerCreateParams{Email: stripe.String("mallory@example.com")}
	dup.AddExtra("id", "cus_acme42")
	_, err = b.sc.V1Customers.Create(ctx, dup)
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCode("resource_already_exists"), se.Code)
	assert.Equal(t, "id", se.Param)
	assert.Equal(t, "Customer already exists.", se.Msg)
	got, err = b.sc.V1Customers.Retrieve(ctx, "cus_acme42", nil)
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", got.Email)

	// A deleted customer's id stays taken.
	_, err = b.sc.V1Customers.Delete(ctx, "cus_acme42", nil)
	require.NoError(t, err)
	_, err = b.sc.V1Customers.Create(ctx, dup)
	assert.Equal(t, stripe.ErrorCode("resource_already_exists"), stripeError(t, err, http.StatusBadRequest).Code)

	bad := &stripe.CustomerCreateParams{InvoicePrefix: stripe.String("ac")}
	_, err = b.sc.V1Customers.Create(ctx, bad)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "invoice_prefix", se.Param)
	assert.Equal(t, "Invalid invoice_prefix: ac. It must be 3 to 12 uppercase letters or digits.", se.Msg)
	_, err = b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{NextInvoiceSequence: stripe.Int64(0)})
	assert.Equal(t, "next_invoice_sequence", stripeError(t, err, http.StatusBadRequest).Param)
}

func TestCustomerUpdateDetailsAndBalance(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust, err := b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{TestClock: stripe.String(clock.ID),
		Address: &stripe.AddressParams{City: stripe.String("Paris")}, TaxExempt: stripe.String("reverse")})
	require.NoError(t, err)
	assert.EqualValues(t, 0, cust.Balance)

	up := &stripe.CustomerUpdateParams{Balance: stripe.Int64(1200), Phone: stripe.String("+33100000000"),
		TaxExempt: stripe.String("none")}
	up.AddExtra("address", "") // unset
	cust, err = b.sc.V1Customers.Update(ctx, cust.ID, up)
	require.NoError(t, err)
	assert.Nil(t, cust.Address)
	assert.Equal(t, stripe.CustomerTaxExemptNone, cust.TaxExempt)
	assert.EqualValues(t, 1200, cust.Balance)
	cust, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{Balance: stripe.Int64(-300)})
	require.NoError(t, err)
	assert.EqualValues(t, -300, cust.Balance)

	var amounts []int64
	for bt, err := range b.sc.V1CustomerBalanceTransactions.List(ctx, &stripe.CustomerBalanceTransactionListParams{Customer: stripe.String(cust.ID)}).All(ctx) {
		require.NoError(t, err)
		assert.Equal(t, stripe.CustomerBalanceTransactionTypeAdjustment, bt.Type)
		assert.Equal(t, frozen0, bt.Created, "in the clock's time")
		amounts = append(amounts, bt.Amount)
	}
	assert.Equal(t, []int64{-1500, 1200}, amounts, "newest first")
	evs := b.events(nil)
	var types []string
	for _, ev := range evs {
		types = append(types, string(ev.Type))
	}
	assert.Contains(t, types, "customer.balance_transaction.created")
}

func TestCustomerSourcesAddedAndDeleted(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	cust, err := b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String("s@example.com")})
	require.NoError(t, err)
	src, err := b.sc.V1PaymentSources.Create(ctx, &stripe.PaymentSourceCreateParams{Customer: stripe.String(cust.ID),
		Source: &stripe.PaymentSourceSourceParams{Token: stripe.String("tok_visa")}})
	require.NoError(t, err)
	require.NotNil(t, src.Card)
	assert.Regexp(t, `^card_`, src.ID)
	assert.Equal(t, "4242", src.Card.Last4)
	assert.Equal(t, cust.ID, src.Card.Customer.ID)
	got, err := b.sc.V1Customers.Retrieve(ctx, cust.ID, nil)
	require.NoError(t, err)
	require.NotNil(t, got.DefaultSource)
	assert.Equal(t, src.ID, got.DefaultSource.ID, "the first source becomes the default")

	second, err := b.sc.V1PaymentSources.Create(ctx, &stripe.PaymentSourceCreateParams{Customer: stripe.String(cust.ID),
		Source: &stripe.PaymentSourceSourceParams{Token: stripe.String("tok_mastercard")}})
	require.NoError(t, err)
	got, err = b.sc.V1Customers.Retrieve(ctx, cust.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, src.ID, got.DefaultSource.ID, "a second one does not replace it")

	// A declining token is refused as attach refuses it.
	_, err = b.sc.V1PaymentSources.Create(ctx, &stripe.PaymentSourceCreateParams{Customer: stripe.String(cust.ID),
		Source: &stripe.PaymentSourceSourceParams{Token: stripe.String("tok_chargeDeclined")}})
	assert.Equal(t, stripe.ErrorCodeCardDeclined, stripeError(t, err, http.StatusPaymentRequired).Code)

	del, err := b.sc.V1PaymentSources.Delete(ctx, src.ID, &stripe.PaymentSourceDeleteParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	assert.True(t, del.Deleted)
	assert.Equal(t, src.ID, del.ID)
	got, err = b.sc.V1Customers.Retrieve(ctx, cust.ID, nil)
	require.NoError(t, err)
	assert.Nil(t, got.DefaultSource, "the deleted default is gone")
	var ids []string
	for s, err := range b.sc.V1PaymentSources.List(ctx, &stripe.PaymentSourceListParams{Customer: stripe.String(cust.ID)}).All(ctx) {
		require.NoError(t, err)
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []string{second.ID}, ids)
	_, err = b.sc.V1PaymentSources.Delete(ctx, src.ID, &stripe.PaymentSourceDeleteParams{Customer: stripe.String(cust.ID)})
	se := stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such source: '"+src.ID+"'", se.Msg)

	var types []string
	for _, ev := range b.events(nil) {
		types = append(types, string(ev.Type))
	}
	assert.Contains(t, types, "customer.source.created")
	assert.Contains(t, types, "customer.source.deleted")
}
