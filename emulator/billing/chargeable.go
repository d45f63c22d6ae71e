package billing

// paymentMethodFor is what an invoice of cust for sub (nil: no
// subscription) is charged to: the subscription's default payment method,
// then the customer's, then the customer's default source, whichever is
// first to name a stored payment method that may pay for cust (see
// CheckUsable: not detached, not attached to someone else). It returns nil
// when there is nothing to charge.
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
		if err == nil && CheckUsable(pm, cust.ID, "") == nil {
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
