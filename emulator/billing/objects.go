package billing

// Customer is someone who is billed. A customer on a test clock lives in the
// clock's time, and so does everything billed to them.
type Customer struct {
	ID          string            `json:"id"`
	Created     int64             `json:"created"`
	Clock       string            `json:"clock,omitempty"`
	Email       string            `json:"email,omitempty"`
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// DefaultPaymentMethod is the payment method invoices are charged to
	// (after the subscription's own).
	DefaultPaymentMethod string `json:"default_payment_method,omitempty"`
	// DefaultSource is the legacy card charged when no payment method is.
	DefaultSource string `json:"default_source,omitempty"`
	// Balance is what the customer owes (positive) or has as credit
	// (negative), in the smallest currency unit; invoices consume it.
	Balance int64 `json:"balance,omitempty"`
	// BalanceCurrency is the currency of Balance, once it has one.
	BalanceCurrency string `json:"balance_currency,omitempty"`
	// InvoicePrefix and NextInvoiceSequence number the customer's invoices.
	InvoicePrefix       string `json:"invoice_prefix"`
	NextInvoiceSequence int    `json:"next_invoice_sequence"`
	// Discount applies to the customer's invoices whose subscription has
	// no discount of its own (discounts.go).
	Discount *Discount `json:"discount,omitempty"`
	// Contact details and preferences (customers.go). Address and
	// Shipping are replaced whole, never changed in place.
	Address          *Address  `json:"address,omitempty"`
	Shipping         *Shipping `json:"shipping,omitempty"`
	Phone            string    `json:"phone,omitempty"`
	PreferredLocales []string  `json:"preferred_locales,omitempty"`
	TaxExempt        TaxExempt `json:"tax_exempt,omitempty"`
	// InvoiceFooter is the footer the customer's invoices made by hand
	// get unless they are given their own.
	InvoiceFooter string `json:"invoice_footer,omitempty"`
}

// Product is something sold.
type Product struct {
	ID           string            `json:"id"`
	Created      int64             `json:"created"`
	Updated      int64             `json:"updated"`
	Name         string            `json:"name"`
	Description  string            `json:"description,omitempty"`
	Active       bool              `json:"active"`
	DefaultPrice string            `json:"default_price,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// Price is what a product costs, once or per interval.
type Price struct {
	ID         string `json:"id"`
	Created    int64  `json:"created"`
	Product    string `json:"product"`
	Currency   string `json:"currency"`
	UnitAmount int64  `json:"unit_amount"`
	// Recurring is nil for a one-time price.
	Recurring *Interval         `json:"recurring,omitempty"`
	Active    bool              `json:"active"`
	LookupKey string            `json:"lookup_key,omitempty"`
	Nickname  string            `json:"nickname,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	// Deleted prices cannot be looked up or subscribed to any more; the
	// subscriptions that have them go on billing them.
	Deleted bool `json:"deleted,omitempty"`
}

// SubscriptionStatus is where a subscription is in its life.
type SubscriptionStatus string

// Subscription statuses.
const (
	StatusActive            SubscriptionStatus = "active"
	StatusTrialing          SubscriptionStatus = "trialing"
	StatusCanceled          SubscriptionStatus = "canceled"
	StatusIncomplete        SubscriptionStatus = "incomplete"
	StatusIncompleteExpired SubscriptionStatus = "incomplete_expired"
	StatusPastDue           SubscriptionStatus = "past_due"
	StatusUnpaid            SubscriptionStatus = "unpaid"
	StatusPaused            SubscriptionStatus = "paused"
)

// Subscription bills a customer for its items every period.
type Subscription struct {
	ID        string             `json:"id"`
	Customer  string             `json:"customer"`
	Clock     string             `json:"clock,omitempty"`
	Created   int64              `json:"created"`
	StartDate int64              `json:"start_date"`
	Status    SubscriptionStatus `json:"status"`
	Currency  string             `json:"currency"`
	Items     []SubscriptionItem `json:"items"`
	// Interval is the billing interval, shared by every item's price.
	Interval Interval `json:"interval"`
	// BillingCycleAnchor fixes the period boundaries: boundary k is
	// Interval.Nth(BillingCycleAnchor, k). PeriodIndex is the k of the
	// current period's end.
	BillingCycleAnchor int64 `json:"billing_cycle_anchor"`
	PeriodIndex        int   `json:"period_index"`
	PeriodStart        int64 `json:"period_start"`
	PeriodEnd          int64 `json:"period_end"`

	TrialStart        int64             `json:"trial_start,omitempty"`
	TrialEnd          int64             `json:"trial_end,omitempty"`
	CancelAtPeriodEnd bool              `json:"cancel_at_period_end,omitempty"`
	CancelAt          int64             `json:"cancel_at,omitempty"`
	CanceledAt        int64             `json:"canceled_at,omitempty"`
	EndedAt           int64             `json:"ended_at,omitempty"`
	LatestInvoice     string            `json:"latest_invoice,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	// DefaultPaymentMethod is charged before the customer's default.
	DefaultPaymentMethod string `json:"default_payment_method,omitempty"`
	// CancellationReason is a neutral reason for the end of the
	// subscription: "cancellation_requested", "payment_failed",
	// "payment_disputed" or "trial_missing_payment_method".
	CancellationReason string `json:"cancellation_reason,omitempty"`
	// MissingPaymentMethodAtTrialEnd is what happens when the trial ends
	// and there is nothing to charge: "create_invoice" (default), "pause"
	// or "cancel".
	MissingPaymentMethodAtTrialEnd string `json:"missing_payment_method_at_trial_end,omitempty"`
	// IncompleteUntilPaid: an incomplete subscription waits for its first
	// payment without expiring (lifecycle.go).
	IncompleteUntilPaid bool `json:"incomplete_until_paid,omitempty"`
	// Schedule is the subscription schedule that manages the subscription,
	// if any (schedules.go).
	Schedule string `json:"schedule,omitempty"`
	// PauseCollection, when set, pauses the collection of the
	// subscription's renewal invoices (pause.go). It is replaced, never
	// changed in place.
	PauseCollection *PauseCollection `json:"pause_collection,omitempty"`
	// Discounts apply, in order, to the subscription's invoices
	// (discounts.go). DefaultTaxRates tax its lines that have no tax rates
	// of their own (taxes.go).
	Discounts       []Discount `json:"discounts,omitempty"`
	DefaultTaxRates []string   `json:"default_tax_rates,omitempty"`
	// CollectionMethod is how its invoices are collected; with
	// CollectBySending each is due DaysUntilDue days after it is made
	// (sendinvoice.go).
	CollectionMethod CollectionMethod `json:"collection_method,omitempty"`
	DaysUntilDue     int64            `json:"days_until_due,omitempty"`
}

// SubscriptionItem is one price, times a quantity (seats), in a subscription.
type SubscriptionItem struct {
	ID       string            `json:"id"`
	Created  int64             `json:"created"`
	Price    string            `json:"price"`
	Quantity int64             `json:"quantity"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Units, when set, bills the item by units (see units.go): Quantity
	// is the units held, Price the price of each one beyond those
	// included.
	Units *UnitLedger `json:"units,omitempty"`
	// TaxRates tax the item's lines (taxes.go).
	TaxRates []string `json:"tax_rates,omitempty"`
}

// Item returns the subscription's item id, or nil.
func (s *Subscription) Item(id string) *SubscriptionItem {
	for i := range s.Items {
		if s.Items[i].ID == id {
			return &s.Items[i]
		}
	}
	return nil
}

// InvoiceStatus is where an invoice is in its life.
type InvoiceStatus string

// Invoice statuses.
const (
	InvoiceDraft         InvoiceStatus = "draft"
	InvoiceOpen          InvoiceStatus = "open"
	InvoicePaid          InvoiceStatus = "paid"
	InvoiceVoid          InvoiceStatus = "void"
	InvoiceUncollectible InvoiceStatus = "uncollectible"
)

// BillingReason says why an invoice was made.
type BillingReason string

// Billing reasons.
const (
	ReasonSubscriptionCreate BillingReason = "subscription_create"
	ReasonSubscriptionCycle  BillingReason = "subscription_cycle"
	ReasonSubscriptionUpdate BillingReason = "subscription_update"
	ReasonManual             BillingReason = "manual"
)

// FinalizeDelay is how long Stripe leaves a renewal invoice a draft before
// it is finalized and paid: the Stripe dialect's DunningPolicy.FinalizeDelay.
const FinalizeDelay = 3600

// Invoice is a bill.
type Invoice struct {
	ID            string        `json:"id"`
	Customer      string        `json:"customer"`
	Subscription  string        `json:"subscription,omitempty"`
	Clock         string        `json:"clock,omitempty"`
	Created       int64         `json:"created"`
	Status        InvoiceStatus `json:"status"`
	BillingReason BillingReason `json:"billing_reason"`
	Currency      string        `json:"currency"`
	Lines         []InvoiceLine `json:"lines"`
	PeriodStart   int64         `json:"period_start"`
	PeriodEnd     int64         `json:"period_end"`
	AutoAdvance   bool          `json:"auto_advance"`
	// AutomaticallyFinalizesAt is when a draft will be finalized.
	AutomaticallyFinalizesAt int64             `json:"automatically_finalizes_at,omitempty"`
	Number                   string            `json:"number,omitempty"`
	FinalizedAt              int64             `json:"finalized_at,omitempty"`
	PaidAt                   int64             `json:"paid_at,omitempty"`
	VoidedAt                 int64             `json:"voided_at,omitempty"`
	AmountPaid               int64             `json:"amount_paid"`
	AttemptCount             int               `json:"attempt_count"`
	Metadata                 map[string]string `json:"metadata,omitempty"`
	// Attempted is set once collection was first attempted.
	Attempted bool `json:"attempted,omitempty"`
	// NextPaymentAttempt is when the next automatic retry is due (0: none).
	NextPaymentAttempt int64 `json:"next_payment_attempt,omitempty"`
	// FirstFailureAt is when its first automatic attempt failed; retries
	// are scheduled from it.
	FirstFailureAt int64 `json:"first_failure_at,omitempty"`
	// Payment is the invoice's default payment (PaymentIntent), made at
	// finalization when there is an amount to collect.
	Payment string `json:"payment,omitempty"`
	// StartingBalance is the customer's balance when the invoice was
	// finalized, EndingBalance the balance after it was applied (set only
	// once finalized). AmountDue subtracts the credit applied.
	StartingBalance int64 `json:"starting_balance,omitempty"`
	EndingBalance   int64 `json:"ending_balance,omitempty"`
	// MarkedUncollectibleAt is when the invoice was marked uncollectible.
	MarkedUncollectibleAt int64 `json:"marked_uncollectible_at,omitempty"`
	// PaidOutOfBand: the invoice was marked paid without a payment.
	PaidOutOfBand bool `json:"paid_out_of_band,omitempty"`
	// Discounts apply, in order, to the invoice's discountable lines after
	// each line's own discounts; DefaultTaxRates tax the lines that have
	// no tax rates of their own. See totals.go.
	Discounts       []Discount `json:"discounts,omitempty"`
	DefaultTaxRates []string   `json:"default_tax_rates,omitempty"`
	// CollectionMethod is how the invoice is collected; DueDate is when
	// an invoice sent for payment (CollectBySending) is due, and SentAt
	// when it was last sent (sendinvoice.go).
	CollectionMethod CollectionMethod `json:"collection_method,omitempty"`
	DueDate          int64            `json:"due_date,omitempty"`
	SentAt           int64            `json:"sent_at,omitempty"`
	// Description and Footer are texts shown on the invoice.
	Description string `json:"description,omitempty"`
	Footer      string `json:"footer,omitempty"`
	// Preview marks an invoice that was computed and never stored: what
	// a renewal or a change would make (preview.go).
	Preview bool `json:"preview,omitempty"`
}

// Total is the sum of the invoice's lines after their discounts and with
// their exclusive taxes (InvoiceLine.Net). The engine refuses, before
// recording it, an invoice whose sum would not fit in an int64.
func (inv *Invoice) Total() int64 {
	var t int64
	for _, l := range inv.Lines {
		t += l.Net()
	}
	return t
}

// AmountDue is what the customer owes on the invoice, never negative: its
// total, and once it is finalized the customer balance applied to it
// (StartingBalance − EndingBalance).
func (inv *Invoice) AmountDue() int64 {
	if inv.Status == InvoiceDraft {
		return max(inv.Total(), 0)
	}
	return max(inv.Total()+inv.StartingBalance-inv.EndingBalance, 0)
}

// LineKind says what an invoice line, or an invoice item, bills.
type LineKind string

// Line kinds.
const (
	// LinePeriod bills a subscription item's whole period, [PeriodStart,
	// PeriodEnd): Quantity × the price.
	LinePeriod LineKind = "period"
	// LineTrial is a subscription item's trial, [PeriodStart, PeriodEnd).
	LineTrial LineKind = "trial"
	// LineProrationDebit bills the time left after PeriodStart, to
	// PeriodEnd, for Quantity × the price: a new item or a new price or
	// quantity, or a first period cut short by a billing cycle anchor.
	LineProrationDebit LineKind = "proration_debit"
	// LineProrationCredit credits the time left after PeriodStart, to
	// PeriodEnd, for the Quantity × price that was replaced, removed or
	// canceled.
	LineProrationCredit LineKind = "proration_credit"
)

// Billed is what an invoice line or an invoice item bills, recorded as it
// was made, so that each surface words its description its own way. An
// invoice item written by a user has no Kind (its Description is all
// there is), and neither has a line stored before kinds were recorded.
type Billed struct {
	Kind LineKind `json:"kind,omitempty"`
	// ProductName is the name the price's product had when the line was
	// made.
	ProductName string `json:"product_name,omitempty"`
	// UnitAmount and Interval are the price's: what one unit costs per
	// billing interval.
	UnitAmount int64     `json:"unit_amount,omitempty"`
	Interval   *Interval `json:"interval,omitempty"`
}

// InvoiceLine is one line of an invoice.
type InvoiceLine struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
	Billed
	// Description is the text of a line swept from an invoice item that
	// has one, or of a line stored before Billed was recorded.
	Description string `json:"description,omitempty"`
	PeriodStart int64  `json:"period_start"`
	PeriodEnd   int64  `json:"period_end"`
	Proration   bool   `json:"proration,omitempty"`
	Quantity    int64  `json:"quantity"`
	Price       string `json:"price,omitempty"`
	// SubscriptionItem is set for lines billing a subscription item;
	// InvoiceItem for lines swept from a pending invoice item.
	SubscriptionItem string `json:"subscription_item,omitempty"`
	InvoiceItem      string `json:"invoice_item,omitempty"`
	// Units is set on the lines of an item billed by units (units.go).
	Units *UnitLine `json:"units,omitempty"`
	// Discounts and taxes (totals.go). Amount is before them.
	// Discountable lines take the invoice's discounts; Discounts are the
	// line's own; ProrationDiscounts were fixed when a proration was made.
	// DiscountAmounts and Taxes are what PriceInvoice computed from them
	// and from TaxRates (or the invoice's default tax rates).
	Discountable       bool             `json:"discountable,omitempty"`
	Discounts          []Discount       `json:"discounts,omitempty"`
	ProrationDiscounts []DiscountAmount `json:"proration_discounts,omitempty"`
	TaxRates           []string         `json:"tax_rates,omitempty"`
	DiscountAmounts    []DiscountAmount `json:"discount_amounts,omitempty"`
	Taxes              []TaxAmount      `json:"taxes,omitempty"`
}

// InvoiceItem is a charge or credit waiting for an invoice (pending) or
// already on one. Prorations are invoice items.
type InvoiceItem struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Clock    string `json:"clock,omitempty"`
	Date     int64  `json:"date"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Billed
	// Description is the text a user gave the item, or the text of an item
	// stored before Billed was recorded.
	Description      string            `json:"description,omitempty"`
	PeriodStart      int64             `json:"period_start"`
	PeriodEnd        int64             `json:"period_end"`
	Proration        bool              `json:"proration"`
	Price            string            `json:"price,omitempty"`
	Quantity         int64             `json:"quantity"`
	Subscription     string            `json:"subscription,omitempty"`
	SubscriptionItem string            `json:"subscription_item,omitempty"`
	Invoice          string            `json:"invoice,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	// Discounts and taxes, carried onto the item's invoice line (see
	// InvoiceLine). ProrationDiscounts are the discount amounts fixed when
	// a proration was made.
	Discountable       bool             `json:"discountable,omitempty"`
	Discounts          []Discount       `json:"discounts,omitempty"`
	ProrationDiscounts []DiscountAmount `json:"proration_discounts,omitempty"`
	TaxRates           []string         `json:"tax_rates,omitempty"`
}
