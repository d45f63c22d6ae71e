package billing

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moneyScenario is a scenario with coupons, promotion codes and tax
// rates, which records the outcome of each redemption it tries.
type moneyScenario struct {
	*scenario
	attempts []string
}

func (m *moneyScenario) coupon(c Coupon) {
	m.t.Helper()
	require.NoError(m.t, m.e.CreateCoupon(&c, m.now))
}

func (m *moneyScenario) promo(p PromotionCode) string {
	m.t.Helper()
	require.NoError(m.t, m.e.CreatePromotionCode(&p, m.now))
	return p.ID
}

func (m *moneyScenario) taxRate(r TaxRate) {
	m.t.Helper()
	r.Active = true
	require.NoError(m.t, m.e.CreateTaxRate(&r, m.now))
}

// customer adds another customer on the clock, with a card that pays.
func (m *moneyScenario) customer(id string) *Customer {
	m.t.Helper()
	pm := "pm_" + id
	require.NoError(m.t, m.l.PutPaymentMethod(&PaymentMethod{ID: pm, Created: m.now, Customer: id, Clock: m.clock,
		Type: "card", Card: Card{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034, Funding: "credit"}}))
	c := &Customer{ID: id, Created: m.now, Clock: m.clock, InvoicePrefix: strings.ToUpper(id[4:]), DefaultPaymentMethod: pm}
	require.NoError(m.t, m.l.PutCustomer(c))
	return c
}

func (m *moneyScenario) cust(id string) *Customer {
	m.t.Helper()
	c, err := m.l.Customer(id)
	require.NoError(m.t, err)
	return c
}

// try records what an attempt gave: "ok", or the refusal's code and
// parameter (or the error's text).
func (m *moneyScenario) try(what string, err error) {
	m.t.Helper()
	outcome := "ok"
	var be *Error
	switch {
	case errors.As(err, &be) && be.Code != "":
		outcome = fmt.Sprintf("%s (param %s)", be.Code, be.Param)
	case err != nil:
		outcome = err.Error()
	}
	m.attempts = append(m.attempts, fmt.Sprintf("%s %s: %s", formatUTC(m.now), what, outcome))
}

// subscribe subscribes customer to prices, one of each, with terms.
func (m *moneyScenario) subscribe(customer string, terms Terms, items ...ItemSpec) (*Subscription, error) {
	return m.e.CreateSubscription(NewSubscription{Customer: customer, Items: items, Terms: terms}, m.now)
}

func discountSpecs(specs ...DiscountSpec) *[]DiscountSpec {
	for i := range specs {
		specs[i].Param = fmt.Sprintf("discounts[%d]", i)
	}
	return &specs
}

func rates(ids ...string) *[]string { return &ids }

// moneyView is what a money scenario's golden file records.
type moneyView struct {
	Invoices []moneyInvoice `json:"invoices"`
	Attempts []string       `json:"attempts,omitempty"`
	Events   []string       `json:"events"`
}

type moneyInvoice struct {
	ID                   string        `json:"id"`
	Customer             string        `json:"customer"`
	Reason               BillingReason `json:"billing_reason"`
	Status               InvoiceStatus `json:"status"`
	Created              string        `json:"created"`
	Discounts            []string      `json:"discounts,omitempty"`
	Subtotal             int64         `json:"subtotal"`
	SubtotalExcludingTax int64         `json:"subtotal_excluding_tax"`
	TotalDiscounts       []string      `json:"total_discount_amounts,omitempty"`
	TotalTaxes           []string      `json:"total_taxes,omitempty"`
	TotalExcludingTax    int64         `json:"total_excluding_tax"`
	Total                int64         `json:"total"`
	AmountDue            int64         `json:"amount_due"`
	AmountPaid           int64         `json:"amount_paid"`
	Lines                []moneyLine   `json:"lines"`
}

// moneyLine names a line by what it bills, quantity × price, rather than
// by its wording, which is the surfaces' business.
type moneyLine struct {
	Bills        string   `json:"bills"`
	Amount       int64    `json:"amount"`
	Period       string   `json:"period"`
	Proration    bool     `json:"proration,omitempty"`
	Discountable bool     `json:"discountable,omitempty"`
	Discounts    []string `json:"discount_amounts,omitempty"`
	Taxes        []string `json:"taxes,omitempty"`
}

func discountStrings(das []DiscountAmount) []string {
	var out []string
	for _, d := range das {
		out = append(out, fmt.Sprintf("%s %d", d.Discount, d.Amount))
	}
	return out
}

func taxStrings(tas []TaxAmount) []string {
	var out []string
	for _, t := range tas {
		kind := "exclusive"
		if t.Inclusive {
			kind = "inclusive"
		}
		out = append(out, fmt.Sprintf("%s %d %s on %d", t.TaxRate, t.Amount, kind, t.TaxableAmount))
	}
	return out
}

func (m *moneyScenario) view() moneyView {
	m.t.Helper()
	base := m.scenario.view()
	v := moneyView{Attempts: m.attempts}
	for _, inv := range m.l.invoices() {
		totals, err := inv.Totals()
		require.NoError(m.t, err)
		require.Equal(m.t, totals.Total, inv.Total())
		g := moneyInvoice{ID: inv.ID, Customer: inv.Customer, Reason: inv.BillingReason, Status: inv.Status,
			Created: ts(inv.Created), Subtotal: totals.Subtotal, SubtotalExcludingTax: totals.SubtotalExcludingTax,
			TotalDiscounts: discountStrings(totals.Discounts), TotalTaxes: taxStrings(totals.Taxes),
			TotalExcludingTax: totals.TotalExcludingTax, Total: totals.Total, AmountDue: inv.AmountDue(),
			AmountPaid: inv.AmountPaid}
		for _, d := range inv.Discounts {
			g.Discounts = append(g.Discounts, fmt.Sprintf("%s (%s)", d.ID, d.Coupon.ID))
		}
		for _, l := range inv.Lines {
			g.Lines = append(g.Lines, moneyLine{Bills: fmt.Sprintf("%d × %s", l.Quantity, l.Price), Amount: l.Amount, Proration: l.Proration,
				Discountable: l.Discountable, Discounts: discountStrings(l.DiscountAmounts), Taxes: taxStrings(l.Taxes),
				Period: fmt.Sprintf("%s – %s", formatUTC(l.PeriodStart), formatUTC(l.PeriodEnd))})
		}
		v.Invoices = append(v.Invoices, g)
	}
	for i, ev := range m.l.events {
		line := base.Events[i]
		switch o := ev.Object.(type) {
		case *Discount:
			owner := o.Customer
			if o.Subscription != "" {
				owner = o.Subscription
			}
			end := ""
			if o.End != 0 {
				end = " until " + formatUTC(o.End)
			}
			line += fmt.Sprintf("%s (%s) on %s%s", o.ID, o.Coupon.ID, owner, end)
		case *Coupon:
			line += fmt.Sprintf("%s redeemed %d", o.ID, o.TimesRedeemed)
		case *PromotionCode:
			line += fmt.Sprintf("%s %s active %v", o.ID, o.Code, o.Active)
		case *TaxRate:
			line += fmt.Sprintf("%s %s%%", o.ID, o.Percentage)
		case *Invoice:
			// The base view shows the total; show the discounts and taxes
			// an invoice carries when announced.
			if t, err := o.Totals(); err == nil && (len(t.Discounts) > 0 || len(t.Taxes) > 0) {
				line += fmt.Sprintf(" (subtotal %d)", t.Subtotal)
			}
		case *Subscription:
			if len(o.Discounts) > 0 {
				var ids []string
				for _, d := range o.Discounts {
					ids = append(ids, d.ID)
				}
				line += " discounts " + strings.Join(ids, ",")
			}
		}
		v.Events = append(v.Events, line)
	}
	return v
}

func checkMoneyGolden(t *testing.T, name string, v moneyView) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("..", "..", "testdata", "engine", name+".golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./emulator/billing -update to create golden files")
	assert.Equal(t, string(want), string(got))
}

// moneyScenarios are stories of discounts and taxes over clock time, each
// with its start.
var moneyScenarios = map[string]struct {
	start int64
	run   func(m *moneyScenario)
}{
	// A 25% coupon repeating for 3 months, redeemed on Jan 31: the
	// invoices of Jan 31, Feb 28 and Mar 31 are discounted; on Apr 30,
	// three calendar months of clock time later, the discount has ended.
	"coupon_repeating_25": {utc("2025-01-31T10:00:00Z"), func(m *moneyScenario) {
		m.product("prod_pro", "Pro")
		m.price("price_pro", "prod_pro", 2000, Month, 1)
		m.coupon(Coupon{ID: "QUARTER25", PercentOff: 25 * PercentUnit, Duration: DurationRepeating, DurationInMonths: 3})
		_, err := m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "QUARTER25"})},
			ItemSpec{Price: "price_pro"})
		require.NoError(m.t, err)
		m.advance(utc("2025-04-30T12:00:00Z"))
	}},
	// An amount off spread over three lines, and a once percentage off
	// after it: both on the first invoice, only the amount off after.
	"coupon_amount_off_lines": {utc("2025-03-01T00:00:00Z"), func(m *moneyScenario) {
		m.product("prod_base", "Base")
		m.product("prod_seat", "Seats")
		m.product("prod_addon", "Addon")
		m.price("price_base", "prod_base", 1000, Month, 1)
		m.price("price_seat", "prod_seat", 2500, Month, 1)
		m.price("price_addon", "prod_addon", 333, Month, 1)
		m.coupon(Coupon{ID: "TENOFF", AmountOff: 1000, Currency: "usd", Duration: DurationForever})
		m.coupon(Coupon{ID: "WELCOME10", PercentOff: 10 * PercentUnit, Duration: DurationOnce})
		_, err := m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "TENOFF"}, DiscountSpec{Coupon: "WELCOME10"})},
			ItemSpec{Price: "price_base"}, ItemSpec{Price: "price_seat"}, ItemSpec{Price: "price_addon", Quantity: qty(3)})
		require.NoError(m.t, err)
		m.advance(utc("2025-04-01T02:00:00Z"))
	}},
	// An inclusive 20% VAT on one item and an exclusive 7.25% sales tax on
	// the other, over a renewal.
	"tax_inclusive_exclusive": {utc("2025-01-01T00:00:00Z"), func(m *moneyScenario) {
		m.product("prod_eu", "EU plan")
		m.product("prod_ca", "CA plan")
		m.price("price_eu", "prod_eu", 1000, Month, 1)
		m.price("price_ca", "prod_ca", 1999, Month, 1)
		m.taxRate(TaxRate{ID: "txr_vat", DisplayName: "VAT", Jurisdiction: "DE", Country: "DE", Percentage: 20 * PercentUnit, Inclusive: true})
		m.taxRate(TaxRate{ID: "txr_ca", DisplayName: "Sales tax", Jurisdiction: "US - CA", Country: "US", State: "CA", Percentage: 72_500})
		_, err := m.subscribe("cus_0001", Terms{},
			ItemSpec{Price: "price_eu", TaxRates: rates("txr_vat")}, ItemSpec{Price: "price_ca", TaxRates: rates("txr_ca")})
		require.NoError(m.t, err)
		m.advance(utc("2025-02-01T02:00:00Z"))
	}},
	// A 10% coupon and an exclusive default tax on the same invoices; a
	// seat change mid-period makes prorations, which fix their discount
	// when made and are taxed on the renewal invoice.
	"discount_and_tax": {utc("2025-01-01T00:00:00Z"), func(m *moneyScenario) {
		m.product("prod_seat", "Seats")
		m.price("price_seat", "prod_seat", 4999, Month, 1)
		m.taxRate(TaxRate{ID: "txr_ny", DisplayName: "Sales tax", Jurisdiction: "US - NY", Percentage: 88_750})
		m.coupon(Coupon{ID: "TEN", PercentOff: 10 * PercentUnit, Duration: DurationForever})
		sub, err := m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "TEN"}), DefaultTaxRates: rates("txr_ny")},
			ItemSpec{Price: "price_seat"})
		require.NoError(m.t, err)
		m.advance(utc("2025-01-16T12:00:00Z"))
		_, err = m.e.UpdateSubscription(sub.ID, SubscriptionChange{Items: []ItemSpec{{ID: sub.Items[0].ID, Quantity: qty(2)}}}, m.now)
		require.NoError(m.t, err)
		m.advance(utc("2025-02-01T02:00:00Z"))
	}},
	// Each restriction of a promotion code refuses what it should, and
	// lets through what it should.
	"promotion_code_restrictions": {utc("2025-01-01T00:00:00Z"), func(m *moneyScenario) {
		m.product("prod_pro", "Pro")
		m.price("price_pro", "prod_pro", 2000, Month, 1)
		m.price("price_big", "prod_pro", 12000, Month, 1)
		m.customer("cus_0002")
		m.coupon(Coupon{ID: "HALF", PercentOff: 50 * PercentUnit, Duration: DurationForever})
		welcome := m.promo(PromotionCode{Code: "WELCOME", Coupon: "HALF", Active: true,
			Restrictions: Restrictions{FirstTimeTransaction: true}})
		big := m.promo(PromotionCode{Code: "BIG100", Coupon: "HALF", Active: true,
			Restrictions: Restrictions{MinimumAmount: 10000, MinimumAmountCurrency: "usd"}})
		eur := m.promo(PromotionCode{Code: "EURMIN", Coupon: "HALF", Active: true,
			Restrictions: Restrictions{MinimumAmount: 1000, MinimumAmountCurrency: "eur"}})
		vip := m.promo(PromotionCode{Code: "VIP", Coupon: "HALF", Active: true, Customer: "cus_0002"})
		paused := m.promo(PromotionCode{Code: "PAUSED", Coupon: "HALF", Active: false})
		late := m.promo(PromotionCode{Code: "LATE", Coupon: "HALF", Active: true, ExpiresAt: m.now + 10*86400})
		single := m.promo(PromotionCode{Code: "SINGLE", Coupon: "HALF", Active: true, MaxRedemptions: 1})
		code := func(id string) Terms { return Terms{Discounts: discountSpecs(DiscountSpec{PromotionCode: id})} }
		pro := ItemSpec{Price: "price_pro"}

		_, err := m.subscribe("cus_0001", code(welcome), pro)
		m.try("cus_0001 subscribes with WELCOME, its first purchase", err)
		_, err = m.subscribe("cus_0001", code(welcome), pro)
		m.try("cus_0001 subscribes again with WELCOME", err)
		_, err = m.subscribe("cus_0002", code(big), pro)
		m.try("cus_0002 subscribes for 2000 with BIG100", err)
		_, err = m.subscribe("cus_0002", code(big), ItemSpec{Price: "price_big"})
		m.try("cus_0002 subscribes for 12000 with BIG100", err)
		_, err = m.subscribe("cus_0002", code(eur), pro)
		m.try("cus_0002 subscribes in usd with EURMIN", err)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{PromotionCode: vip}, m.now)
		m.try("cus_0001 redeems VIP, cus_0002's code", err)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0002"), DiscountSpec{PromotionCode: vip}, m.now)
		m.try("cus_0002 redeems VIP", err)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{PromotionCode: paused}, m.now)
		m.try("cus_0001 redeems PAUSED, inactive", err)
		yes := true
		_, err = m.e.UpdatePromotionCode(paused, PromotionCodeChange{Active: &yes}, m.now)
		require.NoError(m.t, err)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{PromotionCode: paused}, m.now)
		m.try("cus_0001 redeems PAUSED once active", err)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{PromotionCode: single}, m.now)
		m.try("cus_0001 redeems SINGLE (at most once)", err)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0002"), DiscountSpec{PromotionCode: single}, m.now)
		m.try("cus_0002 redeems SINGLE", err)
		m.try("another active WELCOME", m.e.CreatePromotionCode(&PromotionCode{Code: "welcome", Coupon: "HALF", Active: true}, m.now))
		m.try("a code with a space", m.e.CreatePromotionCode(&PromotionCode{Code: "NO GOOD", Coupon: "HALF", Active: true}, m.now))
		m.advance(m.now + 10*86400 - 1)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0002"), DiscountSpec{PromotionCode: late}, m.now)
		m.try("cus_0002 redeems LATE a second before it expires", err)
		m.advance(m.now + 1)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{PromotionCode: late}, m.now)
		m.try("cus_0001 redeems LATE as it expires", err)
	}},
	// A coupon that at most two customers can redeem, and one that can be
	// redeemed only for five days but then discounts for ever.
	"coupon_max_redemptions_redeem_by": {utc("2025-01-01T00:00:00Z"), func(m *moneyScenario) {
		m.product("prod_pro", "Pro")
		m.price("price_pro", "prod_pro", 2000, Month, 1)
		m.customer("cus_0002")
		m.customer("cus_0003")
		m.coupon(Coupon{ID: "FIRST2", AmountOff: 500, Currency: "usd", Duration: DurationOnce, MaxRedemptions: 2})
		m.coupon(Coupon{ID: "EARLY", PercentOff: 20 * PercentUnit, Duration: DurationForever, RedeemBy: m.now + 5*86400})
		m.coupon(Coupon{ID: "EUROS", AmountOff: 500, Currency: "eur", Duration: DurationForever})
		for _, c := range []string{"cus_0001", "cus_0002", "cus_0003"} {
			_, err := m.e.SetCustomerDiscount(m.cust(c), DiscountSpec{Coupon: "FIRST2"}, m.now)
			m.try(c+" redeems FIRST2", err)
		}
		_, err := m.subscribe("cus_0003", Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "EUROS"})}, ItemSpec{Price: "price_pro"})
		m.try("cus_0003 subscribes in usd with EUROS, an amount off in eur", err)
		m.advance(m.now + 86400)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0003"), DiscountSpec{Coupon: "EARLY"}, m.now)
		m.try("cus_0003 redeems EARLY on day 2", err)
		// cus_0001's once discount (FIRST2) is used by its first invoice.
		_, err = m.subscribe("cus_0001", Terms{}, ItemSpec{Price: "price_pro"})
		require.NoError(m.t, err)
		_, err = m.subscribe("cus_0003", Terms{}, ItemSpec{Price: "price_pro"})
		require.NoError(m.t, err)
		m.advance(utc("2025-01-06T00:00:00Z"))
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0002"), DiscountSpec{Coupon: "EARLY"}, m.now)
		m.try("cus_0002 redeems EARLY at its last second", err)
		m.advance(m.now + 1)
		_, err = m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{Coupon: "EARLY"}, m.now)
		m.try("cus_0001 redeems EARLY a second too late", err)
		// cus_0003's 20% goes on after EARLY can no longer be redeemed.
		m.advance(utc("2025-03-02T12:00:00Z"))
	}},
}

func TestMoneyScenarios(t *testing.T) {
	for name, sc := range moneyScenarios {
		t.Run(name, func(t *testing.T) {
			m := &moneyScenario{scenario: newScenario(t, sc.start)}
			sc.run(m)
			checkMoneyGolden(t, name, m.view())
		})
	}
}

func TestMoneyScenariosStepSizeDoesNotMatter(t *testing.T) {
	for name, sc := range moneyScenarios {
		t.Run(name, func(t *testing.T) {
			whole := &moneyScenario{scenario: newScenario(t, sc.start)}
			sc.run(whole)
			for _, step := range []int64{3600, 86400 - 1, 7 * 86400} {
				steps := &moneyScenario{scenario: newScenario(t, sc.start)}
				steps.step = step
				sc.run(steps)
				assert.Equal(t, whole.view(), steps.view(), "step %d", step)
			}
		})
	}
}
