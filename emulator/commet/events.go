package commet

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file renders the engine's events as Commet's webhook events: one
// Commet event for each engine event it has a name for, the rest not
// recorded. The clock's ready and failure events end the clock run under
// way instead (runs.go).

// Commet's event names.
const (
	evSubscriptionCreated     = "subscription.created"
	evSubscriptionActivated   = "subscription.activated"
	evSubscriptionReactivated = "subscription.reactivated"
	evSubscriptionCanceled    = "subscription.canceled"
	evSubscriptionUpdated     = "subscription.updated"
	evSubscriptionPastDue     = "subscription.past_due"
	evPaymentReceived         = "payment.received"
	evPaymentFailed           = "payment.failed"
	evPaymentRecovered        = "payment.recovered"
	evPaymentRetryFailed      = "payment.retry_failed"
	evInvoiceCreated          = "invoice.created"
	evInvoiceVoided           = "invoice.voided"
	evCustomerCreated         = "customer.created"
	evSeatsUpdated            = "seats.updated"
)

// eventTypes are the events billclock sends, for the validation of a
// webhook's events.
var eventTypes = map[string]bool{
	evSubscriptionCreated: true, evSubscriptionActivated: true, evSubscriptionReactivated: true,
	evSubscriptionCanceled: true, evSubscriptionUpdated: true, evSubscriptionPastDue: true,
	evPaymentReceived: true, evPaymentFailed: true, evPaymentRecovered: true, evPaymentRetryFailed: true,
	evInvoiceCreated: true, evInvoiceVoided: true, evCustomerCreated: true, evSeatsUpdated: true,
}

// NewRecorder returns the renderer of one ledger's events.
func (s *Surface) NewRecorder(l *clockwork.Ledger) clockwork.Recorder {
	return &recorder{s: s, l: l, org: organizationID(l.Account()), refs: map[string]string{}}
}

type recorder struct {
	s   *Surface
	l   *clockwork.Ledger
	org string
	// refs caches the id events show for each customer.
	refs map[string]string
	// run is the runSetting once read or written (see runState).
	run *runPointer
}

// Render turns an engine event into a Commet event, or ok=false.
func (r *recorder) Render(ev billing.Event) (*clockwork.Event, bool, error) {
	if ev.Type == billing.EventClockReady || ev.Type == billing.EventClockInternalFailure {
		return nil, false, r.s.endRun(r.l, ev)
	}
	typ, data, err := r.translate(ev)
	if err != nil || typ == "" {
		return nil, false, err
	}
	raw, err := encodeData(data)
	if err != nil {
		return nil, false, err
	}
	id := clockwork.NewID("evt_", 20)
	return &clockwork.Event{ID: id, Type: typ, Created: ev.Time,
		Encode: func(int) ([]byte, error) { return encodeStored(id, typ, ev.Time, r.org, raw), nil }}, true, nil
}

// encodeStored is the stored form of an event (storedEvent) whose
// envelope carries data, valid compact JSON. It is encoded by hand:
// json.Marshal would check and compact data once for the envelope and
// again for the stored event, several times the cost of encoding it.
func encodeStored(id, typ string, at int64, org string, data json.RawMessage) []byte {
	out := make([]byte, 0, len(data)+320)
	out = append(out, `{"id":`...)
	out = appendJSONString(out, id)
	out = append(out, `,"type":`...)
	out = appendJSONString(out, typ)
	out = append(out, `,"created":`...)
	out = strconv.AppendInt(out, at, 10)
	out = append(out, `,"body":{"event":`...)
	out = appendJSONString(out, typ)
	out = append(out, `,"timestamp":`...)
	out = appendJSONString(out, iso(at))
	out = append(out, `,"organizationId":`...)
	out = appendJSONString(out, org)
	out = append(out, `,"mode":"sandbox","apiVersion":`...)
	out = appendJSONString(out, CurrentVersion)
	out = append(out, `,"data":`...)
	out = append(out, data...)
	return append(out, "}}"...)
}

// appendJSONString appends s as json.Marshal encodes it: as it is,
// quoted, when it holds nothing json.Marshal escapes (the usual case).
func appendJSONString(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(out, raw...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}

// encodeData encodes an event's data as json.Marshal does (keys sorted),
// without reflection for the values events carry: strings, integers,
// booleans and null. Every event is encoded this way as it is recorded.
func encodeData(data map[string]any) (json.RawMessage, error) {
	keys := slices.Sorted(maps.Keys(data))
	out := make([]byte, 0, 64*len(keys))
	out = append(out, '{')
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, k)
		out = append(out, ':')
		switch v := data[k].(type) {
		case nil:
			out = append(out, "null"...)
		case string:
			out = appendJSONString(out, v)
		case bool:
			out = strconv.AppendBool(out, v)
		case int:
			out = strconv.AppendInt(out, int64(v), 10)
		case int64:
			out = strconv.AppendInt(out, v, 10)
		default:
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			out = append(out, raw...)
		}
	}
	return append(out, '}'), nil
}

// externalIDKey is the engine customer's metadata key holding its
// external id (never shown: Commet's metadata is the customer record's).
const externalIDKey = "commet.external_id"

// customerRef is the id events name a customer by: its external id if it
// has one, Commet's id otherwise.
func (r *recorder) customerRef(id string) (string, error) {
	if ref, ok := r.refs[id]; ok {
		return ref, nil
	}
	ref := id
	if c, err := r.l.Customer(id); err == nil && c.Metadata[externalIDKey] != "" {
		ref = c.Metadata[externalIDKey]
	}
	r.refs[id] = ref
	return ref, nil
}

// translate names an engine event and makes its data; "" for none.
func (r *recorder) translate(ev billing.Event) (string, map[string]any, error) {
	switch o := ev.Object.(type) {
	case *billing.Subscription:
		return r.subscriptionEvent(ev, o)
	case *billing.Invoice:
		return r.invoiceEvent(ev, o)
	case *billing.UnitChange:
		cust, err := r.customerRef(o.Customer)
		return evSeatsUpdated, map[string]any{"customerId": cust, "subscriptionId": o.Subscription,
			"featureCode": o.Feature, "previousSeats": o.Previous, "currentSeats": o.New}, err
	case *billing.Customer:
		if ev.Type != billing.EventCustomerCreated {
			return "", nil, nil
		}
		cust, err := r.customerRef(o.ID)
		return evCustomerCreated, map[string]any{"customerId": cust, "email": o.Email, "fullName": nullable(o.Name),
			"createdAt": iso(o.Created)}, err
	}
	return "", nil, nil
}

// updateShown reports whether Commet announces a subscription's change
// from before to sub: its activation or reactivation, its fall into
// past_due, or a cancellation at period end scheduled or withdrawn.
func updateShown(before, sub *billing.Subscription) bool {
	return sub.Status == billing.StatusActive && (before.Status == billing.StatusIncomplete || before.Status == billing.StatusCanceled) ||
		before.Status != billing.StatusPastDue && sub.Status == billing.StatusPastDue ||
		before.CancelAtPeriodEnd != sub.CancelAtPeriodEnd
}

func (r *recorder) subscriptionEvent(ev billing.Event, sub *billing.Subscription) (string, map[string]any, error) {
	switch ev.Type {
	case billing.EventSubscriptionCreated, billing.EventSubscriptionDeleted:
	case billing.EventSubscriptionUpdated:
		// Most updates (a renewal's) show nothing: nothing is read for them.
		if before, _ := ev.Before.(*billing.Subscription); before == nil || !updateShown(before, sub) {
			return "", nil, nil
		}
	default:
		return "", nil, nil
	}
	cust, err := r.customerRef(sub.Customer)
	if err != nil {
		return "", nil, err
	}
	rec, err := subscriptionRec(r.l, sub.ID)
	if err != nil {
		rec = &subscriptionRecord{}
	}
	base := map[string]any{"subscriptionId": sub.ID, "customerId": cust, "status": statusOf(sub), "name": nullable(rec.Name)}
	switch ev.Type {
	case billing.EventSubscriptionCreated:
		base["planId"], base["startDate"] = rec.PlanID, iso(sub.StartDate)
		if p, err := r.s.plan(r.l, rec.PlanID); err == nil {
			base["planName"] = p.Name
		}
		return evSubscriptionCreated, base, nil
	case billing.EventSubscriptionDeleted:
		base["canceledAt"], base["endDate"] = iso(sub.CanceledAt), iso(sub.EndedAt)
		base["cancelReason"] = cancelReason(sub, rec)
		delete(base, "name")
		return evSubscriptionCanceled, base, nil
	case billing.EventSubscriptionUpdated:
		before, _ := ev.Before.(*billing.Subscription)
		if before == nil {
			return "", nil, nil
		}
		switch {
		case before.Status == billing.StatusIncomplete && sub.Status == billing.StatusActive,
			before.Status == billing.StatusCanceled && sub.Status == billing.StatusActive:
			typ := evSubscriptionActivated
			if before.Status == billing.StatusCanceled {
				typ = evSubscriptionReactivated
			}
			base["currentPeriodStart"], base["currentPeriodEnd"] = iso(sub.PeriodStart), iso(sub.PeriodEnd)
			base["provider"] = "commet"
			if inv, err := r.l.Invoice(sub.LatestInvoice); err == nil {
				base["invoiceId"], base["invoiceNumber"], base["invoiceTotal"] = inv.ID, inv.Number, inv.Total()
				base["invoiceCurrency"] = currency(inv.Currency)
			}
			return typ, base, nil
		case before.Status != billing.StatusPastDue && sub.Status == billing.StatusPastDue:
			delete(base, "name")
			base["invoiceId"] = sub.LatestInvoice
			if inv, err := r.l.Invoice(sub.LatestInvoice); err == nil {
				base["invoiceNumber"] = inv.Number
			}
			return evSubscriptionPastDue, base, nil
		case before.CancelAtPeriodEnd != sub.CancelAtPeriodEnd:
			delete(base, "name")
			base["cancelReason"] = nullable(rec.CancelReason)
			if sub.CancelAtPeriodEnd {
				base["canceledAt"], base["endDate"] = iso(sub.CanceledAt), iso(sub.PeriodEnd)
			}
			return evSubscriptionUpdated, base, nil
		}
	}
	return "", nil, nil
}

func (r *recorder) invoiceEvent(ev billing.Event, inv *billing.Invoice) (string, map[string]any, error) {
	switch ev.Type {
	case billing.EventInvoiceFinalized, billing.EventInvoiceVoided, billing.EventInvoicePaymentFailed,
		billing.EventInvoicePaymentActionRequired:
	case billing.EventInvoicePaid:
		if inv.AmountPaid == 0 {
			return "", nil, nil
		}
	case billing.EventInvoicePaymentSucceeded:
		if inv.FirstFailureAt == 0 {
			return "", nil, nil
		}
	default:
		return "", nil, nil
	}
	cust, err := r.customerRef(inv.Customer)
	if err != nil {
		return "", nil, err
	}
	base := map[string]any{"invoiceId": inv.ID, "invoiceNumber": inv.Number, "customerId": cust,
		"subscriptionId": nullable(inv.Subscription)}
	switch ev.Type {
	case billing.EventInvoiceFinalized:
		base["invoiceStatus"] = invoiceStatus(inv)
		base["periodStart"], base["periodEnd"] = iso(inv.PeriodStart), iso(inv.PeriodEnd)
		base["issueDate"], base["dueDate"] = iso(inv.FinalizedAt), iso(inv.FinalizedAt)
		base["currency"], base["subtotal"], base["total"] = currency(inv.Currency), inv.Total(), inv.Total()
		return evInvoiceCreated, base, nil
	case billing.EventInvoiceVoided:
		base["invoiceStatus"] = "void"
		return evInvoiceVoided, base, nil
	case billing.EventInvoicePaid:
		if inv.AmountPaid == 0 {
			return "", nil, nil
		}
		base["invoiceTotal"], base["provider"], base["grossAmount"] = inv.Total(), "commet", inv.AmountPaid
		base["currency"], base["paidAt"], base["paymentTransactionId"] = currency(inv.Currency), iso(inv.PaidAt), nullable(inv.Payment)
		base["orgNetAmount"], base["customerEmail"] = inv.AmountPaid, nil
		if c, err := r.l.Customer(inv.Customer); err == nil {
			base["customerEmail"] = c.Email
		}
		return evPaymentReceived, base, nil
	case billing.EventInvoicePaymentSucceeded:
		if inv.FirstFailureAt == 0 {
			return "", nil, nil
		}
		base["invoiceTotal"] = inv.Total()
		return evPaymentRecovered, base, nil
	case billing.EventInvoicePaymentFailed, billing.EventInvoicePaymentActionRequired:
		code, msg := "card_declined", "The card was declined."
		if p, err := r.l.Payment(inv.Payment); err == nil && p.LastError != nil {
			code, msg = declineCode(p.LastError.Reason), "The payment was declined: "+declineMessage(p.LastError.Reason)
		}
		if inv.Status == billing.InvoiceUncollectible || inv.NextPaymentAttempt == 0 && inv.FirstFailureAt != 0 && !inv.AutoAdvance {
			delete(base, "invoiceTotal")
			base["reason"] = "dunning_exhausted"
			return evPaymentRetryFailed, base, nil
		}
		base["failureCode"], base["failureMessage"], base["recoveryUrl"] = code, msg, nil
		if inv.Subscription != "" {
			if rec, err := subscriptionRec(r.l, inv.Subscription); err == nil {
				base["recoveryUrl"] = rec.CheckoutURL
			}
		}
		return evPaymentFailed, base, nil
	}
	return "", nil, nil
}

// nullable is s, or JSON null for "".
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
