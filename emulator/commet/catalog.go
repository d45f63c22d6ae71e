package commet

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file serves the catalog: features (seats, boolean, usage, quota)
// and plans with their prices and features.

// codePattern is the shape of feature and plan codes: lowercase letters,
// digits, underscores and hyphens.
var codePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,99}$`)

// intervals are the billing intervals of subscriptions.
var intervals = map[string]billing.Interval{
	"weekly":    {Unit: billing.Week, Count: 1},
	"monthly":   {Unit: billing.Month, Count: 1},
	"quarterly": {Unit: billing.Month, Count: 3},
	"yearly":    {Unit: billing.Year, Count: 1},
}

func conflict(code, param, format string, args ...any) *Error {
	e := invalidField(param, format, args...)
	e.Status, e.Type, e.Code, e.Details = http.StatusConflict, typeConflict, code, nil
	return e
}

func (s *Surface) createFeature(c *call, l *clockwork.Ledger) (any, error) {
	name := c.p.requiredStr("name", maxText)
	code := c.p.requiredStr("code", 100)
	typ := c.p.requiredStr("type", 20)
	desc, _ := c.p.str("description", maxText)
	unit, _ := c.p.str("unitName", 100)
	if code != "" && !codePattern.MatchString(code) {
		c.p.fail("code", "Use lowercase letters, digits, underscores and hyphens.")
	}
	switch typ {
	case "", featureBoolean, featureUsage, featureSeats, featureQuota:
	default:
		c.p.fail("type", "Expected one of boolean, usage, seats, quota.")
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if id, err := lookup(l, featureCodesCollection, code); err != nil {
		return nil, err
	} else if id != "" {
		return nil, conflict("feature_code_exists", "code", "A feature with code %s exists already.", code)
	}
	f := &featureRecord{ID: s.NewID("feat_"), Code: code, Name: name, Type: typ, Description: desc, UnitName: unit,
		Created: c.now.Unix(), Updated: c.now.Unix()}
	if err := l.Put(featuresCollection, f.ID, f.Created, f); err != nil {
		return nil, err
	}
	if err := file(l, featureCodesCollection, code, f.ID); err != nil {
		return nil, err
	}
	c.status = http.StatusCreated
	return renderFeature(f), nil
}

func (s *Surface) retrieveFeature(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	f, err := s.feature(l, c.vars["code"])
	if err != nil {
		return nil, err
	}
	return renderFeature(f), nil
}

func (s *Surface) listFeatures(c *call, l *clockwork.Ledger) (any, error) {
	limit, cursor := pageOf(c.p)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	coll, err := l.Collection(featuresCollection)
	if err != nil {
		return nil, err
	}
	return listPage(coll, limit, cursor, nil, func(raw []byte) (any, error) {
		var f featureRecord
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, err
		}
		return renderFeature(&f), nil
	})
}

func (s *Surface) createPlan(c *call, l *clockwork.Ledger) (any, error) {
	name := c.p.requiredStr("name", maxText)
	code := c.p.requiredStr("code", 100)
	desc, _ := c.p.str("description", maxText)
	public, hasPublic := c.p.bool("isPublic")
	free, _ := c.p.bool("isFree")
	meta, _ := c.p.raw("metadata")
	if code != "" && !codePattern.MatchString(code) {
		c.p.fail("code", "Use lowercase letters, digits, underscores and hyphens.")
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if id, err := lookup(l, planCodesCollection, code); err != nil {
		return nil, err
	} else if id != "" {
		return nil, conflict("plan_code_exists", "code", "A plan with code %s exists already.", code)
	}
	p := &planRecord{ID: s.NewID("plan_"), Code: code, Name: name, Description: desc, IsPublic: public || !hasPublic,
		IsFree: free, Metadata: meta, Created: c.now.Unix(), Updated: c.now.Unix()}
	prod := &billing.Product{ID: s.NewID("prod_"), Created: p.Created, Updated: p.Created, Name: name, Active: true}
	p.Product = prod.ID
	if err := l.PutProduct(prod); err != nil {
		return nil, err
	}
	if err := putPlan(l, p); err != nil {
		return nil, err
	}
	if err := file(l, planCodesCollection, code, p.ID); err != nil {
		return nil, err
	}
	c.status = http.StatusCreated
	return s.renderPlan(l, p), nil
}

func (s *Surface) retrievePlan(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	p, err := s.plan(l, c.vars["id"])
	if err != nil {
		return nil, err
	}
	return s.renderPlan(l, p), nil
}

func (s *Surface) listPlans(c *call, l *clockwork.Ledger) (any, error) {
	limit, cursor := pageOf(c.p)
	private, _ := c.p.bool("includePrivate")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	coll, err := l.Collection(plansCollection)
	if err != nil {
		return nil, err
	}
	var match func([]byte) (bool, error)
	if !private {
		match = func(raw []byte) (bool, error) {
			var p planRecord
			err := json.Unmarshal(raw, &p)
			return p.IsPublic, err
		}
	}
	return listPage(coll, limit, cursor, match, func(raw []byte) (any, error) {
		var p planRecord
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		return s.renderPlan(l, &p), nil
	})
}

func (s *Surface) addPlanPrice(c *call, l *clockwork.Ledger) (any, error) {
	interval := c.p.requiredStr("billingInterval", 20)
	price, hasPrice := c.p.int("price", 0, billing.MaxAmount)
	trial, _ := c.p.int("trialDays", 0, 730)
	def, _ := c.p.bool("isDefault")
	iv, known := intervals[interval]
	switch {
	case interval == "one_time":
		c.p.fail("billingInterval", "billclock emulates recurring prices only: weekly, monthly, quarterly or yearly.")
	case interval != "" && !known:
		c.p.fail("billingInterval", "Expected one of weekly, monthly, quarterly, yearly.")
	}
	if !hasPrice && !c.p.failed("price") {
		c.p.fail("price", "Required.")
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	p, err := s.plan(l, c.vars["id"])
	if err != nil {
		return nil, err
	}
	for _, pp := range p.Prices {
		if pp.Interval == interval {
			return nil, conflict("price_exists", "billingInterval", "The plan has a %s price already.", interval)
		}
	}
	at := c.now.Unix()
	ep := &billing.Price{ID: s.NewID("price_"), Created: at, Product: p.Product, Currency: "usd", UnitAmount: price,
		Recurring: &iv, Active: true}
	if err := l.PutPrice(ep); err != nil {
		return nil, err
	}
	pp := planPrice{ID: s.NewID("pp_"), Interval: interval, Price: price, TrialDays: trial,
		IsDefault: def || len(p.Prices) == 0, EnginePrice: ep.ID, Created: at, Updated: at}
	if pp.IsDefault {
		for i := range p.Prices {
			p.Prices[i].IsDefault = false
		}
	}
	p.Prices = append(p.Prices, pp)
	p.Updated = at
	if err := putPlan(l, p); err != nil {
		return nil, err
	}
	c.status = http.StatusCreated
	return &priceObject{planPriceView: renderPlanPrice(pp), PlanID: p.ID, CreatedAt: iso(at), UpdatedAt: iso(at), Object: "plan"}, nil
}

func (s *Surface) addPlanFeature(c *call, l *clockwork.Ledger) (any, error) {
	ref := c.p.requiredStr("featureId", maxText)
	enabled, hasEnabled := c.p.bool("enabled")
	included, _ := c.p.int("includedAmount", 0, billing.MaxQuantity)
	unlimited, _ := c.p.bool("unlimited")
	var overage, hasUnitPrice bool
	var unitPrice int64
	if o, ok := c.p.object("overage"); ok {
		overage, _ = o.bool("enabled")
		unitPrice, hasUnitPrice = o.int("unitPrice", 0, billing.MaxAmount)
		if overage && !hasUnitPrice && !o.failed("unitPrice") {
			o.fail("unitPrice", "Required when overage is enabled.")
		}
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	p, err := s.plan(l, c.vars["id"])
	if err != nil {
		return nil, err
	}
	f, err := s.feature(l, ref)
	if err != nil {
		return nil, err
	}
	for _, pf := range p.Features {
		if pf.FeatureID == f.ID {
			return nil, conflict("plan_feature_exists", "featureId", "The feature %s is on the plan already.", f.Code)
		}
	}
	pf := planFeature{FeatureID: f.ID, Code: f.Code, Enabled: enabled || !hasEnabled, Included: included,
		Unlimited: unlimited, OverageEnabled: overage, UnitPrice: unitPrice}
	p.Features = append(p.Features, pf)
	p.Updated = c.now.Unix()
	if err := putPlan(l, p); err != nil {
		return nil, err
	}
	c.status = http.StatusCreated
	o := &planFeatureObject{PlanID: p.ID, FeatureID: f.ID, Enabled: pf.Enabled, IncludedAmount: pf.Included,
		Unlimited: pf.Unlimited, PricingMode: "fixed", Object: "plan"}
	o.Overage.Enabled, o.Overage.UnitPrice = pf.OverageEnabled, pf.UnitPrice
	return o, nil
}
