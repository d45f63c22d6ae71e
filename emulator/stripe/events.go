package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// eventTypes maps engine events to Stripe's event types.
var eventTypes = map[billing.EventType]string{
	billing.EventClockCreated:             "test_helpers.test_clock.created",
	billing.EventClockAdvancing:           "test_helpers.test_clock.advancing",
	billing.EventClockReady:               "test_helpers.test_clock.ready",
	billing.EventClockDeleted:             "test_helpers.test_clock.deleted",
	billing.EventClockInternalFailure:     "test_helpers.test_clock.internal_failure",
	billing.EventCustomerCreated:          "customer.created",
	billing.EventCustomerUpdated:          "customer.updated",
	billing.EventCustomerDeleted:          "customer.deleted",
	billing.EventProductCreated:           "product.created",
	billing.EventProductUpdated:           "product.updated",
	billing.EventProductDeleted:           "product.deleted",
	billing.EventPriceCreated:             "price.created",
	billing.EventPriceUpdated:             "price.updated",
	billing.EventSubscriptionCreated:      "customer.subscription.created",
	billing.EventSubscriptionUpdated:      "customer.subscription.updated",
	billing.EventSubscriptionDeleted:      "customer.subscription.deleted",
	billing.EventSubscriptionTrialWillEnd: "customer.subscription.trial_will_end",
	billing.EventInvoiceCreated:           "invoice.created",
	billing.EventInvoiceFinalized:         "invoice.finalized",
	billing.EventInvoicePaid:              "invoice.paid",
	billing.EventInvoicePaymentSucceeded:  "invoice.payment_succeeded",
	billing.EventInvoiceUpdated:           "invoice.updated",
	billing.EventInvoiceVoided:            "invoice.voided",
	billing.EventInvoiceItemCreated:       "invoiceitem.created",
	billing.EventInvoiceItemDeleted:       "invoiceitem.deleted",

	billing.EventSubscriptionPaused:            "customer.subscription.paused",
	billing.EventSubscriptionResumed:           "customer.subscription.resumed",
	billing.EventPaymentMethodAttached:         "payment_method.attached",
	billing.EventPaymentMethodDetached:         "payment_method.detached",
	billing.EventPaymentMethodUpdated:          "payment_method.updated",
	billing.EventPaymentCreated:                "payment_intent.created",
	billing.EventPaymentSucceeded:              "payment_intent.succeeded",
	billing.EventPaymentFailed:                 "payment_intent.payment_failed",
	billing.EventPaymentRequiresAction:         "payment_intent.requires_action",
	billing.EventPaymentCanceled:               "payment_intent.canceled",
	billing.EventPaymentAmountCapturableUpdate: "payment_intent.amount_capturable_updated",
	billing.EventChargeSucceeded:               "charge.succeeded",
	billing.EventChargeFailed:                  "charge.failed",
	billing.EventChargeCaptured:                "charge.captured",
	billing.EventInvoicePaymentFailed:          "invoice.payment_failed",
	billing.EventInvoicePaymentActionRequired:  "invoice.payment_action_required",
	billing.EventInvoiceMarkedUncollectible:    "invoice.marked_uncollectible",
	billing.EventInvoicePaymentPaid:            "invoice_payment.paid",
	billing.EventBalanceTransactionCreated:     "customer.balance_transaction.created",

	billing.EventSetupCreated:        "setup_intent.created",
	billing.EventSetupSucceeded:      "setup_intent.succeeded",
	billing.EventSetupFailed:         "setup_intent.setup_failed",
	billing.EventSetupRequiresAction: "setup_intent.requires_action",
	billing.EventSetupCanceled:       "setup_intent.canceled",
	billing.EventChargeRefunded:      "charge.refunded",
	billing.EventRefundCreated:       "refund.created",
	billing.EventRefundUpdated:       "refund.updated",
	eventChargeRefundUpdated:         "charge.refund.updated",

	billing.EventInvoiceSent:     "invoice.sent",
	billing.EventInvoiceOverdue:  "invoice.overdue",
	billing.EventInvoiceUpcoming: "invoice.upcoming",
	billing.EventInvoiceDeleted:  "invoice.deleted",
}

// eventObject is a Stripe event, stored as rendered: events are snapshots.
type eventObject struct {
	ID              string       `json:"id"`
	Object          string       `json:"object"`
	APIVersion      string       `json:"api_version"`
	Created         int64        `json:"created"`
	Data            eventData    `json:"data"`
	Livemode        bool         `json:"livemode"`
	PendingWebhooks int          `json:"pending_webhooks"`
	Request         eventRequest `json:"request"`
	Type            string       `json:"type"`
}

type eventData struct {
	Object json.RawMessage `json:"object"`
	// PreviousAttributes holds, for an update, the top-level fields that
	// changed, with their values before.
	PreviousAttributes json.RawMessage `json:"previous_attributes,omitempty"`
}

type eventRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// renderObject turns an engine object into its Stripe JSON. Deleted
// objects (typ ends in ".deleted", other than clocks and subscriptions,
// whose events carry the full object) render as Stripe's deleted stubs.
func renderObject(v any, lk renderLookup) (json.RawMessage, error) {
	out, err := renderValue(v, lk)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// renderValue turns an engine object into its Stripe shape (a pointer to
// one of the *Object structs), not yet encoded.
func renderValue(v any, lk renderLookup) (any, error) {
	var out any
	var err error
	switch o := v.(type) {
	case *billing.Clock:
		out = renderClock(o)
	case *billing.Coupon:
		out = renderCoupon(o, wallOf(lk), nil)
	case *billing.PromotionCode:
		out, err = renderPromotionCode(o, lk, nil)
	case *billing.Discount:
		out = renderDiscount(o)
	case *billing.TaxRate:
		out = renderTaxRate(o)
	case *billing.Customer:
		out, err = renderCustomer(o, lk, nil)
	case *billing.Product:
		out = renderProduct(o)
	case *billing.Price:
		out = renderPrice(o)
	case *planView:
		out, err = renderPlan(o, lk, nil)
	case *billing.SubscriptionSchedule:
		out, err = renderSchedule(o, lk, nil)
	case *billing.Subscription:
		out, err = renderSubscription(o, lk, nil)
	case *billing.Invoice:
		out, err = renderInvoice(o, lk, nil)
	case *billing.InvoiceItem:
		out, err = renderInvoiceItem(o, lk)
	case *billing.PaymentMethod:
		if o.Legacy {
			out = renderCard(o)
		} else {
			out, err = renderPaymentMethod(o, lk)
		}
	case *billing.Payment:
		out, err = renderPaymentIntent(o, lk)
	case *billing.Charge:
		out, err = renderCharge(o, lk)
	case *billing.InvoicePayment:
		out, err = renderInvoicePayment(o, lk, nil)
	case *billing.BalanceTransaction:
		out, err = renderBalanceTransaction(o, lk, nil)
	case *checkoutSession:
		out, err = renderCheckoutSession(o, lk, nil)
	case *portalConfig:
		out = o
	case *portalSession:
		out, err = renderPortalSession(o, lk, nil)
	case *billing.Setup:
		out, err = renderSetupIntent(o, lk, nil)
	case *billing.Refund:
		out, err = renderRefund(o, lk, nil)
	default:
		return nil, fmt.Errorf("render: no Stripe shape for %T", v)
	}
	return out, err
}

// NewRecorder returns the Stripe renderer of the events recorded through
// l, which renders related objects through it.
func (s *Surface) NewRecorder(l *clockwork.Ledger) clockwork.Recorder {
	return &recorder{l: s.wrap(l)}
}

// recorder renders engine events as Stripe events, for one ledger.
type recorder struct {
	l *ledger
	// lastObject and lastRendered remember the last event object rendered:
	// the engine gives consecutive events the same snapshot (invoice.paid
	// and invoice.payment_succeeded), which is then rendered once.
	lastObject   any
	lastValue    any
	lastRendered json.RawMessage
}

// Render renders ev as a Stripe event, caused by the ledger's request.
func (r *recorder) Render(ev billing.Event) (*clockwork.Event, bool, error) {
	typ, ok := stripeEventType(ev)
	if !ok {
		return nil, false, fmt.Errorf("record: no Stripe event type for %s", ev.Type)
	}
	if ev.Object != r.lastObject || r.lastRendered == nil {
		val, err := renderValue(ev.Object, r.l)
		if err != nil {
			return nil, false, err
		}
		obj, err := json.Marshal(val)
		if err != nil {
			return nil, false, err
		}
		r.lastObject, r.lastValue, r.lastRendered = ev.Object, val, obj
	}
	e := &eventObject{ID: clockwork.NewID("evt_", 24), Object: "event", APIVersion: DefaultAPIVersion, Created: ev.Time,
		Data: eventData{Object: r.lastRendered}, Type: typ}
	if ev.Before != nil {
		before, err := renderValue(ev.Before, r.l)
		if err != nil {
			return nil, false, err
		}
		if e.Data.PreviousAttributes, err = previousAttributes(before, r.lastValue); err != nil {
			return nil, false, err
		}
	}
	if req := r.l.Request(); req != nil {
		id := req.ID
		e.Request.ID = &id
		if req.IdempotencyKey != "" {
			key := req.IdempotencyKey
			e.Request.IdempotencyKey = &key
		}
	}
	return &clockwork.Event{ID: e.ID, Type: typ, Created: e.Created, Encode: func(pending int) ([]byte, error) {
		e.PendingWebhooks = pending
		return e.encode()
	}}, true, nil
}

func (s *Surface) retrieveEvent(c *call, tx *store.Tx) (any, error) {
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	raw, err := l.Event(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return json.RawMessage(append([]byte(nil), raw...)), nil
}

func (s *Surface) listEvents(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	typ, hasType := c.p.str("type")
	types := c.p.strings("types")
	created := rangeParam(c.p, "created")
	if hasType && len(types) > 0 {
		c.p.fail(invalid("", "You may only specify one of these parameters: type, types."))
	}
	if len(types) > 20 {
		c.p.fail(invalid("types", "You may pass at most 20 event types."))
	}
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	if hasType {
		types = []string{typ}
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	f := clockwork.EventFilter{Types: types}
	if created.set() {
		f.Created = created.match
	}
	return listPage(func(emit func([]byte) error) (bool, error) { return l.ListEvents(f, pg, emit) }, pg, "/v1/events", "event",
		func(raw []byte) (json.RawMessage, error) { return append(json.RawMessage(nil), raw...), nil })
}

// retryEvent serves POST /v1/events/{id}/retry (the Stripe CLI's `events
// resend`): the event is queued again for webhook_endpoint, or for every
// endpoint that wants it.
func (s *Surface) retryEvent(c *call, tx *store.Tx) (any, error) {
	endpoint, _ := c.p.str("webhook_endpoint")
	c.p.bool("for_stripecli")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if _, err := l.Redeliver(c.vars["id"], endpoint); err != nil {
		var missing *billing.Error
		if errors.As(err, &missing) && missing.Resource == clockwork.KindEndpoint {
			e := *missing
			e.Param = "webhook_endpoint"
			return nil, &e
		}
		return nil, err
	}
	raw, err := l.Event(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.Clone(raw)), nil
}

// encode is json.Marshal(e) without re-validating and compacting the
// already rendered data object, which dominates the cost of recording the
// many events of a large clock advance.
func (e *eventObject) encode() ([]byte, error) {
	data := e.Data.Object
	e.Data.Object = json.RawMessage(`0`)
	head, err := json.Marshal(e)
	e.Data.Object = data
	if err != nil {
		return nil, err
	}
	const marker = `"data":{"object":0`
	i := bytes.Index(head, []byte(marker))
	if i < 0 {
		return nil, fmt.Errorf("encode event: no data marker")
	}
	out := make([]byte, 0, len(head)+len(data))
	out = append(out, head[:i+len(marker)-1]...)
	out = append(out, data...)
	return append(out, head[i+len(marker):]...), nil
}

// previousAttributes is Stripe's data.previous_attributes: each top-level
// field of before whose value after differs, with its value before. A
// changed list or hash is given whole, as Stripe does. before and after are
// renderings (pointers to the same *Object struct): their fields are
// compared as values, and only the changed ones are encoded.
func previousAttributes(before, after any) (json.RawMessage, error) {
	b, a := reflect.ValueOf(before), reflect.ValueOf(after)
	if b.Kind() != reflect.Pointer || b.Type() != a.Type() || b.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("previous attributes: %T and %T are not renderings of one type", before, after)
	}
	b, a = b.Elem(), a.Elem()
	out := append(make([]byte, 0, 64), '{')
	for i := range b.NumField() {
		f := b.Type().Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		bv, av := b.Field(i), a.Field(i)
		if reflect.DeepEqual(bv.Interface(), av.Interface()) {
			continue
		}
		raw := []byte("null") // an omitted field was absent before
		if !(strings.Contains(opts, "omitempty") && bv.IsZero()) {
			var err error
			if raw, err = json.Marshal(bv.Interface()); err != nil {
				return nil, err
			}
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		key, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		out = append(append(append(out, key...), ':'), raw...)
	}
	return append(out, '}'), nil
}
