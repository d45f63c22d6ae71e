package billing

import (
	"fmt"
	"maps"
	"slices"
)

// This file holds tax rates: a percentage that is either inclusive (part
// of the amount it taxes) or exclusive (added to it), set on subscription
// items, subscriptions and invoices (default tax rates) and invoice items,
// and the taxes a rate makes on an invoice line. Automatic tax calculation
// is not emulated.

// TaxRate is a tax, at a percentage, that invoices collect.
type TaxRate struct {
	ID          string `json:"id"`
	Created     int64  `json:"created"`
	DisplayName string `json:"display_name"`
	Description string `json:"description,omitempty"`
	// Jurisdiction, Country and State say where the tax is due; they are
	// labels, used in no computation.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	Country      string `json:"country,omitempty"`
	State        string `json:"state,omitempty"`
	TaxType      string `json:"tax_type,omitempty"`
	// Percentage and Inclusive never change once the rate is created.
	Percentage Percent `json:"percentage"`
	Inclusive  bool    `json:"inclusive"`
	// Active rates can be newly applied; inactive ones still tax what
	// already has them.
	Active   bool              `json:"active"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// TaxAmount is the tax one rate makes on an invoice line (or, in
// InvoiceTotals, on all of them): Amount, on TaxableAmount, the line's
// amount after its discounts and without inclusive taxes.
type TaxAmount struct {
	TaxRate       string `json:"tax_rate"`
	Amount        int64  `json:"amount"`
	Inclusive     bool   `json:"inclusive"`
	TaxableAmount int64  `json:"taxable_amount"`
}

// Tax rate events.
const (
	EventTaxRateCreated EventType = "tax_rate.created"
	EventTaxRateUpdated EventType = "tax_rate.updated"
)

// Tax rate error codes.
const (
	// CodeTaxRatePercentage: a percentage outside [Min, Max], in Percent
	// units (0 to Hundred).
	CodeTaxRatePercentage Code = "tax_rate_percentage"
	// CodeTaxRateInactive: the tax rate ID is inactive, so it cannot be
	// newly applied.
	CodeTaxRateInactive Code = "tax_rate_inactive"
	// CodeTaxRateDuplicate: the tax rate ID is listed twice.
	CodeTaxRateDuplicate Code = "tax_rate_duplicate"
	// CodeTaxRateExists: a tax rate with the ID exists already.
	CodeTaxRateExists Code = "tax_rate_exists"
)

// CreateTaxRate stores r as a new tax rate created at now and announces
// it. Its ID is made here unless r has one, which must be new. Active is
// as given (Stripe's default is true: the surface sets it).
func (e *Engine) CreateTaxRate(r *TaxRate, now int64) error {
	l, err := e.couponTax()
	if err != nil {
		return err
	}
	if r.Percentage < 0 || r.Percentage > Hundred {
		return &Error{Kind: Invalid, Code: CodeTaxRatePercentage, Param: "percentage", Min: 0, Max: int64(Hundred)}
	}
	if r.ID == "" {
		r.ID = e.L.NewID("txr_")
	} else if _, err := l.TaxRate(r.ID); err == nil {
		return &Error{Kind: Invalid, Code: CodeTaxRateExists, Param: "id", Resource: "tax_rate", ID: r.ID}
	} else if ignoreNotFound(err) != nil {
		return err
	}
	r.Created = now
	if err := l.PutTaxRate(r); err != nil {
		return err
	}
	return e.emit(EventTaxRateCreated, now, snapshotTaxRate(r))
}

// TaxRateChange is an update of a tax rate: nil fields stay as they are.
// A rate's percentage and inclusiveness never change.
type TaxRateChange struct {
	DisplayName, Description, Jurisdiction, Country, State, TaxType *string
	Active                                                          *bool
	Metadata                                                        map[string]string
}

// UpdateTaxRate changes the tax rate id at now and announces it.
func (e *Engine) UpdateTaxRate(id string, ch TaxRateChange, now int64) (*TaxRate, error) {
	l, err := e.couponTax()
	if err != nil {
		return nil, err
	}
	r, err := l.TaxRate(id)
	if err != nil {
		return nil, err
	}
	before := snapshotTaxRate(r)
	for _, f := range []struct {
		to   *string
		from *string
	}{{&r.DisplayName, ch.DisplayName}, {&r.Description, ch.Description}, {&r.Jurisdiction, ch.Jurisdiction},
		{&r.Country, ch.Country}, {&r.State, ch.State}, {&r.TaxType, ch.TaxType}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if ch.Active != nil {
		r.Active = *ch.Active
	}
	r.Metadata = MergeMetadata(r.Metadata, ch.Metadata)
	if err := l.PutTaxRate(r); err != nil {
		return nil, err
	}
	return r, e.L.Emit(Event{Type: EventTaxRateUpdated, Time: now, Object: snapshotTaxRate(r), Before: before})
}

// checkTaxRates checks the tax rates ids, given in param, that are to be
// set on something that had the rates had: each exists, appears once and,
// unless it was there already, is active. It returns a copy of ids.
func (e *Engine) checkTaxRates(ids, had []string, param string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	l, err := e.couponTax()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, id := range ids {
		p := fmt.Sprintf("%s[%d]", param, i)
		r, err := l.TaxRate(id)
		if err != nil {
			if be, ok := err.(*Error); ok && be.Kind == NotFound {
				be.Param = p
			}
			return nil, err
		}
		if seen[id] {
			return nil, &Error{Kind: Invalid, Code: CodeTaxRateDuplicate, Param: p, Resource: "tax_rate", ID: id}
		}
		seen[id] = true
		if !r.Active && !slices.Contains(had, id) {
			return nil, &Error{Kind: Invalid, Code: CodeTaxRateInactive, Param: p, Resource: "tax_rate", ID: id}
		}
	}
	return append([]string(nil), ids...), nil
}

// lineTaxes are the taxes rates make on a line whose amount after
// discounts is base, one per rate in order, each rounded half away from
// zero on its own:
//   - inclusive rates carve their taxes out of base: with P the sum of the
//     inclusive percentages, rate p's tax is base × p / (100% + P);
//   - exclusive rates tax what is left, base less the inclusive taxes,
//     at their percentage.
//
// Every tax's taxable amount is base less the inclusive taxes. (Stripe
// rounds tax per line, half up, as its published example shows: 15% of
// $0.43 is $0.06 and of $4.84 is $0.73. For inclusive taxes billclock
// rounds the tax, not the amount without it; at an exact half the two
// differ by one unit.)
func lineTaxes(base int64, rates []*TaxRate) ([]TaxAmount, error) {
	if len(rates) == 0 {
		return nil, nil
	}
	var inclusive Percent
	for _, r := range rates {
		if r.Inclusive {
			inclusive += r.Percentage
		}
	}
	out := make([]TaxAmount, len(rates))
	taxable := base
	for i, r := range rates {
		if !r.Inclusive {
			continue
		}
		tax, err := mulDivRound(base, int64(r.Percentage), int64(Hundred+inclusive))
		if err != nil {
			return nil, err
		}
		out[i] = TaxAmount{TaxRate: r.ID, Amount: tax, Inclusive: true}
		taxable -= tax
	}
	for i, r := range rates {
		if r.Inclusive {
			out[i].TaxableAmount = taxable
			continue
		}
		tax, err := r.Percentage.Of(taxable)
		if err != nil {
			return nil, err
		}
		out[i] = TaxAmount{TaxRate: r.ID, Amount: tax, TaxableAmount: taxable}
	}
	return out, nil
}

func snapshotTaxRate(r *TaxRate) *TaxRate {
	c := *r
	c.Metadata = maps.Clone(r.Metadata)
	return &c
}

// CheckTaxRates checks the tax rates ids, given in param (each as
// param[i]), that are to be set on something (an invoice item, an
// invoice) that had the rates had: each exists, appears once and, unless
// it was there already, is active. It returns a copy of ids, nil for
// none.
func (e *Engine) CheckTaxRates(ids, had []string, param string) ([]string, error) {
	return e.checkTaxRates(ids, had, param)
}
