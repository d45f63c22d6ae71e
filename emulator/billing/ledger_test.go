package billing

import (
	"encoding/json"
	"fmt"
	"sort"
)

// memLedger is an in-memory Ledger for engine tests, with deterministic ids
// so that scenarios can be compared with golden files. Objects are stored
// as JSON so that callers never share memory with the ledger, as with the
// real store.
type memLedger struct {
	ids      map[string]int
	objects  map[string][]byte // id -> JSON
	order    []string          // ids in creation order
	tasks    []Task
	taskSeq  []int
	nextTask int
	events   []Event
	policy   DunningPolicy
}

func newMemLedger() *memLedger {
	return &memLedger{ids: map[string]int{}, objects: map[string][]byte{}}
}

func (m *memLedger) NewID(prefix string) string {
	m.ids[prefix]++
	return fmt.Sprintf("%s%04d", prefix, m.ids[prefix])
}

func (m *memLedger) put(id string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, ok := m.objects[id]; !ok {
		m.order = append(m.order, id)
	}
	m.objects[id] = raw
	return nil
}

func (m *memLedger) get(id, resource string, v any) error {
	raw, ok := m.objects[id]
	if !ok {
		return NotFoundError(resource, id, "id")
	}
	return json.Unmarshal(raw, v)
}

func (m *memLedger) Customer(id string) (*Customer, error) {
	var c Customer
	return &c, m.get(id, "customer", &c)
}
func (m *memLedger) PutCustomer(c *Customer) error { return m.put(c.ID, c) }
func (m *memLedger) DeleteCustomer(id string) error {
	delete(m.objects, id)
	return nil
}
func (m *memLedger) CustomersOnClock(clock string, fn func(*Customer) error) error {
	return eachOf(m, "cus_", func(c *Customer) error {
		if c.Clock == clock {
			return fn(c)
		}
		return nil
	})
}
func (m *memLedger) Product(id string) (*Product, error) {
	var p Product
	return &p, m.get(id, "product", &p)
}
func (m *memLedger) Price(id string) (*Price, error) {
	var p Price
	return &p, m.get(id, "price", &p)
}
func (m *memLedger) Subscription(id string) (*Subscription, error) {
	var s Subscription
	return &s, m.get(id, "subscription", &s)
}
func (m *memLedger) PutSubscription(s *Subscription) error { return m.put(s.ID, s) }
func (m *memLedger) SubscriptionsOnClock(clock string, fn func(*Subscription) error) error {
	return eachOf(m, "sub_", func(s *Subscription) error {
		if s.Clock == clock {
			return fn(s)
		}
		return nil
	})
}
func (m *memLedger) Invoice(id string) (*Invoice, error) {
	var inv Invoice
	return &inv, m.get(id, "invoice", &inv)
}
func (m *memLedger) PutInvoice(inv *Invoice) error        { return m.put(inv.ID, inv) }
func (m *memLedger) PutInvoiceItem(ii *InvoiceItem) error { return m.put(ii.ID, ii) }
func (m *memLedger) InvoiceItem(id string) (*InvoiceItem, error) {
	var ii InvoiceItem
	return &ii, m.get(id, "invoice_item", &ii)
}
func (m *memLedger) DeleteInvoice(id string) error {
	delete(m.objects, id)
	return nil
}
func (m *memLedger) DeleteInvoiceItem(ii *InvoiceItem) error {
	delete(m.objects, ii.ID)
	return nil
}
func (m *memLedger) PendingInvoiceItems(customer string) ([]*InvoiceItem, error) {
	var out []*InvoiceItem
	err := eachOf(m, "ii_", func(ii *InvoiceItem) error {
		if ii.Customer == customer && ii.Invoice == "" {
			out = append(out, ii)
		}
		return nil
	})
	return out, err
}

func (m *memLedger) Schedule(t Task) error {
	m.tasks = append(m.tasks, t)
	m.taskSeq = append(m.taskSeq, m.nextTask)
	m.nextTask++
	return nil
}

func (m *memLedger) NextTask(clock string, until int64) (*Task, error) {
	best := -1
	for i, t := range m.tasks {
		if t.Clock != clock || t.At > until {
			continue
		}
		if best < 0 || t.At < m.tasks[best].At || t.At == m.tasks[best].At && m.taskSeq[i] < m.taskSeq[best] {
			best = i
		}
	}
	if best < 0 {
		return nil, nil
	}
	t := m.tasks[best]
	m.tasks = append(m.tasks[:best], m.tasks[best+1:]...)
	m.taskSeq = append(m.taskSeq[:best], m.taskSeq[best+1:]...)
	return &t, nil
}

func (m *memLedger) Emit(ev Event) error {
	m.events = append(m.events, ev)
	return nil
}

// eachOf decodes every live object whose id has prefix, in creation order.
func eachOf[T any](m *memLedger, prefix string, fn func(*T) error) error {
	for _, id := range m.order {
		raw, ok := m.objects[id]
		if !ok || len(id) < len(prefix) || id[:len(prefix)] != prefix {
			continue
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	return nil
}

// invoices returns every invoice, sorted by id (creation order).
func (m *memLedger) invoices() []*Invoice {
	var out []*Invoice
	eachOf(m, "in_", func(inv *Invoice) error { out = append(out, inv); return nil })
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (m *memLedger) PaymentMethod(id string) (*PaymentMethod, error) {
	var pm PaymentMethod
	return &pm, m.get(id, "payment_method", &pm)
}
func (m *memLedger) PutPaymentMethod(pm *PaymentMethod) error { return m.put(pm.ID, pm) }
func (m *memLedger) Payment(id string) (*Payment, error) {
	var p Payment
	return &p, m.get(id, "payment", &p)
}
func (m *memLedger) PutPayment(p *Payment) error { return m.put(p.ID, p) }
func (m *memLedger) Charge(id string) (*Charge, error) {
	var ch Charge
	return &ch, m.get(id, "charge", &ch)
}
func (m *memLedger) PutCharge(ch *Charge) error { return m.put(ch.ID, ch) }
func (m *memLedger) InvoicePayments(invoice string) ([]*InvoicePayment, error) {
	var out []*InvoicePayment
	err := eachOf(m, "inpay_", func(ip *InvoicePayment) error {
		if ip.Invoice == invoice {
			out = append(out, ip)
		}
		return nil
	})
	return out, err
}
func (m *memLedger) PutInvoicePayment(ip *InvoicePayment) error         { return m.put(ip.ID, ip) }
func (m *memLedger) PutBalanceTransaction(bt *BalanceTransaction) error { return m.put(bt.ID, bt) }
func (m *memLedger) Policy() (DunningPolicy, error)                     { return m.policy, nil }
