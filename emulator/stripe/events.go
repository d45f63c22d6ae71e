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

const eventsCollection = "events"

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
	case *billing.Customer:
		out, err = renderCustomer(o, lk, nil)
	case *billing.Product:
		out = renderProduct(o)
	case *billing.Price:
		out = renderPrice(o)
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
	default:
		return nil, fmt.Errorf("render: no Stripe shape for %T", v)
	}
	return out, err
}

// record stores a Stripe event for an engine event. c is the API call that
// caused it, or nil for background work.
func (s *Surface) record(tx *store.Tx, account string, c *call, ev billing.Event) error {
	l, err := s.ledger(tx, account, c)
	if err != nil {
		return err
	}
	return l.record(ev)
}

// record stores ev as a Stripe event of the ledger's account, rendered with
// the ledger's lookups.
func (l *ledger) record(ev billing.Event) error {
	typ, ok := stripeEventType(ev)
	if !ok {
		return fmt.Errorf("record: no Stripe event type for %s", ev.Type)
	}
	if ev.Object != l.lastObject || l.lastRendered == nil {
		val, err := renderValue(ev.Object, l)
		if err != nil {
			return err
		}
		obj, err := json.Marshal(val)
		if err != nil {
			return err
		}
		l.lastObject, l.lastValue, l.lastRendered = ev.Object, val, obj
	}
	var err error
	e := eventObject{ID: clockwork.NewID("evt_", 24), Object: "event", APIVersion: DefaultAPIVersion, Created: ev.Time,
		Data: eventData{Object: l.lastRendered}, Type: typ}
	if ev.Before != nil {
		before, err := renderValue(ev.Before, l)
		if err != nil {
			return err
		}
		if e.Data.PreviousAttributes, err = previousAttributes(before, l.lastValue); err != nil {
			return err
		}
	}
	if l.c != nil {
		id := l.c.requestID
		e.Request.ID = &id
		if l.c.idemKey != "" {
			key := l.c.idemKey
			e.Request.IdempotencyKey = &key
		}
	}
	if e.PendingWebhooks, err = l.enqueueDeliveries(e.ID, typ, ""); err != nil {
		return err
	}
	return l.storeEvent(&e)
}

// Groups of the events collection: every event is in eventsAll and in its
// type's group, tagged with its created time, so that lists filtered by
// type or created walk these instead of decoding every event.
const (
	eventsAll      = "all"
	eventTypeGroup = "type:"
)

func eventGroups(typ string) []string { return []string{eventsAll, eventTypeGroup + typ} }

// storeEvent stores a rendered event with its groups.
func (l *ledger) storeEvent(e *eventObject) error {
	raw, err := e.encode()
	if err != nil {
		return err
	}
	events, err := l.coll(eventsCollection)
	if err != nil {
		return err
	}
	// Events are listed in the order they happened, not by created: events
	// of objects on a test clock carry simulated times, and a clock's
	// advancing and ready events must bracket the billing events between
	// them in any listing. Append keeps that order and stamps each event
	// with the wall time it was recorded at, which retention goes by.
	if err := events.Append(e.ID, l.wall(), raw); err != nil {
		return err
	}
	return events.SetGroups(e.ID, e.Created, eventGroups(e.Type)...)
}

func accountEvents(tx *store.Tx, account string) (*store.Collection, error) {
	acct, err := tx.Account(account)
	if err != nil {
		return nil, err
	}
	return acct.Collection(eventsCollection)
}

func (s *Surface) retrieveEvent(c *call, tx *store.Tx) (any, error) {
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	events, err := accountEvents(tx, c.account)
	if err != nil {
		return nil, err
	}
	raw, err := events.Get(c.vars["id"])
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSuch("event", c.vars["id"], "id")
	}
	if err != nil {
		return nil, err
	}
	return json.RawMessage(append([]byte(nil), raw...)), nil
}

// typeMatcher matches event types against Stripe's filters, where a
// trailing "*" matches any suffix (e.g. "invoice.*").
func typeMatcher(patterns []string) func(string) bool {
	return func(typ string) bool {
		for _, p := range patterns {
			if prefix, wild := strings.CutSuffix(p, "*"); wild && strings.HasPrefix(typ, prefix) || p == typ {
				return true
			}
		}
		return false
	}
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
	events, err := accountEvents(tx, c.account)
	if err != nil {
		return nil, err
	}
	render := func(raw []byte) (json.RawMessage, error) { return append(json.RawMessage(nil), raw...), nil }
	if !groupsReady(tx) {
		return listCollection(events, pg, "/v1/events", "event", eventMatcher(types, created), render)
	}
	q, filtered, err := eventQuery(events, types, created)
	if err != nil {
		return nil, err
	}
	if !filtered {
		return listCollection(events, pg, "/v1/events", "event", nil, render)
	}
	return listGrouped(events, q, pg, "/v1/events", "event", render)
}

// eventQuery is the group walk that answers a list filtered by type
// patterns and created: the groups of the types the patterns name (a
// pattern ending in "*" names every type it prefixes, found by a prefix
// seek), or every event for a created filter alone, keeping the events
// whose created matches. filtered is false when nothing is filtered.
func eventQuery(events *store.Collection, patterns []string, created rangeFilter) (q store.Query, filtered bool, err error) {
	if created.set() {
		q.Tag = created.match
	}
	everyType := len(patterns) == 0
	for _, p := range patterns {
		prefix, wild := strings.CutSuffix(p, "*")
		if !wild {
			q.Groups = append(q.Groups, eventTypeGroup+p)
			continue
		}
		if prefix == "" {
			everyType = true
			break
		}
		groups, err := events.Groups(eventTypeGroup + prefix)
		if err != nil {
			return q, false, err
		}
		q.Groups = append(q.Groups, groups...)
	}
	if everyType {
		q.Groups = []string{eventsAll}
		return q, q.Tag != nil, nil
	}
	return q, true, nil
}

// eventMatcher filters stored events by decoding each one: lists take it
// until the events are all in their groups (see upgrade).
func eventMatcher(types []string, created rangeFilter) func([]byte) (bool, error) {
	matchType := typeMatcher(types)
	return func(raw []byte) (bool, error) {
		var head struct {
			Type    string `json:"type"`
			Created int64  `json:"created"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return false, err
		}
		return (len(types) == 0 || matchType(head.Type)) && created.match(head.Created), nil
	}
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
