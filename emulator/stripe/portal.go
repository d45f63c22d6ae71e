package stripe

import (
	"fmt"
	"maps"
	"slices"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// This file serves the Billing Portal's API: configurations
// (/v1/billing_portal/configurations: create, retrieve, update, list) and
// sessions (POST /v1/billing_portal/sessions). Every account has a
// built-in default configuration (update the payment method, change
// quantities, cancel at period end, see invoices), saved the first time
// it is needed, so that a session can be made without one, as at Stripe
// once the Dashboard's default is saved. A session's url is billclock's
// portal page (portal_page.go).

// Collections and settings of the portal.
const (
	portalConfigsCollection  = "billing_portal_configurations"
	portalSessionsCollection = "billing_portal_sessions"
	portalDefaultSetting     = "billing_portal_default_configuration"
	// Stripe names a missing configuration "configuration".
	kindPortalConfig  = "configuration"
	kindPortalSession = "billing_portal.session"
)

// Portal events.
const (
	eventPortalConfigCreated  billing.EventType = "billing_portal.configuration.created"
	eventPortalConfigUpdated  billing.EventType = "billing_portal.configuration.updated"
	eventPortalSessionCreated billing.EventType = "billing_portal.session.created"
)

// portalConfig is a stored configuration, in Stripe's shape (it is
// Stripe's settings and nothing else).
type portalConfig struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Active           bool              `json:"active"`
	Application      *string           `json:"application"`
	BusinessProfile  portalBusiness    `json:"business_profile"`
	Created          int64             `json:"created"`
	DefaultReturnURL *string           `json:"default_return_url"`
	Features         portalFeatures    `json:"features"`
	IsDefault        bool              `json:"is_default"`
	Livemode         bool              `json:"livemode"`
	LoginPage        portalLoginPage   `json:"login_page"`
	Metadata         map[string]string `json:"metadata"`
	Name             *string           `json:"name"`
	Updated          int64             `json:"updated"`
}

type portalBusiness struct {
	Headline          *string `json:"headline"`
	PrivacyPolicyURL  *string `json:"privacy_policy_url"`
	TermsOfServiceURL *string `json:"terms_of_service_url"`
}

type portalLoginPage struct {
	Enabled bool    `json:"enabled"`
	URL     *string `json:"url"`
}

type portalFeatures struct {
	CustomerUpdate      portalCustomerUpdate      `json:"customer_update"`
	InvoiceHistory      enabledFlag               `json:"invoice_history"`
	PaymentMethodUpdate portalPaymentMethodUpdate `json:"payment_method_update"`
	SubscriptionCancel  portalCancel              `json:"subscription_cancel"`
	SubscriptionUpdate  portalUpdate              `json:"subscription_update"`
}

type portalCustomerUpdate struct {
	AllowedUpdates []string `json:"allowed_updates"`
	Enabled        bool     `json:"enabled"`
}

type portalPaymentMethodUpdate struct {
	Enabled                    bool    `json:"enabled"`
	PaymentMethodConfiguration *string `json:"payment_method_configuration"`
}

type portalCancel struct {
	CancellationReason portalCancelReason `json:"cancellation_reason"`
	Enabled            bool               `json:"enabled"`
	Mode               string             `json:"mode"`
	ProrationBehavior  string             `json:"proration_behavior"`
}

type portalCancelReason struct {
	Enabled bool     `json:"enabled"`
	Options []string `json:"options"`
}

type portalUpdate struct {
	BillingCycleAnchor    *string               `json:"billing_cycle_anchor"`
	DefaultAllowedUpdates []string              `json:"default_allowed_updates"`
	Enabled               bool                  `json:"enabled"`
	Products              []portalUpdateProduct `json:"products"`
	ProrationBehavior     string                `json:"proration_behavior"`
	ScheduleAtPeriodEnd   portalSchedule        `json:"schedule_at_period_end"`
	TrialUpdateBehavior   string                `json:"trial_update_behavior"`
}

type portalUpdateProduct struct {
	AdjustableQuantity portalAdjustable `json:"adjustable_quantity"`
	Prices             []string         `json:"prices"`
	Product            string           `json:"product"`
}

type portalAdjustable struct {
	Enabled bool   `json:"enabled"`
	Maximum *int64 `json:"maximum"`
	Minimum int64  `json:"minimum"`
}

type portalSchedule struct {
	Conditions []portalCondition `json:"conditions"`
}

type portalCondition struct {
	Type string `json:"type"`
}

// defaultPortalFeatures are the built-in default configuration's: update
// the payment method, change quantities (prorated), cancel at the end of
// the period, and see invoices.
func defaultPortalFeatures() portalFeatures {
	return portalFeatures{
		CustomerUpdate:      portalCustomerUpdate{AllowedUpdates: []string{}},
		InvoiceHistory:      enabledFlag{Enabled: true},
		PaymentMethodUpdate: portalPaymentMethodUpdate{Enabled: true},
		SubscriptionCancel: portalCancel{Enabled: true, Mode: "at_period_end", ProrationBehavior: "none",
			CancellationReason: portalCancelReason{Options: []string{}}},
		SubscriptionUpdate: portalUpdate{Enabled: true, DefaultAllowedUpdates: []string{"quantity"},
			ProrationBehavior: billing.ProrateCreate, ScheduleAtPeriodEnd: portalSchedule{Conditions: []portalCondition{}},
			TrialUpdateBehavior: "end_trial"},
	}
}

// newPortalConfig is a configuration with Stripe's defaults for what a
// create leaves out (every feature off).
func newPortalConfig(id string, now int64) *portalConfig {
	return &portalConfig{ID: id, Object: "billing_portal.configuration", Active: true, Created: now, Updated: now,
		Metadata: map[string]string{},
		Features: portalFeatures{
			CustomerUpdate: portalCustomerUpdate{AllowedUpdates: []string{}},
			SubscriptionCancel: portalCancel{Mode: "at_period_end", ProrationBehavior: "none",
				CancellationReason: portalCancelReason{Options: []string{}}},
			SubscriptionUpdate: portalUpdate{DefaultAllowedUpdates: []string{}, ProrationBehavior: "none",
				ScheduleAtPeriodEnd: portalSchedule{Conditions: []portalCondition{}}, TrialUpdateBehavior: "end_trial"},
		}}
}

func (l *ledger) portalConfig(id string) (*portalConfig, error) {
	var pc portalConfig
	if err := l.Get(portalConfigsCollection, kindPortalConfig, id, &pc); err != nil {
		return nil, err
	}
	return &pc, nil
}

func (l *ledger) putPortalConfig(pc *portalConfig) error {
	return l.Put(portalConfigsCollection, pc.ID, pc.Created, pc)
}

// defaultPortalConfig returns the account's default configuration, saving
// the built-in one at now (wall time) the first time. tx must be writable
// then; in a read-only one, nil means it was never saved.
func (l *ledger) defaultPortalConfig(now int64, writable bool) (*portalConfig, error) {
	var id string
	found, err := l.Setting(portalDefaultSetting, &id)
	if err != nil {
		return nil, err
	}
	if found {
		return l.portalConfig(id)
	}
	if !writable {
		return nil, nil
	}
	pc := newPortalConfig(l.NewID("bpc_"), now)
	pc.IsDefault, pc.Features = true, defaultPortalFeatures()
	if err := l.putPortalConfig(pc); err != nil {
		return nil, err
	}
	if err := l.PutSetting(portalDefaultSetting, pc.ID); err != nil {
		return nil, err
	}
	return pc, l.Emit(billing.Event{Type: eventPortalConfigCreated, Time: now, Object: pc.snapshot()})
}

func (pc *portalConfig) snapshot() *portalConfig {
	c := *pc
	c.Metadata = maps.Clone(pc.Metadata)
	return &c
}

// readPortalConfig reads a configuration's create or update parameters
// onto pc; create says which (a create needs features).
func readPortalConfig(p *params, pc *portalConfig, create bool) {
	if bp, ok := p.sub("business_profile"); ok {
		for _, f := range []struct {
			name string
			dst  **string
		}{{"headline", &pc.BusinessProfile.Headline}, {"privacy_policy_url", &pc.BusinessProfile.PrivacyPolicyURL},
			{"terms_of_service_url", &pc.BusinessProfile.TermsOfServiceURL}} {
			if v := bp.clearableText("business_profile["+f.name+"]", maxCheckoutURL); v != nil {
				*f.dst = nullString(*v)
			}
		}
		p.fail(bp.check())
	}
	if v := p.clearableText("default_return_url", maxCheckoutURL); v != nil {
		pc.DefaultReturnURL = nullString(*v)
	}
	if v := p.clearableText("name", 256); v != nil {
		pc.Name = nullString(*v)
	}
	if md, cleared := p.metadata("metadata"); md != nil || cleared {
		pc.Metadata = metadata(applyMetadata(pc.Metadata, md, cleared))
	}
	if !create {
		if v, ok := p.bool("active"); ok {
			pc.Active = v
		}
	}
	if lp, ok := p.sub("login_page"); ok {
		if v, ok := lp.bool("login_page[enabled]"); ok {
			pc.LoginPage.Enabled = v
		} else {
			lp.fail(errMissing("login_page[enabled]"))
		}
		p.fail(lp.check())
	}
	f, ok := p.sub("features")
	if !ok {
		if create {
			p.fail(errMissing("features"))
		}
		return
	}
	defer func() { p.fail(f.check()) }()
	flag := func(sub *params, name string, dst *bool, required bool) {
		if v, ok := sub.bool(name); ok {
			*dst = v
		} else if required && !sub.present(name) {
			sub.fail(errMissing(name))
		}
	}
	if cu, ok := f.sub("features[customer_update]"); ok {
		flag(cu, "features[customer_update][enabled]", &pc.Features.CustomerUpdate.Enabled, create)
		if cu.present("features[customer_update][allowed_updates]") {
			pc.Features.CustomerUpdate.AllowedUpdates = enumList(cu, "features[customer_update][allowed_updates]",
				"address", "email", "name", "phone", "shipping", "tax_id")
		}
		f.fail(cu.check())
	}
	if ih, ok := f.sub("features[invoice_history]"); ok {
		flag(ih, "features[invoice_history][enabled]", &pc.Features.InvoiceHistory.Enabled, true)
		f.fail(ih.check())
	}
	if pm, ok := f.sub("features[payment_method_update]"); ok {
		flag(pm, "features[payment_method_update][enabled]", &pc.Features.PaymentMethodUpdate.Enabled, true)
		pm.str("features[payment_method_update][payment_method_configuration]")
		f.fail(pm.check())
	}
	if sc, ok := f.sub("features[subscription_cancel]"); ok {
		c := &pc.Features.SubscriptionCancel
		flag(sc, "features[subscription_cancel][enabled]", &c.Enabled, create)
		if v, ok := sc.enum("features[subscription_cancel][mode]", "at_period_end", "immediately"); ok {
			c.Mode = v
		}
		if v, ok := sc.enum("features[subscription_cancel][proration_behavior]", billing.ProrateAlways, billing.ProrateCreate, billing.ProrateNone); ok {
			c.ProrationBehavior = v
		}
		if cr, ok := sc.sub("features[subscription_cancel][cancellation_reason]"); ok {
			flag(cr, "features[subscription_cancel][cancellation_reason][enabled]", &c.CancellationReason.Enabled, true)
			if cr.present("features[subscription_cancel][cancellation_reason][options]") {
				c.CancellationReason.Options = enumList(cr, "features[subscription_cancel][cancellation_reason][options]",
					"customer_service", "low_quality", "missing_features", "other", "switched_service", "too_complex",
					"too_expensive", "unused")
			} else if create {
				cr.fail(errMissing("features[subscription_cancel][cancellation_reason][options]"))
			}
			sc.fail(cr.check())
		}
		f.fail(sc.check())
	}
	if su, ok := f.sub("features[subscription_update]"); ok {
		u := &pc.Features.SubscriptionUpdate
		const pre = "features[subscription_update]"
		flag(su, pre+"[enabled]", &u.Enabled, create)
		if su.present(pre + "[default_allowed_updates]") {
			u.DefaultAllowedUpdates = enumList(su, pre+"[default_allowed_updates]", "price", "promotion_code", "quantity")
		}
		if v, ok := su.enum(pre+"[proration_behavior]", billing.ProrateAlways, billing.ProrateCreate, billing.ProrateNone); ok {
			u.ProrationBehavior = v
		}
		if v, ok := su.enum(pre+"[billing_cycle_anchor]", "now", "unchanged"); ok {
			u.BillingCycleAnchor = &v
		}
		if v, ok := su.enum(pre+"[trial_update_behavior]", "continue_trial", "end_trial"); ok {
			u.TrialUpdateBehavior = v
		}
		if sp, ok := su.sub(pre + "[schedule_at_period_end]"); ok {
			sp.seen[pre+"[schedule_at_period_end][conditions]"] = true
			su.fail(sp.check())
		}
		if su.present(pre + "[products]") {
			u.Products = readPortalProducts(su, pre+"[products]")
		}
		f.fail(su.check())
	}
}

// enumList reads a list parameter whose elements must be among allowed
// ("" clears it).
func enumList(p *params, name string, allowed ...string) []string {
	vs := p.strings(name)
	out := []string{}
	for _, v := range vs {
		if v == "" {
			continue
		}
		if !slices.Contains(allowed, v) {
			p.fail(invalid(name, "Invalid %s: must be one of %s", name, joinOr(allowed)))
			return out
		}
		out = append(out, v)
	}
	return out
}

func joinOr(vs []string) string {
	s := ""
	for i, v := range vs {
		switch {
		case i == 0:
		case i == len(vs)-1:
			s += ", or "
		default:
			s += ", "
		}
		s += v
	}
	return s
}

// readPortalProducts reads features[subscription_update][products].
func readPortalProducts(p *params, name string) []portalUpdateProduct {
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil || n.leaf {
		return nil
	}
	elems, ok := n.list()
	if !ok {
		p.fail(invalid(name, "Invalid array"))
		return nil
	}
	out := []portalUpdateProduct{}
	for i, el := range elems {
		param := fmt.Sprintf("%s[%d]", name, i)
		if el.leaf {
			p.fail(invalid(param, "Invalid %s: must be a hash.", param))
			return nil
		}
		sub := newParams(&Form{root: el})
		var pr portalUpdateProduct
		pr.Product, _ = sub.str("product")
		pr.Prices = sub.strings("prices")
		if pr.Product == "" {
			sub.fail(errMissing("product"))
		}
		if len(pr.Prices) == 0 {
			sub.fail(errMissing("prices"))
		}
		if aq, ok := sub.sub("adjustable_quantity"); ok {
			pr.AdjustableQuantity.Enabled, _ = aq.bool("adjustable_quantity[enabled]")
			if v, ok := aq.intIn("adjustable_quantity[minimum]", 0, billing.MaxQuantity); ok {
				pr.AdjustableQuantity.Minimum = v
			}
			if v, ok := aq.intIn("adjustable_quantity[maximum]", 1, billing.MaxQuantity); ok {
				pr.AdjustableQuantity.Maximum = &v
			}
			sub.fail(aq.check())
		}
		if err := sub.check(); err != nil {
			p.fail(nestError(param, err))
			return nil
		}
		out = append(out, pr)
	}
	return out
}

// checkPortalProducts checks that a configuration's products and prices
// exist.
func checkPortalProducts(l *ledger, pc *portalConfig) error {
	for i, pr := range pc.Features.SubscriptionUpdate.Products {
		param := fmt.Sprintf("features[subscription_update][products][%d]", i)
		if _, err := l.Product(pr.Product); err != nil {
			return withParam(err, param+"[product]")
		}
		for j, id := range pr.Prices {
			price, err := l.Price(id)
			if err != nil {
				return withParam(err, fmt.Sprintf("%s[prices][%d]", param, j))
			}
			if price.Product != pr.Product {
				return invalid(fmt.Sprintf("%s[prices][%d]", param, j), "The price %s does not belong to the product %s.", id, pr.Product)
			}
		}
	}
	return nil
}

func (s *Surface) createPortalConfig(c *call, tx *store.Tx) (any, error) {
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	pc := newPortalConfig("", now)
	readPortalConfig(c.p, pc, true)
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	if err := checkPortalProducts(l, pc); err != nil {
		return nil, err
	}
	// The account's default exists before any other, as at Stripe.
	if _, err := l.defaultPortalConfig(now, true); err != nil {
		return nil, err
	}
	pc.ID = l.NewID("bpc_")
	if err := l.putPortalConfig(pc); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: eventPortalConfigCreated, Time: now, Object: pc.snapshot()}); err != nil {
		return nil, err
	}
	return pc, nil
}

func (s *Surface) retrievePortalConfig(c *call, tx *store.Tx) (any, error) {
	if err := c.p.expand("application"); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if _, err := l.defaultPortalConfig(c.now.Unix(), true); err != nil {
		return nil, err
	}
	return l.portalConfig(c.vars["id"])
}

func (s *Surface) updatePortalConfig(c *call, tx *store.Tx) (any, error) {
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	if _, err := l.defaultPortalConfig(now, true); err != nil {
		return nil, err
	}
	pc, err := l.portalConfig(c.vars["id"])
	if err != nil {
		// Read the parameters all the same, so that a bad one is named.
		readPortalConfig(c.p, newPortalConfig("", now), false)
		if perr := c.p.expand(); perr != nil {
			return nil, perr
		}
		return nil, err
	}
	before := pc.snapshot()
	readPortalConfig(c.p, pc, false)
	if err := c.p.expand("application"); err != nil {
		return nil, err
	}
	if pc.IsDefault && !pc.Active {
		return nil, invalid("active", "You cannot deactivate the default configuration.")
	}
	if err := checkPortalProducts(l, pc); err != nil {
		return nil, err
	}
	pc.Updated = now
	if err := l.putPortalConfig(pc); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: eventPortalConfigUpdated, Time: now, Object: pc.snapshot(), Before: before}); err != nil {
		return nil, err
	}
	return pc, nil
}

func (s *Surface) listPortalConfigs(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	active, hasActive := c.p.bool("active")
	isDefault, hasDefault := c.p.bool("is_default")
	if err := c.p.expand("data.application"); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if _, err := l.defaultPortalConfig(c.now.Unix(), true); err != nil {
		return nil, err
	}
	coll, err := l.Collection(portalConfigsCollection)
	if err != nil {
		return nil, err
	}
	match := func(pc *portalConfig) bool {
		return (!hasActive || pc.Active == active) && (!hasDefault || pc.IsDefault == isDefault)
	}
	return listTyped(coll, pg, "/v1/billing_portal/configurations", kindPortalConfig, match,
		func(pc *portalConfig) (any, error) { return pc, nil })
}

// ---------------------------------------------------------------------------
// Sessions.

// portalSession is a stored portal session, in Stripe's shape but for the
// configuration (an id, expandable) and the url (made when rendered).
type portalSession struct {
	ID            string            `json:"id"`
	Created       int64             `json:"created"`
	Customer      string            `json:"customer"`
	Configuration string            `json:"configuration"`
	Locale        string            `json:"locale,omitempty"`
	OnBehalfOf    string            `json:"on_behalf_of,omitempty"`
	ReturnURL     string            `json:"return_url,omitempty"`
	Flow          *portalFlow       `json:"flow,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
}

// portalFlow is portal_flows_flow.
type portalFlow struct {
	AfterCompletion           portalAfterCompletion `json:"after_completion"`
	CustomerUpdate            *struct{}             `json:"customer_update"`
	SubscriptionCancel        *portalFlowSub        `json:"subscription_cancel"`
	SubscriptionUpdate        *portalFlowSub        `json:"subscription_update"`
	SubscriptionUpdateConfirm *portalFlowConfirm    `json:"subscription_update_confirm"`
	Type                      string                `json:"type"`
}

type portalAfterCompletion struct {
	HostedConfirmation *struct {
		CustomMessage *string `json:"custom_message"`
	} `json:"hosted_confirmation"`
	Redirect *struct {
		ReturnURL string `json:"return_url"`
	} `json:"redirect"`
	Type string `json:"type"`
}

type portalFlowSub struct {
	Retention    any    `json:"retention,omitempty"`
	Subscription string `json:"subscription"`
}

type portalFlowConfirm struct {
	Discounts    []any            `json:"discounts"`
	Items        []portalFlowItem `json:"items"`
	Subscription string           `json:"subscription"`
}

type portalFlowItem struct {
	ID       *string `json:"id"`
	Price    *string `json:"price"`
	Quantity *int64  `json:"quantity"`
}

// portalSessionObject is components.schemas["billing_portal.session"].
type portalSessionObject struct {
	ID              string      `json:"id"`
	Object          string      `json:"object"`
	Configuration   any         `json:"configuration"`
	Created         int64       `json:"created"`
	Customer        string      `json:"customer"`
	CustomerAccount *string     `json:"customer_account"`
	Flow            *portalFlow `json:"flow"`
	Livemode        bool        `json:"livemode"`
	Locale          *string     `json:"locale"`
	OnBehalfOf      *string     `json:"on_behalf_of"`
	ReturnURL       *string     `json:"return_url"`
	URL             string      `json:"url"`
}

func (l *ledger) portalSession(id string) (*portalSession, error) {
	var ps portalSession
	if err := l.Get(portalSessionsCollection, kindPortalSession, id, &ps); err != nil {
		return nil, err
	}
	return &ps, nil
}

// renderPortalSession renders a session; its configuration expanded when
// asked.
func renderPortalSession(ps *portalSession, lk renderLookup, ex expandSet) (any, error) {
	o := &portalSessionObject{ID: ps.ID, Object: "billing_portal.session", Configuration: ps.Configuration,
		Created: ps.Created, Customer: ps.Customer, Flow: ps.Flow, Locale: nullString(ps.Locale),
		OnBehalfOf: nullString(ps.OnBehalfOf), ReturnURL: nullString(ps.ReturnURL)}
	if l, ok := lk.(*ledger); ok {
		o.URL = pageURL(l.base, l.Account(), pagePortal, ps.ID)
		if ex["configuration"] {
			pc, err := l.portalConfig(ps.Configuration)
			if err != nil {
				return nil, err
			}
			o.Configuration = pc
		}
	}
	return o, nil
}

// readPortalFlow reads flow_data.
func readPortalFlow(p *params) *portalFlow {
	fd, ok := p.sub("flow_data")
	if !ok {
		return nil
	}
	defer func() { p.fail(fd.check()) }()
	f := &portalFlow{}
	typ, ok := fd.enum("flow_data[type]", "customer_update", "payment_method_update", "subscription_cancel",
		"subscription_update", "subscription_update_confirm")
	if !ok {
		if !fd.present("flow_data[type]") {
			fd.fail(errMissing("flow_data[type]"))
		}
		return nil
	}
	f.Type = typ
	f.AfterCompletion.Type = "portal_homepage"
	if ac, ok := fd.sub("flow_data[after_completion]"); ok {
		const pre = "flow_data[after_completion]"
		t, ok := ac.enum(pre+"[type]", "hosted_confirmation", "portal_homepage", "redirect")
		if !ok && !ac.present(pre+"[type]") {
			ac.fail(errMissing(pre + "[type]"))
		}
		f.AfterCompletion.Type = t
		if hc, ok := ac.sub(pre + "[hosted_confirmation]"); ok {
			msg, _ := hc.text(pre+"[hosted_confirmation][custom_message]", 500)
			f.AfterCompletion.HostedConfirmation = &struct {
				CustomMessage *string `json:"custom_message"`
			}{nullString(msg)}
			ac.fail(hc.check())
		}
		if rd, ok := ac.sub(pre + "[redirect]"); ok {
			u := checkURL(rd, pre+"[redirect][return_url]")
			if u == "" && !rd.present(pre+"[redirect][return_url]") {
				rd.fail(errMissing(pre + "[redirect][return_url]"))
			}
			f.AfterCompletion.Redirect = &struct {
				ReturnURL string `json:"return_url"`
			}{u}
			ac.fail(rd.check())
		}
		switch {
		case t == "redirect" && f.AfterCompletion.Redirect == nil:
			ac.fail(errMissing(pre + "[redirect]"))
		case t == "hosted_confirmation" && f.AfterCompletion.HostedConfirmation == nil:
			f.AfterCompletion.HostedConfirmation = &struct {
				CustomMessage *string `json:"custom_message"`
			}{}
		}
		fd.fail(ac.check())
	}
	subFlow := func(name string) *portalFlowSub {
		sub, ok := fd.sub("flow_data[" + name + "]")
		if !ok {
			if typ == name {
				fd.fail(errMissing("flow_data[" + name + "]"))
			}
			return nil
		}
		out := &portalFlowSub{}
		out.Subscription, _ = sub.str("flow_data[" + name + "][subscription]")
		if out.Subscription == "" {
			sub.fail(errMissing("flow_data[" + name + "][subscription]"))
		}
		if name == "subscription_cancel" {
			if rt, ok := sub.sub("flow_data[subscription_cancel][retention]"); ok {
				rt.seen["flow_data[subscription_cancel][retention][type]"] = true
				rt.seen["flow_data[subscription_cancel][retention][coupon_offer]"] = true
				sub.fail(rt.check())
			}
		}
		fd.fail(sub.check())
		return out
	}
	switch typ {
	case "subscription_cancel":
		f.SubscriptionCancel = subFlow(typ)
	case "subscription_update":
		f.SubscriptionUpdate = subFlow(typ)
	case "subscription_update_confirm":
		sub, ok := fd.sub("flow_data[subscription_update_confirm]")
		if !ok {
			fd.fail(errMissing("flow_data[subscription_update_confirm]"))
			break
		}
		conf := &portalFlowConfirm{Discounts: []any{}, Items: []portalFlowItem{}}
		conf.Subscription, _ = sub.str("flow_data[subscription_update_confirm][subscription]")
		if conf.Subscription == "" {
			sub.fail(errMissing("flow_data[subscription_update_confirm][subscription]"))
		}
		for _, spec := range sub.itemSpecs("flow_data[subscription_update_confirm][items]", "id", "price", "quantity") {
			it := portalFlowItem{ID: nullString(spec.ID), Price: nullString(spec.Price), Quantity: spec.Quantity}
			conf.Items = append(conf.Items, it)
		}
		if len(conf.Items) == 0 {
			sub.fail(errMissing("flow_data[subscription_update_confirm][items]"))
		}
		sub.discountSpecs("flow_data[subscription_update_confirm][discounts]")
		fd.fail(sub.check())
		f.SubscriptionUpdateConfirm = conf
	case "customer_update":
		f.CustomerUpdate = &struct{}{}
	}
	return f
}

func (s *Surface) createPortalSession(c *call, tx *store.Tx) (any, error) {
	customer, _ := c.p.str("customer")
	config, _ := c.p.str("configuration")
	returnURL := checkURL(c.p, "return_url")
	locale, _ := c.p.str("locale")
	onBehalf, _ := c.p.str("on_behalf_of")
	c.p.str("customer_account")
	flow := readPortalFlow(c.p)
	ex, err := c.p.expansions("configuration")
	if err != nil {
		return nil, err
	}
	if customer == "" {
		return nil, errMissing("customer")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	cust, err := l.Customer(customer)
	if err != nil {
		return nil, withParam(err, "customer")
	}
	now := c.now.Unix()
	def, err := l.defaultPortalConfig(now, true)
	if err != nil {
		return nil, err
	}
	pc := def
	if config != "" {
		if pc, err = l.portalConfig(config); err != nil {
			return nil, withParam(err, "configuration")
		}
		if !pc.Active {
			return nil, invalid("configuration", "The configuration %s is not active.", pc.ID)
		}
	}
	if flow != nil {
		if err := checkPortalFlow(l, pc, cust, flow); err != nil {
			return nil, err
		}
	}
	if returnURL == "" && pc.DefaultReturnURL != nil {
		returnURL = *pc.DefaultReturnURL
	}
	created, err := l.TimeOn(cust.Clock, now)
	if err != nil {
		return nil, err
	}
	ps := &portalSession{ID: l.NewID("bps_"), Created: created, Customer: cust.ID, Configuration: pc.ID,
		Locale: locale, OnBehalfOf: onBehalf, ReturnURL: returnURL, Flow: flow}
	if err := l.Put(portalSessionsCollection, ps.ID, ps.Created, ps); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: eventPortalSessionCreated, Time: created, Object: ps}); err != nil {
		return nil, err
	}
	return renderPortalSession(ps, l, expandSet(ex))
}

// checkPortalFlow refuses a flow the configuration does not allow, or
// whose subscription is not the customer's.
func checkPortalFlow(l *ledger, pc *portalConfig, cust *billing.Customer, f *portalFlow) error {
	var subID, feature string
	var enabled bool
	switch f.Type {
	case "payment_method_update":
		feature, enabled = "payment_method_update", pc.Features.PaymentMethodUpdate.Enabled
	case "customer_update":
		feature, enabled = "customer_update", pc.Features.CustomerUpdate.Enabled
	case "subscription_cancel":
		subID, feature, enabled = f.SubscriptionCancel.Subscription, "subscription_cancel", pc.Features.SubscriptionCancel.Enabled
	case "subscription_update":
		subID, feature, enabled = f.SubscriptionUpdate.Subscription, "subscription_update", pc.Features.SubscriptionUpdate.Enabled
	case "subscription_update_confirm":
		subID, feature, enabled = f.SubscriptionUpdateConfirm.Subscription, "subscription_update", true
	}
	if !enabled {
		return invalid("flow_data[type]", "The flow %s cannot be used: the configuration %s does not enable features[%s].",
			f.Type, pc.ID, feature)
	}
	if subID == "" {
		return nil
	}
	sub, err := l.Subscription(subID)
	if err != nil {
		return withParam(err, "flow_data["+f.Type+"][subscription]")
	}
	if sub.Customer != cust.ID {
		return invalid("flow_data["+f.Type+"][subscription]", "The subscription %s does not belong to the customer %s.", sub.ID, cust.ID)
	}
	if sub.Ended() {
		return invalid("flow_data["+f.Type+"][subscription]", "The subscription %s is canceled.", sub.ID)
	}
	return nil
}
