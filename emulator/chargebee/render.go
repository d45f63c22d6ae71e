package chargebee

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
)

// This file renders the engine's objects in Chargebee's shapes: customer,
// card, subscription, invoice (with its line items, payments, credits and
// dunning attempts), transaction and credit note. Amounts are in the
// currency's smallest unit, times in Unix seconds, currencies upper case.

// Metadata keys of customers and subscriptions: Chargebee's fields the
// engine's objects do not have. Chargebee has no user metadata besides
// meta_data, which is kept whole under mdMetaData.
const (
	mdFirstName = "first_name"
	mdLastName  = "last_name"
	mdCompany   = "company"
	mdPhone     = "phone"
	mdMetaData  = "meta_data"
	// mdIIN keeps a card's first six digits.
	mdIIN = "iin"
)

const gatewayAccountID = "gw_billclock_test"

// lookup is what renderers read related objects through: the site's
// ledger.
type lookup interface {
	Customer(id string) (*billing.Customer, error)
	Subscription(id string) (*billing.Subscription, error)
	Invoice(id string) (*billing.Invoice, error)
	Price(id string) (*billing.Price, error)
	PaymentMethod(id string) (*billing.PaymentMethod, error)
	PendingInvoiceItems(customer string) ([]*billing.InvoiceItem, error)
	Get(collection, resource, id string, v any) error
}

func metaData(m map[string]string) json.RawMessage {
	if v := m[mdMetaData]; v != "" {
		return json.RawMessage(v)
	}
	return nil
}

type customerObject struct {
	ID                     string          `json:"id"`
	FirstName              string          `json:"first_name,omitempty"`
	LastName               string          `json:"last_name,omitempty"`
	Email                  string          `json:"email,omitempty"`
	Phone                  string          `json:"phone,omitempty"`
	Company                string          `json:"company,omitempty"`
	AutoCollection         string          `json:"auto_collection"`
	NetTermDays            int             `json:"net_term_days"`
	AllowDirectDebit       bool            `json:"allow_direct_debit"`
	CreatedAt              int64           `json:"created_at"`
	Taxability             string          `json:"taxability"`
	UpdatedAt              int64           `json:"updated_at"`
	PIICleared             string          `json:"pii_cleared"`
	Channel                string          `json:"channel"`
	ResourceVersion        int64           `json:"resource_version"`
	Deleted                bool            `json:"deleted"`
	Object                 string          `json:"object"`
	CardStatus             string          `json:"card_status"`
	PrimaryPaymentSourceID string          `json:"primary_payment_source_id,omitempty"`
	PaymentMethod          *paymentMethod  `json:"payment_method,omitempty"`
	PromotionalCredits     int64           `json:"promotional_credits"`
	RefundableCredits      int64           `json:"refundable_credits"`
	ExcessPayments         int64           `json:"excess_payments"`
	UnbilledCharges        int64           `json:"unbilled_charges"`
	PreferredCurrencyCode  string          `json:"preferred_currency_code"`
	MetaData               json.RawMessage `json:"meta_data,omitempty"`
}

// paymentMethod is a customer's primary payment method, as the customer
// shows it.
type paymentMethod struct {
	Object           string `json:"object"`
	Type             string `json:"type"`
	ReferenceID      string `json:"reference_id"`
	Gateway          string `json:"gateway"`
	GatewayAccountID string `json:"gateway_account_id"`
	Status           string `json:"status"`
}

// updatedAt is when a customer last changed, kept in its metadata by
// the customer routes.
const mdUpdatedAt = "updated_at"

func renderCustomer(c *billing.Customer, lk lookup) (*customerObject, error) {
	o := &customerObject{ID: c.ID, FirstName: c.Metadata[mdFirstName], LastName: c.Metadata[mdLastName], Email: c.Email,
		Phone: c.Metadata[mdPhone], Company: c.Metadata[mdCompany], AutoCollection: "on", CreatedAt: c.Created,
		Taxability: "taxable", UpdatedAt: c.Created, PIICleared: "active", Channel: "web", Object: "customer",
		CardStatus: "no_card", PreferredCurrencyCode: "USD", MetaData: metaData(c.Metadata)}
	if u, ok := parseInt(c.Metadata[mdUpdatedAt]); ok {
		o.UpdatedAt = u
	}
	o.ResourceVersion = o.UpdatedAt * 1000
	if c.BalanceCurrency != "" {
		o.PreferredCurrencyCode = strings.ToUpper(c.BalanceCurrency)
	}
	if c.Balance < 0 {
		o.RefundableCredits = -c.Balance
	}
	pending, err := lk.PendingInvoiceItems(c.ID)
	if err != nil {
		return nil, err
	}
	// Pending charges and credits of changes are billed together on the
	// next invoice: their sum is unbilled, or credit when negative.
	var sum int64
	for _, ii := range pending {
		sum += ii.Amount
	}
	if sum > 0 {
		o.UnbilledCharges = sum
	} else {
		o.RefundableCredits -= sum
	}
	if c.DefaultPaymentMethod != "" {
		o.CardStatus = "valid"
		o.PrimaryPaymentSourceID = c.DefaultPaymentMethod
		o.PaymentMethod = &paymentMethod{Object: "payment_method", Type: "card", ReferenceID: "tok_" + c.DefaultPaymentMethod,
			Gateway: "chargebee", GatewayAccountID: gatewayAccountID, Status: "valid"}
	}
	return o, nil
}

type cardObject struct {
	Status           string `json:"status"`
	Gateway          string `json:"gateway"`
	GatewayAccountID string `json:"gateway_account_id"`
	FirstName        string `json:"first_name,omitempty"`
	LastName         string `json:"last_name,omitempty"`
	IIN              string `json:"iin"`
	Last4            string `json:"last4"`
	CardType         string `json:"card_type"`
	FundingType      string `json:"funding_type"`
	ExpiryMonth      int    `json:"expiry_month"`
	ExpiryYear       int    `json:"expiry_year"`
	MaskedNumber     string `json:"masked_number"`
	Object           string `json:"object"`
	CustomerID       string `json:"customer_id"`
	PaymentSourceID  string `json:"payment_source_id"`
	CreatedAt        int64  `json:"created_at"`
	UpdatedAt        int64  `json:"updated_at"`
	ResourceVersion  int64  `json:"resource_version"`
}

// renderCard renders a stored card; now (the site's time) tells an
// expired card.
func renderCard(pm *billing.PaymentMethod, now int64) *cardObject {
	o := &cardObject{Status: "valid", Gateway: "chargebee", GatewayAccountID: gatewayAccountID,
		FirstName: pm.Metadata[mdFirstName], LastName: pm.Metadata[mdLastName], IIN: pm.Metadata[mdIIN], Last4: pm.Card.Last4,
		CardType: pm.Card.Brand, FundingType: pm.Card.Funding, ExpiryMonth: pm.Card.ExpMonth, ExpiryYear: pm.Card.ExpYear,
		MaskedNumber: strings.Repeat("*", 12) + pm.Card.Last4, Object: "card", CustomerID: pm.Customer,
		PaymentSourceID: pm.ID, CreatedAt: pm.Created, UpdatedAt: pm.Created, ResourceVersion: pm.Created * 1000}
	t := time.Unix(now, 0).UTC()
	if pm.Card.ExpYear < t.Year() || pm.Card.ExpYear == t.Year() && pm.Card.ExpMonth < int(t.Month()) {
		o.Status = "expired"
	}
	return o
}

// customerCard is the customer's card, or nil.
func customerCard(c *billing.Customer, lk lookup, now int64) (*cardObject, error) {
	if c.DefaultPaymentMethod == "" {
		return nil, nil
	}
	pm, err := lk.PaymentMethod(c.DefaultPaymentMethod)
	if err != nil {
		return nil, err
	}
	return renderCard(pm, now), nil
}

type subscriptionItemObject struct {
	ItemPriceID  string `json:"item_price_id"`
	ItemType     string `json:"item_type"`
	Quantity     int64  `json:"quantity"`
	UnitPrice    int64  `json:"unit_price"`
	Amount       int64  `json:"amount"`
	FreeQuantity int64  `json:"free_quantity"`
	Object       string `json:"object"`
}

type subscriptionObject struct {
	ID                  string                   `json:"id"`
	BillingPeriod       int                      `json:"billing_period"`
	BillingPeriodUnit   string                   `json:"billing_period_unit"`
	CustomerID          string                   `json:"customer_id"`
	Status              string                   `json:"status"`
	CurrentTermStart    int64                    `json:"current_term_start,omitempty"`
	CurrentTermEnd      int64                    `json:"current_term_end,omitempty"`
	NextBillingAt       int64                    `json:"next_billing_at,omitempty"`
	TrialStart          int64                    `json:"trial_start,omitempty"`
	TrialEnd            int64                    `json:"trial_end,omitempty"`
	CreatedAt           int64                    `json:"created_at"`
	StartedAt           int64                    `json:"started_at"`
	ActivatedAt         int64                    `json:"activated_at,omitempty"`
	CancelledAt         int64                    `json:"cancelled_at,omitempty"`
	CancelReason        string                   `json:"cancel_reason,omitempty"`
	UpdatedAt           int64                    `json:"updated_at"`
	HasScheduledChanges bool                     `json:"has_scheduled_changes"`
	Channel             string                   `json:"channel"`
	ResourceVersion     int64                    `json:"resource_version"`
	Deleted             bool                     `json:"deleted"`
	Object              string                   `json:"object"`
	CurrencyCode        string                   `json:"currency_code"`
	SubscriptionItems   []subscriptionItemObject `json:"subscription_items"`
	DueInvoicesCount    int                      `json:"due_invoices_count"`
	DueSince            int64                    `json:"due_since,omitempty"`
	TotalDues           int64                    `json:"total_dues,omitempty"`
	MetaData            json.RawMessage          `json:"meta_data,omitempty"`
}

// subscriptionStatus is Chargebee's status of sub: it has no past_due
// (a subscription whose invoice is in dunning stays active).
func subscriptionStatus(sub *billing.Subscription) string {
	switch sub.Status {
	case billing.StatusCanceled, billing.StatusIncompleteExpired:
		return "cancelled"
	case billing.StatusTrialing:
		return "in_trial"
	case billing.StatusPaused:
		return "paused"
	}
	if sub.CancelAtPeriodEnd || sub.CancelAt != 0 {
		return "non_renewing"
	}
	return "active"
}

func renderSubscription(sub *billing.Subscription, lk lookup) (*subscriptionObject, error) {
	o := &subscriptionObject{ID: sub.ID, BillingPeriod: sub.Interval.Count, BillingPeriodUnit: string(sub.Interval.Unit),
		CustomerID: sub.Customer, Status: subscriptionStatus(sub), CurrentTermStart: sub.PeriodStart,
		CurrentTermEnd: sub.PeriodEnd, TrialStart: sub.TrialStart, TrialEnd: sub.TrialEnd, CreatedAt: sub.Created,
		StartedAt: sub.StartDate, Channel: "web", Object: "subscription", CurrencyCode: strings.ToUpper(sub.Currency),
		SubscriptionItems: []subscriptionItemObject{}, MetaData: metaData(sub.Metadata)}
	o.UpdatedAt = max(sub.Created, sub.PeriodStart, sub.EndedAt, sub.CanceledAt)
	o.ResourceVersion = o.UpdatedAt * 1000
	switch o.Status {
	case "active":
		o.NextBillingAt = sub.PeriodEnd
	case "in_trial":
		o.NextBillingAt = sub.TrialEnd
	case "non_renewing":
		o.CancelledAt = sub.PeriodEnd
		if sub.CancelAt != 0 {
			o.CancelledAt = sub.CancelAt
		}
		o.HasScheduledChanges = false
	case "cancelled":
		o.CancelledAt = sub.EndedAt
		if sub.CancellationReason == billing.CancelPaymentFailed {
			o.CancelReason = "not_paid"
		}
	}
	if sub.Status != billing.StatusTrialing {
		o.ActivatedAt = sub.StartDate
		if sub.TrialEnd != 0 {
			o.ActivatedAt = sub.TrialEnd
		}
	}
	for _, it := range sub.Items {
		p, err := lk.Price(it.Price)
		if err != nil {
			return nil, err
		}
		qty := it.Quantity
		if p.Metadata[mdPricingModel] == flatFee {
			qty = 1
		}
		o.SubscriptionItems = append(o.SubscriptionItems, subscriptionItemObject{ItemPriceID: p.ID,
			ItemType: p.Metadata[mdItemType], Quantity: qty, UnitPrice: p.UnitAmount, Amount: p.UnitAmount * qty,
			Object: "subscription_item"})
	}
	// Dues: the subscription's latest invoice, while it is to be paid.
	if sub.LatestInvoice != "" {
		inv, err := lk.Invoice(sub.LatestInvoice)
		if err != nil {
			return nil, err
		}
		if inv.Status == billing.InvoiceOpen || inv.Status == billing.InvoiceUncollectible {
			o.DueInvoicesCount, o.DueSince, o.TotalDues = 1, inv.FinalizedAt, inv.AmountDue()-inv.AmountPaid
		}
	}
	return o, nil
}

type lineItemObject struct {
	ID                      string `json:"id"`
	DateFrom                int64  `json:"date_from"`
	DateTo                  int64  `json:"date_to"`
	UnitAmount              int64  `json:"unit_amount"`
	Quantity                int64  `json:"quantity"`
	Amount                  int64  `json:"amount"`
	PricingModel            string `json:"pricing_model"`
	IsTaxable               bool   `json:"is_taxable"`
	TaxAmount               int64  `json:"tax_amount"`
	Object                  string `json:"object"`
	SubscriptionID          string `json:"subscription_id,omitempty"`
	CustomerID              string `json:"customer_id"`
	Description             string `json:"description"`
	EntityType              string `json:"entity_type"`
	EntityID                string `json:"entity_id"`
	DiscountAmount          int64  `json:"discount_amount"`
	ItemLevelDiscountAmount int64  `json:"item_level_discount_amount"`
}

type linkedPayment struct {
	TxnID         string `json:"txn_id"`
	AppliedAmount int64  `json:"applied_amount"`
	AppliedAt     int64  `json:"applied_at"`
	TxnStatus     string `json:"txn_status"`
	TxnDate       int64  `json:"txn_date"`
	TxnAmount     int64  `json:"txn_amount"`
}

type appliedCredit struct {
	CnID          string `json:"cn_id"`
	AppliedAmount int64  `json:"applied_amount"`
	AppliedAt     int64  `json:"applied_at"`
	CnReasonCode  string `json:"cn_reason_code"`
	CnDate        int64  `json:"cn_date"`
	CnStatus      string `json:"cn_status"`
}

type dunningAttempt struct {
	Attempt       int    `json:"attempt"`
	TransactionID string `json:"transaction_id"`
	DunningType   string `json:"dunning_type"`
	CreatedAt     int64  `json:"created_at"`
	TxnStatus     string `json:"txn_status"`
	TxnAmount     int64  `json:"txn_amount"`
}

type invoiceObject struct {
	ID                    string           `json:"id"`
	CustomerID            string           `json:"customer_id"`
	SubscriptionID        string           `json:"subscription_id,omitempty"`
	Recurring             bool             `json:"recurring"`
	Status                string           `json:"status"`
	PriceType             string           `json:"price_type"`
	Date                  int64            `json:"date"`
	DueDate               int64            `json:"due_date"`
	NetTermDays           int              `json:"net_term_days"`
	ExchangeRate          float64          `json:"exchange_rate"`
	Total                 int64            `json:"total"`
	AmountPaid            int64            `json:"amount_paid"`
	AmountAdjusted        int64            `json:"amount_adjusted"`
	WriteOffAmount        int64            `json:"write_off_amount"`
	CreditsApplied        int64            `json:"credits_applied"`
	AmountDue             int64            `json:"amount_due"`
	PaidAt                int64            `json:"paid_at,omitempty"`
	DunningStatus         string           `json:"dunning_status,omitempty"`
	NextRetryAt           int64            `json:"next_retry_at,omitempty"`
	VoidedAt              int64            `json:"voided_at,omitempty"`
	UpdatedAt             int64            `json:"updated_at"`
	ResourceVersion       int64            `json:"resource_version"`
	Deleted               bool             `json:"deleted"`
	Object                string           `json:"object"`
	FirstInvoice          bool             `json:"first_invoice"`
	AmountToCollect       int64            `json:"amount_to_collect"`
	RoundOffAmount        int64            `json:"round_off_amount"`
	HasAdvanceCharges     bool             `json:"has_advance_charges"`
	CurrencyCode          string           `json:"currency_code"`
	BaseCurrencyCode      string           `json:"base_currency_code"`
	GeneratedAt           int64            `json:"generated_at"`
	IsGifted              bool             `json:"is_gifted"`
	TermFinalized         bool             `json:"term_finalized"`
	Channel               string           `json:"channel"`
	Tax                   int64            `json:"tax"`
	SubTotal              int64            `json:"sub_total"`
	LineItems             []lineItemObject `json:"line_items"`
	LinkedPayments        []linkedPayment  `json:"linked_payments"`
	AppliedCredits        []appliedCredit  `json:"applied_credits"`
	AdjustmentCreditNotes []any            `json:"adjustment_credit_notes"`
	IssuedCreditNotes     []any            `json:"issued_credit_notes"`
	LinkedOrders          []any            `json:"linked_orders"`
	DunningAttempts       []dunningAttempt `json:"dunning_attempts"`
}

// invoiceStatus is Chargebee's status and dunning status of inv.
func invoiceStatus(inv *billing.Invoice) (status, dunning string) {
	switch inv.Status {
	case billing.InvoiceDraft:
		return "pending", ""
	case billing.InvoicePaid:
		if inv.FirstFailureAt != 0 {
			return "paid", "success"
		}
		return "paid", ""
	case billing.InvoiceVoid:
		return "voided", ""
	case billing.InvoiceUncollectible:
		return "not_paid", "exhausted"
	}
	switch {
	case inv.NextPaymentAttempt != 0:
		return "payment_due", "in_progress"
	case inv.FirstFailureAt != 0:
		return "payment_due", "exhausted"
	}
	return "payment_due", ""
}

// lineDescription words what a line bills.
func lineDescription(l *billing.InvoiceLine, p *billing.Price) string {
	name := l.ProductName
	if p != nil && p.Metadata[mdExternalName] != "" {
		name = p.Metadata[mdExternalName]
	}
	if name == "" {
		name = l.Description
	}
	switch l.Kind {
	case billing.LineProrationDebit:
		return name + " - Prorated Charges"
	case billing.LineProrationCredit:
		return name + " - Prorated Credits"
	case billing.LineTrial:
		return name + " - Trial"
	}
	return name
}

func renderInvoice(inv *billing.Invoice, lk lookup) (*invoiceObject, error) {
	status, dunning := invoiceStatus(inv)
	o := &invoiceObject{ID: inv.ID, CustomerID: inv.Customer, SubscriptionID: inv.Subscription,
		Recurring: inv.Subscription != "", Status: status, PriceType: "tax_exclusive", Date: inv.Created,
		DueDate: inv.Created, ExchangeRate: 1, DunningStatus: dunning, NextRetryAt: inv.NextPaymentAttempt,
		Object: "invoice", FirstInvoice: inv.BillingReason == billing.ReasonSubscriptionCreate,
		CurrencyCode: strings.ToUpper(inv.Currency), BaseCurrencyCode: strings.ToUpper(inv.Currency),
		GeneratedAt: inv.Created, TermFinalized: true, Channel: "web", LineItems: []lineItemObject{},
		LinkedPayments: []linkedPayment{}, AppliedCredits: []appliedCredit{}, AdjustmentCreditNotes: []any{},
		IssuedCreditNotes: []any{}, LinkedOrders: []any{}, DunningAttempts: []dunningAttempt{}}
	if inv.FinalizedAt != 0 {
		o.GeneratedAt, o.DueDate = inv.FinalizedAt, inv.FinalizedAt
	}
	for i := range inv.Lines {
		l := &inv.Lines[i]
		var p *billing.Price
		if l.Price != "" {
			if got, err := lk.Price(l.Price); err == nil {
				p = got
			}
		}
		net := l.Net()
		if net < 0 {
			cnStatus := "refunded"
			o.AppliedCredits = append(o.AppliedCredits, appliedCredit{CnID: l.InvoiceItem, AppliedAmount: -net,
				AppliedAt: o.GeneratedAt, CnReasonCode: "subscription_change", CnDate: l.PeriodStart, CnStatus: cnStatus})
			continue
		}
		li := lineItemObject{ID: l.ID, DateFrom: l.PeriodStart, DateTo: l.PeriodEnd, UnitAmount: l.UnitAmount,
			Quantity: l.Quantity, Amount: l.Amount, PricingModel: perUnit, IsTaxable: true, Object: "line_item",
			SubscriptionID: inv.Subscription, CustomerID: inv.Customer, Description: lineDescription(l, p),
			EntityType: "plan_item_price", EntityID: l.Price}
		if p != nil {
			li.PricingModel = p.Metadata[mdPricingModel]
			li.EntityType = p.Metadata[mdItemType] + "_item_price"
		}
		o.LineItems = append(o.LineItems, li)
		o.SubTotal += net
	}
	o.Total = o.SubTotal
	if inv.Status != billing.InvoiceDraft {
		o.CreditsApplied = max(o.Total-inv.AmountDue(), 0)
	}
	o.AmountPaid = inv.AmountPaid
	switch inv.Status {
	case billing.InvoicePaid:
		o.PaidAt = inv.PaidAt
	case billing.InvoiceVoid:
		o.VoidedAt = inv.VoidedAt
	case billing.InvoiceOpen, billing.InvoiceUncollectible:
		o.AmountDue = max(inv.AmountDue()-inv.AmountPaid, 0)
		o.AmountToCollect = o.AmountDue
	case billing.InvoiceDraft:
		o.AmountDue = max(o.Total, 0)
	}
	o.UpdatedAt = max(inv.Created, inv.FinalizedAt, inv.PaidAt, inv.VoidedAt, inv.MarkedUncollectibleAt)
	attempts, err := invoiceAttempts(lk, inv.ID)
	if err != nil {
		return nil, err
	}
	for i, a := range attempts {
		o.UpdatedAt = max(o.UpdatedAt, a.At)
		if a.Status == txnSuccess {
			o.LinkedPayments = append(o.LinkedPayments, linkedPayment{TxnID: a.ID, AppliedAmount: a.Amount, AppliedAt: a.At,
				TxnStatus: a.Status, TxnDate: a.At, TxnAmount: a.Amount})
		}
		if inv.FirstFailureAt != 0 && a.Automatic {
			o.DunningAttempts = append(o.DunningAttempts, dunningAttempt{Attempt: i, TransactionID: a.ID,
				DunningType: "auto_collect", CreatedAt: a.At, TxnStatus: a.Status, TxnAmount: a.Amount})
		}
	}
	o.ResourceVersion = o.UpdatedAt * 1000
	return o, nil
}

// Transaction statuses.
const (
	txnSuccess = "success"
	txnFailure = "failure"
)

type linkedInvoice struct {
	InvoiceID     string `json:"invoice_id"`
	AppliedAmount int64  `json:"applied_amount"`
	AppliedAt     int64  `json:"applied_at"`
	InvoiceDate   int64  `json:"invoice_date"`
	InvoiceTotal  int64  `json:"invoice_total"`
	InvoiceStatus string `json:"invoice_status"`
}

type transactionObject struct {
	ID               string          `json:"id"`
	CustomerID       string          `json:"customer_id"`
	SubscriptionID   string          `json:"subscription_id,omitempty"`
	GatewayAccountID string          `json:"gateway_account_id"`
	PaymentSourceID  string          `json:"payment_source_id"`
	PaymentMethod    string          `json:"payment_method"`
	Gateway          string          `json:"gateway"`
	Type             string          `json:"type"`
	Date             int64           `json:"date"`
	SettledAt        int64           `json:"settled_at,omitempty"`
	Amount           int64           `json:"amount"`
	IDAtGateway      string          `json:"id_at_gateway"`
	Status           string          `json:"status"`
	ErrorCode        string          `json:"error_code,omitempty"`
	ErrorText        string          `json:"error_text,omitempty"`
	UpdatedAt        int64           `json:"updated_at"`
	ResourceVersion  int64           `json:"resource_version"`
	Deleted          bool            `json:"deleted"`
	Object           string          `json:"object"`
	MaskedCardNumber string          `json:"masked_card_number,omitempty"`
	CurrencyCode     string          `json:"currency_code"`
	BaseCurrencyCode string          `json:"base_currency_code"`
	AmountUnused     int64           `json:"amount_unused"`
	LinkedInvoices   []linkedInvoice `json:"linked_invoices"`
	LinkedRefunds    []any           `json:"linked_refunds"`
}

// renderTransaction renders a charge, an attempt to collect inv.
func renderTransaction(ch *billing.Charge, inv *invoiceObject, lk lookup) *transactionObject {
	o := &transactionObject{ID: ch.ID, CustomerID: ch.Customer, GatewayAccountID: gatewayAccountID,
		PaymentSourceID: ch.PaymentMethod, PaymentMethod: "card", Gateway: "chargebee", Type: "payment", Date: ch.Created,
		Amount: ch.Amount, IDAtGateway: "cb_" + ch.ID, Status: txnSuccess, UpdatedAt: ch.Created,
		ResourceVersion: ch.Created * 1000, Object: "transaction", CurrencyCode: strings.ToUpper(ch.Currency),
		BaseCurrencyCode: strings.ToUpper(ch.Currency), LinkedInvoices: []linkedInvoice{}, LinkedRefunds: []any{}}
	if ch.Status == billing.ChargeFailed {
		o.Status, o.ErrorCode, o.ErrorText = txnFailure, string(ch.Failure), declineText(ch.Failure)
	} else {
		o.SettledAt = ch.Created
	}
	if pm, err := lk.PaymentMethod(ch.PaymentMethod); err == nil {
		o.MaskedCardNumber = strings.Repeat("*", 12) + pm.Card.Last4
	}
	if inv != nil {
		o.SubscriptionID = inv.SubscriptionID
		if o.Status == txnSuccess {
			o.LinkedInvoices = append(o.LinkedInvoices, linkedInvoice{InvoiceID: inv.ID, AppliedAmount: ch.Amount,
				AppliedAt: ch.Created, InvoiceDate: inv.Date, InvoiceTotal: inv.Total, InvoiceStatus: inv.Status})
		}
	}
	return o
}

type creditNoteLine struct {
	ID          string `json:"id"`
	DateFrom    int64  `json:"date_from"`
	DateTo      int64  `json:"date_to"`
	UnitAmount  int64  `json:"unit_amount"`
	Quantity    int64  `json:"quantity"`
	Amount      int64  `json:"amount"`
	Description string `json:"description"`
	EntityType  string `json:"entity_type"`
	EntityID    string `json:"entity_id"`
	Object      string `json:"object"`
}

type creditNoteObject struct {
	ID               string           `json:"id"`
	CustomerID       string           `json:"customer_id"`
	SubscriptionID   string           `json:"subscription_id,omitempty"`
	Type             string           `json:"type"`
	ReasonCode       string           `json:"reason_code"`
	CreateReasonCode string           `json:"create_reason_code"`
	Status           string           `json:"status"`
	Date             int64            `json:"date"`
	PriceType        string           `json:"price_type"`
	CurrencyCode     string           `json:"currency_code"`
	Total            int64            `json:"total"`
	AmountAllocated  int64            `json:"amount_allocated"`
	AmountRefunded   int64            `json:"amount_refunded"`
	AmountAvailable  int64            `json:"amount_available"`
	SubTotal         int64            `json:"sub_total"`
	UpdatedAt        int64            `json:"updated_at"`
	ResourceVersion  int64            `json:"resource_version"`
	Deleted          bool             `json:"deleted"`
	Object           string           `json:"object"`
	LineItems        []creditNoteLine `json:"line_items"`
}

// renderCreditNote renders a credit (a negative invoice item: what a
// decrease prorated gives back) as a refundable credit note: refund_due
// while its credit waits for the next invoice, refunded once it is
// allocated to one.
func renderCreditNote(ii *billing.InvoiceItem, lk lookup) *creditNoteObject {
	total := -ii.Amount
	o := &creditNoteObject{ID: ii.ID, CustomerID: ii.Customer, SubscriptionID: ii.Subscription, Type: "refundable",
		ReasonCode: "subscription_change", CreateReasonCode: "Subscription Change", Status: "refund_due", Date: ii.Date,
		PriceType: "tax_exclusive", CurrencyCode: strings.ToUpper(ii.Currency), Total: total, AmountAvailable: total,
		SubTotal: total, UpdatedAt: ii.Date, ResourceVersion: ii.Date * 1000, Object: "credit_note"}
	if ii.Invoice != "" {
		o.Status, o.AmountAllocated, o.AmountAvailable = "refunded", total, 0
	}
	var p *billing.Price
	if ii.Price != "" {
		p, _ = lk.Price(ii.Price)
	}
	line := billing.InvoiceLine{Billed: ii.Billed, Description: ii.Description}
	cl := creditNoteLine{ID: ii.ID, DateFrom: ii.PeriodStart, DateTo: ii.PeriodEnd, UnitAmount: ii.UnitAmount,
		Quantity: ii.Quantity, Amount: total, Description: lineDescription(&line, p), EntityType: "plan_item_price",
		EntityID: ii.Price, Object: "line_item"}
	if p != nil {
		cl.EntityType = p.Metadata[mdItemType] + "_item_price"
	}
	o.LineItems = []creditNoteLine{cl}
	return o
}
