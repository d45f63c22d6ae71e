package stripe

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Collections and indexes of billing objects in an account.
const (
	customersCollection    = "customers"
	productsCollection     = "products"
	pricesCollection       = "prices"
	subscriptionCollection = "subscriptions"
	itemsCollection        = "subscription_items" // item id -> subscription id
	invoicesCollection     = "invoices"
	invoiceItemsCollection = "invoiceitems"

	paymentMethodsCollection  = "payment_methods"
	paymentIntentsCollection  = "payment_intents"
	chargesCollection         = "charges"
	invoicePaymentsCollection = "invoice_payments"
	balanceTxnsCollection     = "customer_balance_transactions"
	settingsCollection        = "settings"

	customersByClock         = "customers_by_clock"
	customerTombstones       = "customer_tombstones" // deleted customers, stamped with the wall time
	deletedCustomers         = "deleted_customers"   // tombstones of earlier billclocks, group ""
	subscriptionsByClock     = "subscriptions_by_clock"
	pendingItems             = "pending_invoice_items" // by customer
	paymentMethodsByCustomer = "payment_methods_by_customer"
	invoicePaymentsByInvoice = "invoice_payments_by_invoice"
	balanceTxnsByCustomer    = "balance_transactions_by_customer"
)

// ledger is the engine's Ledger (and the renderers' lookup) over one
// account's data in one transaction. Events it is given are recorded as
// Stripe events caused by call c (nil for background work).
type ledger struct {
	s       *Surface
	tx      *store.Tx
	acct    *store.Account
	account string
	c       *call
	colls   map[string]*store.Collection
	// Prices and products hardly change but are read for every line and
	// every rendering: decoded once per transaction.
	prices   map[string]*billing.Price
	products map[string]*billing.Product
	// Customers and subscriptions are read many times by one renewal (the
	// rendering of each of its invoice's events looks both up): they are
	// decoded once per transaction and kept in step with every put. Callers
	// get copies, as from a decode.
	custs map[string]*billing.Customer
	subs  map[string]*billing.Subscription
	// lastObject and lastRendered remember the last event object rendered:
	// the engine gives consecutive events the same snapshot (invoice.paid
	// and invoice.payment_succeeded), which is then rendered once.
	lastObject   any
	lastValue    any
	lastRendered json.RawMessage
	// endpoints caches the account's webhook endpoints (nil: not loaded).
	endpoints *[]*webhookEndpoint
	// tasksRun counts the tasks NextTask has handed out, and lastTaskAt is
	// the latest of their times: an advance's progress in this transaction.
	tasksRun   int64
	lastTaskAt int64
}

var _ billing.Ledger = (*ledger)(nil)

func (s *Surface) ledger(tx *store.Tx, account string, c *call) (*ledger, error) {
	acct, err := tx.Account(account)
	if err != nil {
		return nil, err
	}
	return &ledger{s: s, tx: tx, acct: acct, account: account, c: c, colls: map[string]*store.Collection{},
		prices: map[string]*billing.Price{}, products: map[string]*billing.Product{},
		custs: map[string]*billing.Customer{}, subs: map[string]*billing.Subscription{}}, nil
}

func (l *ledger) engine() *billing.Engine { return &billing.Engine{L: l} }

func (l *ledger) coll(name string) (*store.Collection, error) {
	if c, ok := l.colls[name]; ok {
		return c, nil
	}
	c, err := l.acct.Collection(name)
	if err != nil {
		return nil, err
	}
	l.colls[name] = c
	return c, nil
}

// get decodes object id of a collection; resource names it in errors.
func (l *ledger) get(collection, resource, id string, v any) error {
	c, err := l.coll(collection)
	if err != nil {
		return err
	}
	raw, err := c.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return billing.NotFoundError(resource, id, "id")
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %s %s: %w", resource, id, err)
	}
	return nil
}

func (l *ledger) put(collection, id string, created int64, v any) error {
	c, err := l.coll(collection)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Put(id, created, raw)
}

func (l *ledger) index(name string) (*store.Index, error) { return l.acct.Index(name) }

// NewID returns a fresh id in Stripe's style for prefix.
func (l *ledger) NewID(prefix string) string {
	switch prefix {
	case "cus_", "si_", "prod_":
		return clockwork.NewID(prefix, 14)
	}
	return clockwork.NewID(prefix, 24)
}

func (l *ledger) Customer(id string) (*billing.Customer, error) {
	if c, ok := l.custs[id]; ok {
		return copyCustomer(c), nil
	}
	var c billing.Customer
	if err := l.get(customersCollection, "customer", id, &c); err != nil {
		return &c, err
	}
	l.custs[id] = copyCustomer(&c)
	return &c, nil
}

func (l *ledger) PutCustomer(c *billing.Customer) error {
	if err := l.put(customersCollection, c.ID, c.Created, c); err != nil {
		return err
	}
	l.custs[c.ID] = copyCustomer(c)
	x, err := l.index(customersByClock)
	if err != nil {
		return err
	}
	return x.Add(c.Clock, c.ID)
}

func (l *ledger) DeleteCustomer(id string) error {
	c, err := l.Customer(id)
	if err != nil {
		return err
	}
	coll, err := l.coll(customersCollection)
	if err != nil {
		return err
	}
	if err := coll.Delete(id); err != nil {
		return err
	}
	delete(l.custs, id)
	x, err := l.index(customersByClock)
	if err != nil {
		return err
	}
	if err := x.Remove(c.Clock, id); err != nil {
		return err
	}
	// The tombstone is kept for the retention, like the customer.deleted
	// event: until then the customer reads as its deleted stub.
	gone, err := l.coll(customerTombstones)
	if err != nil {
		return err
	}
	return gone.Append(id, l.wall(), nil)
}

// CustomerDeleted reports whether customer id existed and was deleted
// less than the retention ago.
func (l *ledger) CustomerDeleted(id string) (bool, error) {
	gone, err := l.coll(customerTombstones)
	if err != nil {
		return false, err
	}
	if _, err := gone.Get(id); !errors.Is(err, store.ErrNotFound) {
		return err == nil, err
	}
	legacy, err := l.index(deletedCustomers)
	if err != nil {
		return false, err
	}
	return legacy.Has("", id), nil
}

// wall is the wall time (Unix seconds) to stamp records with: the
// request's time, or now for background work.
func (l *ledger) wall() int64 {
	if l.c != nil {
		return l.c.now.Unix()
	}
	return l.s.now().Unix()
}

func (l *ledger) CustomersOnClock(clock string, fn func(*billing.Customer) error) error {
	return eachIndexed(l, customersByClock, clock, l.Customer, fn)
}

// eachIndexed calls fn with every object of group in index, loaded by get.
// The ids are read first, so fn may change the index.
func eachIndexed[T any](l *ledger, index, group string, get func(string) (*T, error), fn func(*T) error) error {
	x, err := l.index(index)
	if err != nil {
		return err
	}
	ids, err := x.IDs(group)
	if err != nil {
		return err
	}
	for _, id := range ids {
		v, err := get(id)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// Product returns a product. Callers that change it must PutProduct it.
func (l *ledger) Product(id string) (*billing.Product, error) {
	if p, ok := l.products[id]; ok {
		c := *p
		return &c, nil
	}
	var p billing.Product
	if err := l.get(productsCollection, "product", id, &p); err != nil {
		return nil, err
	}
	l.products[id] = &p
	c := p
	return &c, nil
}

func (l *ledger) PutProduct(p *billing.Product) error {
	c := *p
	l.products[p.ID] = &c
	return l.put(productsCollection, p.ID, p.Created, p)
}

// Price returns a price. Callers that change it must PutPrice it.
func (l *ledger) Price(id string) (*billing.Price, error) {
	if p, ok := l.prices[id]; ok {
		c := *p
		return &c, nil
	}
	var p billing.Price
	if err := l.get(pricesCollection, "price", id, &p); err != nil {
		return nil, err
	}
	l.prices[id] = &p
	c := p
	return &c, nil
}

func (l *ledger) PutPrice(p *billing.Price) error {
	c := *p
	l.prices[p.ID] = &c
	return l.put(pricesCollection, p.ID, p.Created, p)
}

func (l *ledger) Subscription(id string) (*billing.Subscription, error) {
	if s, ok := l.subs[id]; ok {
		return copySubscription(s), nil
	}
	var s billing.Subscription
	if err := l.get(subscriptionCollection, "subscription", id, &s); err != nil {
		return &s, err
	}
	l.subs[id] = copySubscription(&s)
	return &s, nil
}

func copyCustomer(c *billing.Customer) *billing.Customer {
	out := *c
	out.Metadata = maps.Clone(c.Metadata)
	return &out
}

func copySubscription(s *billing.Subscription) *billing.Subscription {
	out := *s
	out.Metadata = maps.Clone(s.Metadata)
	if s.Items == nil {
		return &out
	}
	out.Items = make([]billing.SubscriptionItem, len(s.Items))
	for i, it := range s.Items {
		it.Metadata = maps.Clone(it.Metadata)
		out.Items[i] = it
	}
	return &out
}

func (l *ledger) PutSubscription(s *billing.Subscription) error {
	items, err := l.coll(itemsCollection)
	if err != nil {
		return err
	}
	if old, err := l.Subscription(s.ID); err == nil {
		for _, it := range old.Items {
			if s.Item(it.ID) == nil {
				if err := items.Delete(it.ID); err != nil {
					return err
				}
			}
		}
	}
	for _, it := range s.Items {
		if _, err := items.Get(it.ID); errors.Is(err, store.ErrNotFound) {
			if err := items.Put(it.ID, it.Created, []byte(s.ID)); err != nil {
				return err
			}
		}
	}
	if err := l.put(subscriptionCollection, s.ID, s.Created, s); err != nil {
		return err
	}
	l.subs[s.ID] = copySubscription(s)
	x, err := l.index(subscriptionsByClock)
	if err != nil {
		return err
	}
	return x.Add(s.Clock, s.ID)
}

// SubscriptionOfItem returns the subscription holding item id.
func (l *ledger) SubscriptionOfItem(id, param string) (*billing.Subscription, error) {
	items, err := l.coll(itemsCollection)
	if err != nil {
		return nil, err
	}
	sub, err := items.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, billing.NotFoundError("subscription item", id, param)
	}
	if err != nil {
		return nil, err
	}
	return l.Subscription(string(sub))
}

func (l *ledger) SubscriptionsOnClock(clock string, fn func(*billing.Subscription) error) error {
	return eachIndexed(l, subscriptionsByClock, clock, l.Subscription, fn)
}

func (l *ledger) Invoice(id string) (*billing.Invoice, error) {
	var inv billing.Invoice
	return &inv, l.get(invoicesCollection, "invoice", id, &inv)
}

func (l *ledger) PutInvoice(inv *billing.Invoice) error {
	return l.put(invoicesCollection, inv.ID, inv.Created, inv)
}

func (l *ledger) InvoiceItem(id string) (*billing.InvoiceItem, error) {
	var ii billing.InvoiceItem
	return &ii, l.get(invoiceItemsCollection, "invoiceitem", id, &ii)
}

func (l *ledger) PutInvoiceItem(ii *billing.InvoiceItem) error {
	if err := l.put(invoiceItemsCollection, ii.ID, ii.Date, ii); err != nil {
		return err
	}
	x, err := l.index(pendingItems)
	if err != nil {
		return err
	}
	if ii.Invoice == "" {
		return x.Add(ii.Customer, ii.ID)
	}
	return x.Remove(ii.Customer, ii.ID)
}

func (l *ledger) PendingInvoiceItems(customer string) ([]*billing.InvoiceItem, error) {
	x, err := l.index(pendingItems)
	if err != nil {
		return nil, err
	}
	ids, err := x.IDs(customer)
	if err != nil {
		return nil, err
	}
	out := make([]*billing.InvoiceItem, 0, len(ids))
	for _, id := range ids {
		ii, err := l.InvoiceItem(id)
		if err != nil {
			return nil, err
		}
		out = append(out, ii)
	}
	return out, nil
}

func (l *ledger) Schedule(t billing.Task) error {
	tl, err := l.acct.Timeline()
	if err != nil {
		return err
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return tl.Add(t.Clock, t.At, raw)
}

func (l *ledger) NextTask(clock string, until int64) (*billing.Task, error) {
	tl, err := l.acct.Timeline()
	if err != nil {
		return nil, err
	}
	raw, ok, err := tl.PopDue(clock, until)
	if err != nil || !ok {
		return nil, err
	}
	var t billing.Task
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("decode task: %w", err)
	}
	l.tasksRun++
	l.lastTaskAt = max(l.lastTaskAt, t.At)
	return &t, nil
}

// Emit records the engine's event as a Stripe event.
func (l *ledger) Emit(ev billing.Event) error { return l.record(ev) }

// Clock returns a test clock of the account.
func (l *ledger) Clock(id string) (*billing.Clock, error) {
	var c billing.Clock
	return &c, l.get(clocksCollection, "billingclock", id, &c)
}

// timeOn is "now" for objects on clock: its frozen time, or the wall time
// for objects on no clock. A clock that is advancing refuses changes.
func (l *ledger) timeOn(clock string, wall int64) (int64, error) {
	if clock == "" {
		return wall, nil
	}
	c, err := l.Clock(clock)
	if err != nil {
		return 0, err
	}
	if c.Status == billing.ClockAdvancing {
		return 0, &billing.Error{Kind: billing.Invalid, Message: fmt.Sprintf(
			"The test clock %s is advancing. Objects on it cannot be changed until it is ready.", clock)}
	}
	return c.FrozenTime, nil
}

// PaymentMethod returns a stored payment method. Stripe's test ids
// (pm_card_visa) are turned into stored ones where requests name them
// (see resolvePaymentMethod), so the ledger only knows real ones.
func (l *ledger) PaymentMethod(id string) (*billing.PaymentMethod, error) {
	var pm billing.PaymentMethod
	return &pm, l.get(paymentMethodsCollection, "PaymentMethod", id, &pm)
}

// PutPaymentMethod stores pm and keeps the index of each customer's
// payment methods in step with its attachment.
func (l *ledger) PutPaymentMethod(pm *billing.PaymentMethod) error {
	x, err := l.index(paymentMethodsByCustomer)
	if err != nil {
		return err
	}
	if old, err := l.PaymentMethod(pm.ID); err == nil && old.Customer != "" && old.Customer != pm.Customer {
		if err := x.Remove(old.Customer, pm.ID); err != nil {
			return err
		}
	}
	if err := l.put(paymentMethodsCollection, pm.ID, pm.Created, pm); err != nil {
		return err
	}
	if pm.Customer == "" {
		return nil
	}
	return x.Add(pm.Customer, pm.ID)
}

// PaymentMethodsOf calls fn for every payment method attached to
// customer, in the order they were attached.
func (l *ledger) PaymentMethodsOf(customer string, fn func(*billing.PaymentMethod) error) error {
	return eachIndexed(l, paymentMethodsByCustomer, customer, l.PaymentMethod, fn)
}

func (l *ledger) Payment(id string) (*billing.Payment, error) {
	var p billing.Payment
	return &p, l.get(paymentIntentsCollection, "payment_intent", id, &p)
}

func (l *ledger) PutPayment(p *billing.Payment) error {
	return l.put(paymentIntentsCollection, p.ID, p.Created, p)
}

func (l *ledger) Charge(id string) (*billing.Charge, error) {
	var ch billing.Charge
	return &ch, l.get(chargesCollection, "charge", id, &ch)
}

func (l *ledger) PutCharge(ch *billing.Charge) error {
	return l.put(chargesCollection, ch.ID, ch.Created, ch)
}

func (l *ledger) invoicePayment(id string) (*billing.InvoicePayment, error) {
	var ip billing.InvoicePayment
	return &ip, l.get(invoicePaymentsCollection, "invoice payment", id, &ip)
}

func (l *ledger) InvoicePayments(invoice string) ([]*billing.InvoicePayment, error) {
	var out []*billing.InvoicePayment
	err := eachIndexed(l, invoicePaymentsByInvoice, invoice, l.invoicePayment, func(ip *billing.InvoicePayment) error {
		out = append(out, ip)
		return nil
	})
	return out, err
}

func (l *ledger) PutInvoicePayment(ip *billing.InvoicePayment) error {
	if err := l.put(invoicePaymentsCollection, ip.ID, ip.Created, ip); err != nil {
		return err
	}
	x, err := l.index(invoicePaymentsByInvoice)
	if err != nil {
		return err
	}
	return x.Add(ip.Invoice, ip.ID)
}

func (l *ledger) PutBalanceTransaction(bt *billing.BalanceTransaction) error {
	if err := l.put(balanceTxnsCollection, bt.ID, bt.Created, bt); err != nil {
		return err
	}
	x, err := l.index(balanceTxnsByCustomer)
	if err != nil {
		return err
	}
	return x.Add(bt.Customer, bt.ID)
}

// dunningPolicyID is the settings record holding the account's policy.
const dunningPolicyID = "dunning"

// Policy is the account's dunning policy: what it set through the control
// route, or Stripe's defaults (see defaultPolicy).
func (l *ledger) Policy() (billing.DunningPolicy, error) {
	coll, err := l.coll(settingsCollection)
	if err != nil {
		return billing.DunningPolicy{}, err
	}
	raw, err := coll.Get(dunningPolicyID)
	if errors.Is(err, store.ErrNotFound) {
		return defaultPolicy(), nil
	}
	if err != nil {
		return billing.DunningPolicy{}, err
	}
	// A policy stored before it had a FinalizeDelay keeps the default one.
	p := billing.DunningPolicy{FinalizeDelay: defaultPolicy().FinalizeDelay}
	if err := json.Unmarshal(raw, &p); err != nil {
		return billing.DunningPolicy{}, fmt.Errorf("decode dunning policy: %w", err)
	}
	return p, nil
}

// putPolicy stores the account's dunning policy.
func (l *ledger) putPolicy(p billing.DunningPolicy) error {
	return l.put(settingsCollection, dunningPolicyID, 0, p)
}

// defaultPolicy is a new account's dunning policy: retries 1, 2, 2, 2, 2, 2
// and 3 days after the attempt before (8 attempts within 14 days,
// billclock's fixed stand-in for Smart Retries' "8 tries within 2 weeks"),
// then cancel the subscription and leave the invoice open; the
// upcoming-invoice notice 3 days before a renewal, and renewal invoices
// finalized an hour after they are made.
func defaultPolicy() billing.DunningPolicy {
	p := billing.DunningPolicy{SubscriptionAction: billing.FinalCancel, InvoiceAction: billing.InvoiceLeaveOpen,
		UpcomingNotice: 3 * 86400, FinalizeDelay: billing.FinalizeDelay}
	var after int64
	for _, d := range []int{1, 2, 2, 2, 2, 2, 3} {
		after += int64(d) * 86400
		p.RetryAfter = append(p.RetryAfter, after)
	}
	return p
}
