package stripe

import (
	"errors"
	"math/big"
	"net/http"
	"strconv"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// This file renders the engine's billing objects in Stripe's wire shapes at
// API version 2026-08-26.dahlia (components.schemas of Stripe's OpenAPI
// spec). Fields the engine has no data for get the value Stripe gives a
// plain test-mode object. Fields typed any with no assignment are always
// null; an expandable field is any so that it holds an id or an object.

// renderLookup fetches the objects related to the one being rendered:
// prices for subscription items and lines, products for price details,
// and customers, invoices, subscriptions and clocks for expansion. A
// missing object is reported as an error that isMissing recognises (or as
// a nil object).
type renderLookup interface {
	Price(id string) (*billing.Price, error)
	Product(id string) (*billing.Product, error)
	Customer(id string) (*billing.Customer, error)
	Invoice(id string) (*billing.Invoice, error)
	Subscription(id string) (*billing.Subscription, error)
	Clock(id string) (*billing.Clock, error)
	PaymentMethod(id string) (*billing.PaymentMethod, error)
	Payment(id string) (*billing.Payment, error)
	Charge(id string) (*billing.Charge, error)
	// InvoicePayments returns an invoice's payments.
	InvoicePayments(invoice string) ([]*billing.InvoicePayment, error)
}

// expandSet holds the fields to expand, as given in expand[], e.g.
// "customer" or "latest_invoice".
type expandSet map[string]bool

// isMissing reports whether err says a looked-up object does not exist.
func isMissing(err error) bool {
	var be *billing.Error
	if errors.As(err, &be) {
		return be.Kind == billing.NotFound
	}
	var se *Error
	if errors.As(err, &se) {
		return se.Status == http.StatusNotFound
	}
	return errors.Is(err, store.ErrNotFound)
}

// expandable renders the field holding id: null for no id, the id itself
// unless the field is expanded, and otherwise the object render returns
// (again the id if the object is missing).
func expandable(ex expandSet, field, id string, render func() (any, error)) (any, error) {
	if id == "" {
		return nil, nil
	}
	if !ex[field] {
		return id, nil
	}
	v, err := render()
	if isMissing(err) || (err == nil && v == nil) {
		return id, nil
	}
	return v, err
}

// lookupAndRender adapts a lookup and a renderer to expandable: a nil
// object (missing) renders as nil.
func lookupAndRender[T any](get func(string) (*T, error), id string, render func(*T) (any, error)) func() (any, error) {
	return func() (any, error) {
		o, err := get(id)
		if err != nil || o == nil {
			return nil, err
		}
		return render(o)
	}
}

func expandClock(ex expandSet, field, id string, lk renderLookup) (any, error) {
	return expandable(ex, field, id, lookupAndRender(lk.Clock, id, func(c *billing.Clock) (any, error) {
		return renderClock(c), nil
	}))
}

func expandCustomer(ex expandSet, field, id string, lk renderLookup) (any, error) {
	return expandable(ex, field, id, lookupAndRender(lk.Customer, id, func(c *billing.Customer) (any, error) {
		return renderCustomer(c, lk, nil)
	}))
}

// nullString is s, or null when empty.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nullTime is t, or null when zero.
func nullTime(t int64) *int64 {
	if t == 0 {
		return nil
	}
	return &t
}

// metadata renders a metadata map, {} when empty.
func metadata(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// accountRef is connect_account_reference; billclock's objects are always
// issued by the account itself.
type accountRef struct {
	Type string `json:"type"`
}

var selfAccount = accountRef{Type: "self"}

// ---------------------------------------------------------------------------
// Customers.

// customerObject is components.schemas.customer.
type customerObject struct {
	ID                  string                 `json:"id"`
	Object              string                 `json:"object"`
	Address             any                    `json:"address"`
	Balance             int64                  `json:"balance"`
	Created             int64                  `json:"created"`
	Currency            *string                `json:"currency"`
	CustomerAccount     *string                `json:"customer_account"`
	DefaultSource       any                    `json:"default_source"`
	Delinquent          bool                   `json:"delinquent"`
	Description         *string                `json:"description"`
	Discount            any                    `json:"discount"`
	Email               *string                `json:"email"`
	InvoicePrefix       *string                `json:"invoice_prefix"`
	InvoiceSettings     customerInvoiceSetting `json:"invoice_settings"`
	Livemode            bool                   `json:"livemode"`
	Metadata            map[string]string      `json:"metadata"`
	Name                *string                `json:"name"`
	NextInvoiceSequence int                    `json:"next_invoice_sequence"`
	Phone               *string                `json:"phone"`
	PreferredLocales    []string               `json:"preferred_locales"`
	Shipping            any                    `json:"shipping"`
	TaxExempt           string                 `json:"tax_exempt"`
	TestClock           any                    `json:"test_clock"`
}

// customerInvoiceSetting is invoice_setting_customer_setting.
type customerInvoiceSetting struct {
	CustomFields         any     `json:"custom_fields"`
	DefaultPaymentMethod any     `json:"default_payment_method"`
	Footer               *string `json:"footer"`
	RenderingOptions     any     `json:"rendering_options"`
}

// renderCustomer renders a customer; test_clock, default_source and
// invoice_settings.default_payment_method are expandable.
func renderCustomer(c *billing.Customer, lk renderLookup, ex expandSet) (any, error) {
	clock, err := expandClock(ex, "test_clock", c.Clock, lk)
	if err != nil {
		return nil, err
	}
	source, err := expandSource(ex, "default_source", c.DefaultSource, lk)
	if err != nil {
		return nil, err
	}
	defaultPM, err := expandPaymentMethod(ex, "invoice_settings.default_payment_method", c.DefaultPaymentMethod, lk)
	if err != nil {
		return nil, err
	}
	var discount any
	if c.Discount != nil {
		discount = renderDiscount(c.Discount)
	}
	return &customerObject{
		DefaultSource: source, Balance: c.Balance, Discount: discount,
		ID: c.ID, Object: "customer", Created: c.Created,
		Description: nullString(c.Description), Email: nullString(c.Email), Name: nullString(c.Name),
		InvoicePrefix:   nullString(c.InvoicePrefix),
		InvoiceSettings: customerInvoiceSetting{DefaultPaymentMethod: defaultPM, Footer: nullString(c.InvoiceFooter)},
		Metadata:        metadata(c.Metadata),
		// The engine counts the invoices numbered so far; Stripe shows the
		// sequence number the next one will get.
		NextInvoiceSequence: c.NextInvoiceSequence + 1,
		PreferredLocales:    append([]string{}, c.PreferredLocales...),
		TaxExempt:           taxExempt(c.TaxExempt),
		TestClock:           clock,
		Address:             renderAddress(c.Address),
		Phone:               nullString(c.Phone),
		Shipping:            renderShipping(c.Shipping),
	}, nil
}

// renderDeleted renders the stub Stripe answers a delete with.
func renderDeleted(id, object string) any {
	return &deletedObject{ID: id, Object: object, Deleted: true}
}

// ---------------------------------------------------------------------------
// Products and prices.

// productObject is components.schemas.product.
type productObject struct {
	ID                  string            `json:"id"`
	Object              string            `json:"object"`
	Active              bool              `json:"active"`
	Created             int64             `json:"created"`
	DefaultPrice        *string           `json:"default_price"`
	Description         *string           `json:"description"`
	Images              []string          `json:"images"`
	Livemode            bool              `json:"livemode"`
	MarketingFeatures   []any             `json:"marketing_features"`
	Metadata            map[string]string `json:"metadata"`
	Name                string            `json:"name"`
	PackageDimensions   any               `json:"package_dimensions"`
	Shippable           *bool             `json:"shippable"`
	StatementDescriptor *string           `json:"statement_descriptor"`
	TaxCode             any               `json:"tax_code"`
	UnitLabel           *string           `json:"unit_label"`
	Updated             int64             `json:"updated"`
	URL                 *string           `json:"url"`
}

// renderProduct renders a product.
func renderProduct(p *billing.Product) any {
	return &productObject{
		ID: p.ID, Object: "product", Active: p.Active, Created: p.Created, Updated: p.Updated,
		DefaultPrice: nullString(p.DefaultPrice), Description: nullString(p.Description),
		Images: []string{}, MarketingFeatures: []any{}, Metadata: metadata(p.Metadata), Name: p.Name,
	}
}

// priceObject is components.schemas.price.
type priceObject struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Active            bool              `json:"active"`
	BillingScheme     string            `json:"billing_scheme"`
	Created           int64             `json:"created"`
	Currency          string            `json:"currency"`
	CustomUnitAmount  any               `json:"custom_unit_amount"`
	Livemode          bool              `json:"livemode"`
	LookupKey         *string           `json:"lookup_key"`
	Metadata          map[string]string `json:"metadata"`
	Nickname          *string           `json:"nickname"`
	Product           string            `json:"product"`
	Recurring         *recurringObject  `json:"recurring"`
	TaxBehavior       string            `json:"tax_behavior"`
	TiersMode         *string           `json:"tiers_mode"`
	TransformQuantity any               `json:"transform_quantity"`
	Type              string            `json:"type"`
	UnitAmount        int64             `json:"unit_amount"`
	UnitAmountDecimal string            `json:"unit_amount_decimal"`
}

// recurringObject is components.schemas.recurring. (The dahlia schema has
// no trial_period_days and no aggregate_usage.)
type recurringObject struct {
	Interval      string  `json:"interval"`
	IntervalCount int     `json:"interval_count"`
	Meter         *string `json:"meter"`
	UsageType     string  `json:"usage_type"`
}

// renderPrice renders a price; its product is an id.
func renderPrice(p *billing.Price) any {
	o := &priceObject{
		ID: p.ID, Object: "price", Active: p.Active, BillingScheme: "per_unit", Created: p.Created,
		Currency: p.Currency, LookupKey: nullString(p.LookupKey), Metadata: metadata(p.Metadata),
		Nickname: nullString(p.Nickname), Product: p.Product, TaxBehavior: "unspecified", Type: "one_time",
		UnitAmount: p.UnitAmount, UnitAmountDecimal: strconv.FormatInt(p.UnitAmount, 10),
	}
	if p.Recurring != nil {
		o.Type = "recurring"
		o.Recurring = &recurringObject{Interval: string(p.Recurring.Unit), IntervalCount: p.Recurring.Count, UsageType: "licensed"}
	}
	return o
}

// ---------------------------------------------------------------------------
// Subscriptions.

// subscriptionObject is components.schemas.subscription.
type subscriptionObject struct {
	ID                            string                   `json:"id"`
	Object                        string                   `json:"object"`
	Application                   any                      `json:"application"`
	ApplicationFeePercent         *float64                 `json:"application_fee_percent"`
	AutomaticTax                  subscriptionAutomaticTax `json:"automatic_tax"`
	BillingCycleAnchor            int64                    `json:"billing_cycle_anchor"`
	BillingCycleAnchorConfig      any                      `json:"billing_cycle_anchor_config"`
	BillingMode                   billingMode              `json:"billing_mode"`
	BillingSchedules              []any                    `json:"billing_schedules"`
	BillingThresholds             any                      `json:"billing_thresholds"`
	CancelAt                      *int64                   `json:"cancel_at"`
	CancelAtPeriodEnd             bool                     `json:"cancel_at_period_end"`
	CanceledAt                    *int64                   `json:"canceled_at"`
	CancellationDetails           cancellationDetails      `json:"cancellation_details"`
	CollectionMethod              string                   `json:"collection_method"`
	Created                       int64                    `json:"created"`
	Currency                      string                   `json:"currency"`
	Customer                      any                      `json:"customer"`
	CustomerAccount               *string                  `json:"customer_account"`
	DaysUntilDue                  *int64                   `json:"days_until_due"`
	DefaultPaymentMethod          any                      `json:"default_payment_method"`
	DefaultSource                 any                      `json:"default_source"`
	DefaultTaxRates               []any                    `json:"default_tax_rates"`
	Description                   *string                  `json:"description"`
	Discounts                     []any                    `json:"discounts"`
	EndedAt                       *int64                   `json:"ended_at"`
	InvoiceSettings               subscriptionInvoiceSet   `json:"invoice_settings"`
	Items                         subscriptionItemList     `json:"items"`
	LatestInvoice                 any                      `json:"latest_invoice"`
	Livemode                      bool                     `json:"livemode"`
	Metadata                      map[string]string        `json:"metadata"`
	NextPendingInvoiceItemInvoice *int64                   `json:"next_pending_invoice_item_invoice"`
	OnBehalfOf                    any                      `json:"on_behalf_of"`
	PauseCollection               any                      `json:"pause_collection"`
	PaymentSettings               subscriptionPaymentSet   `json:"payment_settings"`
	PendingInvoiceItemInterval    any                      `json:"pending_invoice_item_interval"`
	PendingSetupIntent            any                      `json:"pending_setup_intent"`
	PendingUpdate                 any                      `json:"pending_update"`
	Schedule                      any                      `json:"schedule"`
	StartDate                     int64                    `json:"start_date"`
	Status                        string                   `json:"status"`
	TestClock                     any                      `json:"test_clock"`
	TransferData                  any                      `json:"transfer_data"`
	TrialEnd                      *int64                   `json:"trial_end"`
	TrialSettings                 trialSettings            `json:"trial_settings"`
	TrialStart                    *int64                   `json:"trial_start"`
}

// subscriptionAutomaticTax is subscription_automatic_tax.
type subscriptionAutomaticTax struct {
	DisabledReason *string `json:"disabled_reason"`
	Enabled        bool    `json:"enabled"`
	Liability      any     `json:"liability"`
}

// billingMode is subscriptions_resource_billing_mode.
type billingMode struct {
	Type      string           `json:"type"`
	Flexible  *flexibleBilling `json:"flexible"`
	UpdatedAt int64            `json:"updated_at"`
}

type flexibleBilling struct {
	ProrationDiscounts string `json:"proration_discounts"`
}

// cancellationDetails is cancellation_details.
type cancellationDetails struct {
	Comment  *string `json:"comment"`
	Feedback *string `json:"feedback"`
	Reason   *string `json:"reason"`
}

// subscriptionInvoiceSet is
// subscriptions_resource_subscription_invoice_settings.
type subscriptionInvoiceSet struct {
	AccountTaxIDs any        `json:"account_tax_ids"`
	CustomFields  any        `json:"custom_fields"`
	Description   *string    `json:"description"`
	Footer        *string    `json:"footer"`
	Issuer        accountRef `json:"issuer"`
}

// subscriptionPaymentSet is subscriptions_resource_payment_settings.
type subscriptionPaymentSet struct {
	PaymentMethodOptions     any     `json:"payment_method_options"`
	PaymentMethodTypes       any     `json:"payment_method_types"`
	SaveDefaultPaymentMethod *string `json:"save_default_payment_method"`
}

// trialSettings is subscriptions_resource_trial_settings_trial_settings.
type trialSettings struct {
	EndBehavior struct {
		MissingPaymentMethod string `json:"missing_payment_method"`
	} `json:"end_behavior"`
}

// subscriptionItemList is the subscription's items list. Its schema has no
// total_count.
type subscriptionItemList struct {
	Object  string `json:"object"`
	Data    []any  `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

// renderSubscription renders a subscription; customer, latest_invoice,
// test_clock and default_payment_method are expandable.
func renderSubscription(s *billing.Subscription, lk renderLookup, ex expandSet) (any, error) {
	o := &subscriptionObject{
		ID: s.ID, Object: "subscription",
		AutomaticTax:       subscriptionAutomaticTax{},
		BillingCycleAnchor: s.BillingCycleAnchor,
		BillingMode: billingMode{Type: "flexible", Flexible: &flexibleBilling{ProrationDiscounts: "included"},
			UpdatedAt: s.Created},
		BillingSchedules:  []any{},
		CancelAtPeriodEnd: s.CancelAtPeriodEnd,
		CancelAt:          nullTime(s.CancelAt),
		CanceledAt:        nullTime(s.CanceledAt),
		CollectionMethod:  collectionMethod(s.CollectionMethod),
		Created:           s.Created,
		Currency:          s.Currency,
		Discounts:         renderDiscountList(s.Discounts, ex, "discounts"),
		EndedAt:           nullTime(s.EndedAt),
		InvoiceSettings:   subscriptionInvoiceSet{Issuer: selfAccount},
		Items: subscriptionItemList{Object: "list", Data: make([]any, 0, len(s.Items)),
			URL: "/v1/subscription_items?subscription=" + s.ID},
		Metadata:        metadata(s.Metadata),
		PaymentSettings: subscriptionPaymentSet{SaveDefaultPaymentMethod: nullString("off")},
		StartDate:       s.StartDate,
		Status:          string(s.Status),
	}
	// Stripe shows a cancellation at period end as a cancel_at at the
	// period's end.
	if s.CancelAt == 0 && s.CancelAtPeriodEnd {
		o.CancelAt = nullTime(s.PeriodEnd)
	}
	if s.SendsInvoices() {
		o.DaysUntilDue = &s.DaysUntilDue
	}
	o.CancellationDetails.Reason = cancellationReason(s)
	if s.TrialEnd != 0 {
		o.TrialStart, o.TrialEnd = nullTime(s.TrialStart), nullTime(s.TrialEnd)
	}
	o.TrialSettings.EndBehavior.MissingPaymentMethod = billing.MissingPaymentMethodCreateInvoice
	if s.MissingPaymentMethodAtTrialEnd != "" {
		o.TrialSettings.EndBehavior.MissingPaymentMethod = s.MissingPaymentMethodAtTrialEnd
	}
	for _, it := range s.Items {
		item, err := renderSubscriptionItem(it, s, lk)
		if err != nil {
			return nil, err
		}
		o.Items.Data = append(o.Items.Data, item)
	}
	if err := renderSubscriptionExtras(o, s, lk); err != nil {
		return nil, err
	}
	var err error
	if o.DefaultTaxRates, err = renderTaxRates(s.DefaultTaxRates, lk); err != nil {
		return nil, err
	}
	if o.Customer, err = expandCustomer(ex, "customer", s.Customer, lk); err != nil {
		return nil, err
	}
	if o.TestClock, err = expandClock(ex, "test_clock", s.Clock, lk); err != nil {
		return nil, err
	}
	if o.DefaultPaymentMethod, err = expandPaymentMethod(ex, "default_payment_method", s.DefaultPaymentMethod, lk); err != nil {
		return nil, err
	}
	o.LatestInvoice, err = expandable(ex, "latest_invoice", s.LatestInvoice,
		lookupAndRender(lk.Invoice, s.LatestInvoice, func(inv *billing.Invoice) (any, error) {
			return renderInvoice(inv, lk, nil)
		}))
	if err != nil {
		return nil, err
	}
	return o, nil
}

// cancellationReason is Stripe's cancellation_details.reason: why the
// subscription ended, or will end.
func cancellationReason(s *billing.Subscription) *string {
	switch {
	case s.CancellationReason == billing.CancelPaymentFailed:
		return nullString("payment_failed")
	case s.CancellationReason == billing.CancelTrialMissingPaymentMethod, s.Status == billing.StatusIncompleteExpired:
		// Stripe's reasons name none of these: it leaves the reason null.
		return nil
	case s.CancelAt != 0 || s.CancelAtPeriodEnd || s.Status == billing.StatusCanceled:
		return nullString("cancellation_requested")
	}
	return nil
}

// subscriptionItemObject is components.schemas.subscription_item.
type subscriptionItemObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	BillingThresholds  any               `json:"billing_thresholds"`
	Created            int64             `json:"created"`
	CurrentPeriodEnd   int64             `json:"current_period_end"`
	CurrentPeriodStart int64             `json:"current_period_start"`
	Discounts          []any             `json:"discounts"`
	Metadata           map[string]string `json:"metadata"`
	Price              any               `json:"price"`
	Quantity           int64             `json:"quantity"`
	Subscription       string            `json:"subscription"`
	TaxRates           []any             `json:"tax_rates"`
}

// renderSubscriptionItem renders an item of s with its full price; the
// periods are the subscription's (items carry them since basil).
func renderSubscriptionItem(it billing.SubscriptionItem, s *billing.Subscription, lk renderLookup) (any, error) {
	p, err := lk.Price(it.Price)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, billing.NotFoundError("price", it.Price, "")
	}
	rates, err := renderTaxRates(it.TaxRates, lk)
	if err != nil {
		return nil, err
	}
	return &subscriptionItemObject{
		ID: it.ID, Object: "subscription_item", Created: it.Created,
		CurrentPeriodStart: s.PeriodStart, CurrentPeriodEnd: s.PeriodEnd,
		Discounts: []any{}, Metadata: metadata(it.Metadata), Price: renderPrice(p), Quantity: it.Quantity,
		Subscription: s.ID, TaxRates: rates,
	}, nil
}

// ---------------------------------------------------------------------------
// Invoices.

// invoiceObject is components.schemas.invoice.
type invoiceObject struct {
	ID                           string                 `json:"id"`
	Object                       string                 `json:"object"`
	AccountCountry               *string                `json:"account_country"`
	AccountName                  *string                `json:"account_name"`
	AccountTaxIDs                any                    `json:"account_tax_ids"`
	AmountDue                    int64                  `json:"amount_due"`
	AmountOverpaid               int64                  `json:"amount_overpaid"`
	AmountPaid                   int64                  `json:"amount_paid"`
	AmountPaidOffStripe          int64                  `json:"amount_paid_off_stripe"`
	AmountRemaining              int64                  `json:"amount_remaining"`
	AmountShipping               int64                  `json:"amount_shipping"`
	Application                  any                    `json:"application"`
	AttemptCount                 int                    `json:"attempt_count"`
	Attempted                    bool                   `json:"attempted"`
	AutoAdvance                  bool                   `json:"auto_advance"`
	AutomaticTax                 invoiceAutomaticTax    `json:"automatic_tax"`
	AutomaticallyFinalizesAt     *int64                 `json:"automatically_finalizes_at"`
	BillingReason                string                 `json:"billing_reason"`
	CollectionMethod             string                 `json:"collection_method"`
	Created                      int64                  `json:"created"`
	Currency                     string                 `json:"currency"`
	CustomFields                 any                    `json:"custom_fields"`
	Customer                     any                    `json:"customer"`
	CustomerAccount              *string                `json:"customer_account"`
	CustomerAddress              any                    `json:"customer_address"`
	CustomerEmail                *string                `json:"customer_email"`
	CustomerName                 *string                `json:"customer_name"`
	CustomerPhone                *string                `json:"customer_phone"`
	CustomerShipping             any                    `json:"customer_shipping"`
	CustomerTaxExempt            string                 `json:"customer_tax_exempt"`
	CustomerTaxIDs               []any                  `json:"customer_tax_ids"`
	DefaultPaymentMethod         any                    `json:"default_payment_method"`
	DefaultSource                any                    `json:"default_source"`
	DefaultTaxRates              []any                  `json:"default_tax_rates"`
	Description                  *string                `json:"description"`
	Discounts                    []any                  `json:"discounts"`
	DueDate                      *int64                 `json:"due_date"`
	EffectiveAt                  *int64                 `json:"effective_at"`
	EndingBalance                *int64                 `json:"ending_balance"`
	Footer                       *string                `json:"footer"`
	FromInvoice                  any                    `json:"from_invoice"`
	HostedInvoiceURL             *string                `json:"hosted_invoice_url"`
	InvoicePDF                   *string                `json:"invoice_pdf"`
	Issuer                       accountRef             `json:"issuer"`
	LastFinalizationError        any                    `json:"last_finalization_error"`
	LatestRevision               any                    `json:"latest_revision"`
	Lines                        lineItemList           `json:"lines"`
	Livemode                     bool                   `json:"livemode"`
	Metadata                     map[string]string      `json:"metadata"`
	NextPaymentAttempt           *int64                 `json:"next_payment_attempt"`
	Number                       *string                `json:"number"`
	OnBehalfOf                   any                    `json:"on_behalf_of"`
	Parent                       *invoiceParent         `json:"parent"`
	PaymentSettings              invoicePaymentSettings `json:"payment_settings"`
	Payments                     *invoicePaymentList    `json:"payments,omitempty"`
	PeriodEnd                    int64                  `json:"period_end"`
	PeriodStart                  int64                  `json:"period_start"`
	PostPaymentCreditNotesAmount int64                  `json:"post_payment_credit_notes_amount"`
	PrePaymentCreditNotesAmount  int64                  `json:"pre_payment_credit_notes_amount"`
	ReceiptNumber                *string                `json:"receipt_number"`
	Rendering                    any                    `json:"rendering"`
	ShippingCost                 any                    `json:"shipping_cost"`
	ShippingDetails              any                    `json:"shipping_details"`
	StartingBalance              int64                  `json:"starting_balance"`
	StatementDescriptor          *string                `json:"statement_descriptor"`
	Status                       string                 `json:"status"`
	StatusTransitions            statusTransitions      `json:"status_transitions"`
	Subtotal                     int64                  `json:"subtotal"`
	SubtotalExcludingTax         int64                  `json:"subtotal_excluding_tax"`
	TestClock                    any                    `json:"test_clock"`
	Total                        int64                  `json:"total"`
	TotalDiscountAmounts         []any                  `json:"total_discount_amounts"`
	TotalExcludingTax            int64                  `json:"total_excluding_tax"`
	TotalPretaxCreditAmounts     []any                  `json:"total_pretax_credit_amounts"`
	TotalTaxes                   []any                  `json:"total_taxes"`
	WebhooksDeliveredAt          *int64                 `json:"webhooks_delivered_at"`
}

// invoiceAutomaticTax is automatic_tax (the invoice's).
type invoiceAutomaticTax struct {
	DisabledReason *string `json:"disabled_reason"`
	Enabled        bool    `json:"enabled"`
	Liability      any     `json:"liability"`
	Provider       *string `json:"provider"`
	Status         *string `json:"status"`
}

// invoiceParent is billing_bill_resource_invoicing_parents_invoice_parent.
type invoiceParent struct {
	Type                string                     `json:"type"`
	QuoteDetails        any                        `json:"quote_details"`
	SubscriptionDetails *invoiceSubscriptionParent `json:"subscription_details"`
}

type invoiceSubscriptionParent struct {
	Metadata     map[string]string `json:"metadata"`
	Subscription any               `json:"subscription"`
}

// invoicePaymentSettings is invoices_payment_settings.
type invoicePaymentSettings struct {
	DefaultMandate       *string `json:"default_mandate"`
	PaymentMethodOptions any     `json:"payment_method_options"`
	PaymentMethodTypes   any     `json:"payment_method_types"`
}

// statusTransitions is invoices_resource_status_transitions.
type statusTransitions struct {
	FinalizedAt           *int64 `json:"finalized_at"`
	MarkedUncollectibleAt *int64 `json:"marked_uncollectible_at"`
	PaidAt                *int64 `json:"paid_at"`
	VoidedAt              *int64 `json:"voided_at"`
}

// lineItemList is an invoice's lines list. Its schema has no total_count.
type lineItemList struct {
	Object  string `json:"object"`
	Data    []any  `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

// renderInvoice renders an invoice with all of its lines; customer,
// test_clock and parent.subscription_details.subscription are expandable.
func renderInvoice(inv *billing.Invoice, lk renderLookup, ex expandSet) (any, error) {
	totals, err := inv.Totals()
	if err != nil {
		return nil, err
	}
	total := totals.Total
	defaultRates, err := renderTaxRates(inv.DefaultTaxRates, lk)
	if err != nil {
		return nil, err
	}
	o := &invoiceObject{
		ID: invoiceID(inv), Object: "invoice",
		AmountDue:            inv.AmountDue(),
		AmountPaid:           inv.AmountPaid,
		AttemptCount:         inv.AttemptCount,
		Attempted:            inv.Attempted || inv.AttemptCount > 0,
		AutoAdvance:          inv.AutoAdvance,
		BillingReason:        string(inv.BillingReason),
		CollectionMethod:     collectionMethod(inv.CollectionMethod),
		Created:              inv.Created,
		Description:          nullString(inv.Description),
		DueDate:              nullTime(inv.DueDate),
		Footer:               nullString(inv.Footer),
		Currency:             inv.Currency,
		CustomerTaxExempt:    "none",
		CustomerTaxIDs:       []any{},
		DefaultTaxRates:      defaultRates,
		Discounts:            renderDiscountList(inv.Discounts, ex, "discounts"),
		EffectiveAt:          nullTime(inv.FinalizedAt),
		Issuer:               selfAccount,
		Lines:                lineItemList{Object: "list", Data: make([]any, 0, len(inv.Lines)), URL: "/v1/invoices/" + invoiceID(inv) + "/lines"},
		Metadata:             metadata(inv.Metadata),
		Number:               nullString(inv.Number),
		PeriodEnd:            inv.PeriodEnd,
		PeriodStart:          inv.PeriodStart,
		Status:               string(inv.Status),
		Subtotal:             totals.Subtotal,
		SubtotalExcludingTax: totals.SubtotalExcludingTax,
		StatusTransitions: statusTransitions{FinalizedAt: nullTime(inv.FinalizedAt), PaidAt: nullTime(inv.PaidAt),
			VoidedAt: nullTime(inv.VoidedAt), MarkedUncollectibleAt: nullTime(inv.MarkedUncollectibleAt)},
		Total:                    total,
		TotalDiscountAmounts:     renderDiscountAmounts(totals.Discounts),
		TotalExcludingTax:        totals.TotalExcludingTax,
		TotalPretaxCreditAmounts: []any{},
		TotalTaxes:               renderTaxes(totals.Taxes),
		// No webhook endpoint holds an invoice up: Stripe stamps the
		// creation time.
		WebhooksDeliveredAt: nullTime(inv.Created),
	}
	if inv.Status == billing.InvoiceDraft && inv.AutoAdvance && inv.AutomaticallyFinalizesAt != 0 {
		o.AutomaticallyFinalizesAt = nullTime(inv.AutomaticallyFinalizesAt)
		o.NextPaymentAttempt = nullTime(inv.AutomaticallyFinalizesAt)
	}
	if inv.Status != billing.InvoiceDraft {
		ending := inv.EndingBalance
		o.StartingBalance, o.EndingBalance = inv.StartingBalance, &ending
		o.NextPaymentAttempt = nullTime(inv.NextPaymentAttempt)
	}
	if inv.PaidOutOfBand {
		o.AmountPaidOffStripe = inv.AmountPaid
	}
	o.HostedInvoiceURL, o.InvoicePDF = invoiceLinks(inv, lk)
	if inv.SentForPayment() {
		o.NextPaymentAttempt = nil // the customer pays it: nothing is attempted
	}
	cust, err := lk.Customer(inv.Customer)
	switch {
	case err == nil && cust != nil:
		o.CustomerEmail, o.CustomerName = nullString(cust.Email), nullString(cust.Name)
		o.CustomerAddress, o.CustomerPhone, o.CustomerShipping = renderAddress(cust.Address), nullString(cust.Phone), renderShipping(cust.Shipping)
		o.CustomerTaxExempt = taxExempt(cust.TaxExempt)
		if inv.Status == billing.InvoiceDraft {
			// A draft shows the customer's balance as it would apply now.
			if cust.BalanceCurrency == "" || cust.BalanceCurrency == inv.Currency {
				o.StartingBalance = cust.Balance
			}
			o.AmountDue, _ = billing.ApplyBalance(total, o.StartingBalance)
		}
	case err != nil && !isMissing(err):
		return nil, err
	}
	o.AmountRemaining = o.AmountDue - o.AmountPaid
	if ex["payments"] {
		if o.Payments, err = renderInvoicePayments(inv, lk); err != nil {
			return nil, err
		}
	}
	if o.Customer, err = expandCustomer(ex, "customer", inv.Customer, lk); err != nil {
		return nil, err
	}
	if o.TestClock, err = expandClock(ex, "test_clock", inv.Clock, lk); err != nil {
		return nil, err
	}
	if inv.Subscription != "" {
		parent := &invoiceSubscriptionParent{Metadata: map[string]string{}}
		sub, err := lk.Subscription(inv.Subscription)
		switch {
		case err == nil && sub != nil:
			// Stripe snapshots the subscription's metadata; the engine
			// does not, so this is its metadata now.
			parent.Metadata = metadata(sub.Metadata)
		case err != nil && !isMissing(err):
			return nil, err
		}
		const field = "parent.subscription_details.subscription"
		parent.Subscription, err = expandable(ex, field, inv.Subscription, func() (any, error) {
			if sub == nil {
				return nil, nil
			}
			return renderSubscription(sub, lk, nil)
		})
		if err != nil {
			return nil, err
		}
		o.Parent = &invoiceParent{Type: "subscription_details", SubscriptionDetails: parent}
	}
	for _, l := range inv.Lines {
		line, err := renderInvoiceLine(l, inv, lk)
		if err != nil {
			return nil, err
		}
		o.Lines.Data = append(o.Lines.Data, line)
	}
	return o, nil
}

// lineItemObject is components.schemas.line_item.
type lineItemObject struct {
	ID                  string            `json:"id"`
	Object              string            `json:"object"`
	Amount              int64             `json:"amount"`
	Currency            string            `json:"currency"`
	Description         *string           `json:"description"`
	DiscountAmounts     []any             `json:"discount_amounts"`
	Discountable        bool              `json:"discountable"`
	Discounts           []any             `json:"discounts"`
	Invoice             *string           `json:"invoice"`
	Livemode            bool              `json:"livemode"`
	Metadata            map[string]string `json:"metadata"`
	Parent              *lineParent       `json:"parent"`
	Period              period            `json:"period"`
	PretaxCreditAmounts []any             `json:"pretax_credit_amounts"`
	Pricing             *pricing          `json:"pricing"`
	Quantity            *int64            `json:"quantity"`
	QuantityDecimal     *string           `json:"quantity_decimal"`
	Subscription        *string           `json:"subscription"`
	Subtotal            int64             `json:"subtotal"`
	Taxes               []any             `json:"taxes"`
}

// period is invoice_line_item_period.
type period struct {
	End   int64 `json:"end"`
	Start int64 `json:"start"`
}

// lineParent is
// billing_bill_resource_invoicing_lines_parents_invoice_line_item_parent.
type lineParent struct {
	Type                    string                 `json:"type"`
	InvoiceItemDetails      *lineInvoiceItemParent `json:"invoice_item_details"`
	SubscriptionItemDetails *lineSubItemParent     `json:"subscription_item_details"`
}

type lineSubItemParent struct {
	InvoiceItem      *string          `json:"invoice_item"`
	Proration        bool             `json:"proration"`
	ProrationDetails prorationCredits `json:"proration_details"`
	Subscription     *string          `json:"subscription"`
	SubscriptionItem string           `json:"subscription_item"`
}

type lineInvoiceItemParent struct {
	InvoiceItem      string           `json:"invoice_item"`
	Proration        bool             `json:"proration"`
	ProrationDetails prorationCredits `json:"proration_details"`
	Subscription     *string          `json:"subscription"`
}

// prorationCredits is
// billing_bill_resource_invoicing_lines_common_proration_details; the
// engine does not track which earlier lines a credit refers to.
type prorationCredits struct {
	CreditedItems any `json:"credited_items"`
}

// pricing is billing_bill_resource_invoicing_pricing_pricing.
type pricing struct {
	Type              string       `json:"type"`
	PriceDetails      priceDetails `json:"price_details"`
	UnitAmountDecimal *string      `json:"unit_amount_decimal"`
}

type priceDetails struct {
	Price   string `json:"price"`
	Product string `json:"product"`
}

// renderPricing renders the pricing of a line or invoice item billing
// quantity × price for amount: null without a (known) price. A whole
// period is billed at the price's unit amount; a proration at its share,
// amount / quantity.
func renderPricing(priceID string, amount, quantity int64, proration bool, lk renderLookup) (*pricing, error) {
	if priceID == "" {
		return nil, nil
	}
	p, err := lk.Price(priceID)
	if isMissing(err) || (err == nil && p == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	unit := strconv.FormatInt(p.UnitAmount, 10)
	if proration && quantity > 0 {
		unit = decimalString(big.NewRat(amount, quantity))
	}
	return &pricing{Type: "price_details", PriceDetails: priceDetails{Price: p.ID, Product: p.Product},
		UnitAmountDecimal: &unit}, nil
}

// decimalString renders r with at most 12 decimal places, as Stripe's
// decimal strings have, without trailing zeros.
func decimalString(r *big.Rat) string {
	s := r.FloatString(12)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// renderInvoiceLine renders a line of inv. A line billing a subscription
// item (directly or through a proration invoice item) has a
// subscription_item_details parent, one from any other invoice item an
// invoice_item_details parent; lk finds the price's product.
func renderInvoiceLine(l billing.InvoiceLine, inv *billing.Invoice, lk renderLookup) (any, error) {
	pr, err := renderPricing(l.Price, l.Amount, l.Quantity, l.Proration, lk)
	if err != nil {
		return nil, err
	}
	qty := l.Quantity
	qtyDecimal := strconv.FormatInt(l.Quantity, 10)
	o := &lineItemObject{
		ID: lineID(l, inv), Object: "line_item", Amount: l.Amount, Currency: inv.Currency,
		Description:         describeLine(l.Billed, l.Description, l.Quantity, l.PeriodStart, inv.Currency),
		DiscountAmounts:     renderDiscountAmounts(l.DiscountAmounts),
		Discountable:        lineDiscountable(l),
		Discounts:           discountIDs(l.Discounts),
		Invoice:             nullString(invoiceID(inv)),
		Metadata:            map[string]string{},
		Period:              period{Start: l.PeriodStart, End: l.PeriodEnd},
		PretaxCreditAmounts: []any{},
		Pricing:             pr,
		Quantity:            &qty,
		QuantityDecimal:     &qtyDecimal,
		Subtotal:            l.Amount,
		Taxes:               renderTaxes(l.Taxes),
	}
	switch {
	case l.SubscriptionItem != "":
		// The invoice's subscription: the engine records no other for a line.
		o.Subscription = nullString(inv.Subscription)
		o.Parent = &lineParent{Type: "subscription_item_details", SubscriptionItemDetails: &lineSubItemParent{
			InvoiceItem: nullString(l.InvoiceItem), Proration: l.Proration, Subscription: o.Subscription,
			SubscriptionItem: l.SubscriptionItem,
		}}
	case l.InvoiceItem != "":
		o.Parent = &lineParent{Type: "invoice_item_details", InvoiceItemDetails: &lineInvoiceItemParent{
			InvoiceItem: l.InvoiceItem, Proration: l.Proration,
		}}
	}
	return o, nil
}

// ---------------------------------------------------------------------------
// Invoice items.

// invoiceItemObject is components.schemas.invoiceitem.
type invoiceItemObject struct {
	ID               string                  `json:"id"`
	Object           string                  `json:"object"`
	Amount           int64                   `json:"amount"`
	Currency         string                  `json:"currency"`
	Customer         string                  `json:"customer"`
	CustomerAccount  *string                 `json:"customer_account"`
	Date             int64                   `json:"date"`
	Description      *string                 `json:"description"`
	Discountable     bool                    `json:"discountable"`
	Discounts        []any                   `json:"discounts"`
	Invoice          *string                 `json:"invoice"`
	Livemode         bool                    `json:"livemode"`
	Metadata         map[string]string       `json:"metadata"`
	NetAmount        int64                   `json:"net_amount"`
	Parent           *invoiceItemParent      `json:"parent"`
	Period           period                  `json:"period"`
	Pricing          *pricing                `json:"pricing"`
	Proration        bool                    `json:"proration"`
	ProrationDetails invoiceItemProrationDet `json:"proration_details"`
	Quantity         int64                   `json:"quantity"`
	QuantityDecimal  string                  `json:"quantity_decimal"`
	TaxRates         []any                   `json:"tax_rates"`
	TestClock        *string                 `json:"test_clock"`
}

// invoiceItemParent is
// billing_bill_resource_invoice_item_parents_invoice_item_parent.
type invoiceItemParent struct {
	Type                string                    `json:"type"`
	SubscriptionDetails *invoiceItemSubscriptions `json:"subscription_details"`
}

type invoiceItemSubscriptions struct {
	Subscription     string `json:"subscription"`
	SubscriptionItem string `json:"subscription_item,omitempty"`
}

// invoiceItemProrationDet is proration_details (the invoice item's).
type invoiceItemProrationDet struct {
	CreditedItems   any   `json:"credited_items"`
	DiscountAmounts []any `json:"discount_amounts"`
}

// renderInvoiceItem renders an invoice item; invoice is null while it is
// pending. lk finds the price's product.
func renderInvoiceItem(ii *billing.InvoiceItem, lk renderLookup) (any, error) {
	pr, err := renderPricing(ii.Price, ii.Amount, ii.Quantity, ii.Proration, lk)
	if err != nil {
		return nil, err
	}
	rates, err := renderTaxRates(ii.TaxRates, lk)
	if err != nil {
		return nil, err
	}
	o := &invoiceItemObject{
		ID: ii.ID, Object: "invoiceitem", Amount: ii.Amount, Currency: ii.Currency, Customer: ii.Customer,
		Date: ii.Date, Description: describeLine(ii.Billed, ii.Description, ii.Quantity, ii.PeriodStart, ii.Currency),
		Discountable: ii.Discountable, Discounts: discountIDs(ii.Discounts),
		Invoice: nullString(ii.Invoice), Metadata: metadata(ii.Metadata), NetAmount: itemNetAmount(ii),
		Period: period{Start: ii.PeriodStart, End: ii.PeriodEnd}, Pricing: pr, Proration: ii.Proration,
		ProrationDetails: invoiceItemProrationDet{DiscountAmounts: []any{}},
		Quantity:         ii.Quantity, QuantityDecimal: strconv.FormatInt(ii.Quantity, 10),
		TaxRates: rates, TestClock: nullString(ii.Clock),
	}
	if ii.Subscription != "" {
		o.Parent = &invoiceItemParent{Type: "subscription_details", SubscriptionDetails: &invoiceItemSubscriptions{
			Subscription: ii.Subscription, SubscriptionItem: ii.SubscriptionItem,
		}}
	}
	return o, nil
}
