package billing

// paymentMethodFor is what an invoice of cust for sub (nil: no
// subscription) is charged to: the subscription's default payment method,
// then the customer's, then the customer's default source, whichever is
// first to resolve to a payment method that is not attached to someone
// else. It returns nil when there is nothing to charge.
//
// The ledger resolves the ids: a surface may answer for ids it knows
// without storing them (Stripe's test payment methods such as
// pm_card_visa).
func (e *Engine) paymentMethodFor(sub *Subscription, cust *Customer) (*PaymentMethod, error) {
	ids := []string{"", cust.DefaultPaymentMethod, cust.DefaultSource}
	if sub != nil {
		ids[0] = sub.DefaultPaymentMethod
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		pm, err := e.L.PaymentMethod(id)
		if ignoreNotFound(err) != nil {
			return nil, err
		}
		if err == nil && (pm.Customer == "" || pm.Customer == cust.ID) {
			return pm, nil
		}
	}
	return nil, nil
}

// chargeable reports whether attempt would collect a payment with pm at
// once, without a decline or a wait for authentication.
func chargeable(pm *PaymentMethod) bool {
	return pm != nil && !pm.Behavior.RequiresAuthentication && chargeBehavior(pm) == ""
}
