package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckTaxRates: the tax rates a surface sets on an invoice item or an
// invoice must exist, be listed once, and be active unless they were set
// already.
func TestCheckTaxRates(t *testing.T) {
	m := newMoney(t)
	m.taxRate(TaxRate{ID: "txr_vat", DisplayName: "VAT", Percentage: 20 * PercentUnit, Active: true})
	m.taxRate(TaxRate{ID: "txr_old", DisplayName: "Old", Percentage: 5 * PercentUnit})
	off := false
	_, err := m.e.UpdateTaxRate("txr_old", TaxRateChange{Active: &off}, m.now)
	require.NoError(t, err)

	got, err := m.e.CheckTaxRates([]string{"txr_vat"}, nil, "tax_rates")
	require.NoError(t, err)
	assert.Equal(t, []string{"txr_vat"}, got)
	got, err = m.e.CheckTaxRates(nil, []string{"txr_vat"}, "tax_rates")
	require.NoError(t, err)
	assert.Nil(t, got)

	_, err = m.e.CheckTaxRates([]string{"txr_vat", "txr_nope"}, nil, "tax_rates")
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, "tax_rates[1]", be.Param)
	_, err = m.e.CheckTaxRates([]string{"txr_vat", "txr_vat"}, nil, "tax_rates")
	requireCode(t, err, CodeTaxRateDuplicate, "tax_rates[1]")
	_, err = m.e.CheckTaxRates([]string{"txr_old"}, nil, "default_tax_rates")
	requireCode(t, err, CodeTaxRateInactive, "default_tax_rates[0]")
	got, err = m.e.CheckTaxRates([]string{"txr_old"}, []string{"txr_old"}, "default_tax_rates")
	require.NoError(t, err, "an inactive rate it had already stays")
	assert.Equal(t, []string{"txr_old"}, got)
}
