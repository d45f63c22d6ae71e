package stripe

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Plans are Stripe's legacy view of recurring prices: a plan IS a price,
// with the same id, shown in the plan shape. Creating a plan creates the
// price (and, from product[name], its product); every recurring price is a
// plan. Deleting a plan deletes its price: neither can be looked up or
// subscribed to any more, while the subscriptions that have it go on. The
// /v1/plans routes send plan.* events beside the price.* ones; /v1/prices
// sends price.* only.

// Events of the plan view (the engine knows prices only).
const (
	eventPlanCreated  billing.EventType = "plan.created"
	eventPlanUpdated  billing.EventType = "plan.updated"
	eventPlanDeleted  billing.EventType = "plan.deleted"
	eventPriceDeleted billing.EventType = "price.deleted"
)

// planOptionsCollection holds what a plan has beyond its price
// (planOptions), by id.
const planOptionsCollection = "plan_options"

// planOptions is what a plan has beyond its price: the legacy
// trial_period_days, which billclock shows but does not apply.
type planOptions struct {
	TrialPeriodDays *int64 `json:"trial_period_days,omitempty"`
}

// planView is a price to render as a plan, in responses and events.
type planView struct {
	price *billing.Price
	opts  planOptions
}

// planObject is components.schemas.plan.
type planObject struct {
	ID              string            `json:"id"`
	Object          string            `json:"object"`
	Active          bool              `json:"active"`
	Amount          *int64            `json:"amount"`
	AmountDecimal   *string           `json:"amount_decimal"`
	BillingScheme   string            `json:"billing_scheme"`
	Created         int64             `json:"created"`
	Currency        string            `json:"currency"`
	Interval        string            `json:"interval"`
	IntervalCount   int               `json:"interval_count"`
	Livemode        bool              `json:"livemode"`
	Metadata        map[string]string `json:"metadata"`
	Meter           *string           `json:"meter"`
	Nickname        *string           `json:"nickname"`
	Product         any               `json:"product"`
	TiersMode       *string           `json:"tiers_mode"`
	TransformUsage  any               `json:"transform_usage"`
	TrialPeriodDays *int64            `json:"trial_period_days"`
	UsageType       string            `json:"usage_type"`
}

// renderPlan renders a recurring price as a plan; product is expandable.
func renderPlan(v *planView, lk renderLookup, ex expandSet) (any, error) {
	p := v.price
	amount := p.UnitAmount
	decimal := strconv.FormatInt(p.UnitAmount, 10)
	o := &planObject{ID: p.ID, Object: "plan", Active: p.Active, Amount: &amount, AmountDecimal: &decimal,
		BillingScheme: "per_unit", Created: p.Created, Currency: p.Currency, Metadata: metadata(p.Metadata),
		Nickname: nullString(p.Nickname), TrialPeriodDays: v.opts.TrialPeriodDays, UsageType: "licensed"}
	if p.Recurring != nil {
		o.Interval, o.IntervalCount = string(p.Recurring.Unit), p.Recurring.Count
	}
	var err error
	o.Product, err = expandable(ex, "product", p.Product, lookupAndRender(lk.Product, p.Product, func(prod *billing.Product) (any, error) {
		return renderProduct(prod), nil
	}))
	return o, err
}

// plan returns plan id: a recurring price that is not deleted.
func (l *ledger) plan(id, param string) (*planView, error) {
	p, err := l.Price(id)
	if err != nil && !isMissing(err) {
		return nil, err
	}
	if err != nil || p.Recurring == nil || p.Deleted {
		return nil, errNoSuch("plan", id, param)
	}
	v := &planView{price: p}
	coll, err := l.Collection(planOptionsCollection)
	if err != nil {
		return nil, err
	}
	raw, err := coll.Get(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(raw, &v.opts); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (l *ledger) putPlanOptions(v *planView) error {
	return l.Put(planOptionsCollection, v.price.ID, v.price.Created, v.opts)
}

// emitPlan records the plan event typ and the price event beside it.
func (l *ledger) emitPlan(typ, priceTyp billing.EventType, v *planView, at int64) error {
	if err := l.Emit(billing.Event{Type: typ, Time: at, Object: &planView{price: v.price, opts: v.opts}}); err != nil {
		return err
	}
	c := *v.price
	return l.Emit(billing.Event{Type: priceTyp, Time: at, Object: &c})
}

// unsupportedPlanParams are plan parameters of pricing billclock does not
// emulate (tiers, metered usage); they are refused with a clear error.
var unsupportedPlanParams = []string{"tiers", "tiers_mode", "transform_usage", "meter", "amount_decimal"}

func (s *Surface) createPlan(c *call, tx *store.Tx) (any, error) {
	id, _ := c.p.text("id", 5000)
	currency, hasCurrency := readCurrency(c.p, "currency")
	if !hasCurrency && !c.p.present("currency") {
		c.p.fail(errMissing("currency"))
	}
	interval, hasInterval := c.p.enum("interval", "day", "week", "month", "year")
	if !hasInterval && !c.p.present("interval") {
		c.p.fail(errMissing("interval"))
	}
	count, hasCount := c.p.intIn("interval_count", 1, 1095)
	if !hasCount {
		count = 1
	}
	amount, hasAmount := c.p.intIn("amount", 0, billing.MaxAmount)
	if !hasAmount && !c.p.present("amount") {
		c.p.fail(errMissing("amount"))
	}
	active, hasActive := c.p.bool("active")
	nickname, _ := c.p.text("nickname", maxNickname)
	metadata, cleared := c.p.metadata("metadata")
	trialDays, hasTrial := c.p.intIn("trial_period_days", 0, 730)
	if scheme, ok := c.p.enum("billing_scheme", "per_unit", "tiered"); ok && scheme != "per_unit" {
		c.p.fail(invalid("billing_scheme", "billclock emulates per-unit pricing only: billing_scheme must be per_unit."))
	}
	if usage, ok := c.p.enum("usage_type", "licensed", "metered"); ok && usage != "licensed" {
		c.p.fail(invalid("usage_type", "billclock emulates licensed (per-seat) pricing only: usage_type must be licensed."))
	}
	for _, name := range unsupportedPlanParams {
		c.p.seen[name] = true
		if c.p.present(name) {
			c.p.fail(invalid(name, "billclock emulates per-unit pricing only: %s is not supported.", name))
		}
	}
	// product is a product's id, or a hash that creates one.
	productID, hasProductID := "", false
	var pf productFields
	var customProductID string
	var pd *params
	hasProductData := false
	if _, leaf := c.p.form.lookup("product").leafValue(); !leaf {
		pd, hasProductData = c.p.sub("product")
	}
	if hasProductData {
		pf = readProductFields(pd, func(k string) string { return "product[" + k + "]" })
		if pf.name == nil {
			pd.fail(errMissing("product[name]"))
		}
		customProductID, _ = pd.text("product[id]", 5000)
		pd.text("product[statement_descriptor]", 22)
		pd.text("product[tax_code]", 5000)
		pd.text("product[unit_label]", 12)
		c.p.fail(pd.check())
	} else if productID, hasProductID = c.p.str("product"); !hasProductID {
		c.p.fail(errMissing("product"))
	}
	ex, err := c.p.expansions("product")
	if err != nil {
		return nil, err
	}
	iv := &billing.Interval{Unit: billing.IntervalUnit(interval), Count: int(count)}
	if count > int64(billing.MaxIntervalCount(iv.Unit)) {
		return nil, invalid("interval_count", "Invalid interval_count: the longest billing period is 3 years "+
			"(3 years, 36 months, 156 weeks or 1095 days); every %d %ss is longer.", count, interval)
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	if id != "" {
		if _, err := l.Price(id); err == nil {
			e := invalid("id", "Plan already exists.")
			e.Code = "resource_already_exists"
			return nil, e
		} else if !isMissing(err) {
			return nil, err
		}
	} else {
		id = l.NewID("price_")
	}
	if hasProductData {
		prod, err := newProduct(l, pf, customProductID, "product[id]", now)
		if err != nil {
			return nil, err
		}
		productID = prod.ID
	} else if _, err := l.Product(productID); err != nil {
		return nil, withParam(err, "product")
	}
	price := &billing.Price{ID: id, Created: now, Product: productID, Currency: currency, UnitAmount: amount,
		Recurring: iv, Active: !hasActive || active, Nickname: nickname, Metadata: applyMetadata(nil, metadata, cleared)}
	if err := l.PutPrice(price); err != nil {
		return nil, err
	}
	v := &planView{price: price}
	if hasTrial {
		v.opts.TrialPeriodDays = &trialDays
		if err := l.putPlanOptions(v); err != nil {
			return nil, err
		}
	}
	if err := l.emitPlan(eventPlanCreated, billing.EventPriceCreated, v, now); err != nil {
		return nil, err
	}
	return renderPlan(v, l, ex)
}

func (s *Surface) retrievePlan(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions("product")
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	v, err := l.plan(c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	return renderPlan(v, l, ex)
}

func (s *Surface) updatePlan(c *call, tx *store.Tx) (any, error) {
	active, hasActive := c.p.bool("active")
	nickname := c.p.clearableText("nickname", maxNickname)
	metadata, cleared := c.p.metadata("metadata")
	product, hasProduct := c.p.str("product")
	trialDays, hasTrial := c.p.intIn("trial_period_days", 0, 730)
	ex, err := c.p.expansions("product")
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	v, err := l.plan(c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	before, err := json.Marshal(v.price)
	if err != nil {
		return nil, err
	}
	beforeOpts := v.opts
	p := v.price
	if hasActive {
		p.Active = active
	}
	if nickname != nil {
		p.Nickname = *nickname
	}
	p.Metadata = applyMetadata(p.Metadata, metadata, cleared)
	if hasProduct && product != p.Product {
		if _, err := l.Product(product); err != nil {
			return nil, withParam(err, "product")
		}
		used, err := priceInUse(l, p.ID)
		if err != nil {
			return nil, err
		}
		if used {
			return nil, invalid("product", "The product of a plan cannot be changed once the plan is used by a subscription.")
		}
		p.Product = product
	}
	if hasTrial {
		v.opts.TrialPeriodDays = &trialDays
	}
	priceChanged, err := changed(before, p)
	if err != nil {
		return nil, err
	}
	optsChanged := hasTrial && (beforeOpts.TrialPeriodDays == nil || *beforeOpts.TrialPeriodDays != trialDays)
	if !priceChanged && !optsChanged {
		return renderPlan(v, l, ex)
	}
	if err := l.PutPrice(p); err != nil {
		return nil, err
	}
	if optsChanged {
		if err := l.putPlanOptions(v); err != nil {
			return nil, err
		}
	}
	if err := l.emitPlan(eventPlanUpdated, billing.EventPriceUpdated, v, c.now.Unix()); err != nil {
		return nil, err
	}
	return renderPlan(v, l, ex)
}

// priceInUse reports whether a subscription (of any status) has an item
// of price.
func priceInUse(l *ledger, price string) (bool, error) {
	coll, err := l.Collection(clockwork.SubscriptionsCollection)
	if err != nil {
		return false, err
	}
	used := false
	err = coll.Each(func(_ string, raw []byte) error {
		var s billing.Subscription
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		for _, it := range s.Items {
			if it.Price == price {
				used = true
				return errStopScan
			}
		}
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return used, err
}

func (s *Surface) deletePlan(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	v, err := l.plan(c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	v.price.Deleted = true
	if err := l.PutPrice(v.price); err != nil {
		return nil, err
	}
	if err := l.emitPlan(eventPlanDeleted, eventPriceDeleted, v, c.now.Unix()); err != nil {
		return nil, err
	}
	return renderDeleted(v.price.ID, "plan"), nil
}

func (s *Surface) listPlans(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	active, hasActive := c.p.bool("active")
	product, _ := c.p.str("product")
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions("product")
	if err != nil {
		return nil, err
	}
	l, coll, err := s.openCollection(c, tx, clockwork.PricesCollection)
	if err != nil {
		return nil, err
	}
	match := func(p *billing.Price) bool {
		return p.Recurring != nil && !p.Deleted && (!hasActive || p.Active == active) &&
			(product == "" || p.Product == product) && created.match(p.Created)
	}
	return listTyped(coll, pg, "/v1/plans", "plan", match, func(p *billing.Price) (any, error) {
		v, err := l.plan(p.ID, "")
		if err != nil {
			return nil, err
		}
		return renderPlan(v, l, ex)
	})
}

// livePrice returns price id unless it was deleted (with its plan).
func (l *ledger) livePrice(id string) (*billing.Price, error) {
	p, err := l.Price(id)
	if err == nil && p.Deleted {
		return nil, billing.NotFoundError(clockwork.KindPrice, id, "id")
	}
	return p, err
}
