package stripe

import (
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves Checkout Sessions (/v1/checkout/sessions): create,
// retrieve, update (metadata), list, expire and their line items. A
// session's url is billclock's Checkout page (checkout_page.go), where a
// customer pays with a test card; completing it (checkout_complete.go)
// goes through the engine as the API would. An open session expires at
// its expires_at on its customer's clock (or the wall clock), a clock task
// like any other.

// checkoutSessionsCollection holds the account's Checkout Sessions.
const checkoutSessionsCollection = "checkout_sessions"

// kindCheckoutSession names a Checkout Session in not-found errors, as
// Stripe does ("No such checkout.session: 'cs_test_...'").
const kindCheckoutSession = "checkout.session"

// Checkout Session events (the engine has no such object: these are the
// Stripe dialect's own, rendered by renderValue).
const (
	eventCheckoutCompleted billing.EventType = "checkout.session.completed"
	eventCheckoutExpired   billing.EventType = "checkout.session.expired"
)

// pageEventTypes are the Stripe names of the pages' events.
var pageEventTypes = map[billing.EventType]string{
	eventCheckoutCompleted:      "checkout.session.completed",
	eventCheckoutExpired:        "checkout.session.expired",
	eventPortalConfigCreated:    "billing_portal.configuration.created",
	eventPortalConfigUpdated:    "billing_portal.configuration.updated",
	eventPortalSessionCreated:   "billing_portal.session.created",
	eventCheckoutAsyncSucceeded: "checkout.session.async_payment_succeeded",
}

// eventCheckoutAsyncSucceeded is never emitted (cards pay at once); it is
// listed so that endpoints may subscribe to it as at Stripe.
const eventCheckoutAsyncSucceeded billing.EventType = "checkout.session.async_payment_succeeded"

// Checkout's bounds, from Stripe's docs.
const (
	checkoutMinLifetime   = 30 * 60
	checkoutMaxLifetime   = 24 * 3600
	checkoutMaxLineItems  = 100
	checkoutDefaultMaxQty = 99
	maxCheckoutURL        = 5000
	maxClientReferenceID  = 200
)

// checkoutSession is a stored Checkout Session.
type checkoutSession struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	// Clock is its customer's clock, whose time it lives in.
	Clock         string `json:"clock,omitempty"`
	Mode          string `json:"mode"`
	Status        string `json:"status"`
	PaymentStatus string `json:"payment_status"`
	ExpiresAt     int64  `json:"expires_at"`
	Currency      string `json:"currency,omitempty"`

	Customer         string `json:"customer,omitempty"`
	CustomerEmail    string `json:"customer_email,omitempty"`
	CustomerCreation string `json:"customer_creation,omitempty"`
	// DetailsEmail and DetailsName are what the customer gave at checkout.
	DetailsEmail string `json:"details_email,omitempty"`
	DetailsName  string `json:"details_name,omitempty"`

	SuccessURL        string            `json:"success_url,omitempty"`
	CancelURL         string            `json:"cancel_url,omitempty"`
	ClientReferenceID string            `json:"client_reference_id,omitempty"`
	Locale            string            `json:"locale,omitempty"`
	SubmitType        string            `json:"submit_type,omitempty"`
	BillingAddress    string            `json:"billing_address_collection,omitempty"`
	PMCollection      string            `json:"payment_method_collection,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`

	Lines               []checkoutLine         `json:"lines,omitempty"`
	Discounts           []billing.DiscountSpec `json:"discounts,omitempty"`
	AllowPromotionCodes *bool                  `json:"allow_promotion_codes,omitempty"`

	// subscription_data
	TrialPeriodDays      int64             `json:"trial_period_days,omitempty"`
	SubscriptionMetadata map[string]string `json:"subscription_metadata,omitempty"`
	SubscriptionDesc     string            `json:"subscription_description,omitempty"`
	// payment_intent_data
	IntentDescription string            `json:"intent_description,omitempty"`
	IntentMetadata    map[string]string `json:"intent_metadata,omitempty"`
	SetupFutureUsage  string            `json:"setup_future_usage,omitempty"`

	// What completing it made.
	Subscription  string `json:"subscription,omitempty"`
	Invoice       string `json:"invoice,omitempty"`
	PaymentIntent string `json:"payment_intent,omitempty"`
	PaymentMethod string `json:"payment_method,omitempty"`
	CompletedAt   int64  `json:"completed_at,omitempty"`
	// SetupIntent is the SetupIntent of a session in setup mode, made with
	// the session and confirmed when it completes.
	SetupIntent string `json:"setup_intent,omitempty"`
}

// checkoutLine is one line item of a session.
type checkoutLine struct {
	ID       string            `json:"id"`
	Price    string            `json:"price"`
	Quantity int64             `json:"quantity"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Adjustable, when set, lets the customer change the quantity on the
	// page, within [Min, Max].
	Adjustable *adjustableQuantity `json:"adjustable,omitempty"`
}

type adjustableQuantity struct {
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

// checkoutAmounts are a session's amounts as they stand: each line's and
// the totals, discounts taken off.
type checkoutAmounts struct {
	Lines                               []lineAmounts
	Subtotal, Discount, Total           int64
	DiscountCoupons                     []*billing.Coupon
	DiscountPromotions                  []string
	hasRecurring, hasOneTime, intervals bool
}

type lineAmounts struct {
	Subtotal, Discount, Total int64
	Price                     *billing.Price
	ProductName               string
}

// amounts prices the session's lines with its discounts, as the page
// shows them before payment. A percentage coupon takes its share of each
// line; an amount coupon is spread over the lines by their amounts.
func (cs *checkoutSession) amounts(l *ledger) (*checkoutAmounts, error) {
	a := &checkoutAmounts{Lines: make([]lineAmounts, len(cs.Lines))}
	var sum int64
	for i, line := range cs.Lines {
		p, err := l.Price(line.Price)
		if err != nil {
			return nil, err
		}
		la := lineAmounts{Price: p, Subtotal: p.UnitAmount * line.Quantity}
		if prod, err := l.Product(p.Product); err == nil {
			la.ProductName = prod.Name
		} else if !isMissing(err) {
			return nil, err
		}
		sum += la.Subtotal
		a.Lines[i] = la
	}
	a.Subtotal = sum
	left := make([]int64, len(a.Lines))
	for i := range a.Lines {
		left[i] = a.Lines[i].Subtotal
	}
	for _, spec := range cs.Discounts {
		c, promo, err := l.discountCoupon(spec)
		if err != nil {
			return nil, err
		}
		a.DiscountCoupons = append(a.DiscountCoupons, c)
		a.DiscountPromotions = append(a.DiscountPromotions, promo)
		var total int64
		for _, v := range left {
			total += v
		}
		switch {
		case c.PercentOff != 0:
			for i := range left {
				off, err := c.PercentOff.Of(left[i])
				if err != nil {
					return nil, err
				}
				a.Lines[i].Discount += off
				left[i] -= off
			}
		case c.AmountOff != 0 && c.Currency == cs.Currency && total > 0:
			off := min(c.AmountOff, total)
			var given int64
			for i := range left {
				share := off * left[i] / total
				if i == len(left)-1 {
					share = off - given
				}
				share = min(share, left[i])
				given += share
				a.Lines[i].Discount += share
				left[i] -= share
			}
		}
	}
	for i := range a.Lines {
		a.Lines[i].Total = a.Lines[i].Subtotal - a.Lines[i].Discount
		a.Discount += a.Lines[i].Discount
	}
	a.Total = a.Subtotal - a.Discount
	return a, nil
}

// discountCoupon is the coupon a discount spec names, and the promotion
// code's id when it names one.
func (l *ledger) discountCoupon(spec billing.DiscountSpec) (*billing.Coupon, string, error) {
	if spec.PromotionCode != "" {
		promo, err := l.PromotionCode(spec.PromotionCode)
		if err != nil {
			return nil, "", err
		}
		c, err := l.Coupon(promo.Coupon)
		return c, promo.ID, err
	}
	c, err := l.Coupon(spec.Coupon)
	return c, "", err
}

// checkoutSession loads a session.
func (l *ledger) checkoutSession(id string) (*checkoutSession, error) {
	var cs checkoutSession
	if err := l.Get(checkoutSessionsCollection, kindCheckoutSession, id, &cs); err != nil {
		return nil, err
	}
	return &cs, nil
}

// putCheckoutSession stores a session.
func (l *ledger) putCheckoutSession(cs *checkoutSession) error {
	return l.Put(checkoutSessionsCollection, cs.ID, cs.Created, cs)
}

// snapshot copies cs for an event.
func (cs *checkoutSession) snapshot() *checkoutSession {
	c := *cs
	c.Metadata = maps.Clone(cs.Metadata)
	c.Lines = append([]checkoutLine(nil), cs.Lines...)
	return &c
}

// ---------------------------------------------------------------------------
// Rendering.

// checkoutSessionObject is components.schemas["checkout.session"].
type checkoutSessionObject struct {
	ID                        string               `json:"id"`
	Object                    string               `json:"object"`
	AdaptivePricing           any                  `json:"adaptive_pricing"`
	AfterExpiration           any                  `json:"after_expiration"`
	AllowPromotionCodes       *bool                `json:"allow_promotion_codes"`
	AmountSubtotal            *int64               `json:"amount_subtotal"`
	AmountTotal               *int64               `json:"amount_total"`
	AutomaticTax              checkoutAutomaticTax `json:"automatic_tax"`
	BillingAddressCollection  *string              `json:"billing_address_collection"`
	CancelURL                 *string              `json:"cancel_url"`
	ClientReferenceID         *string              `json:"client_reference_id"`
	ClientSecret              *string              `json:"client_secret"`
	CollectedInformation      any                  `json:"collected_information"`
	Consent                   any                  `json:"consent"`
	ConsentCollection         any                  `json:"consent_collection"`
	Created                   int64                `json:"created"`
	Currency                  *string              `json:"currency"`
	CurrencyConversion        any                  `json:"currency_conversion"`
	CustomFields              []any                `json:"custom_fields"`
	CustomText                customText           `json:"custom_text"`
	Customer                  any                  `json:"customer"`
	CustomerAccount           *string              `json:"customer_account"`
	CustomerCreation          *string              `json:"customer_creation"`
	CustomerDetails           *customerDetails     `json:"customer_details"`
	CustomerEmail             *string              `json:"customer_email"`
	Discounts                 []any                `json:"discounts"`
	ExcludedPaymentMethods    []string             `json:"excluded_payment_method_types"`
	ExpiresAt                 int64                `json:"expires_at"`
	IntegrationIdentifier     *string              `json:"integration_identifier"`
	Invoice                   any                  `json:"invoice"`
	InvoiceCreation           any                  `json:"invoice_creation"`
	LineItems                 *listObject          `json:"line_items,omitempty"`
	Livemode                  bool                 `json:"livemode"`
	Locale                    *string              `json:"locale"`
	Metadata                  map[string]string    `json:"metadata"`
	Mode                      string               `json:"mode"`
	OriginContext             *string              `json:"origin_context"`
	PaymentIntent             any                  `json:"payment_intent"`
	PaymentLink               any                  `json:"payment_link"`
	PaymentMethodCollection   *string              `json:"payment_method_collection"`
	PaymentMethodConfigDetail any                  `json:"payment_method_configuration_details"`
	PaymentMethodOptions      any                  `json:"payment_method_options"`
	PaymentMethodTypes        []string             `json:"payment_method_types"`
	PaymentStatus             string               `json:"payment_status"`
	Permissions               any                  `json:"permissions"`
	PhoneNumberCollection     enabledFlag          `json:"phone_number_collection"`
	RecoveredFrom             *string              `json:"recovered_from"`
	SavedPaymentMethodOptions any                  `json:"saved_payment_method_options"`
	SetupIntent               any                  `json:"setup_intent"`
	ShippingAddressCollection any                  `json:"shipping_address_collection"`
	ShippingCost              any                  `json:"shipping_cost"`
	ShippingOptions           []any                `json:"shipping_options"`
	Status                    *string              `json:"status"`
	SubmitType                *string              `json:"submit_type"`
	Subscription              any                  `json:"subscription"`
	SuccessURL                *string              `json:"success_url"`
	TaxIDCollection           taxIDCollection      `json:"tax_id_collection"`
	TotalDetails              *totalDetails        `json:"total_details"`
	UIMode                    *string              `json:"ui_mode"`
	URL                       *string              `json:"url"`
	WalletOptions             any                  `json:"wallet_options"`
}

// checkoutAutomaticTax is payment_pages_checkout_session_automatic_tax.
type checkoutAutomaticTax struct {
	Enabled   bool    `json:"enabled"`
	Liability any     `json:"liability"`
	Provider  *string `json:"provider"`
	Status    *string `json:"status"`
}

type customText struct {
	AfterSubmit              any `json:"after_submit"`
	ShippingAddress          any `json:"shipping_address"`
	Submit                   any `json:"submit"`
	TermsOfServiceAcceptance any `json:"terms_of_service_acceptance"`
}

type customerDetails struct {
	Address        any     `json:"address"`
	BusinessName   *string `json:"business_name"`
	Email          *string `json:"email"`
	IndividualName *string `json:"individual_name"`
	Name           *string `json:"name"`
	Phone          *string `json:"phone"`
	TaxExempt      *string `json:"tax_exempt"`
	TaxIDs         []any   `json:"tax_ids"`
}

type enabledFlag struct {
	Enabled bool `json:"enabled"`
}

type taxIDCollection struct {
	Enabled  bool   `json:"enabled"`
	Required string `json:"required"`
}

type totalDetails struct {
	AmountDiscount int64  `json:"amount_discount"`
	AmountShipping *int64 `json:"amount_shipping"`
	AmountTax      int64  `json:"amount_tax"`
}

type checkoutDiscount struct {
	Coupon        any `json:"coupon"`
	PromotionCode any `json:"promotion_code"`
}

// checkoutItemObject is components.schemas.item: a line item of a session.
type checkoutItemObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	AdjustableQuantity any               `json:"adjustable_quantity"`
	AmountDiscount     int64             `json:"amount_discount"`
	AmountSubtotal     int64             `json:"amount_subtotal"`
	AmountTax          int64             `json:"amount_tax"`
	AmountTotal        int64             `json:"amount_total"`
	Currency           string            `json:"currency"`
	Description        *string           `json:"description"`
	Metadata           map[string]string `json:"metadata"`
	Price              any               `json:"price"`
	Quantity           *int64            `json:"quantity"`
}

type adjustableQuantityObject struct {
	Enabled bool   `json:"enabled"`
	Maximum *int64 `json:"maximum"`
	Minimum *int64 `json:"minimum"`
}

var checkoutExpansions = []string{"customer", "subscription", "invoice", "payment_intent", "setup_intent", "line_items",
	"discounts.coupon", "discounts.promotion_code"}

// setupLookup finds a setup (a SetupIntent); the ledger is one.
type setupLookup interface {
	Setup(id string) (*billing.Setup, error)
}

// checkoutURL is the address of the session's Checkout page.
func (l *ledger) checkoutURL(id string) string {
	return pageURL(l.base, l.Account(), pageCheckout, id)
}

// renderCheckoutSession renders a session as Stripe does.
func renderCheckoutSession(cs *checkoutSession, lk renderLookup, ex expandSet) (any, error) {
	o := &checkoutSessionObject{
		ID: cs.ID, Object: "checkout.session", AllowPromotionCodes: cs.AllowPromotionCodes,
		BillingAddressCollection: nullString(cs.BillingAddress), CancelURL: nullString(cs.CancelURL),
		ClientReferenceID: nullString(cs.ClientReferenceID), Created: cs.Created, Currency: nullString(cs.Currency),
		CustomFields: []any{}, CustomerCreation: nullString(cs.CustomerCreation), CustomerEmail: nullString(cs.CustomerEmail),
		Discounts: []any{}, ExcludedPaymentMethods: []string{}, ExpiresAt: cs.ExpiresAt, Locale: nullString(cs.Locale),
		Metadata: metadata(cs.Metadata), Mode: cs.Mode, PaymentMethodCollection: nullString(cs.PMCollection),
		PaymentMethodTypes: []string{"card"}, PaymentStatus: cs.PaymentStatus, ShippingOptions: []any{},
		Status: nullString(cs.Status), SubmitType: nullString(cs.SubmitType), SuccessURL: nullString(cs.SuccessURL),
		TaxIDCollection: taxIDCollection{Required: "never"}, UIMode: nullString("hosted_page"),
	}
	o.AutomaticTax.Enabled = false
	if l, ok := lk.(*ledger); ok && cs.Status == "open" {
		o.URL = nullString(l.checkoutURL(cs.ID))
	}
	if cs.Mode != "setup" {
		l, ok := lk.(*ledger)
		if ok {
			a, err := cs.amounts(l)
			if err != nil {
				return nil, err
			}
			sub, total := a.Subtotal, a.Total
			o.AmountSubtotal, o.AmountTotal = &sub, &total
			var zero int64
			o.TotalDetails = &totalDetails{AmountDiscount: a.Discount, AmountShipping: &zero}
		}
	}
	for _, d := range cs.Discounts {
		cd := checkoutDiscount{}
		if d.Coupon != "" {
			cd.Coupon = d.Coupon
		}
		if d.PromotionCode != "" {
			cd.PromotionCode = d.PromotionCode
		}
		o.Discounts = append(o.Discounts, cd)
	}
	if cs.Status == "complete" {
		name, email := cs.DetailsName, cs.DetailsEmail
		if cust, err := lk.Customer(cs.Customer); err == nil {
			if email == "" {
				email = cust.Email
			}
			if name == "" {
				name = cust.Name
			}
		} else if !isMissing(err) {
			return nil, err
		}
		none := "none"
		o.CustomerDetails = &customerDetails{Email: nullString(email), Name: nullString(name), TaxExempt: &none, TaxIDs: []any{}}
	} else if cs.CustomerEmail != "" {
		o.CustomerDetails = &customerDetails{Email: nullString(cs.CustomerEmail), TaxIDs: []any{}}
	}
	var err error
	if cs.Customer != "" {
		if o.Customer, err = expandCustomer(ex, "customer", cs.Customer, lk); err != nil {
			return nil, err
		}
	}
	if cs.Subscription != "" {
		o.Subscription, err = expandable(ex, "subscription", cs.Subscription,
			lookupAndRender(lk.Subscription, cs.Subscription, func(s *billing.Subscription) (any, error) { return renderSubscription(s, lk, nil) }))
		if err != nil {
			return nil, err
		}
	}
	if cs.Invoice != "" {
		o.Invoice, err = expandable(ex, "invoice", cs.Invoice,
			lookupAndRender(lk.Invoice, cs.Invoice, func(inv *billing.Invoice) (any, error) { return renderInvoice(inv, lk, nil) }))
		if err != nil {
			return nil, err
		}
	}
	if cs.PaymentIntent != "" {
		o.PaymentIntent, err = expandable(ex, "payment_intent", cs.PaymentIntent,
			lookupAndRender(lk.Payment, cs.PaymentIntent, func(p *billing.Payment) (any, error) { return renderPaymentIntent(p, lk) }))
		if err != nil {
			return nil, err
		}
	}
	if cs.SetupIntent != "" {
		o.SetupIntent = cs.SetupIntent
		if sl, ok := lk.(setupLookup); ok {
			o.SetupIntent, err = expandable(ex, "setup_intent", cs.SetupIntent,
				lookupAndRender(sl.Setup, cs.SetupIntent, func(si *billing.Setup) (any, error) { return renderSetupIntent(si, lk, nil) }))
			if err != nil {
				return nil, err
			}
		}
	}
	if ex["line_items"] {
		l, ok := lk.(*ledger)
		if !ok {
			return nil, fmt.Errorf("render checkout session: no ledger to price its lines")
		}
		ids := make([]string, len(cs.Lines))
		for i, line := range cs.Lines {
			ids[i] = line.ID
		}
		if o.LineItems, err = renderCheckoutLines(l, cs, ids, store.Page{Limit: 100}); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// renderCheckoutLines lists a session's line items (in the order given,
// as Stripe lists them), paged by pg.
func renderCheckoutLines(l *ledger, cs *checkoutSession, ids []string, pg store.Page) (*listObject, error) {
	a, err := cs.amounts(l)
	if err != nil {
		return nil, err
	}
	byID := map[string]int{}
	for i, line := range cs.Lines {
		byID[line.ID] = i
	}
	return listSlice(ids, pg, "/v1/checkout/sessions/"+cs.ID+"/line_items", "line item", func(id string) (any, error) {
		i := byID[id]
		line, la := cs.Lines[i], a.Lines[i]
		qty := line.Quantity
		o := &checkoutItemObject{ID: line.ID, Object: "item", AmountDiscount: la.Discount, AmountSubtotal: la.Subtotal,
			AmountTotal: la.Total, Currency: la.Price.Currency, Description: nullString(la.ProductName),
			Metadata: metadata(line.Metadata), Price: renderPrice(la.Price), Quantity: &qty}
		if line.Adjustable != nil {
			lo, hi := line.Adjustable.Min, line.Adjustable.Max
			o.AdjustableQuantity = adjustableQuantityObject{Enabled: true, Minimum: &lo, Maximum: &hi}
		}
		return o, nil
	})
}

// ---------------------------------------------------------------------------
// Handlers.

// checkoutLineParam is a line_items[n] as read: a price or price_data, a
// quantity and adjustable_quantity. A price_data's Price is a placeholder
// until the request is known to be valid, then its price is made
// (inactive, as Stripe's are) by makeInline.
type checkoutLineParam struct {
	checkoutLine
	param string
}

func (p *params) checkoutLines(name string) []checkoutLineParam {
	elems := p.hashes(name)
	if len(elems) > checkoutMaxLineItems {
		p.fail(invalid(name, "You may pass at most %d line items.", checkoutMaxLineItems))
		return nil
	}
	out := make([]checkoutLineParam, 0, len(elems))
	for _, el := range elems {
		param, sub := el.param, el.p
		var lp checkoutLineParam
		lp.param = param
		lp.Price, _ = sub.str("price")
		if q, ok := sub.intIn("quantity", 0, billing.MaxQuantity); ok {
			lp.Quantity = q
		} else {
			lp.Quantity = -1
		}
		lp.Metadata, _ = sub.metadata("metadata")
		sub.taxRateIDs("tax_rates")
		if aq, ok := sub.sub("adjustable_quantity"); ok {
			enabled, hasEnabled := aq.bool("adjustable_quantity[enabled]")
			lo, hasLo := aq.intIn("adjustable_quantity[minimum]", 0, billing.MaxQuantity)
			hi, hasHi := aq.intIn("adjustable_quantity[maximum]", 0, billing.MaxQuantity)
			switch {
			case !hasEnabled:
				aq.fail(errMissing("adjustable_quantity[enabled]"))
			case enabled:
				if !hasLo {
					lo = 0
				}
				if !hasHi {
					hi = checkoutDefaultMaxQty
				}
				if lo > hi {
					aq.fail(invalid("adjustable_quantity[minimum]", "adjustable_quantity[minimum] must be at most adjustable_quantity[maximum]."))
				}
				lp.Adjustable = &adjustableQuantity{Min: lo, Max: hi}
			}
			sub.fail(aq.check())
		}
		data := readPriceData(sub, "price_data", priceDataShape{recurring: mayRecur, productData: true})
		switch {
		case lp.Price != "" && data != nil:
			sub.fail(invalid("", "You may only specify one of these parameters: price, price_data."))
		case lp.Price == "" && data == nil:
			sub.fail(invalid("price", "You must specify either `price` or `price_data` in `%s`.", param))
		case lp.Quantity < 0 && sub.err == nil:
			sub.fail(errMissing("quantity"))
		}
		if data != nil {
			lp.Price = p.addInline(data)
		}
		if err := sub.check(); err != nil {
			p.fail(nestError(param, err))
			return nil
		}
		out = append(out, lp)
	}
	return out
}

// checkURL refuses a URL Stripe would not redirect to.
func checkURL(p *params, name string) string {
	v, ok := p.text(name, maxCheckoutURL)
	if !ok {
		return ""
	}
	u, err := url.Parse(strings.ReplaceAll(v, "{CHECKOUT_SESSION_ID}", "x"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(invalid(name, "Not a valid URL"))
		return ""
	}
	return v
}

func (s *Surface) createCheckoutSession(c *call, tx *store.Tx) (any, error) {
	mode, hasMode := c.p.enum("mode", "payment", "setup", "subscription")
	lines := c.p.checkoutLines("line_items")
	customer, _ := c.p.str("customer")
	customerEmail, _ := c.p.text("customer_email", maxEmail)
	creation, _ := c.p.enum("customer_creation", "always", "if_required")
	successURL := checkURL(c.p, "success_url")
	cancelURL := checkURL(c.p, "cancel_url")
	clientRef, _ := c.p.text("client_reference_id", maxClientReferenceID)
	md, _ := c.p.metadata("metadata")
	discounts := c.p.discountSpecs("discounts")
	allowPromo, hasAllowPromo := c.p.bool("allow_promotion_codes")
	expiresAt, hasExpires := c.p.timestamp("expires_at")
	locale, _ := c.p.str("locale")
	submitType, _ := c.p.enum("submit_type", "auto", "book", "donate", "pay", "subscribe")
	billingAddress, _ := c.p.enum("billing_address_collection", "auto", "required")
	pmCollection, _ := c.p.enum("payment_method_collection", "always", "if_required")
	currency, _ := readCurrency(c.p, "currency")
	c.p.enum("ui_mode", "hosted_page", "hosted")
	for _, t := range c.p.strings("payment_method_types") {
		if t != "card" {
			c.p.fail(invalid("payment_method_types", "billclock's Checkout takes cards only; the payment method type %s is not supported.", t))
		}
	}
	c.p.refuseAutomaticTax()
	var trialDays int64
	var subMD map[string]string
	var subDesc string
	if sd, ok := c.p.sub("subscription_data"); ok {
		trialDays, _ = sd.intIn("subscription_data[trial_period_days]", 1, 730)
		subMD, _ = sd.metadata("subscription_data[metadata]")
		subDesc, _ = sd.text("subscription_data[description]", maxSubscriptionDescription)
		c.p.fail(sd.check())
	}
	var intentDesc, futureUsage string
	var intentMD map[string]string
	if pid, ok := c.p.sub("payment_intent_data"); ok {
		intentDesc, _ = pid.text("payment_intent_data[description]", 1000)
		intentMD, _ = pid.metadata("payment_intent_data[metadata]")
		futureUsage, _ = pid.enum("payment_intent_data[setup_future_usage]", "off_session", "on_session")
		pid.str("payment_intent_data[receipt_email]")
		pid.str("payment_intent_data[statement_descriptor]")
		pid.str("payment_intent_data[statement_descriptor_suffix]")
		c.p.fail(pid.check())
	}
	var setupDesc string
	var setupMD map[string]string
	if sid, ok := c.p.sub("setup_intent_data"); ok {
		setupDesc, _ = sid.text("setup_intent_data[description]", maxSetupDescription)
		setupMD, _ = sid.metadata("setup_intent_data[metadata]")
		c.p.fail(sid.check())
	}
	ex, err := c.p.expansions(checkoutExpansions...)
	if err != nil {
		return nil, err
	}
	switch {
	case !hasMode:
		return nil, errMissing("mode")
	case customer != "" && customerEmail != "":
		return nil, invalid("", "You may only specify one of these parameters: customer, customer_email.")
	case discounts != nil && hasAllowPromo:
		return nil, invalid("", "You may only specify one of these parameters: allow_promotion_codes, discounts.")
	case mode == "setup" && len(lines) > 0:
		return nil, invalid("line_items", "You cannot pass `line_items` in `setup` mode.")
	case mode == "setup" && currency == "":
		// Stripe asks setup mode for a currency only with some payment
		// methods; cards need none.
	case mode != "setup" && len(lines) == 0:
		return nil, errMissing("line_items")
	case mode != "subscription" && (trialDays != 0 || subMD != nil):
		return nil, invalid("subscription_data", "You can only pass `subscription_data` in `subscription` mode.")
	case mode != "payment" && (intentDesc != "" || intentMD != nil || futureUsage != ""):
		return nil, invalid("payment_intent_data", "You can only pass `payment_intent_data` in `payment` mode.")
	case mode == "subscription" && creation != "":
		return nil, invalid("customer_creation", "`customer_creation` can only be used in `payment` and `setup` mode.")
	}
	if discounts != nil && len(*discounts) > 1 {
		return nil, invalid("discounts", "You may only specify one discount.")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	cs := &checkoutSession{ID: l.NewID("cs_test_"), Mode: mode, Status: "open", PaymentStatus: "unpaid",
		CustomerEmail: customerEmail, CustomerCreation: creation, SuccessURL: successURL, CancelURL: cancelURL,
		ClientReferenceID: clientRef, Locale: locale, SubmitType: submitType, BillingAddress: billingAddress,
		PMCollection: pmCollection, Metadata: applyMetadata(nil, md, false), TrialPeriodDays: trialDays,
		SubscriptionMetadata: subMD, SubscriptionDesc: subDesc, IntentDescription: intentDesc, IntentMetadata: intentMD,
		SetupFutureUsage: futureUsage}
	if mode == "setup" {
		cs.PaymentStatus = "no_payment_required"
	}
	if mode == "payment" && creation == "" {
		cs.CustomerCreation = "if_required"
	}
	if mode == "subscription" && pmCollection == "" {
		cs.PMCollection = "always"
	}
	if hasAllowPromo {
		cs.AllowPromotionCodes = &allowPromo
	}
	if customer != "" {
		cust, err := l.Customer(customer)
		if err != nil {
			return nil, withParam(err, "customer")
		}
		cs.Customer, cs.Clock = cust.ID, cust.Clock
		if now, err = l.TimeOn(cust.Clock, now); err != nil {
			return nil, err
		}
		cs.CustomerCreation = ""
	}
	cs.Created = now
	cs.ExpiresAt = now + checkoutMaxLifetime
	if hasExpires {
		if expiresAt < now+checkoutMinLifetime || expiresAt > now+checkoutMaxLifetime {
			return nil, invalid("expires_at", "The `expires_at` timestamp must be at least 30 minutes and at most 24 hours "+
				"after the Checkout Session is created.")
		}
		cs.ExpiresAt = expiresAt
	}
	if err := makeInlines(c.p, l, lines, func(lp *checkoutLineParam) (*string, string) { return &lp.Price, lp.param }, now); err != nil {
		return nil, err
	}
	var interval *billing.Interval
	recurring := false
	for _, lp := range lines {
		p, err := l.Price(lp.Price)
		if err != nil {
			return nil, withParam(err, lp.param+"[price]")
		}
		switch {
		case cs.Currency == "":
			cs.Currency = p.Currency
		case p.Currency != cs.Currency:
			return nil, invalid("line_items", "All line items must be in the same currency: %s is in %s, not %s.", p.ID, p.Currency, cs.Currency)
		}
		switch {
		case mode == "payment" && p.Recurring != nil:
			return nil, invalid(lp.param+"[price]", "You specified `payment` mode but passed a recurring price. Either switch to "+
				"`subscription` mode or use only one-time prices.")
		case mode == "subscription" && p.Recurring == nil:
			return nil, invalid(lp.param+"[price]", "billclock's Checkout takes recurring prices only in `subscription` mode "+
				"(Stripe adds one-time prices to the first invoice; billclock does not).")
		case mode == "subscription" && interval != nil && *p.Recurring != *interval:
			return nil, invalid(lp.param+"[price]", "All recurring prices of a subscription must have the same billing interval.")
		case p.Recurring != nil:
			interval, recurring = p.Recurring, true
		}
		line := lp.checkoutLine
		line.ID = l.NewID("li_")
		cs.Lines = append(cs.Lines, line)
	}
	if mode == "subscription" && !recurring {
		return nil, invalid("line_items", "You must provide at least one recurring price in `subscription` mode when using prices.")
	}
	if mode == "setup" && currency != "" {
		cs.Currency = currency
	}
	if discounts != nil {
		cs.Discounts = *discounts
		for _, d := range cs.Discounts {
			if d.Coupon != "" && d.PromotionCode != "" || d.Coupon == "" && d.PromotionCode == "" {
				return nil, invalid(d.Param, "Each discount takes exactly one of coupon and promotion_code.")
			}
			c, _, err := l.discountCoupon(d)
			if isMissing(err) {
				field := "coupon"
				if d.PromotionCode != "" {
					field = "promotion_code"
				}
				return nil, withParam(err, d.Param+"["+field+"]")
			}
			if err != nil {
				return nil, err
			}
			if !c.Valid(now) {
				return nil, invalid(d.Param, "This coupon cannot be redeemed because it is no longer valid.")
			}
		}
	}
	if mode == "setup" {
		if _, err := l.makeCheckoutSetup(cs, setupDesc, setupMD, now); err != nil {
			return nil, err
		}
	}
	if err := l.putCheckoutSession(cs); err != nil {
		return nil, err
	}
	if err := l.Schedule(billing.Task{Clock: cs.Clock, At: cs.ExpiresAt, Kind: billing.TaskSurface, Subject: cs.ID,
		Expect: cs.ExpiresAt}); err != nil {
		return nil, err
	}
	return renderCheckoutSession(cs, l, expandSet(ex))
}

func (s *Surface) retrieveCheckoutSession(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(checkoutExpansions...)
	if err != nil {
		return nil, err
	}
	l, cs, err := openByID(s, c, tx, (*ledger).checkoutSession)
	if err != nil {
		return nil, err
	}
	return renderCheckoutSession(cs, l, expandSet(ex))
}

func (s *Surface) updateCheckoutSession(c *call, tx *store.Tx) (any, error) {
	md, cleared := c.p.metadata("metadata")
	ex, err := c.p.expansions(checkoutExpansions...)
	if err != nil {
		return nil, err
	}
	l, cs, err := openByID(s, c, tx, (*ledger).checkoutSession)
	if err != nil {
		return nil, err
	}
	if md != nil || cleared {
		cs.Metadata = applyMetadata(cs.Metadata, md, cleared)
		if err := l.putCheckoutSession(cs); err != nil {
			return nil, err
		}
	}
	return renderCheckoutSession(cs, l, expandSet(ex))
}

func (s *Surface) listCheckoutSessions(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	customer, _ := c.p.str("customer")
	subscription, _ := c.p.str("subscription")
	intent, _ := c.p.str("payment_intent")
	status, _ := c.p.enum("status", "complete", "expired", "open")
	created := rangeParam(c.p, "created")
	c.p.str("payment_link")
	c.p.str("customer_account")
	if cd, ok := c.p.sub("customer_details"); ok {
		cd.str("customer_details[email]")
		c.p.fail(cd.check())
	}
	ex, err := c.p.expansions(checkoutExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	coll, err := l.Collection(checkoutSessionsCollection)
	if err != nil {
		return nil, err
	}
	match := func(cs *checkoutSession) bool {
		return (customer == "" || cs.Customer == customer) && (subscription == "" || cs.Subscription == subscription) &&
			(intent == "" || cs.PaymentIntent == intent) && (status == "" || cs.Status == status) && created.match(cs.Created)
	}
	return listTyped(coll, pg, "/v1/checkout/sessions", kindCheckoutSession, match, func(cs *checkoutSession) (any, error) {
		return renderCheckoutSession(cs, l, expandSet(ex))
	})
}

func (s *Surface) listCheckoutLineItems(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	if _, err := c.p.expansions("data.price.product", "data.discounts", "data.taxes"); err != nil {
		return nil, err
	}
	l, cs, err := openByID(s, c, tx, (*ledger).checkoutSession)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(cs.Lines))
	for i, line := range cs.Lines {
		ids[i] = line.ID
	}
	return renderCheckoutLines(l, cs, ids, pg)
}

func (s *Surface) expireCheckoutSession(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(checkoutExpansions...)
	if err != nil {
		return nil, err
	}
	l, cs, err := openByID(s, c, tx, (*ledger).checkoutSession)
	if err != nil {
		return nil, err
	}
	if cs.Status != "open" {
		return nil, invalid("", "Only Checkout Sessions with a status in [\"open\"] can be expired. This one's status is %s.", cs.Status)
	}
	now, err := l.TimeOn(cs.Clock, c.now.Unix())
	if err != nil {
		return nil, err
	}
	if err := l.expireCheckout(cs, now); err != nil {
		return nil, err
	}
	return renderCheckoutSession(cs, l, expandSet(ex))
}

// expireCheckout expires an open session at now and announces it. The
// SetupIntent of a session in setup mode is canceled with it, as at
// Stripe, where expiring the session is the way to cancel it.
func (l *ledger) expireCheckout(cs *checkoutSession, now int64) error {
	if cs.SetupIntent != "" {
		si, err := l.Setup(cs.SetupIntent)
		if err != nil && !isMissing(err) {
			return err
		}
		if err == nil && si.Status != billing.SetupSucceeded && si.Status != billing.SetupCanceled {
			if err := l.Engine().CancelSetup(si, "abandoned", now); err != nil {
				return err
			}
		}
	}
	cs.Status = "expired"
	if err := l.putCheckoutSession(cs); err != nil {
		return err
	}
	return l.Emit(billing.Event{Type: eventCheckoutExpired, Time: now, Object: cs.snapshot()})
}

// RunTask runs the Stripe dialect's own clock tasks (clockwork.TaskRunner):
// a Checkout Session reaching its expires_at expires, if still open.
func (s *Surface) RunTask(cl *clockwork.Ledger, t billing.Task) error {
	if !strings.HasPrefix(t.Subject, "cs_") {
		return nil
	}
	l := s.wrap(cl)
	cs, err := l.checkoutSession(t.Subject)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cs.Status != "open" || cs.ExpiresAt != t.Expect {
		return nil
	}
	return l.expireCheckout(cs, t.At)
}

var _ clockwork.TaskRunner = (*Surface)(nil)
