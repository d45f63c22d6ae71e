package stripe

import (
	"github.com/billclock/billclock/emulator/billing"
)

// This file holds minimal renderers of payment methods, PaymentIntents and
// charges: the fields invoice collection needs, each in the spec's shape,
// for events, card errors and expansions. They are stand-ins for the full
// renderers of the payment surface (issue 8, "surface"), which replace
// this file when they land.

// paymentMethodObject is components.schemas.payment_method (card only).
type paymentMethodObject struct {
	ID             string             `json:"id"`
	Object         string             `json:"object"`
	BillingDetails billingDetailsView `json:"billing_details"`
	Card           *paymentMethodCard `json:"card,omitempty"`
	Created        int64              `json:"created"`
	Customer       *string            `json:"customer"`
	Livemode       bool               `json:"livemode"`
	Metadata       map[string]string  `json:"metadata"`
	Type           string             `json:"type"`
}

// billingDetailsView is components.schemas.billing_details.
type billingDetailsView struct {
	Address any     `json:"address"`
	Email   *string `json:"email"`
	Name    *string `json:"name"`
	Phone   *string `json:"phone"`
}

// paymentMethodCard is payment_method_card.
type paymentMethodCard struct {
	Brand       string  `json:"brand"`
	Country     *string `json:"country"`
	ExpMonth    int     `json:"exp_month"`
	ExpYear     int     `json:"exp_year"`
	Fingerprint *string `json:"fingerprint"`
	Funding     string  `json:"funding"`
	Last4       string  `json:"last4"`
}

// renderPaymentMethod renders a payment method.
func renderPaymentMethod(pm *billing.PaymentMethod, _ renderLookup) (any, error) {
	o := &paymentMethodObject{ID: pm.ID, Object: "payment_method", Created: pm.Created,
		Customer: nullString(pm.Customer), Metadata: metadata(pm.Metadata), Type: pm.Type,
		BillingDetails: billingDetailsView{Email: nullString(pm.BillingDetails.Email), Name: nullString(pm.BillingDetails.Name),
			Phone: nullString(pm.BillingDetails.Phone)}}
	if pm.Type == "card" {
		c := pm.Card
		o.Card = &paymentMethodCard{Brand: c.Brand, Country: nullString(c.Country), ExpMonth: c.ExpMonth, ExpYear: c.ExpYear,
			Fingerprint: nullString(c.Fingerprint), Funding: c.Funding, Last4: c.Last4}
	}
	return o, nil
}

// paymentIntentObject is components.schemas.payment_intent.
type paymentIntentObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Amount             int64             `json:"amount"`
	AmountCapturable   int64             `json:"amount_capturable"`
	AmountReceived     int64             `json:"amount_received"`
	CanceledAt         *int64            `json:"canceled_at"`
	CancellationReason *string           `json:"cancellation_reason"`
	CaptureMethod      string            `json:"capture_method"`
	ConfirmationMethod string            `json:"confirmation_method"`
	Created            int64             `json:"created"`
	Currency           string            `json:"currency"`
	Customer           *string           `json:"customer"`
	Description        *string           `json:"description"`
	LastPaymentError   *paymentErrorView `json:"last_payment_error"`
	LatestCharge       *string           `json:"latest_charge"`
	Livemode           bool              `json:"livemode"`
	Metadata           map[string]string `json:"metadata"`
	PaymentMethod      *string           `json:"payment_method"`
	PaymentMethodTypes []string          `json:"payment_method_types"`
	Status             string            `json:"status"`
}

// paymentErrorView is api_errors, as a PaymentIntent's last_payment_error.
type paymentErrorView struct {
	Type          string `json:"type"`
	Code          string `json:"code,omitempty"`
	DeclineCode   string `json:"decline_code,omitempty"`
	Message       string `json:"message,omitempty"`
	Charge        string `json:"charge,omitempty"`
	PaymentMethod any    `json:"payment_method,omitempty"`
}

// renderPaymentIntent renders a payment as a PaymentIntent.
func renderPaymentIntent(p *billing.Payment, lk renderLookup) (any, error) {
	o := &paymentIntentObject{ID: p.ID, Object: "payment_intent", Amount: p.Amount,
		AmountCapturable: p.AmountCapturable, AmountReceived: p.AmountReceived, CanceledAt: nullTime(p.CanceledAt),
		CancellationReason: nullString(p.CancellationReason), CaptureMethod: "automatic_async",
		ConfirmationMethod: "automatic", Created: p.Created, Currency: p.Currency, Customer: nullString(p.Customer),
		Description: nullString(p.Description), LatestCharge: nullString(p.LatestCharge), Metadata: metadata(p.Metadata),
		PaymentMethod: nullString(p.PaymentMethod), PaymentMethodTypes: []string{"card"}, Status: string(p.Status)}
	if p.CaptureManual {
		o.CaptureMethod = "manual"
	}
	if le := p.LastError; le != nil && le.Reason != billing.DeclineNoPaymentMethod && p.Status == billing.PaymentRequiresPaymentMethod {
		w := wording(le.Reason)
		o.LastPaymentError = &paymentErrorView{Type: typeCard, Code: w.code, DeclineCode: w.declineCode, Message: w.message,
			Charge: le.Charge}
		if le.PaymentMethod != "" && lk != nil {
			pm, err := lk.PaymentMethod(le.PaymentMethod)
			switch {
			case err == nil:
				if o.LastPaymentError.PaymentMethod, err = renderPaymentMethod(pm, lk); err != nil {
					return nil, err
				}
			case !isMissing(err):
				return nil, err
			}
		}
	}
	return o, nil
}

// chargeObject is components.schemas.charge.
type chargeObject struct {
	ID             string             `json:"id"`
	Object         string             `json:"object"`
	Amount         int64              `json:"amount"`
	AmountCaptured int64              `json:"amount_captured"`
	AmountRefunded int64              `json:"amount_refunded"`
	BillingDetails billingDetailsView `json:"billing_details"`
	Captured       bool               `json:"captured"`
	Created        int64              `json:"created"`
	Currency       string             `json:"currency"`
	Customer       *string            `json:"customer"`
	Description    *string            `json:"description"`
	Disputed       bool               `json:"disputed"`
	FailureCode    *string            `json:"failure_code"`
	FailureMessage *string            `json:"failure_message"`
	Livemode       bool               `json:"livemode"`
	Metadata       map[string]string  `json:"metadata"`
	Outcome        *chargeOutcome     `json:"outcome"`
	Paid           bool               `json:"paid"`
	PaymentIntent  *string            `json:"payment_intent"`
	PaymentMethod  *string            `json:"payment_method"`
	Refunded       bool               `json:"refunded"`
	Status         string             `json:"status"`
}

// chargeOutcome is charge_outcome.
type chargeOutcome struct {
	NetworkStatus *string `json:"network_status"`
	Reason        *string `json:"reason"`
	RiskLevel     string  `json:"risk_level"`
	SellerMessage *string `json:"seller_message"`
	Type          string  `json:"type"`
}

// renderCharge renders a charge.
func renderCharge(ch *billing.Charge, _ renderLookup) (any, error) {
	o := &chargeObject{ID: ch.ID, Object: "charge", Amount: ch.Amount, AmountCaptured: ch.AmountCaptured,
		AmountRefunded: ch.AmountRefunded, Captured: ch.Captured, Created: ch.Created, Currency: ch.Currency,
		Customer: nullString(ch.Customer), Description: nullString(ch.Description), Metadata: metadata(ch.Metadata),
		Paid: ch.Status == billing.ChargeSucceeded, PaymentIntent: nullString(ch.Payment),
		PaymentMethod: nullString(ch.PaymentMethod), Status: string(ch.Status)}
	if ch.Status == billing.ChargeFailed {
		w := wording(ch.Failure)
		o.FailureCode, o.FailureMessage = nullString(w.code), nullString(w.message)
		reason := w.declineCode
		o.Outcome = &chargeOutcome{NetworkStatus: nullString("declined_by_network"), Reason: nullString(reason),
			RiskLevel: "normal", SellerMessage: nullString("The bank did not return any further details with this decline."),
			Type: "issuer_declined"}
	} else {
		o.Outcome = &chargeOutcome{NetworkStatus: nullString("approved_by_network"), RiskLevel: "normal",
			SellerMessage: nullString("Payment complete."), Type: "authorized"}
	}
	return o, nil
}
