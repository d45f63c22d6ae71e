package commet

import (
	"encoding/json"
	"errors"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file holds what Commet knows beyond the engine, stored in the
// account's own collections: features, plans with their prices and
// features, the Commet side of customers and subscriptions, and the
// indexes that find them by code or by the customer's own ids.

// Collections of the Commet dialect.
const (
	featuresCollection      = "commet_features"
	featureCodesCollection  = "commet_feature_codes" // code -> feature id
	plansCollection         = "commet_plans"
	planCodesCollection     = "commet_plan_codes" // code -> plan id
	customersCollection     = "commet_customers"
	customerKeysCollection  = "commet_customer_keys" // "own:"/"ext:" + id -> customer id
	subscriptionsCollection = "commet_subscriptions"
)

// Kinds of Commet's own objects, for not-found errors.
const (
	kindPlan      = "plan"
	kindPlanPrice = "plan_price"
	kindFeature   = "feature"
)

// Feature types.
const (
	featureBoolean = "boolean"
	featureUsage   = "usage"
	featureSeats   = "seats"
	featureQuota   = "quota"
)

// featureRecord is a feature of the organization's catalog.
type featureRecord struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	UnitName    string `json:"unit_name,omitempty"`
	Created     int64  `json:"created"`
	Updated     int64  `json:"updated"`
}

// planRecord is a plan: its prices (one per billing interval) and the
// features it includes.
type planRecord struct {
	ID          string          `json:"id"`
	Code        string          `json:"code"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	IsPublic    bool            `json:"is_public"`
	IsFree      bool            `json:"is_free"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	// Product is the engine's product the plan's prices belong to.
	Product  string        `json:"product"`
	Prices   []planPrice   `json:"prices,omitempty"`
	Features []planFeature `json:"features,omitempty"`
	Created  int64         `json:"created"`
	Updated  int64         `json:"updated"`
}

// planPrice is what a plan costs per billing interval.
type planPrice struct {
	ID        string `json:"id"`
	Interval  string `json:"interval"`
	Price     int64  `json:"price"`
	TrialDays int64  `json:"trial_days"`
	IsDefault bool   `json:"is_default"`
	// EnginePrice is the engine's price of the plan's base.
	EnginePrice string `json:"engine_price"`
	Created     int64  `json:"created"`
	Updated     int64  `json:"updated"`
}

// planFeature is a feature of a plan: what it includes and what more
// costs.
type planFeature struct {
	FeatureID      string `json:"feature_id"`
	Code           string `json:"code"`
	Enabled        bool   `json:"enabled"`
	Included       int64  `json:"included"`
	Unlimited      bool   `json:"unlimited"`
	OverageEnabled bool   `json:"overage_enabled"`
	UnitPrice      int64  `json:"unit_price"`
}

// customerRecord is the Commet side of a customer (the engine's Customer
// holds the email and what billing needs).
type customerRecord struct {
	ID          string          `json:"id"`
	OwnID       string          `json:"own_id,omitempty"`
	ExternalID  string          `json:"external_id,omitempty"`
	FullName    string          `json:"full_name,omitempty"`
	Timezone    string          `json:"timezone,omitempty"`
	TaxDocument string          `json:"tax_document,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	Address     json.RawMessage `json:"address,omitempty"`
	Created     int64           `json:"created"`
	Updated     int64           `json:"updated"`
	// Subscriptions are the customer's subscriptions, oldest first.
	Subscriptions []string `json:"subscriptions,omitempty"`
}

// subscriptionRecord is the Commet side of a subscription.
type subscriptionRecord struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	PlanID   string `json:"plan_id"`
	PriceID  string `json:"price_id"`
	Interval string `json:"interval"`
	Name     string `json:"name,omitempty"`
	// Seats are the plan's seat features as subscribed.
	Seats []seatTerms `json:"seats,omitempty"`
	// CancelReason is the reason given with a cancellation.
	CancelReason string `json:"cancel_reason,omitempty"`
	// CheckoutToken names the subscription's checkout page; CheckoutURL
	// is its address.
	CheckoutToken string `json:"checkout_token"`
	CheckoutURL   string `json:"checkout_url"`
	Created       int64  `json:"created"`
	Updated       int64  `json:"updated"`
}

// seatTerms are a seat feature of a subscribed plan.
type seatTerms struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	Included       int64  `json:"included"`
	Unlimited      bool   `json:"unlimited,omitempty"`
	OverageEnabled bool   `json:"overage_enabled,omitempty"`
	UnitPrice      int64  `json:"unit_price"`
}

// getRecord decodes record id of collection; a missing one is a not-found
// error of kind.
func getRecord(l *clockwork.Ledger, collection, kind, id string, v any) error {
	return l.Get(collection, kind, id, v)
}

// lookup reads an index collection: the id filed under key, "" if none.
func lookup(l *clockwork.Ledger, collection, key string) (string, error) {
	c, err := l.Collection(collection)
	if err != nil {
		return "", err
	}
	raw, err := c.Get(key)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return string(raw), err
}

// file files id under key in an index collection.
func file(l *clockwork.Ledger, collection, key, id string) error {
	c, err := l.Collection(collection)
	if err != nil {
		return err
	}
	return c.Put(key, 0, []byte(id))
}

func (s *Surface) feature(l *clockwork.Ledger, idOrCode string) (*featureRecord, error) {
	id := idOrCode
	if byCode, err := lookup(l, featureCodesCollection, idOrCode); err != nil {
		return nil, err
	} else if byCode != "" {
		id = byCode
	}
	var f featureRecord
	if err := getRecord(l, featuresCollection, kindFeature, id, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

func (s *Surface) plan(l *clockwork.Ledger, idOrCode string) (*planRecord, error) {
	id := idOrCode
	if byCode, err := lookup(l, planCodesCollection, idOrCode); err != nil {
		return nil, err
	} else if byCode != "" {
		id = byCode
	}
	var p planRecord
	if err := getRecord(l, plansCollection, kindPlan, id, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func putPlan(l *clockwork.Ledger, p *planRecord) error {
	return l.Put(plansCollection, p.ID, p.Created, p)
}

// customer finds a customer by Commet's id, its own id or its external id:
// the engine's customer and its Commet record.
func (s *Surface) customer(l *clockwork.Ledger, ref string) (*billing.Customer, *customerRecord, error) {
	id := ref
	var rec customerRecord
	err := getRecord(l, customersCollection, clockwork.KindCustomer, id, &rec)
	if err != nil {
		var be *billing.Error
		if !errors.As(err, &be) {
			return nil, nil, err
		}
		for _, key := range []string{"own:" + ref, "ext:" + ref} {
			if id, err = lookup(l, customerKeysCollection, key); err != nil {
				return nil, nil, err
			}
			if id != "" {
				break
			}
		}
		if id == "" {
			return nil, nil, notFound("customer_not_found", "Customer not found: %s", ref)
		}
		if err := getRecord(l, customersCollection, clockwork.KindCustomer, id, &rec); err != nil {
			return nil, nil, err
		}
	}
	cust, err := l.Customer(id)
	if err != nil {
		return nil, nil, err
	}
	return cust, &rec, nil
}

func putCustomerRecord(l *clockwork.Ledger, rec *customerRecord) error {
	return l.Put(customersCollection, rec.ID, rec.Created, rec)
}

func subscriptionRec(l *clockwork.Ledger, id string) (*subscriptionRecord, error) {
	var rec subscriptionRecord
	if err := getRecord(l, subscriptionsCollection, clockwork.KindSubscription, id, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

func putSubscriptionRecord(l *clockwork.Ledger, rec *subscriptionRecord) error {
	return l.Put(subscriptionsCollection, rec.ID, rec.Created, rec)
}
