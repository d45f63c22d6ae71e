package stripe

import (
	"encoding/json"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Tax rates belong to no test clock: they are created in wall time. A
// rate's percentage and inclusiveness never change once it is made.

// Length limits of tax rate parameters in Stripe's spec.
const (
	maxTaxRateDisplayName  = 50
	maxTaxRateJurisdiction = 50
	maxTaxRateText         = 5000
)

// taxTypes are the tax_type values Stripe's spec lists.
var taxTypes = []string{"amusement_tax", "communications_tax", "gst", "hst", "igst", "jct", "lease_tax",
	"mass_transit_parking_tax", "parking_tax", "pst", "qst", "retail_delivery_fee", "rst", "sales_tax", "service_tax", "vat"}

// taxRateObject is components.schemas.tax_rate. The fields Stripe Tax
// fills (effective_percentage, flat_amount, jurisdiction_level,
// rate_type) are null for the rates a user makes.
type taxRateObject struct {
	ID                  string            `json:"id"`
	Object              string            `json:"object"`
	Active              bool              `json:"active"`
	Country             *string           `json:"country"`
	Created             int64             `json:"created"`
	Description         *string           `json:"description"`
	DisplayName         string            `json:"display_name"`
	EffectivePercentage *json.Number      `json:"effective_percentage"`
	FlatAmount          any               `json:"flat_amount"`
	Inclusive           bool              `json:"inclusive"`
	Jurisdiction        *string           `json:"jurisdiction"`
	JurisdictionLevel   *string           `json:"jurisdiction_level"`
	Livemode            bool              `json:"livemode"`
	Metadata            map[string]string `json:"metadata"`
	Percentage          json.Number       `json:"percentage"`
	RateType            *string           `json:"rate_type"`
	State               *string           `json:"state"`
	TaxType             *string           `json:"tax_type"`
}

// renderTaxRate renders a tax rate.
func renderTaxRate(r *billing.TaxRate) *taxRateObject {
	return &taxRateObject{
		ID: r.ID, Object: "tax_rate", Active: r.Active, Country: nullString(r.Country), Created: r.Created,
		Description: nullString(r.Description), DisplayName: r.DisplayName, Inclusive: r.Inclusive,
		Jurisdiction: nullString(r.Jurisdiction), Metadata: metadata(r.Metadata), Percentage: percentNumber(r.Percentage),
		State: nullString(r.State), TaxType: nullString(r.TaxType),
	}
}

// taxRateLookup finds tax rates; the ledger is one. A lookup that is not
// (a test's) renders lists of tax rates empty.
type taxRateLookup interface {
	TaxRate(id string) (*billing.TaxRate, error)
}

// renderTaxRates renders the tax rates ids as objects, in order; a rate
// that cannot be found is left out.
func renderTaxRates(ids []string, lk any) ([]any, error) {
	out := make([]any, 0, len(ids))
	tl, ok := lk.(taxRateLookup)
	if !ok {
		return out, nil
	}
	for _, id := range ids {
		r, err := tl.TaxRate(id)
		if isMissing(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, renderTaxRate(r))
	}
	return out, nil
}

// taxRateFields are the tax rate parameters create and update share.
type taxRateFields struct {
	change billing.TaxRateChange
	// clearMetadata: metadata was sent empty.
	clearMetadata bool
}

func readTaxRateFields(p *params) taxRateFields {
	var f taxRateFields
	ch := &f.change
	if p.present("display_name") {
		p.cannotUnset("display_name")
		if v, ok := p.text("display_name", maxTaxRateDisplayName); ok {
			ch.DisplayName = &v
		}
	}
	ch.Description = p.clearableText("description", maxTaxRateText)
	ch.Jurisdiction = p.clearableText("jurisdiction", maxTaxRateJurisdiction)
	ch.Country = p.clearableText("country", maxTaxRateText)
	ch.State = p.clearableText("state", maxTaxRateText)
	if p.present("tax_type") {
		if v, ok := p.enum("tax_type", taxTypes...); ok {
			ch.TaxType = &v
		} else if p.err == nil {
			empty := ""
			ch.TaxType = &empty
		}
	}
	if active, ok := p.bool("active"); ok {
		ch.Active = &active
	}
	ch.Metadata, f.clearMetadata = p.metadata("metadata")
	return f
}

func (s *Surface) createTaxRate(c *call, tx *store.Tx) (any, error) {
	f := readTaxRateFields(c.p)
	pc, hasPercentage := c.p.percent("percentage")
	inclusive, hasInclusive := c.p.bool("inclusive")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	for _, req := range []struct {
		name string
		ok   bool
	}{{"display_name", f.change.DisplayName != nil}, {"inclusive", hasInclusive}, {"percentage", hasPercentage}} {
		if !req.ok {
			return nil, errMissing(req.name)
		}
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	r := &billing.TaxRate{Percentage: pc, Inclusive: inclusive, Active: true,
		Metadata: applyMetadata(nil, f.change.Metadata, false)}
	for _, fld := range []struct {
		to   *string
		from *string
	}{{&r.DisplayName, f.change.DisplayName}, {&r.Description, f.change.Description}, {&r.Jurisdiction, f.change.Jurisdiction},
		{&r.Country, f.change.Country}, {&r.State, f.change.State}, {&r.TaxType, f.change.TaxType}} {
		if fld.from != nil {
			*fld.to = *fld.from
		}
	}
	if f.change.Active != nil {
		r.Active = *f.change.Active
	}
	if err := l.Engine().CreateTaxRate(r, c.now.Unix()); err != nil {
		return nil, err
	}
	return renderTaxRate(r), nil
}

func (s *Surface) retrieveTaxRate(c *call, tx *store.Tx) (any, error) {
	return retrieveByID(s, c, tx, (*ledger).TaxRate, renderTaxRate)
}

func (s *Surface) updateTaxRate(c *call, tx *store.Tx) (any, error) {
	f := readTaxRateFields(c.p)
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, r, err := openByID(s, c, tx, (*ledger).TaxRate)
	if err != nil {
		return nil, err
	}
	before, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	f.change.Metadata = metadataUpdate(r.Metadata, f.change.Metadata, f.clearMetadata)
	// Stripe announces tax_rate.updated only when something changed: try
	// the change on a copy first.
	trial := *r
	trial.Metadata = billing.MergeMetadata(r.Metadata, f.change.Metadata)
	for _, fld := range []struct {
		to   *string
		from *string
	}{{&trial.DisplayName, f.change.DisplayName}, {&trial.Description, f.change.Description},
		{&trial.Jurisdiction, f.change.Jurisdiction}, {&trial.Country, f.change.Country}, {&trial.State, f.change.State},
		{&trial.TaxType, f.change.TaxType}} {
		if fld.from != nil {
			*fld.to = *fld.from
		}
	}
	if f.change.Active != nil {
		trial.Active = *f.change.Active
	}
	if diff, err := changed(before, &trial); err != nil || !diff {
		return renderTaxRate(r), err
	}
	if r, err = l.Engine().UpdateTaxRate(r.ID, f.change, c.now.Unix()); err != nil {
		return nil, err
	}
	return renderTaxRate(r), nil
}

func (s *Surface) listTaxRates(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	active, hasActive := c.p.bool("active")
	inclusive, hasInclusive := c.p.bool("inclusive")
	created := rangeParam(c.p, "created")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	_, coll, err := s.openCollection(c, tx, clockwork.TaxRatesCollection)
	if err != nil {
		return nil, err
	}
	match := func(r *billing.TaxRate) bool {
		return (!hasActive || r.Active == active) && (!hasInclusive || r.Inclusive == inclusive) && created.match(r.Created)
	}
	return listTyped(coll, pg, "/v1/tax_rates", "tax rate", match, func(r *billing.TaxRate) (any, error) {
		return renderTaxRate(r), nil
	})
}
