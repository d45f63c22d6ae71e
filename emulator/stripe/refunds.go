package stripe

import (
	"errors"
	"fmt"
	"maps"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves refunds (/v1/refunds, and a charge's refunds) over the
// engine's refunds of a charge. Card refunds succeed at once.

// eventChargeRefundUpdated is the second event Stripe sends when a refund
// is updated, charge.refund.updated (the engine announces the update once,
// as refund.updated).
const eventChargeRefundUpdated billing.EventType = "stripe.charge.refund.updated"

// refundExpansions are the fields of a refund expand[] may name.
var refundExpansions = []string{"charge", "payment_intent"}

// refundError words the engine's refusal of a refund as Stripe does. param
// is the parameter that named the charge ("charge" or "payment_intent").
func refundError(err error, param string) error {
	var re *billing.RefundError
	if !errors.As(err, &re) {
		return err
	}
	switch re.Problem {
	case billing.RefundNoSuccessfulCharge:
		return invalid(param, "This PaymentIntent (%s) does not have a successful charge to refund.", re.Payment)
	case billing.RefundAlreadyRefunded:
		e := invalid(param, "Charge %s has already been refunded.", re.Charge)
		e.Code = "charge_already_refunded"
		return e
	case billing.RefundTooLarge:
		e := invalid("amount", "Refund amount (%s) is greater than unrefunded amount on charge (%s)",
			formatMoney(re.Amount, re.Currency), formatMoney(re.Left, re.Currency))
		e.Code = "amount_too_large"
		return e
	}
	return invalid("", "You can't cancel refund %s because it has a status of %s. Only a refund with a status of "+
		"requires_action can be canceled.", re.Refund, re.Status)
}

// openRefund is onClock for the refund the path names, which lives on
// its charge's clock.
func (s *Surface) openRefund(c *call, tx *store.Tx) (*ledger, *billing.Refund, int64, error) {
	return onClock(s, c, tx, (*ledger).Refund, func(r *billing.Refund) string { return r.Clock })
}

func (s *Surface) createRefund(c *call, tx *store.Tx) (any, error) {
	chargeID, hasCharge := c.p.str("charge")
	intentID, hasIntent := c.p.str("payment_intent")
	amount, hasAmount := c.p.int64("amount")
	reason, _ := c.p.enum("reason", "duplicate", "fraudulent", "requested_by_customer")
	md, _ := c.p.metadata("metadata")
	for _, name := range []string{"origin", "customer", "currency"} {
		if _, ok := c.p.str(name); ok {
			c.p.fail(invalid(name, "billclock emulates refunds of charges only; refunds to a customer's cash balance "+
				"(origin, customer, currency) are not supported."))
		}
	}
	ignoreParams(c.p, "instructions_email", "refund_application_fee", "reverse_transfer")
	ex, err := c.p.expansions(refundExpansions...)
	if err != nil {
		return nil, err
	}
	switch {
	case !hasCharge && !hasIntent:
		return nil, invalid("", "One of the following params should be provided for this request: payment_intent or charge.")
	case hasAmount && amount < 1:
		return nil, errTooSmall("amount", 1)
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	param := "charge"
	var ch *billing.Charge
	if hasCharge {
		if ch, err = l.Charge(chargeID); err != nil {
			return nil, withParam(err, "charge")
		}
	}
	if hasIntent {
		param = "payment_intent"
		p, err := l.Payment(intentID)
		if err != nil {
			return nil, withParam(err, "payment_intent")
		}
		switch {
		case ch != nil && ch.Payment != p.ID:
			return nil, invalid("charge", "The charge %s does not belong to the PaymentIntent %s.", ch.ID, p.ID)
		case ch == nil && p.LatestCharge == "":
			return nil, invalid("payment_intent", "This PaymentIntent (%s) does not have a successful charge to refund.", p.ID)
		case ch == nil:
			if ch, err = l.Charge(p.LatestCharge); err != nil {
				return nil, err
			}
		}
	}
	now, err := l.TimeOn(ch.Clock, c.now.Unix())
	if err != nil {
		return nil, err
	}
	r, err := l.Engine().RefundCharge(billing.NewRefund{Charge: ch, Amount: amount, Reason: reason,
		Metadata: applyMetadata(nil, md, false)}, now)
	if err != nil {
		return nil, refundError(err, param)
	}
	return renderRefund(r, l, expandSet(ex))
}

func (s *Surface) retrieveRefund(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(refundExpansions...)
	if err != nil {
		return nil, err
	}
	l, r, err := openByID(s, c, tx, (*ledger).Refund)
	if err != nil {
		return nil, err
	}
	return renderRefund(r, l, expandSet(ex))
}

func (s *Surface) updateRefund(c *call, tx *store.Tx) (any, error) {
	md, cleared := c.p.metadata("metadata")
	ex, err := c.p.expansions(refundExpansions...)
	if err != nil {
		return nil, err
	}
	l, r, now, err := s.openRefund(c, tx)
	if err != nil {
		return nil, err
	}
	before := *r
	before.Metadata = maps.Clone(r.Metadata)
	if err := l.Engine().UpdateRefund(r, metadataUpdate(r.Metadata, md, cleared), now); err != nil {
		return nil, err
	}
	if !maps.Equal(before.Metadata, r.Metadata) {
		after := *r
		after.Metadata = maps.Clone(r.Metadata)
		if err := l.Emit(billing.Event{Type: eventChargeRefundUpdated, Time: now, Object: &after, Before: &before}); err != nil {
			return nil, err
		}
	}
	return renderRefund(r, l, expandSet(ex))
}

func (s *Surface) cancelRefund(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(refundExpansions...)
	if err != nil {
		return nil, err
	}
	l, r, now, err := s.openRefund(c, tx)
	if err != nil {
		return nil, err
	}
	if err := l.Engine().CancelRefund(r, now); err != nil {
		return nil, refundError(err, "")
	}
	return renderRefund(r, l, expandSet(ex))
}

// listRefundsOf lists refunds newest first, those of charge if set, with
// the filters of GET /v1/refunds.
func (s *Surface) listRefundsOf(c *call, tx *store.Tx, charge, url string) (any, error) {
	pg := pageParams(c.p)
	intent := ""
	var created rangeFilter
	if charge == "" {
		charge, _ = c.p.str("charge")
		intent, _ = c.p.str("payment_intent")
		created = rangeParam(c.p, "created")
	}
	ex, err := c.p.expansions(refundExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if url != "/v1/refunds" {
		if _, err := l.Charge(charge); err != nil {
			return nil, withParam(err, "charge")
		}
	}
	coll, err := l.Collection(clockwork.RefundsCollection)
	if err != nil {
		return nil, err
	}
	match := func(r *billing.Refund) bool {
		return (charge == "" || r.Charge == charge) && (intent == "" || r.Payment == intent) && created.match(r.Created)
	}
	return listTyped(coll, pg, url, "refund", match, func(r *billing.Refund) (any, error) {
		return renderRefund(r, l, expandSet(ex))
	})
}

func (s *Surface) listRefunds(c *call, tx *store.Tx) (any, error) {
	return s.listRefundsOf(c, tx, "", "/v1/refunds")
}

func (s *Surface) listChargeRefunds(c *call, tx *store.Tx) (any, error) {
	id := c.vars["charge"]
	return s.listRefundsOf(c, tx, id, "/v1/charges/"+id+"/refunds")
}

func (s *Surface) retrieveChargeRefund(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(refundExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if _, err := l.Charge(c.vars["charge"]); err != nil {
		return nil, withParam(err, "charge")
	}
	r, err := l.Refund(c.vars["id"])
	switch {
	case isMissing(err) || err == nil && r.Charge != c.vars["charge"]:
		return nil, errNoSuch("refund", c.vars["id"], "id")
	case err != nil:
		return nil, err
	}
	return renderRefund(r, l, expandSet(ex))
}

// refundObject is components.schemas.refund.
type refundObject struct {
	ID                     string             `json:"id"`
	Object                 string             `json:"object"`
	Amount                 int64              `json:"amount"`
	BalanceTransaction     any                `json:"balance_transaction"`
	Charge                 any                `json:"charge"`
	Created                int64              `json:"created"`
	Currency               string             `json:"currency"`
	DestinationDetails     destinationDetails `json:"destination_details"`
	Metadata               map[string]string  `json:"metadata"`
	PaymentIntent          any                `json:"payment_intent"`
	PaymentMethod          *string            `json:"payment_method"`
	Reason                 *string            `json:"reason"`
	ReceiptNumber          *string            `json:"receipt_number"`
	SourceTransferReversal any                `json:"source_transfer_reversal"`
	Status                 string             `json:"status"`
	TransferReversal       any                `json:"transfer_reversal"`
}

// destinationDetails is refund_destination_details, of a card.
type destinationDetails struct {
	Card destinationCard `json:"card"`
	Type string          `json:"type"`
}

// destinationCard is refund_destination_details_card: billclock's card
// refunds never get the acquirer's reference a real one gets later.
type destinationCard struct {
	ReferenceStatus string `json:"reference_status"`
	ReferenceType   string `json:"reference_type"`
	Type            string `json:"type"`
}

// renderRefund renders a refund; charge and payment_intent are
// expandable.
func renderRefund(r *billing.Refund, lk renderLookup, ex expandSet) (any, error) {
	o := &refundObject{
		ID: r.ID, Object: "refund", Amount: r.Amount, Created: r.Created, Currency: r.Currency,
		DestinationDetails: destinationDetails{Type: "card", Card: destinationCard{ReferenceStatus: "pending",
			ReferenceType: "acquirer_reference_number", Type: "refund"}},
		Metadata: metadata(r.Metadata), PaymentMethod: nullString(r.PaymentMethod), Reason: nullString(r.Reason),
		Status: string(r.Status),
	}
	var err error
	o.Charge, err = expandable(ex, "charge", r.Charge, lookupAndRender(lk.Charge, r.Charge,
		func(ch *billing.Charge) (any, error) { return renderCharge(ch, lk) }))
	if err != nil {
		return nil, err
	}
	o.PaymentIntent, err = expandable(ex, "payment_intent", r.Payment, lookupAndRender(lk.Payment, r.Payment,
		func(p *billing.Payment) (any, error) { return renderPaymentIntent(p, lk) }))
	if err != nil {
		return nil, err
	}
	return o, nil
}

// refundsLookup finds a charge's refunds; the ledger is one.
type refundsLookup interface {
	RefundsOf(charge string) ([]*billing.Refund, error)
}

// chargeRefundsShown is how many refunds a charge's expanded refunds list
// holds, newest first (Stripe: "the 10 most recent refunds").
const chargeRefundsShown = 10

// refundList is a charge's list of refunds (RefundList).
type refundList struct {
	Object  string `json:"object"`
	Data    []any  `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

// renderChargeRefunds renders a charge's refunds list, newest first.
func renderChargeRefunds(ch *billing.Charge, lk renderLookup) (*refundList, error) {
	out := &refundList{Object: "list", Data: []any{}, URL: fmt.Sprintf("/v1/charges/%s/refunds", ch.ID)}
	rl, ok := lk.(refundsLookup)
	if !ok {
		return out, nil
	}
	refunds, err := rl.RefundsOf(ch.ID)
	if err != nil {
		return nil, err
	}
	for i := len(refunds) - 1; i >= 0; i-- {
		if len(out.Data) == chargeRefundsShown {
			out.HasMore = true
			break
		}
		r, err := renderRefund(refunds[i], lk, nil)
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, r)
	}
	return out, nil
}
