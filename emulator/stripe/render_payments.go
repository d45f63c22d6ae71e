package stripe

import (
	"crypto/sha256"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file renders payment methods (and legacy card sources),
// PaymentIntents and charges in Stripe's wire shapes at 2026-08-26.dahlia,
// in the house manner of render_billing.go: every field of the schema
// Stripe sends for a card object, with the value a plain test-mode object
// has where the engine keeps no data.

// ---------------------------------------------------------------------------
// Payment methods.

// paymentMethodObject is components.schemas.payment_method, of type card.
type paymentMethodObject struct {
	ID              string               `json:"id"`
	Object          string               `json:"object"`
	AllowRedisplay  string               `json:"allow_redisplay"`
	BillingDetails  billingDetailsObject `json:"billing_details"`
	Card            *paymentMethodCard   `json:"card"`
	Created         int64                `json:"created"`
	Customer        any                  `json:"customer"`
	CustomerAccount *string              `json:"customer_account"`
	Livemode        bool                 `json:"livemode"`
	Metadata        map[string]string    `json:"metadata"`
	RadarOptions    struct{}             `json:"radar_options"`
	Type            string               `json:"type"`
}

// billingDetailsObject is components.schemas.billing_details.
type billingDetailsObject struct {
	Address addressObject `json:"address"`
	Email   *string       `json:"email"`
	Name    *string       `json:"name"`
	Phone   *string       `json:"phone"`
	TaxID   *string       `json:"tax_id"`
}

// addressObject is components.schemas.address.
type addressObject struct {
	City       *string `json:"city"`
	Country    *string `json:"country"`
	Line1      *string `json:"line1"`
	Line2      *string `json:"line2"`
	PostalCode *string `json:"postal_code"`
	State      *string `json:"state"`
}

// addressKeys are the keys of an address, as the engine stores them.
var addressKeys = []string{"city", "country", "line1", "line2", "postal_code", "state"}

func renderBillingDetails(bd billing.BillingDetails) billingDetailsObject {
	a := bd.Address
	return billingDetailsObject{
		Address: addressObject{City: nullString(a["city"]), Country: nullString(a["country"]), Line1: nullString(a["line1"]),
			Line2: nullString(a["line2"]), PostalCode: nullString(a["postal_code"]), State: nullString(a["state"])},
		Email: nullString(bd.Email), Name: nullString(bd.Name), Phone: nullString(bd.Phone),
	}
}

// paymentMethodCard is payment_method_card.
type paymentMethodCard struct {
	Brand             string            `json:"brand"`
	Checks            cardChecks        `json:"checks"`
	Country           *string           `json:"country"`
	DisplayBrand      string            `json:"display_brand"`
	ExpMonth          int               `json:"exp_month"`
	ExpYear           int               `json:"exp_year"`
	Fingerprint       *string           `json:"fingerprint"`
	Funding           string            `json:"funding"`
	GeneratedFrom     any               `json:"generated_from"`
	Last4             string            `json:"last4"`
	Networks          cardNetworks      `json:"networks"`
	RegulatedStatus   string            `json:"regulated_status"`
	ThreeDSecureUsage threeDSecureUsage `json:"three_d_secure_usage"`
	Wallet            any               `json:"wallet"`
}

// cardChecks is payment_method_card_checks (and the charge's checks).
type cardChecks struct {
	AddressLine1Check      *string `json:"address_line1_check"`
	AddressPostalCodeCheck *string `json:"address_postal_code_check"`
	CVCCheck               *string `json:"cvc_check"`
}

// cardNetworks is components.schemas.networks.
type cardNetworks struct {
	Available []string `json:"available"`
	Preferred *string  `json:"preferred"`
}

type threeDSecureUsage struct {
	Supported bool `json:"supported"`
}

// displayBrand is Stripe's display_brand of a brand.
func displayBrand(brand string) string {
	if brand == "amex" {
		return "american_express"
	}
	return brand
}

// renderPaymentMethod renders a payment method (a legacy card too, as
// Stripe does when a card_... id is read through the payment method
// API); customer is an id.
func renderPaymentMethod(pm *billing.PaymentMethod, lk renderLookup) (any, error) {
	return renderPaymentMethodEx(pm, lk, nil)
}

// renderPaymentMethodEx renders a payment method; customer is
// expandable.
func renderPaymentMethodEx(pm *billing.PaymentMethod, lk renderLookup, ex expandSet) (any, error) {
	c := pm.Card
	o := &paymentMethodObject{
		ID: pm.ID, Object: "payment_method", AllowRedisplay: "unspecified",
		BillingDetails: renderBillingDetails(pm.BillingDetails),
		Card: &paymentMethodCard{
			Brand: c.Brand, Checks: cardChecks{CVCCheck: nullString("unchecked")}, Country: nullString(c.Country),
			DisplayBrand: displayBrand(c.Brand), ExpMonth: c.ExpMonth, ExpYear: c.ExpYear,
			Fingerprint: nullString(c.Fingerprint), Funding: c.Funding, Last4: c.Last4,
			Networks: cardNetworks{Available: []string{c.Brand}}, RegulatedStatus: "unregulated",
			ThreeDSecureUsage: threeDSecureUsage{Supported: true},
		},
		Created: pm.Created, Metadata: metadata(pm.Metadata), Type: "card",
	}
	var err error
	if o.Customer, err = expandCustomer(ex, "customer", pm.Customer, lk); err != nil {
		return nil, err
	}
	return o, nil
}

// cardObject is components.schemas.card: a legacy card source.
type cardObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	AddressCity        *string           `json:"address_city"`
	AddressCountry     *string           `json:"address_country"`
	AddressLine1       *string           `json:"address_line1"`
	AddressLine1Check  *string           `json:"address_line1_check"`
	AddressLine2       *string           `json:"address_line2"`
	AddressState       *string           `json:"address_state"`
	AddressZip         *string           `json:"address_zip"`
	AddressZipCheck    *string           `json:"address_zip_check"`
	AllowRedisplay     string            `json:"allow_redisplay"`
	Brand              string            `json:"brand"`
	Country            *string           `json:"country"`
	Customer           any               `json:"customer"`
	CVCCheck           *string           `json:"cvc_check"`
	DynamicLast4       *string           `json:"dynamic_last4"`
	ExpMonth           int               `json:"exp_month"`
	ExpYear            int               `json:"exp_year"`
	Fingerprint        *string           `json:"fingerprint"`
	Funding            string            `json:"funding"`
	Last4              string            `json:"last4"`
	Metadata           map[string]string `json:"metadata"`
	Name               *string           `json:"name"`
	RegulatedStatus    string            `json:"regulated_status"`
	TokenizationMethod *string           `json:"tokenization_method"`
}

// legacyBrands are the brand names of legacy card objects.
var legacyBrands = map[string]string{"visa": "Visa", "mastercard": "MasterCard", "amex": "American Express"}

// renderCard renders a legacy card source; customer is an id.
func renderCard(pm *billing.PaymentMethod) any {
	c, a := pm.Card, pm.BillingDetails.Address
	brand := legacyBrands[c.Brand]
	if brand == "" {
		brand = "Unknown"
	}
	return &cardObject{
		ID: pm.ID, Object: "card",
		AddressCity: nullString(a["city"]), AddressCountry: nullString(a["country"]), AddressLine1: nullString(a["line1"]),
		AddressLine2: nullString(a["line2"]), AddressState: nullString(a["state"]), AddressZip: nullString(a["postal_code"]),
		AllowRedisplay: "unspecified", Brand: brand, Country: nullString(c.Country), Customer: nullString(pm.Customer),
		ExpMonth: c.ExpMonth, ExpYear: c.ExpYear, Fingerprint: nullString(c.Fingerprint), Funding: c.Funding,
		Last4: c.Last4, Metadata: metadata(pm.Metadata), Name: nullString(pm.BillingDetails.Name),
		RegulatedStatus: "unregulated",
	}
}

// expandPaymentMethod renders the field holding a payment method's id,
// expanded as a payment_method object when asked.
func expandPaymentMethod(ex expandSet, field, id string, lk renderLookup) (any, error) {
	return expandable(ex, field, id, lookupAndRender(lk.PaymentMethod, id, func(pm *billing.PaymentMethod) (any, error) {
		return renderPaymentMethod(pm, lk)
	}))
}

// expandSource renders the field holding a legacy card's id, expanded as
// a card object when asked.
func expandSource(ex expandSet, field, id string, lk renderLookup) (any, error) {
	return expandable(ex, field, id, lookupAndRender(lk.PaymentMethod, id, func(pm *billing.PaymentMethod) (any, error) {
		return renderCard(pm), nil
	}))
}

// ---------------------------------------------------------------------------
// Errors as objects carry them (last_payment_error).

// apiErrorObject is components.schemas.api_errors; absent members are
// left out, as none is nullable.
type apiErrorObject struct {
	Charge        string `json:"charge,omitempty"`
	Code          string `json:"code,omitempty"`
	DeclineCode   string `json:"decline_code,omitempty"`
	DocURL        string `json:"doc_url,omitempty"`
	Message       string `json:"message,omitempty"`
	PaymentMethod any    `json:"payment_method,omitempty"`
	Source        any    `json:"source,omitempty"`
	Type          string `json:"type"`
}

// docURL is the page of Stripe's docs about an error code.
func docURL(code string) string {
	if code == "" {
		return ""
	}
	return "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(code, "_", "-")
}

// errorType is the type of the error Stripe reports for reason.
func errorType(reason billing.DeclineReason) string {
	if reason == billing.DeclineNoPaymentMethod {
		return typeInvalidRequest
	}
	return typeCard
}

// renderPaymentError renders a payment's last error, with the payment
// method it concerns (a legacy card as source).
func renderPaymentError(pe *billing.PaymentError, lk renderLookup) (*apiErrorObject, error) {
	w := wording(pe.Reason)
	o := &apiErrorObject{Charge: pe.Charge, Code: w.code, DeclineCode: w.declineCode, DocURL: docURL(w.code),
		Message: w.message, Type: errorType(pe.Reason)}
	if pe.PaymentMethod == "" {
		return o, nil
	}
	pm, err := lk.PaymentMethod(pe.PaymentMethod)
	switch {
	case isMissing(err) || (err == nil && pm == nil):
		return o, nil
	case err != nil:
		return nil, err
	case pm.Legacy:
		o.Source = renderCard(pm)
	default:
		if o.PaymentMethod, err = renderPaymentMethod(pm, lk); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// ---------------------------------------------------------------------------
// PaymentIntents.

// intentOptions are the PaymentIntent settings only Stripe has, kept by
// the surface beside the engine's payment. A payment without them (an
// invoice's) has the defaults of zeroIntentOptions.
type intentOptions struct {
	// AutomaticPaymentMethods is automatic_payment_methods[enabled];
	// AllowRedirects its allow_redirects.
	AutomaticPaymentMethods bool     `json:"automatic_payment_methods,omitempty"`
	AllowRedirects          string   `json:"allow_redirects,omitempty"`
	PaymentMethodTypes      []string `json:"payment_method_types,omitempty"`
	ReceiptEmail            string   `json:"receipt_email,omitempty"`
	SetupFutureUsage        string   `json:"setup_future_usage,omitempty"`
	ConfirmationMethod      string   `json:"confirmation_method,omitempty"`
	// CaptureMethod is automatic or automatic_async (a manual capture is
	// the engine's CaptureManual).
	CaptureMethod       string `json:"capture_method,omitempty"`
	StatementDescriptor string `json:"statement_descriptor,omitempty"`
	StatementSuffix     string `json:"statement_descriptor_suffix,omitempty"`
}

// intentOptionsLookup finds a PaymentIntent's Stripe-only settings; the
// ledger is one.
type intentOptionsLookup interface {
	intentOptions(id string) (*intentOptions, error)
}

// paymentIntentObject is components.schemas.payment_intent.
type paymentIntentObject struct {
	ID                                string                  `json:"id"`
	Object                            string                  `json:"object"`
	Amount                            int64                   `json:"amount"`
	AmountCapturable                  int64                   `json:"amount_capturable"`
	AmountDetails                     amountDetails           `json:"amount_details"`
	AmountReceived                    int64                   `json:"amount_received"`
	Application                       any                     `json:"application"`
	ApplicationFeeAmount              *int64                  `json:"application_fee_amount"`
	AutomaticPaymentMethods           *automaticPaymentMethod `json:"automatic_payment_methods"`
	CanceledAt                        *int64                  `json:"canceled_at"`
	CancellationReason                *string                 `json:"cancellation_reason"`
	CaptureMethod                     string                  `json:"capture_method"`
	ClientSecret                      string                  `json:"client_secret"`
	ConfirmationMethod                string                  `json:"confirmation_method"`
	Created                           int64                   `json:"created"`
	Currency                          string                  `json:"currency"`
	Customer                          any                     `json:"customer"`
	CustomerAccount                   *string                 `json:"customer_account"`
	Description                       *string                 `json:"description"`
	ExcludedPaymentMethodTypes        []string                `json:"excluded_payment_method_types"`
	LastPaymentError                  *apiErrorObject         `json:"last_payment_error"`
	LatestCharge                      any                     `json:"latest_charge"`
	Livemode                          bool                    `json:"livemode"`
	Metadata                          map[string]string       `json:"metadata"`
	NextAction                        *nextAction             `json:"next_action"`
	OnBehalfOf                        any                     `json:"on_behalf_of"`
	PaymentMethod                     any                     `json:"payment_method"`
	PaymentMethodConfigurationDetails any                     `json:"payment_method_configuration_details"`
	PaymentMethodOptions              paymentMethodOptions    `json:"payment_method_options"`
	PaymentMethodTypes                []string                `json:"payment_method_types"`
	Processing                        any                     `json:"processing"`
	ReceiptEmail                      *string                 `json:"receipt_email"`
	Review                            any                     `json:"review"`
	SetupFutureUsage                  *string                 `json:"setup_future_usage"`
	Shipping                          any                     `json:"shipping"`
	StatementDescriptor               *string                 `json:"statement_descriptor"`
	StatementDescriptorSuffix         *string                 `json:"statement_descriptor_suffix"`
	Status                            string                  `json:"status"`
	TransferData                      any                     `json:"transfer_data"`
	TransferGroup                     *string                 `json:"transfer_group"`
}

// amountDetails is payment_flows_amount_details.
type amountDetails struct {
	Tip struct{} `json:"tip"`
}

// automaticPaymentMethod is
// payment_flows_automatic_payment_methods_payment_intent.
type automaticPaymentMethod struct {
	AllowRedirects string `json:"allow_redirects,omitempty"`
	Enabled        bool   `json:"enabled"`
}

// nextAction is payment_intent_next_action. billclock only ever asks for
// a card authentication, which never completes by itself.
type nextAction struct {
	Type         string         `json:"type"`
	UseStripeSDK map[string]any `json:"use_stripe_sdk"`
}

// paymentMethodOptions is payment_intent_payment_method_options (card).
type paymentMethodOptions struct {
	Card cardOptions `json:"card"`
}

type cardOptions struct {
	Installments        any     `json:"installments"`
	MandateOptions      any     `json:"mandate_options"`
	Network             *string `json:"network"`
	RequestThreeDSecure string  `json:"request_three_d_secure"`
}

// clientSecret is a PaymentIntent's client secret: its id, "_secret_" and
// a stable digest of the id.
func clientSecret(id string) string {
	sum := sha256.Sum256([]byte("billclock client secret\x00" + id))
	out := make([]byte, 25)
	for i := range out {
		out[i] = clockwork.IDAlphabet[int(sum[i])%len(clockwork.IDAlphabet)]
	}
	return id + "_secret_" + string(out)
}

// renderPaymentIntent renders a payment as a PaymentIntent; its customer,
// payment method and latest charge are ids.
func renderPaymentIntent(p *billing.Payment, lk renderLookup) (any, error) {
	return renderPaymentIntentEx(p, lk, nil)
}

// paymentIntentExpansions are the fields of a PaymentIntent expand[] may
// name.
var paymentIntentExpansions = []string{"customer", "payment_method", "latest_charge"}

// renderPaymentIntentEx renders a payment as a PaymentIntent; customer,
// payment_method and latest_charge are expandable.
func renderPaymentIntentEx(p *billing.Payment, lk renderLookup, ex expandSet) (any, error) {
	opts := &intentOptions{}
	if ol, ok := lk.(intentOptionsLookup); ok {
		var err error
		if opts, err = ol.intentOptions(p.ID); err != nil {
			return nil, err
		}
	}
	o := &paymentIntentObject{
		ID: p.ID, Object: "payment_intent", Amount: p.Amount, AmountCapturable: p.AmountCapturable,
		AmountReceived: p.AmountReceived, CanceledAt: nullTime(p.CanceledAt),
		CancellationReason: nullString(p.CancellationReason), CaptureMethod: "automatic_async",
		ClientSecret: clientSecret(p.ID), ConfirmationMethod: "automatic", Created: p.Created, Currency: p.Currency,
		Description: nullString(p.Description), ExcludedPaymentMethodTypes: nil, Metadata: metadata(p.Metadata),
		PaymentMethodOptions: paymentMethodOptions{Card: cardOptions{RequestThreeDSecure: "automatic"}},
		PaymentMethodTypes:   []string{"card"}, ReceiptEmail: nullString(opts.ReceiptEmail),
		SetupFutureUsage: nullString(opts.SetupFutureUsage), StatementDescriptor: nullString(opts.StatementDescriptor),
		StatementDescriptorSuffix: nullString(opts.StatementSuffix), Status: string(p.Status),
	}
	switch {
	case p.CaptureManual:
		o.CaptureMethod = "manual"
	case opts.CaptureMethod != "":
		o.CaptureMethod = opts.CaptureMethod
	case p.Invoice != "":
		// An invoice's PaymentIntent is Stripe's own, made the classic way.
		o.CaptureMethod = "automatic"
	}
	if opts.ConfirmationMethod != "" {
		o.ConfirmationMethod = opts.ConfirmationMethod
	}
	if len(opts.PaymentMethodTypes) > 0 {
		o.PaymentMethodTypes = opts.PaymentMethodTypes
	}
	if opts.AutomaticPaymentMethods {
		o.AutomaticPaymentMethods = &automaticPaymentMethod{Enabled: true, AllowRedirects: opts.AllowRedirects}
	}
	switch {
	case p.Status == billing.PaymentRequiresAction:
		// Stripe shows no error while it waits for the customer.
		o.NextAction = &nextAction{Type: "use_stripe_sdk", UseStripeSDK: map[string]any{"type": "three_d_secure_redirect"}}
	case p.LastError != nil && p.Status != billing.PaymentSucceeded && p.Status != billing.PaymentRequiresCapture:
		var err error
		if o.LastPaymentError, err = renderPaymentError(p.LastError, lk); err != nil {
			return nil, err
		}
	}
	var err error
	if o.Customer, err = expandCustomer(ex, "customer", p.Customer, lk); err != nil {
		return nil, err
	}
	if o.PaymentMethod, err = expandPaymentMethod(ex, "payment_method", p.PaymentMethod, lk); err != nil {
		return nil, err
	}
	o.LatestCharge, err = expandable(ex, "latest_charge", p.LatestCharge, lookupAndRender(lk.Charge, p.LatestCharge,
		func(ch *billing.Charge) (any, error) { return renderCharge(ch, lk) }))
	if err != nil {
		return nil, err
	}
	return o, nil
}

// ---------------------------------------------------------------------------
// Charges.

// chargeObject is components.schemas.charge.
type chargeObject struct {
	ID                            string                `json:"id"`
	Object                        string                `json:"object"`
	Amount                        int64                 `json:"amount"`
	AmountCaptured                int64                 `json:"amount_captured"`
	AmountRefunded                int64                 `json:"amount_refunded"`
	Application                   any                   `json:"application"`
	ApplicationFee                any                   `json:"application_fee"`
	ApplicationFeeAmount          *int64                `json:"application_fee_amount"`
	BalanceTransaction            any                   `json:"balance_transaction"`
	BillingDetails                billingDetailsObject  `json:"billing_details"`
	CalculatedStatementDescriptor *string               `json:"calculated_statement_descriptor"`
	Captured                      bool                  `json:"captured"`
	Created                       int64                 `json:"created"`
	Currency                      string                `json:"currency"`
	Customer                      any                   `json:"customer"`
	Description                   *string               `json:"description"`
	Disputed                      bool                  `json:"disputed"`
	FailureBalanceTransaction     any                   `json:"failure_balance_transaction"`
	FailureCode                   *string               `json:"failure_code"`
	FailureMessage                *string               `json:"failure_message"`
	FraudDetails                  struct{}              `json:"fraud_details"`
	Livemode                      bool                  `json:"livemode"`
	Metadata                      map[string]string     `json:"metadata"`
	OnBehalfOf                    any                   `json:"on_behalf_of"`
	Outcome                       *chargeOutcome        `json:"outcome"`
	Paid                          bool                  `json:"paid"`
	PaymentIntent                 any                   `json:"payment_intent"`
	PaymentMethod                 *string               `json:"payment_method"`
	PaymentMethodDetails          *paymentMethodDetails `json:"payment_method_details"`
	RadarOptions                  struct{}              `json:"radar_options"`
	ReceiptEmail                  *string               `json:"receipt_email"`
	ReceiptNumber                 *string               `json:"receipt_number"`
	ReceiptURL                    *string               `json:"receipt_url"`
	Refunded                      bool                  `json:"refunded"`
	Refunds                       *refundList           `json:"refunds,omitempty"`
	Review                        any                   `json:"review"`
	Shipping                      any                   `json:"shipping"`
	SourceTransfer                any                   `json:"source_transfer"`
	StatementDescriptor           *string               `json:"statement_descriptor"`
	StatementDescriptorSuffix     *string               `json:"statement_descriptor_suffix"`
	Status                        string                `json:"status"`
	TransferData                  any                   `json:"transfer_data"`
	TransferGroup                 *string               `json:"transfer_group"`
}

// chargeOutcome is components.schemas.charge_outcome.
type chargeOutcome struct {
	AdviceCode         *string `json:"advice_code"`
	NetworkAdviceCode  *string `json:"network_advice_code"`
	NetworkDeclineCode *string `json:"network_decline_code"`
	NetworkStatus      string  `json:"network_status"`
	Reason             *string `json:"reason"`
	RiskLevel          string  `json:"risk_level"`
	RiskScore          int64   `json:"risk_score"`
	SellerMessage      string  `json:"seller_message"`
	Type               string  `json:"type"`
}

// paymentMethodDetails is components.schemas.payment_method_details, of
// a card.
type paymentMethodDetails struct {
	Card *chargeCard `json:"card"`
	Type string      `json:"type"`
}

// chargeCard is payment_method_details_card.
type chargeCard struct {
	AmountAuthorized         *int64       `json:"amount_authorized"`
	AuthorizationCode        *string      `json:"authorization_code"`
	Brand                    *string      `json:"brand"`
	CaptureBefore            *int64       `json:"capture_before,omitempty"`
	Checks                   cardChecks   `json:"checks"`
	Country                  *string      `json:"country"`
	ExpMonth                 int          `json:"exp_month"`
	ExpYear                  int          `json:"exp_year"`
	ExtendedAuthorization    statusOnly   `json:"extended_authorization"`
	Fingerprint              *string      `json:"fingerprint"`
	Funding                  *string      `json:"funding"`
	IncrementalAuthorization statusOnly   `json:"incremental_authorization"`
	Installments             any          `json:"installments"`
	Last4                    *string      `json:"last4"`
	Mandate                  *string      `json:"mandate"`
	Multicapture             statusOnly   `json:"multicapture"`
	Network                  *string      `json:"network"`
	NetworkToken             networkToken `json:"network_token"`
	NetworkTransactionID     *string      `json:"network_transaction_id"`
	Overcapture              overcapture  `json:"overcapture"`
	RegulatedStatus          string       `json:"regulated_status"`
	ThreeDSecure             any          `json:"three_d_secure"`
	Wallet                   any          `json:"wallet"`
}

type statusOnly struct {
	Status string `json:"status"`
}

type networkToken struct {
	Used bool `json:"used"`
}

type overcapture struct {
	MaximumAmountCapturable int64  `json:"maximum_amount_capturable"`
	Status                  string `json:"status"`
}

// authorizationWindow is how long a manual-capture charge may wait for
// its capture (Stripe: 7 days for online card payments).
const authorizationWindow = 7 * 24 * 3600

// chargeExpansions are the fields of a charge expand[] may name.
var chargeExpansions = []string{"customer", "payment_intent", "refunds"}

// renderCharge renders a charge; customer and payment_intent are ids.
func renderCharge(ch *billing.Charge, lk renderLookup) (any, error) {
	return renderChargeEx(ch, lk, nil)
}

// renderChargeEx renders a charge; customer and payment_intent are
// expandable, and its refunds are shown when expanded. The card details
// are those of its payment method.
func renderChargeEx(ch *billing.Charge, lk renderLookup, ex expandSet) (any, error) {
	o := &chargeObject{
		ID: ch.ID, Object: "charge", Amount: ch.Amount, AmountCaptured: ch.AmountCaptured,
		AmountRefunded: ch.AmountRefunded, Captured: ch.Captured, Created: ch.Created, Currency: ch.Currency,
		Description: nullString(ch.Description), Metadata: metadata(ch.Metadata), Paid: ch.Status == billing.ChargeSucceeded,
		PaymentMethod: nullString(ch.PaymentMethod), Refunded: ch.Amount > 0 && ch.AmountRefunded == ch.Amount,
		Status: string(ch.Status),
	}
	o.Outcome = &chargeOutcome{NetworkStatus: "approved_by_network", RiskLevel: "normal", RiskScore: riskScore(ch.ID),
		SellerMessage: "Payment complete.", Type: "authorized"}
	if ch.Status == billing.ChargeFailed {
		w := wording(ch.Failure)
		o.FailureCode, o.FailureMessage = nullString(w.code), nullString(w.message)
		reason := w.declineCode
		if reason == "" {
			reason = w.code
		}
		o.Outcome.NetworkStatus, o.Outcome.Type, o.Outcome.Reason = "declined_by_network", "issuer_declined", nullString(reason)
		o.Outcome.SellerMessage = "The bank returned the decline code `" + reason + "`."
		if reason == "generic_decline" {
			o.Outcome.SellerMessage = "The bank did not return any further details with this decline."
		}
	}
	if ch.PaymentMethod != "" {
		pm, err := lk.PaymentMethod(ch.PaymentMethod)
		switch {
		case err == nil && pm != nil:
			o.BillingDetails = renderBillingDetails(pm.BillingDetails)
			o.PaymentMethodDetails = renderChargeCard(ch, pm)
		case err != nil && !isMissing(err):
			return nil, err
		default:
			o.BillingDetails = renderBillingDetails(billing.BillingDetails{})
		}
	} else {
		o.BillingDetails = renderBillingDetails(billing.BillingDetails{})
	}
	var err error
	if o.Customer, err = expandCustomer(ex, "customer", ch.Customer, lk); err != nil {
		return nil, err
	}
	o.PaymentIntent, err = expandable(ex, "payment_intent", ch.Payment, lookupAndRender(lk.Payment, ch.Payment,
		func(p *billing.Payment) (any, error) { return renderPaymentIntent(p, lk) }))
	if err != nil {
		return nil, err
	}
	if ex["refunds"] {
		if o.Refunds, err = renderChargeRefunds(ch, lk); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// renderChargeCard renders the card details of a charge of pm.
func renderChargeCard(ch *billing.Charge, pm *billing.PaymentMethod) *paymentMethodDetails {
	c := pm.Card
	card := &chargeCard{
		Brand: nullString(c.Brand), Checks: cardChecks{}, Country: nullString(c.Country), ExpMonth: c.ExpMonth,
		ExpYear: c.ExpYear, ExtendedAuthorization: statusOnly{"disabled"}, Fingerprint: nullString(c.Fingerprint),
		Funding: nullString(c.Funding), IncrementalAuthorization: statusOnly{"unavailable"}, Last4: nullString(c.Last4),
		Multicapture: statusOnly{"unavailable"}, Network: nullString(c.Brand),
		Overcapture: overcapture{MaximumAmountCapturable: ch.Amount, Status: "unavailable"}, RegulatedStatus: "unregulated",
	}
	if ch.Status == billing.ChargeSucceeded {
		amount := ch.Amount
		card.AmountAuthorized = &amount
		if !ch.Captured && ch.AmountRefunded == 0 {
			before := ch.Created + authorizationWindow
			card.CaptureBefore = &before
		}
	}
	return &paymentMethodDetails{Type: "card", Card: card}
}

// riskScore is a charge's Radar risk score: a stable number from its id,
// in the range Stripe calls normal risk.
func riskScore(id string) int64 {
	sum := sha256.Sum256([]byte(id))
	return int64(sum[0]) % 65
}
