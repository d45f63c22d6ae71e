package chargebee

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Chargebee's events show objects as the operation that caused them left
// them: the subscription_created event of a new subscription carries its
// invoice paid, a renewal's events the renewed subscription with its
// collected invoice. So the recorder holds the engine's events back while
// an operation runs and, when it ends (the end of a request, or of a task
// an advance applies), turns them into Chargebee's events, each rendered
// with the objects as they stand then:
//
//	customer.created                    customer_created
//	customer.updated (by the API)       customer_changed
//	payment_method.attached             card_added (card_updated when it replaced one)
//	subscription.created                subscription_created
//	subscription.updated                subscription_changed (items), subscription_cancellation_scheduled,
//	                                    subscription_scheduled_cancellation_removed
//	subscription.deleted                subscription_cancelled
//	subscription.trial_will_end         subscription_trial_end_reminder
//	invoice.finalized (a renewal's)     subscription_renewed (subscription_activated after a trial), then
//	invoice.finalized                   invoice_generated
//	invoice.payment_succeeded (charged) payment_succeeded
//	invoice.payment_failed (charged)    payment_failed
//	invoiceitem.created (a credit)      credit_note_created
//	any change to an invoice generated  invoice_updated, once, after the others
//	  by an earlier operation
//
// Events of a request put its subscription_changed, _cancelled and
// _cancellation_scheduled first, as the change caused the rest.

// Chargebee's event types billclock sends.
var eventTypes = []string{
	"customer_created", "customer_changed", "card_added", "card_updated",
	"subscription_created", "subscription_changed", "subscription_activated", "subscription_renewed",
	"subscription_cancelled", "subscription_cancellation_scheduled", "subscription_scheduled_cancellation_removed",
	"subscription_trial_end_reminder", "invoice_generated", "invoice_updated", "payment_succeeded", "payment_failed",
	"credit_note_created",
}

// attemptsCollection keeps, by invoice, the transactions that tried to
// collect it (linked_payments and dunning_attempts): the engine keeps only
// the latest. It is customer data: start_afresh drops it.
const attemptsCollection = "chargebee_invoice_attempts"

// siteDataCollections are the dialect's own collections of customer data.
var siteDataCollections = []string{attemptsCollection}

// attempt is one transaction of an invoice.
type attempt struct {
	ID     string `json:"id"`
	At     int64  `json:"at"`
	Status string `json:"status"`
	Amount int64  `json:"amount"`
	// Automatic attempts are auto-collection's (at creation, renewal,
	// change and dunning retries), not collect_payment's.
	Automatic bool `json:"automatic,omitempty"`
}

type attemptsRecord struct {
	ID       string    `json:"id"`
	Attempts []attempt `json:"attempts"`
}

// invoiceAttempts returns the transactions of invoice id, oldest first.
func invoiceAttempts(lk lookup, id string) ([]attempt, error) {
	var rec attemptsRecord
	err := lk.Get(attemptsCollection, "invoice attempts", id, &rec)
	if be, ok := err.(*billing.Error); ok && be.Kind == billing.NotFound {
		return nil, nil
	}
	return rec.Attempts, err
}

// NewRecorder returns the recorder of a ledger's events.
func (s *Surface) NewRecorder(l *clockwork.Ledger) clockwork.Recorder { return &recorder{s: s, l: l} }

// recorder holds a ledger's engine events until its operation ends.
type recorder struct {
	s    *Surface
	l    *clockwork.Ledger
	held []billing.Event
	// manual marks the charges of this ledger as collect_payment's.
	manual bool
}

// Render holds ev back (see flush); a charge is noted on its invoice at
// once, so that the invoice renders it.
func (r *recorder) Render(ev billing.Event) (*clockwork.Event, bool, error) {
	switch ev.Type {
	case billing.EventClockCreated, billing.EventClockAdvancing, billing.EventClockReady, billing.EventClockDeleted,
		billing.EventClockInternalFailure:
		return nil, false, nil // the time machine has no events
	case billing.EventChargeSucceeded, billing.EventChargeFailed:
		if ch, ok := ev.Object.(*billing.Charge); ok && ch.Invoice != "" {
			if err := r.noteAttempt(ch); err != nil {
				return nil, false, err
			}
		}
	}
	r.held = append(r.held, ev)
	return nil, false, nil
}

func (r *recorder) noteAttempt(ch *billing.Charge) error {
	rec := attemptsRecord{ID: ch.Invoice}
	if err := r.l.Get(attemptsCollection, "invoice attempts", ch.Invoice, &rec); err != nil {
		if be, ok := err.(*billing.Error); !ok || be.Kind != billing.NotFound {
			return err
		}
	}
	status := txnSuccess
	if ch.Status == billing.ChargeFailed {
		status = txnFailure
	}
	rec.Attempts = append(rec.Attempts, attempt{ID: ch.ID, At: ch.Created, Status: status, Amount: ch.Amount, Automatic: !r.manual})
	return r.l.Put(attemptsCollection, ch.Invoice, ch.Created, &rec)
}

// creditNotes renders the credit notes the held events issued.
func (r *recorder) creditNotes() ([]*creditNoteObject, error) {
	var out []*creditNoteObject
	for _, ev := range r.held {
		if ii, ok := ev.Object.(*billing.InvoiceItem); ok && ev.Type == billing.EventInvoiceItemCreated && ii.Amount < 0 {
			cur, err := r.l.InvoiceItem(ii.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, renderCreditNote(cur, r.l))
		}
	}
	return out, nil
}

// ObserveTask records the events of each task an advance applies, as the
// task left the site.
func (s *Surface) ObserveTask(l *clockwork.Ledger, _ billing.Task, _ []billing.Event) error {
	return s.flush(l, false)
}

// pendingEvent is a Chargebee event to record: its type, time and what
// its content shows.
type pendingEvent struct {
	typ     string
	at      int64
	sub     string
	cust    string
	inv     string
	charge  *billing.Charge
	cn      string
	withInv bool
}

// flush turns the events l's recorder held into Chargebee's and records
// them (see the table above). request says they are a request's.
func (s *Surface) flush(l *clockwork.Ledger, request bool) error {
	r, ok := l.Recorder().(*recorder)
	if !ok || len(r.held) == 0 {
		return nil
	}
	held := r.held
	r.held = nil
	var out []pendingEvent
	generated := map[string]bool{}
	var touched []string
	detached := map[string]bool{}
	createdCustomers := map[string]bool{}
	for _, ev := range held {
		switch o := ev.Object.(type) {
		case *billing.PaymentMethod:
			if ev.Type == billing.EventPaymentMethodDetached {
				detached[o.ID] = true
			}
		case *billing.Customer:
			if ev.Type == billing.EventCustomerCreated {
				createdCustomers[o.ID] = true
			}
		}
	}
	for _, ev := range held {
		switch ev.Type {
		case billing.EventCustomerCreated:
			c := ev.Object.(*billing.Customer)
			out = append(out, pendingEvent{typ: "customer_created", at: ev.Time, cust: c.ID})
		case billing.EventCustomerUpdated:
			c, before := ev.Object.(*billing.Customer), ev.Before.(*billing.Customer)
			if customerChanged(before, c) {
				out = append(out, pendingEvent{typ: "customer_changed", at: ev.Time, cust: c.ID})
			}
		case billing.EventPaymentMethodAttached:
			pm := ev.Object.(*billing.PaymentMethod)
			if createdCustomers[pm.Customer] {
				continue // shown by customer_created
			}
			typ := "card_added"
			if len(detached) > 0 {
				typ = "card_updated"
			}
			out = append(out, pendingEvent{typ: typ, at: ev.Time, cust: pm.Customer})
		case billing.EventSubscriptionCreated:
			sub := ev.Object.(*billing.Subscription)
			out = append(out, pendingEvent{typ: "subscription_created", at: ev.Time, sub: sub.ID, withInv: true})
		case billing.EventSubscriptionUpdated:
			sub := ev.Object.(*billing.Subscription)
			before, _ := ev.Before.(*billing.Subscription)
			if before == nil {
				continue
			}
			switch {
			case !before.CancelAtPeriodEnd && sub.CancelAtPeriodEnd:
				out = append(out, pendingEvent{typ: "subscription_cancellation_scheduled", at: ev.Time, sub: sub.ID})
			case before.CancelAtPeriodEnd && !sub.CancelAtPeriodEnd:
				out = append(out, pendingEvent{typ: "subscription_scheduled_cancellation_removed", at: ev.Time, sub: sub.ID})
			}
			if itemsChanged(before, sub) {
				out = append(out, pendingEvent{typ: "subscription_changed", at: ev.Time, sub: sub.ID, withInv: true})
			}
		case billing.EventSubscriptionDeleted:
			sub := ev.Object.(*billing.Subscription)
			out = append(out, pendingEvent{typ: "subscription_cancelled", at: ev.Time, sub: sub.ID})
		case billing.EventSubscriptionTrialWillEnd:
			sub := ev.Object.(*billing.Subscription)
			out = append(out, pendingEvent{typ: "subscription_trial_end_reminder", at: ev.Time, sub: sub.ID})
		case billing.EventInvoiceFinalized:
			inv := ev.Object.(*billing.Invoice)
			generated[inv.ID] = true
			if inv.BillingReason == billing.ReasonSubscriptionCycle && inv.Subscription != "" {
				typ := "subscription_renewed"
				if sub, err := l.Subscription(inv.Subscription); err == nil && sub.TrialEnd != 0 && sub.TrialEnd == inv.PeriodEnd {
					typ = "subscription_activated"
				}
				out = append(out, pendingEvent{typ: typ, at: ev.Time, sub: inv.Subscription, inv: inv.ID})
			}
			out = append(out, pendingEvent{typ: "invoice_generated", at: ev.Time, inv: inv.ID})
		case billing.EventChargeSucceeded, billing.EventChargeFailed:
			ch := ev.Object.(*billing.Charge)
			if ch.Invoice == "" {
				continue
			}
			typ := "payment_succeeded"
			if ch.Status == billing.ChargeFailed {
				typ = "payment_failed"
			}
			out = append(out, pendingEvent{typ: typ, at: ev.Time, inv: ch.Invoice, charge: ch})
			touched = append(touched, ch.Invoice)
		case billing.EventInvoiceUpdated, billing.EventInvoicePaid, billing.EventInvoiceMarkedUncollectible,
			billing.EventInvoiceVoided, billing.EventInvoicePaymentFailed:
			touched = append(touched, ev.Object.(*billing.Invoice).ID)
		case billing.EventInvoiceItemCreated:
			ii := ev.Object.(*billing.InvoiceItem)
			if ii.Amount < 0 {
				out = append(out, pendingEvent{typ: "credit_note_created", at: ev.Time, cn: ii.ID})
			}
		}
	}
	seen := map[string]bool{}
	for _, id := range touched {
		if generated[id] || seen[id] {
			continue
		}
		seen[id] = true
		at := int64(0)
		if len(held) > 0 {
			at = held[len(held)-1].Time
		}
		out = append(out, pendingEvent{typ: "invoice_updated", at: at, inv: id})
	}
	if request {
		lead := func(e pendingEvent) bool {
			switch e.typ {
			case "subscription_changed", "subscription_cancelled", "subscription_cancellation_scheduled",
				"subscription_scheduled_cancellation_removed":
				return true
			}
			return false
		}
		slices.SortStableFunc(out, func(a, b pendingEvent) int {
			switch {
			case lead(a) && !lead(b):
				return -1
			case lead(b) && !lead(a):
				return 1
			}
			return 0
		})
	}
	source := "scheduled_job"
	if request {
		source = "api"
	}
	if len(out) == 0 {
		return nil
	}
	rc, err := newRenderCache(l)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, e := range out {
		key := e.typ + "\x00" + e.sub + "\x00" + e.inv + "\x00" + e.cust + "\x00" + e.cn
		if e.charge != nil {
			key += "\x00" + e.charge.ID
		}
		if done[key] {
			continue
		}
		done[key] = true
		content, err := rc.content(e)
		if err != nil {
			return fmt.Errorf("render %s: %w", e.typ, err)
		}
		if err := s.record(l, e.typ, e.at, source, content); err != nil {
			return err
		}
	}
	return nil
}

// customerChanged reports whether a change shows on the customer: its
// names, email, phone, company or meta_data.
func customerChanged(a, b *billing.Customer) bool {
	if a.Email != b.Email {
		return true
	}
	for _, k := range []string{mdFirstName, mdLastName, mdPhone, mdCompany, mdMetaData} {
		if a.Metadata[k] != b.Metadata[k] {
			return true
		}
	}
	return false
}

// itemsChanged reports whether a subscription's items (prices,
// quantities) or meta_data changed.
func itemsChanged(a, b *billing.Subscription) bool {
	if len(a.Items) != len(b.Items) || a.Metadata[mdMetaData] != b.Metadata[mdMetaData] {
		return true
	}
	for i := range a.Items {
		if a.Items[i].Price != b.Items[i].Price || a.Items[i].Quantity != b.Items[i].Quantity {
			return true
		}
	}
	return false
}

// renderCache holds what one flush rendered: the site stands still while
// its events are rendered, so each object is read and encoded once, however
// many events show it (a renewal's three show its invoice each).
type renderCache struct {
	l    *clockwork.Ledger
	now  int64
	subs map[string]*billing.Subscription
	invs map[string]*billing.Invoice
	// raw holds encoded objects by kind and id ("invoice\x00in_1").
	raw map[string]json.RawMessage
	// invObjs are the rendered invoices, for the transactions that link
	// them.
	invObjs map[string]*invoiceObject
	pms     map[string]*billing.PaymentMethod
}

var _ lookup = (*renderCache)(nil)

// The lookup the renderers read through: the ledger, with what the
// ledger does not cache decoded once per flush.

func (rc *renderCache) Customer(id string) (*billing.Customer, error) { return rc.l.Customer(id) }
func (rc *renderCache) Subscription(id string) (*billing.Subscription, error) {
	return rc.subscription(id)
}
func (rc *renderCache) Invoice(id string) (*billing.Invoice, error) { return rc.invoice(id) }
func (rc *renderCache) Price(id string) (*billing.Price, error)     { return rc.l.Price(id) }
func (rc *renderCache) PendingInvoiceItems(customer string) ([]*billing.InvoiceItem, error) {
	return rc.l.PendingInvoiceItems(customer)
}
func (rc *renderCache) Get(collection, resource, id string, v any) error {
	return rc.l.Get(collection, resource, id, v)
}

func (rc *renderCache) PaymentMethod(id string) (*billing.PaymentMethod, error) {
	if pm, ok := rc.pms[id]; ok {
		return pm, nil
	}
	pm, err := rc.l.PaymentMethod(id)
	if err != nil {
		return nil, err
	}
	rc.pms[id] = pm
	return pm, nil
}

func newRenderCache(l *clockwork.Ledger) (*renderCache, error) {
	clock, err := l.Clock(machineID)
	if err != nil {
		return nil, err
	}
	return &renderCache{l: l, now: clock.FrozenTime, subs: map[string]*billing.Subscription{},
		invs: map[string]*billing.Invoice{}, raw: map[string]json.RawMessage{}, invObjs: map[string]*invoiceObject{},
		pms: map[string]*billing.PaymentMethod{}}, nil
}

func (rc *renderCache) encoded(kind, id string, render func() (any, error)) (json.RawMessage, error) {
	key := kind + "\x00" + id
	if raw, ok := rc.raw[key]; ok {
		return raw, nil
	}
	v, err := render()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	rc.raw[key] = raw
	return raw, nil
}

func (rc *renderCache) subscription(id string) (*billing.Subscription, error) {
	if s, ok := rc.subs[id]; ok {
		return s, nil
	}
	s, err := rc.l.Subscription(id)
	if err != nil {
		return nil, err
	}
	rc.subs[id] = s
	return s, nil
}

func (rc *renderCache) invoice(id string) (*billing.Invoice, error) {
	if inv, ok := rc.invs[id]; ok {
		return inv, nil
	}
	inv, err := rc.l.Invoice(id)
	if err != nil {
		return nil, err
	}
	rc.invs[id] = inv
	return inv, nil
}

// contentField is one object of an event's content.
type contentField struct {
	key string
	raw json.RawMessage
}

// eventContent is an event's content: the JSON object of its fields, in
// order, each valid JSON.
type eventContent []contentField

// content renders an event's content from the site as it stands.
func (rc *renderCache) content(e pendingEvent) (eventContent, error) {
	l := rc.l
	var fields eventContent
	add := func(key string, raw json.RawMessage) { fields = append(fields, contentField{key, raw}) }
	hasCustomer := false
	addCustomer := func(id string) error {
		if hasCustomer {
			return nil
		}
		hasCustomer = true
		cust, err := l.Customer(id)
		if err != nil {
			return err
		}
		raw, err := rc.encoded("customer", id, func() (any, error) { return renderCustomer(cust, rc) })
		if err != nil {
			return err
		}
		add("customer", raw)
		if cust.DefaultPaymentMethod == "" {
			return nil
		}
		raw, err = rc.encoded("card", cust.DefaultPaymentMethod, func() (any, error) { return customerCard(cust, rc, rc.now) })
		if err != nil {
			return err
		}
		add("card", raw)
		return nil
	}
	var inv *billing.Invoice
	var err error
	if e.inv != "" {
		if inv, err = rc.invoice(e.inv); err != nil {
			return nil, err
		}
	}
	sub := e.sub
	if sub == "" && inv != nil && e.typ != "invoice_generated" && e.typ != "invoice_updated" {
		sub = inv.Subscription
	}
	if sub != "" {
		so, err := rc.subscription(sub)
		if err != nil {
			return nil, err
		}
		raw, err := rc.encoded("subscription", sub, func() (any, error) { return renderSubscription(so, rc) })
		if err != nil {
			return nil, err
		}
		add("subscription", raw)
		if err := addCustomer(so.Customer); err != nil {
			return nil, err
		}
		if e.withInv && inv == nil && so.LatestInvoice != "" {
			if inv, err = rc.invoice(so.LatestInvoice); err != nil {
				return nil, err
			}
		}
	}
	if e.cust != "" {
		if err := addCustomer(e.cust); err != nil {
			return nil, err
		}
	}
	if inv != nil {
		raw, err := rc.encoded("invoice", inv.ID, func() (any, error) {
			o, err := renderInvoice(inv, rc)
			rc.invObjs[inv.ID] = o
			return o, err
		})
		if err != nil {
			return nil, err
		}
		add("invoice", raw)
		if e.charge != nil {
			raw, err := rc.encoded("transaction", e.charge.ID, func() (any, error) {
				return renderTransaction(e.charge, rc.invObjs[inv.ID], rc), nil
			})
			if err != nil {
				return nil, err
			}
			add("transaction", raw)
			if err := addCustomer(inv.Customer); err != nil {
				return nil, err
			}
		}
	}
	if e.cn != "" {
		ii, err := l.InvoiceItem(e.cn)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(renderCreditNote(ii, rc))
		if err != nil {
			return nil, err
		}
		add("credit_note", raw)
	}
	return fields, nil
}

// size is the length of the JSON object of the fields.
func (fs eventContent) size() int {
	n := 2
	for _, f := range fs {
		n += len(f.key) + len(f.raw) + 4
	}
	return n
}

// appendTo appends the JSON object of the fields to out.
func (fs eventContent) appendTo(out []byte) []byte {
	out = append(out, '{')
	for i, f := range fs {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(append(append(out, '"'), f.key...), `":`...)
		out = append(out, f.raw...)
	}
	return append(out, '}')
}

// record stores an event of typ whose content is content. The event is
// encoded by hand, in one buffer: json.Marshal would check and compact
// the content again, which dominates the cost of the many events of a
// long travel.
func (s *Surface) record(l *clockwork.Ledger, typ string, at int64, source string, content eventContent) error {
	id := s.NewID("ev_")
	return l.RecordEvent(&clockwork.Event{ID: id, Type: typ, Created: at, Encode: func(pending int) ([]byte, error) {
		status := "not_configured"
		if pending > 0 {
			status = "scheduled"
		}
		out := make([]byte, 0, content.size()+len(id)+len(source)+len(typ)+160)
		out = append(out, `{"id":`...)
		out = strconv.AppendQuote(out, id)
		out = append(out, `,"occurred_at":`...)
		out = strconv.AppendInt(out, at, 10)
		out = append(out, `,"source":`...)
		out = strconv.AppendQuote(out, source)
		out = append(out, `,"object":"event","api_version":"v2","content":`...)
		out = content.appendTo(out)
		out = append(out, `,"event_type":`...)
		out = strconv.AppendQuote(out, typ)
		out = append(out, `,"webhook_status":`...)
		out = strconv.AppendQuote(out, status)
		return append(out, '}'), nil
	}})
}

// EventHead reads a stored event's type and time.
func (s *Surface) EventHead(stored []byte) (typ string, created int64, err error) {
	var head struct {
		EventType  string `json:"event_type"`
		OccurredAt int64  `json:"occurred_at"`
	}
	err = json.Unmarshal(stored, &head)
	return head.EventType, head.OccurredAt, err
}

func (s *Surface) retrieveEvent(c *call) (any, error) {
	raw, err := c.l.Event(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return map[string]any{"event": json.RawMessage(bytes.Clone(raw))}, nil
}

// listEvents serves GET /events: newest first (sort_by[asc]=occurred_at
// for oldest first), filtered by event_type[is|in] and
// occurred_at[after|before|on|between].
func (s *Surface) listEvents(c *call) (any, error) {
	types := c.p.strFilter("event_type", nil)
	occurred := c.p.timeFilter("occurred_at")
	_, desc := c.p.sortBy("occurred_at")
	limit, offset := c.p.page()
	if types.isNot != nil || types.hasNotIn {
		c.p.fail(errParam("event_type", "billclock filters events with event_type[is] and event_type[in] only"))
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	out := &listPage{List: []any{}}
	var last string
	emit := func(raw []byte) error {
		var head struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return err
		}
		out.List, last = append(out.List, map[string]any{"event": json.RawMessage(bytes.Clone(raw))}), head.ID
		return nil
	}
	var wanted []string
	switch {
	case types.is != nil:
		wanted = []string{*types.is}
	case types.hasIn:
		wanted = types.in
		if len(wanted) == 0 {
			return out, nil
		}
	}
	var more bool
	var err error
	if desc {
		f := clockwork.EventFilter{Types: wanted}
		if occurred.set() {
			f.Created = occurred.match
		}
		more, err = c.l.ListEvents(f, store.Page{Limit: limit, StartingAfter: offset}, emit)
	} else {
		events, err2 := c.l.Collection(clockwork.EventsCollection)
		if err2 != nil {
			return nil, err2
		}
		err = events.Scan(offset, func(_ string, raw []byte) (bool, error) {
			typ, at, err := s.EventHead(raw)
			if err != nil {
				return false, err
			}
			if wanted != nil && !contains(wanted, typ) || occurred.set() && !occurred.match(at) {
				return true, nil
			}
			if len(out.List) == limit {
				more = true
				return false, nil
			}
			return true, emit(raw)
		})
	}
	if err != nil {
		return nil, err
	}
	if more {
		out.NextOffset = last
	}
	return out, nil
}
