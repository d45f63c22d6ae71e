package billing

// This file holds the engine's payment objects: stored payment methods with
// a test behaviour, payments (one per invoice or per direct payment), the
// charges that attempt them, the link between an invoice and its payments,
// customer balance transactions, and each account's dunning policy. Names
// are billing terms; each surface maps them to its provider's wire (Stripe:
// PaymentMethod, PaymentIntent, Charge, InvoicePayment).

// DeclineReason says why a card was declined, in neutral terms. Each
// surface words it for its provider (Stripe: code, decline_code, message).
type DeclineReason string

// Decline reasons.
const (
	DeclineGeneric           DeclineReason = "generic_decline"
	DeclineInsufficientFunds DeclineReason = "insufficient_funds"
	DeclineLostCard          DeclineReason = "lost_card"
	DeclineStolenCard        DeclineReason = "stolen_card"
	DeclineExpiredCard       DeclineReason = "expired_card"
	DeclineIncorrectCVC      DeclineReason = "incorrect_cvc"
	DeclineProcessingError   DeclineReason = "processing_error"
	// DeclineAuthenticationRequired: the card needs the customer to
	// authenticate, which an off-session payment cannot do.
	DeclineAuthenticationRequired DeclineReason = "authentication_required"
	// DeclineNoPaymentMethod: there was nothing to charge.
	DeclineNoPaymentMethod DeclineReason = "no_payment_method"
)

// CardBehavior is how a test card behaves: declined when stored, stored
// fine but declined on every charge, or needing authentication. The zero
// value always succeeds.
type CardBehavior struct {
	// DeclineOnAttach, if set, refuses to store the card at all.
	DeclineOnAttach DeclineReason `json:"decline_on_attach,omitempty"`
	// DeclineCharges, if set, declines every charge of the stored card.
	DeclineCharges DeclineReason `json:"decline_charges,omitempty"`
	// RequiresAuthentication makes every charge wait for the customer to
	// authenticate (requires_action), which never happens by itself.
	RequiresAuthentication bool `json:"requires_authentication,omitempty"`
}

// Card is a payment card's details as shown to users.
type Card struct {
	Brand       string `json:"brand"`
	Last4       string `json:"last4"`
	ExpMonth    int    `json:"exp_month"`
	ExpYear     int    `json:"exp_year"`
	Funding     string `json:"funding"`
	Country     string `json:"country,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// BillingDetails are the payer's contact details on a payment method.
type BillingDetails struct {
	Name    string            `json:"name,omitempty"`
	Email   string            `json:"email,omitempty"`
	Phone   string            `json:"phone,omitempty"`
	Address map[string]string `json:"address,omitempty"`
}

// PaymentMethod is a stored means of payment (a card), attached to a
// customer or not yet.
type PaymentMethod struct {
	ID       string `json:"id"`
	Created  int64  `json:"created"`
	Customer string `json:"customer,omitempty"`
	// Clock is the clock of the customer it is attached to, if any.
	Clock    string       `json:"clock,omitempty"`
	Type     string       `json:"type"` // "card"
	Card     Card         `json:"card"`
	Behavior CardBehavior `json:"behavior"`
	// Legacy marks a card made from a token as a customer source (Stripe's
	// card_... objects) rather than a payment method.
	Legacy         bool              `json:"legacy,omitempty"`
	BillingDetails BillingDetails    `json:"billing_details"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	// DetachedAt is when it was detached from its customer (0: never). A
	// detached payment method can never be used or attached again.
	DetachedAt int64 `json:"detached_at,omitempty"`
}

// PaymentStatus is where a payment is in its life.
type PaymentStatus string

// Payment statuses.
const (
	PaymentRequiresPaymentMethod PaymentStatus = "requires_payment_method"
	PaymentRequiresConfirmation  PaymentStatus = "requires_confirmation"
	PaymentRequiresAction        PaymentStatus = "requires_action"
	PaymentRequiresCapture       PaymentStatus = "requires_capture"
	PaymentProcessing            PaymentStatus = "processing"
	PaymentSucceeded             PaymentStatus = "succeeded"
	PaymentCanceled              PaymentStatus = "canceled"
)

// PaymentError is the last failure of a payment.
type PaymentError struct {
	Reason        DeclineReason `json:"reason"`
	PaymentMethod string        `json:"payment_method,omitempty"`
	Charge        string        `json:"charge,omitempty"`
}

// Payment is an amount to collect from a customer: one per invoice (every
// attempt of the invoice goes through it) or one per direct payment.
type Payment struct {
	ID       string        `json:"id"`
	Created  int64         `json:"created"`
	Customer string        `json:"customer,omitempty"`
	Clock    string        `json:"clock,omitempty"`
	Invoice  string        `json:"invoice,omitempty"`
	Amount   int64         `json:"amount"`
	Currency string        `json:"currency"`
	Status   PaymentStatus `json:"status"`
	// PaymentMethod is the method of the latest attempt (or the one set
	// for the next).
	PaymentMethod    string        `json:"payment_method,omitempty"`
	LatestCharge     string        `json:"latest_charge,omitempty"`
	LastError        *PaymentError `json:"last_error,omitempty"`
	CaptureManual    bool          `json:"capture_manual,omitempty"`
	AmountCapturable int64         `json:"amount_capturable,omitempty"`
	AmountReceived   int64         `json:"amount_received,omitempty"`
	OffSession       bool          `json:"off_session,omitempty"`
	CanceledAt       int64         `json:"canceled_at,omitempty"`
	// CancellationReason is a neutral reason such as "requested_by_customer",
	// "void_invoice" or "automatic".
	CancellationReason string            `json:"cancellation_reason,omitempty"`
	Description        string            `json:"description,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
}

// ChargeStatus is the outcome of a charge.
type ChargeStatus string

// Charge statuses.
const (
	ChargeSucceeded ChargeStatus = "succeeded"
	ChargeFailed    ChargeStatus = "failed"
	ChargePending   ChargeStatus = "pending"
)

// Charge is one attempt to take money from a payment method.
type Charge struct {
	ID             string            `json:"id"`
	Created        int64             `json:"created"`
	Payment        string            `json:"payment"`
	Customer       string            `json:"customer,omitempty"`
	Clock          string            `json:"clock,omitempty"`
	Invoice        string            `json:"invoice,omitempty"`
	PaymentMethod  string            `json:"payment_method"`
	Amount         int64             `json:"amount"`
	AmountCaptured int64             `json:"amount_captured"`
	AmountRefunded int64             `json:"amount_refunded"`
	Currency       string            `json:"currency"`
	Status         ChargeStatus      `json:"status"`
	Captured       bool              `json:"captured"`
	Failure        DeclineReason     `json:"failure,omitempty"`
	Description    string            `json:"description,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// InvoicePaymentStatus is where an invoice's payment is.
type InvoicePaymentStatus string

// Invoice payment statuses.
const (
	InvoicePaymentOpen     InvoicePaymentStatus = "open"
	InvoicePaymentPaid     InvoicePaymentStatus = "paid"
	InvoicePaymentCanceled InvoicePaymentStatus = "canceled"
)

// InvoicePayment links an invoice to a payment that pays (or is to pay) it.
type InvoicePayment struct {
	ID              string               `json:"id"`
	Created         int64                `json:"created"`
	Invoice         string               `json:"invoice"`
	Payment         string               `json:"payment"`
	Clock           string               `json:"clock,omitempty"`
	Currency        string               `json:"currency"`
	AmountRequested int64                `json:"amount_requested"`
	AmountPaid      int64                `json:"amount_paid"`
	Status          InvoicePaymentStatus `json:"status"`
	IsDefault       bool                 `json:"is_default"`
	PaidAt          int64                `json:"paid_at,omitempty"`
	CanceledAt      int64                `json:"canceled_at,omitempty"`
}

// BalanceTransactionType says why a customer's balance moved.
type BalanceTransactionType string

// Balance transaction types.
const (
	// BalanceAppliedToInvoice: credit consumed by an invoice (positive
	// amount), or a negative invoice total credited (negative amount).
	BalanceAppliedToInvoice BalanceTransactionType = "applied_to_invoice"
	// BalanceAdjustment: a manual change.
	BalanceAdjustment BalanceTransactionType = "adjustment"
	// BalanceUnappliedFromInvoice: credit returned by a voided invoice.
	BalanceUnappliedFromInvoice BalanceTransactionType = "unapplied_from_invoice"
)

// BalanceTransaction is a change to a customer's balance. A negative
// balance is credit the customer has; a positive one is owed.
type BalanceTransaction struct {
	ID            string                 `json:"id"`
	Created       int64                  `json:"created"`
	Customer      string                 `json:"customer"`
	Clock         string                 `json:"clock,omitempty"`
	Amount        int64                  `json:"amount"`
	Currency      string                 `json:"currency"`
	EndingBalance int64                  `json:"ending_balance"`
	Type          BalanceTransactionType `json:"type"`
	Invoice       string                 `json:"invoice,omitempty"`
	Description   string                 `json:"description,omitempty"`
	Metadata      map[string]string      `json:"metadata,omitempty"`
}

// SubscriptionFinalAction is what happens to a subscription when its
// invoice's last retry fails.
type SubscriptionFinalAction string

// Subscription final actions.
const (
	FinalCancel    SubscriptionFinalAction = "cancel"
	FinalUnpaid    SubscriptionFinalAction = "unpaid"
	FinalPastDue   SubscriptionFinalAction = "past_due" // leave it past due
	FinalLeaveAsIs SubscriptionFinalAction = "none"     // leave it as it is (e.g. active)
)

// InvoiceFinalAction is what happens to an invoice whose last retry fails.
type InvoiceFinalAction string

// Invoice final actions.
const (
	InvoiceLeaveOpen         InvoiceFinalAction = "leave_open"
	InvoiceMarkUncollectible InvoiceFinalAction = "mark_uncollectible"
)

// DunningPolicy is an account's (site's, organization's) rules for
// collecting failed payments. Each surface has its own defaults and wording;
// the engine only follows the policy.
type DunningPolicy struct {
	// RetryAfter lists the retries as offsets in seconds from the FIRST
	// failed attempt, ascending: with [86400, 259200] an invoice is retried
	// one and three days after its first failure. Empty: no retries.
	RetryAfter []int64 `json:"retry_after"`
	// SubscriptionAction applies when the last retry fails.
	SubscriptionAction SubscriptionFinalAction `json:"subscription_action"`
	// InvoiceAction applies when the last retry fails.
	InvoiceAction InvoiceFinalAction `json:"invoice_action"`
	// StayActiveWhileRetrying keeps a subscription active (rather than
	// past_due) while its invoice is being retried, as Chargebee does.
	StayActiveWhileRetrying bool `json:"stay_active_while_retrying,omitempty"`
	// UpcomingNotice is how long before a renewal the upcoming-invoice
	// notice fires, in seconds (0: never).
	UpcomingNotice int64 `json:"upcoming_notice,omitempty"`
	// FinalizeDelay is how long a renewal invoice stays a draft before it
	// is finalized and collected, in seconds: Stripe's hour
	// (FinalizeDelay), or 0 to finalize and collect it at once, as
	// Chargebee does.
	FinalizeDelay int64 `json:"finalize_delay"`
}

// Event types of payment objects.
const (
	EventPaymentMethodAttached EventType = "payment_method.attached"
	EventPaymentMethodDetached EventType = "payment_method.detached"
	EventPaymentMethodUpdated  EventType = "payment_method.updated"

	EventPaymentCreated                EventType = "payment.created"
	EventPaymentSucceeded              EventType = "payment.succeeded"
	EventPaymentFailed                 EventType = "payment.failed"
	EventPaymentRequiresAction         EventType = "payment.requires_action"
	EventPaymentCanceled               EventType = "payment.canceled"
	EventPaymentAmountCapturableUpdate EventType = "payment.amount_capturable_updated"

	EventChargeSucceeded EventType = "charge.succeeded"
	EventChargeFailed    EventType = "charge.failed"
	EventChargeCaptured  EventType = "charge.captured"

	EventInvoicePaymentFailed         EventType = "invoice.payment_failed"
	EventInvoicePaymentActionRequired EventType = "invoice.payment_action_required"
	EventInvoiceMarkedUncollectible   EventType = "invoice.marked_uncollectible"
	// EventInvoicePaymentPaid: an invoice's payment (InvoicePayment) was paid.
	EventInvoicePaymentPaid EventType = "invoice_payment.paid"

	EventBalanceTransactionCreated EventType = "customer.balance_transaction.created"
)

// Declined is the engine's error for a payment that was not made: the
// card was declined, needs the customer to authenticate, or there was
// nothing to charge. Each surface words it for its provider (Stripe: a 402
// card_error carrying the charge, payment and payment method). The objects
// are snapshots taken when the attempt ended; Charge is nil when no charge
// was made, PaymentMethod when there was nothing to charge, Payment when
// the decline happened before any payment existed.
type Declined struct {
	Reason        DeclineReason
	Payment       *Payment
	Charge        *Charge
	PaymentMethod *PaymentMethod
}

func (d *Declined) Error() string { return "payment declined: " + string(d.Reason) }

// chargeBehavior is the decline a charge of pm meets, if any. A card that
// is declined when stored declines its charges too (it can still be charged
// directly, without being stored first).
func chargeBehavior(pm *PaymentMethod) DeclineReason {
	if pm.Behavior.DeclineCharges != "" {
		return pm.Behavior.DeclineCharges
	}
	return pm.Behavior.DeclineOnAttach
}

// attempt tries once to collect payment p with pm at the time at. It
// records a Charge, unless there is nothing to charge (pm nil) or the card
// needs authentication; moves p's status; saves p and the charge; and
// emits the charge and payment events. It returns nil on success (a
// manual-capture payment succeeds into requires_capture), otherwise the
// decline.
//
// A card that needs authentication always ends in requires_action with no
// charge, on or off session: billclock has no customer to complete the
// authentication, so it never completes by itself.
func (e *Engine) attempt(p *Payment, pm *PaymentMethod, at int64) (*Declined, error) {
	p.LastError = nil
	if pm == nil {
		p.Status = PaymentRequiresPaymentMethod
		p.LastError = &PaymentError{Reason: DeclineNoPaymentMethod}
		if err := e.L.PutPayment(p); err != nil {
			return nil, err
		}
		return &Declined{Reason: DeclineNoPaymentMethod, Payment: snapshotPayment(p)}, nil
	}
	p.PaymentMethod = pm.ID
	if pm.Behavior.RequiresAuthentication {
		p.Status = PaymentRequiresAction
		p.LastError = &PaymentError{Reason: DeclineAuthenticationRequired, PaymentMethod: pm.ID}
		if err := e.L.PutPayment(p); err != nil {
			return nil, err
		}
		snap := snapshotPayment(p)
		if err := e.emit(EventPaymentRequiresAction, at, snap); err != nil {
			return nil, err
		}
		return &Declined{Reason: DeclineAuthenticationRequired, Payment: snap, PaymentMethod: pm}, nil
	}
	ch := &Charge{ID: e.L.NewID("ch_"), Created: at, Payment: p.ID, Customer: p.Customer, Clock: p.Clock,
		Invoice: p.Invoice, PaymentMethod: pm.ID, Amount: p.Amount, Currency: p.Currency,
		Description: p.Description, Metadata: p.Metadata}
	p.LatestCharge = ch.ID
	reason := chargeBehavior(pm)
	chargeEvent, paymentEvent := EventChargeSucceeded, EventPaymentSucceeded
	switch {
	case reason != "":
		ch.Status, ch.Failure = ChargeFailed, reason
		p.Status = PaymentRequiresPaymentMethod
		p.LastError = &PaymentError{Reason: reason, PaymentMethod: pm.ID, Charge: ch.ID}
		chargeEvent, paymentEvent = EventChargeFailed, EventPaymentFailed
	case p.CaptureManual:
		ch.Status = ChargeSucceeded
		p.Status, p.AmountCapturable = PaymentRequiresCapture, p.Amount
		paymentEvent = EventPaymentAmountCapturableUpdate
	default:
		ch.Status, ch.Captured, ch.AmountCaptured = ChargeSucceeded, true, p.Amount
		p.Status, p.AmountReceived = PaymentSucceeded, p.Amount
	}
	if err := e.L.PutCharge(ch); err != nil {
		return nil, err
	}
	if err := e.L.PutPayment(p); err != nil {
		return nil, err
	}
	chSnap, pSnap := snapshotCharge(ch), snapshotPayment(p)
	if err := e.emit(chargeEvent, at, chSnap); err != nil {
		return nil, err
	}
	if err := e.emit(paymentEvent, at, pSnap); err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, nil
	}
	return &Declined{Reason: reason, Payment: pSnap, Charge: chSnap, PaymentMethod: pm}, nil
}

func snapshotPayment(p *Payment) *Payment {
	c := *p
	if p.LastError != nil {
		le := *p.LastError
		c.LastError = &le
	}
	return &c
}

func snapshotCharge(ch *Charge) *Charge {
	c := *ch
	return &c
}
