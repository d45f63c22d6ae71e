package billing

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMulAmount(t *testing.T) {
	cases := []struct {
		a, b, want int64
		overflow   bool
	}{
		{2, 3, 6, false},
		{MaxAmount, MaxQuantity, MaxAmount * MaxQuantity, false},
		{-1, MaxAmount, -MaxAmount, false},
		{0, math.MaxInt64, 0, false},
		{math.MinInt64, 0, 0, false},
		{1, math.MinInt64, math.MinInt64, false},
		{-1, math.MaxInt64, -math.MaxInt64, false},
		{math.MaxInt64, 2, 0, true},
		{2, math.MaxInt64, 0, true},
		{math.MaxInt64, math.MaxInt64, 0, true},
		{math.MinInt64, math.MinInt64, 0, true},
		{-1, math.MinInt64, 0, true},
		{math.MinInt64, -1, 0, true},
		{math.MinInt64, 2, 0, true},
		{1 << 32, 1 << 31, 0, true}, // 2^63 does not fit
		{1 << 31, 1 << 31, 1 << 62, false},
		{-(1 << 31), 1 << 32, math.MinInt64, false}, // exactly -2^63
	}
	for _, tc := range cases {
		got, err := mulAmount(tc.a, tc.b)
		if tc.overflow {
			requireAmountError(t, err, "%d × %d", tc.a, tc.b)
			continue
		}
		require.NoError(t, err, "%d × %d", tc.a, tc.b)
		assert.Equal(t, tc.want, got, "%d × %d", tc.a, tc.b)
	}
}

func TestAddAmount(t *testing.T) {
	cases := []struct {
		a, b, want int64
		overflow   bool
	}{
		{2, 3, 5, false},
		{math.MaxInt64, 0, math.MaxInt64, false},
		{math.MaxInt64, math.MinInt64, -1, false},
		{math.MinInt64, 0, math.MinInt64, false},
		{math.MaxInt64 - 1, 1, math.MaxInt64, false},
		{math.MaxInt64, 1, 0, true},
		{1, math.MaxInt64, 0, true},
		{math.MinInt64, -1, 0, true},
		{math.MinInt64, math.MinInt64, 0, true},
		{math.MaxInt64, math.MaxInt64, 0, true},
	}
	for _, tc := range cases {
		got, err := addAmount(tc.a, tc.b)
		if tc.overflow {
			requireAmountError(t, err, "%d + %d", tc.a, tc.b)
			continue
		}
		require.NoError(t, err, "%d + %d", tc.a, tc.b)
		assert.Equal(t, tc.want, got, "%d + %d", tc.a, tc.b)
	}
}

func requireAmountError(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	var be *Error
	require.ErrorAs(t, err, &be, msgAndArgs...)
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeAmountTooLarge, Max: MaxAmount}, be, msgAndArgs...)
}

func TestProrateOverflow(t *testing.T) {
	// The exact quotient fits even where amount × (end − t) does not.
	got, err := Prorate(math.MaxInt64, 0, math.MaxInt64, 1)
	require.NoError(t, err)
	assert.Equal(t, int64(math.MaxInt64-1), got)
	got, err = Prorate(math.MinInt64, math.MinInt64, math.MaxInt64, math.MinInt64)
	require.NoError(t, err, "end − start overflows int64 but the share is whole")
	assert.Equal(t, int64(math.MinInt64), got)
	// A time before the period's start would bill more than the whole.
	_, err = Prorate(math.MaxInt64, 10, 20, 0)
	requireAmountError(t, err)
}

func TestInvoiceTotalOverflowIsRefused(t *testing.T) {
	s := newScenario(t, 1700000000)
	s.product("prod", "Seats")
	s.price("price_huge", "prod", math.MaxInt64, Month, 1)
	_, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001",
		Items: []ItemSpec{{Price: "price_huge", Quantity: qty(2)}}}, s.now)
	requireAmountError(t, err)

	// Two lines that each fit but whose sum does not.
	s.price("price_half", "prod", math.MaxInt64/2+1, Month, 1)
	_, err = s.e.CreateSubscription(NewSubscription{Customer: "cus_0001",
		Items: []ItemSpec{{Price: "price_half", Quantity: qty(1)}, {Price: "price_half", Quantity: qty(1)}}}, s.now)
	requireAmountError(t, err)
	assert.Empty(t, s.l.invoices(), "no invoice is stored for a refused subscription")
}

func TestProrationOverflowIsRefused(t *testing.T) {
	s := newScenario(t, 1700000000)
	s.product("prod", "Seats")
	s.price("price_big", "prod", math.MaxInt64/4, Month, 1)
	sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001",
		Items: []ItemSpec{{Price: "price_big", Quantity: qty(1)}}}, s.now)
	require.NoError(t, err)
	_, err = s.e.UpdateSubscription(sub.ID, SubscriptionChange{Items: []ItemSpec{{ID: sub.Items[0].ID, Quantity: qty(8), Param: "items[0]"}}},
		s.now+86400)
	requireAmountError(t, err)
}
