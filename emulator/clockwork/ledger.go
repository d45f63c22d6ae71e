package clockwork

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// Collections of an account's objects, which dialects list (see
// Ledger.Collection). Each holds JSON records by id.
const (
	CustomersCollection       = "customers"
	ProductsCollection        = "products"
	PricesCollection          = "prices"
	SubscriptionsCollection   = "subscriptions"
	InvoicesCollection        = "invoices"
	InvoiceItemsCollection    = "invoiceitems"
	PaymentMethodsCollection  = "payment_methods"
	PaymentsCollection        = "payment_intents"
	ChargesCollection         = "charges"
	InvoicePaymentsCollection = "invoice_payments"
	BalanceTxnsCollection     = "customer_balance_transactions"
	ClocksCollection          = "test_clocks"
	// EventsCollection holds the stored events, in the order they were
	// recorded (see Ledger.ListEvents).
	EventsCollection = "events"
	// EndpointsCollection holds the webhook endpoints (see Endpoint).
	EndpointsCollection = "webhook_endpoints"
	// AttemptsCollection holds the webhook delivery attempts (see
	// Ledger.ListAttempts).
	AttemptsCollection = "webhook_attempts"
	// IdempotencyCollection holds the answers remembered under
	// idempotency keys (see Ledger.Idempotent).
	IdempotencyCollection = "idempotency_keys"
	// SettingsCollection holds the account's settings (see Ledger.Setting).
	SettingsCollection = "settings"
	// TombstonesCollection holds the ids of deleted customers, stamped with
	// the wall time they were deleted at (see Ledger.CustomerDeleted).
	TombstonesCollection = "customer_tombstones"
)

// Indexes of an account's objects, and the map of subscription items to
// their subscriptions.
const (
	itemsCollection          = "subscription_items" // item id -> subscription id
	deletedCustomers         = "deleted_customers"  // tombstones of earlier billclocks, group ""
	customersByClock         = "customers_by_clock"
	subscriptionsByClock     = "subscriptions_by_clock"
	pendingItems             = "pending_invoice_items" // by customer
	paymentMethodsByCustomer = "payment_methods_by_customer"
	invoicePaymentsByInvoice = "invoice_payments_by_invoice"
	balanceTxnsByCustomer    = "balance_transactions_by_customer"
)

// Kinds of objects, as the runtime's not-found errors name them
// (billing.Error's Resource, made by billing.NotFoundError): each dialect
// words them its own way ("No such billingclock" is Stripe's for
// KindClock).
const (
	KindCustomer           = "customer"
	KindProduct            = "product"
	KindPrice              = "price"
	KindSubscription       = "subscription"
	KindSubscriptionItem   = "subscription_item"
	KindInvoice            = "invoice"
	KindInvoiceItem        = "invoice_item"
	KindClock              = "clock"
	KindPaymentMethod      = "payment_method"
	KindPayment            = "payment"
	KindCharge             = "charge"
	KindInvoicePayment     = "invoice_payment"
	KindBalanceTransaction = "balance_transaction"
	KindEvent              = "event"
	KindEndpoint           = "webhook_endpoint"
)

// Request is the API request a ledger works for: the events it records
// name it, and records are stamped with its time.
type Request struct {
	// ID is the request's id (Stripe's Request-Id).
	ID string
	// IdempotencyKey is the key it was sent with, if any.
	IdempotencyKey string
	// Time is the wall time it arrived at.
	Time time.Time
}

// Ledger is one account's data in one transaction: the engine's
// billing.Ledger, with clocks, events, webhook endpoints, idempotency
// records and settings. Dialects get one from Runtime.Ledger for each
// request's transaction; the runtime makes its own for background work.
type Ledger struct {
	rt      *Runtime
	d       Dialect
	tx      *store.Tx
	acct    *store.Account
	account string
	req     *Request
	colls   map[string]*store.Collection
	// Prices and products hardly change but are read for every line and
	// every rendering: decoded once per transaction.
	prices   map[string]*billing.Price
	products map[string]*billing.Product
	// The objects a renewal reads again and again (the engine reads back
	// what it has just stored, and dialects render what it changed): each
	// is decoded once per transaction and kept in step with every put,
	// shared by the account's ledgers in the transaction, which also hold
	// back their writes (see txObjects). Callers get copies, as from a
	// decode (see copies.go).
	*txObjects
	// policy caches the account's policy (nil: not read yet).
	policy *billing.DunningPolicy
	// rec renders the events of this transaction (nil: none yet).
	rec Recorder
	// endpoints caches the account's webhook endpoints (nil: not loaded).
	endpoints *[]*Endpoint
	// tasksRun counts the tasks NextTask has handed out, and lastTaskAt is
	// the latest of their times: an advance's progress in this transaction.
	tasksRun   int64
	lastTaskAt int64
	// lastTask is the latest task NextTask handed out, and observed, when
	// not nil, collects the events emitted (see TaskObserver).
	lastTask *billing.Task
	observed *[]billing.Event
}

var _ billing.Ledger = (*Ledger)(nil)

// Ledger returns the ledger of account, of dialect d, in tx, for the API
// request req (nil for work of the dialect's own outside any request).
// In a writable transaction the account is recorded as d's at its first
// write; an account of another dialect is refused (ErrOtherDialect).
func (rt *Runtime) Ledger(tx *store.Tx, d Dialect, account string, req *Request) (*Ledger, error) {
	acct, err := tx.Account(account)
	if err != nil {
		return nil, err
	}
	if err := claim(tx, acct, account, d); err != nil {
		return nil, err
	}
	return rt.newLedger(tx, acct, d, account, req), nil
}

func (rt *Runtime) newLedger(tx *store.Tx, acct *store.Account, d Dialect, account string, req *Request) *Ledger {
	return &Ledger{rt: rt, d: d, tx: tx, acct: acct, account: account, req: req, colls: map[string]*store.Collection{},
		prices: map[string]*billing.Price{}, products: map[string]*billing.Product{},
		txObjects: objectsOf(tx, acct, account)}
}

// Engine is the billing engine over the ledger.
func (l *Ledger) Engine() *billing.Engine { return &billing.Engine{L: l} }

// Account is the key of the ledger's account. Never log it (see
// AccountLabel).
func (l *Ledger) Account() string { return l.account }

// Dialect is the dialect of the ledger's account.
func (l *Ledger) Dialect() Dialect { return l.d }

// Request is the request the ledger works for, nil for background work.
func (l *Ledger) Request() *Request { return l.req }

// Tx is the ledger's transaction.
func (l *Ledger) Tx() *store.Tx { return l.tx }

// Collection returns a collection of the account by name: one of the
// *Collection names for lists, or a dialect's own for what only it
// stores.
func (l *Ledger) Collection(name string) (*store.Collection, error) {
	c, err := l.collection(name)
	if err != nil {
		return nil, err
	}
	// Whoever reads or writes the records as stored sees the writes held
	// back (see txObjects).
	if h := l.heldIn(name); h != nil && h.holding() {
		if err := h.write(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// collection is Collection without writing what is held back.
func (l *Ledger) collection(name string) (*store.Collection, error) {
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

// Get decodes object id of a collection; resource is its kind (Kind*, or
// a dialect's own) for the not-found error.
func (l *Ledger) Get(collection, resource, id string, v any) error {
	raw, err := l.raw(collection, resource, id)
	if err != nil {
		return err
	}
	return l.decode(resource, id, raw, v)
}

// raw returns object id of a collection as stored, valid in the ledger's
// transaction only, or Get's not-found error.
func (l *Ledger) raw(collection, resource, id string) ([]byte, error) {
	c, err := l.Collection(collection)
	if err != nil {
		return nil, err
	}
	return rawOf(c, resource, id)
}

// storedRaw is raw for an object that is not held back (see decoded.get):
// the other objects of its collection that are need not be written first.
func (l *Ledger) storedRaw(collection, resource, id string) ([]byte, error) {
	c, err := l.collection(collection)
	if err != nil {
		return nil, err
	}
	return rawOf(c, resource, id)
}

func rawOf(c *store.Collection, resource, id string) ([]byte, error) {
	raw, err := c.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, billing.NotFoundError(resource, id, "id")
	}
	return raw, err
}

// decode decodes raw, object id of kind resource as stored, into v.
func (l *Ledger) decode(resource, id string, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %s %s: %w", resource, id, err)
	}
	return nil
}

// Put stores v, JSON-encoded, as object id of a collection, listed by
// created (newest first).
func (l *Ledger) Put(collection, id string, created int64, v any) error {
	c, err := l.Collection(collection)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Put(id, created, raw)
}

func (l *Ledger) index(name string) (*store.Index, error) { return l.acct.Index(name) }

// NewID returns a fresh id in the dialect's scheme for an object of kind
// (see Dialect.NewID).
func (l *Ledger) NewID(kind string) string { return l.d.NewID(kind) }

// Customer returns a customer (billing.Ledger), decoded once per
// transaction.
func (l *Ledger) Customer(id string) (*billing.Customer, error) { return l.custs.get(l, id) }

// PutCustomer stores a customer and files it under its clock.
func (l *Ledger) PutCustomer(c *billing.Customer) error {
	if err := hold(l, &l.custs, c.ID, c.Created, c); err != nil {
		return err
	}
	x, err := l.index(customersByClock)
	if err != nil {
		return err
	}
	return x.Add(c.Clock, c.ID)
}

// DeleteCustomer deletes a customer and keeps its tombstone (see
// CustomerDeleted).
func (l *Ledger) DeleteCustomer(id string) error {
	c, err := l.Customer(id)
	if err != nil {
		return err
	}
	coll, err := l.Collection(CustomersCollection)
	if err != nil {
		return err
	}
	if err := coll.Delete(id); err != nil {
		return err
	}
	l.custs.forget(id)
	x, err := l.index(customersByClock)
	if err != nil {
		return err
	}
	if err := x.Remove(c.Clock, id); err != nil {
		return err
	}
	// The tombstone is kept for the retention, like the customer.deleted
	// event: until then the customer reads as its deleted stub.
	gone, err := l.Collection(TombstonesCollection)
	if err != nil {
		return err
	}
	return gone.Append(id, l.Wall(), nil)
}

// CustomerDeleted reports whether customer id existed and was deleted
// less than the retention ago.
func (l *Ledger) CustomerDeleted(id string) (bool, error) {
	gone, err := l.Collection(TombstonesCollection)
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

// Wall is the wall time (Unix seconds) to stamp records with: the
// request's time, or now for background work.
func (l *Ledger) Wall() int64 {
	if l.req != nil {
		return l.req.Time.Unix()
	}
	return l.rt.now().Unix()
}

// CustomersOnClock calls fn for every customer on clock ("" for none).
func (l *Ledger) CustomersOnClock(clock string, fn func(*billing.Customer) error) error {
	return eachIndexed(l, customersByClock, clock, l.Customer, fn)
}

// eachIndexed calls fn with every object of group in index, loaded by get.
// The ids are read first, so fn may change the index.
func eachIndexed[T any](l *Ledger, index, group string, get func(string) (*T, error), fn func(*T) error) error {
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
func (l *Ledger) Product(id string) (*billing.Product, error) {
	if p, ok := l.products[id]; ok {
		c := *p
		return &c, nil
	}
	var p billing.Product
	if err := l.Get(ProductsCollection, KindProduct, id, &p); err != nil {
		return nil, err
	}
	l.products[id] = &p
	c := p
	return &c, nil
}

// PutProduct stores a product.
func (l *Ledger) PutProduct(p *billing.Product) error {
	c := *p
	l.products[p.ID] = &c
	return l.Put(ProductsCollection, p.ID, p.Created, p)
}

// Price returns a price. Callers that change it must PutPrice it.
func (l *Ledger) Price(id string) (*billing.Price, error) {
	if p, ok := l.prices[id]; ok {
		c := *p
		return &c, nil
	}
	var p billing.Price
	if err := l.Get(PricesCollection, KindPrice, id, &p); err != nil {
		return nil, err
	}
	l.prices[id] = &p
	c := p
	return &c, nil
}

// PutPrice stores a price.
func (l *Ledger) PutPrice(p *billing.Price) error {
	c := *p
	l.prices[p.ID] = &c
	return l.Put(PricesCollection, p.ID, p.Created, p)
}

// Subscription returns a subscription, decoded once per transaction.
func (l *Ledger) Subscription(id string) (*billing.Subscription, error) { return l.subs.get(l, id) }

// PutSubscription stores a subscription, files it under its clock and
// keeps the map of its items to it in step.
func (l *Ledger) PutSubscription(s *billing.Subscription) error {
	items, err := l.Collection(itemsCollection)
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
	if err := hold(l, &l.subs, s.ID, s.Created, s); err != nil {
		return err
	}
	x, err := l.index(subscriptionsByClock)
	if err != nil {
		return err
	}
	return x.Add(s.Clock, s.ID)
}

// SubscriptionOfItem returns the subscription holding item id.
func (l *Ledger) SubscriptionOfItem(id, param string) (*billing.Subscription, error) {
	items, err := l.Collection(itemsCollection)
	if err != nil {
		return nil, err
	}
	sub, err := items.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, billing.NotFoundError(KindSubscriptionItem, id, param)
	}
	if err != nil {
		return nil, err
	}
	return l.Subscription(string(sub))
}

// SubscriptionsOnClock calls fn for every subscription on clock.
func (l *Ledger) SubscriptionsOnClock(clock string, fn func(*billing.Subscription) error) error {
	return eachIndexed(l, subscriptionsByClock, clock, l.Subscription, fn)
}

// Invoice returns an invoice, decoded once per transaction.
func (l *Ledger) Invoice(id string) (*billing.Invoice, error) { return l.invs.get(l, id) }

// PutInvoice stores an invoice.
func (l *Ledger) PutInvoice(inv *billing.Invoice) error {
	if err := hold(l, &l.invs, inv.ID, inv.Created, inv); err != nil {
		return err
	}
	return nil
}

// InvoiceItem returns an invoice item.
func (l *Ledger) InvoiceItem(id string) (*billing.InvoiceItem, error) {
	var ii billing.InvoiceItem
	return &ii, l.Get(InvoiceItemsCollection, KindInvoiceItem, id, &ii)
}

// PutInvoiceItem stores an invoice item, pending (filed under its
// customer) until it is on an invoice.
func (l *Ledger) PutInvoiceItem(ii *billing.InvoiceItem) error {
	if err := l.Put(InvoiceItemsCollection, ii.ID, ii.Date, ii); err != nil {
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

// DeleteInvoice deletes an invoice (a draft: the engine deletes no
// other).
func (l *Ledger) DeleteInvoice(id string) error {
	c, err := l.Collection(InvoicesCollection)
	if err != nil {
		return err
	}
	return c.Delete(id)
}

// DeleteInvoiceItem deletes an invoice item, and files it no longer as
// pending.
func (l *Ledger) DeleteInvoiceItem(ii *billing.InvoiceItem) error {
	c, err := l.Collection(InvoiceItemsCollection)
	if err != nil {
		return err
	}
	if err := c.Delete(ii.ID); err != nil {
		return err
	}
	x, err := l.index(pendingItems)
	if err != nil {
		return err
	}
	return x.Remove(ii.Customer, ii.ID)
}

// PendingInvoiceItems returns the customer's invoice items on no invoice
// yet, oldest first.
func (l *Ledger) PendingInvoiceItems(customer string) ([]*billing.InvoiceItem, error) {
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

// Schedule files t in the account's timeline, under its clock.
func (l *Ledger) Schedule(t billing.Task) error {
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

// NextTask removes and returns the earliest task of clock due by until,
// and counts it in the advance's progress.
func (l *Ledger) NextTask(clock string, until int64) (*billing.Task, error) {
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
	l.lastTask = &t
	return &t, nil
}

// Emit records the engine's event in the dialect's shape (see Record).
func (l *Ledger) Emit(ev billing.Event) error { return l.Record(ev) }

// PaymentMethod returns a stored payment method. Test payment methods
// named by a request (Stripe's pm_card_visa) are turned into stored ones
// by the dialect, so the ledger only knows real ones.
func (l *Ledger) PaymentMethod(id string) (*billing.PaymentMethod, error) { return l.pms.get(l, id) }

// PutPaymentMethod stores pm and keeps the index of each customer's
// payment methods in step with its attachment.
func (l *Ledger) PutPaymentMethod(pm *billing.PaymentMethod) error {
	x, err := l.index(paymentMethodsByCustomer)
	if err != nil {
		return err
	}
	if old, err := l.PaymentMethod(pm.ID); err == nil && old.Customer != "" && old.Customer != pm.Customer {
		if err := x.Remove(old.Customer, pm.ID); err != nil {
			return err
		}
	}
	if err := hold(l, &l.pms, pm.ID, pm.Created, pm); err != nil {
		return err
	}
	if pm.Customer == "" {
		return nil
	}
	return x.Add(pm.Customer, pm.ID)
}

// PaymentMethodsOf calls fn for every payment method attached to
// customer, in the order they were attached.
func (l *Ledger) PaymentMethodsOf(customer string, fn func(*billing.PaymentMethod) error) error {
	return eachIndexed(l, paymentMethodsByCustomer, customer, l.PaymentMethod, fn)
}

// Payment returns a payment (Stripe's PaymentIntent).
func (l *Ledger) Payment(id string) (*billing.Payment, error) { return l.payments.get(l, id) }

// PutPayment stores a payment.
func (l *Ledger) PutPayment(p *billing.Payment) error {
	if err := hold(l, &l.payments, p.ID, p.Created, p); err != nil {
		return err
	}
	return nil
}

// Charge returns a charge.
func (l *Ledger) Charge(id string) (*billing.Charge, error) { return l.charges.get(l, id) }

// PutCharge stores a charge.
func (l *Ledger) PutCharge(ch *billing.Charge) error {
	if err := hold(l, &l.charges, ch.ID, ch.Created, ch); err != nil {
		return err
	}
	return nil
}

// InvoicePayment returns a stored invoice payment.
func (l *Ledger) InvoicePayment(id string) (*billing.InvoicePayment, error) {
	return l.invPays.get(l, id)
}

// InvoicePayments returns an invoice's payments, oldest first.
func (l *Ledger) InvoicePayments(invoice string) ([]*billing.InvoicePayment, error) {
	var out []*billing.InvoicePayment
	err := eachIndexed(l, invoicePaymentsByInvoice, invoice, l.InvoicePayment, func(ip *billing.InvoicePayment) error {
		out = append(out, ip)
		return nil
	})
	return out, err
}

// PutInvoicePayment stores an invoice payment, filed under its invoice.
func (l *Ledger) PutInvoicePayment(ip *billing.InvoicePayment) error {
	if err := hold(l, &l.invPays, ip.ID, ip.Created, ip); err != nil {
		return err
	}
	x, err := l.index(invoicePaymentsByInvoice)
	if err != nil {
		return err
	}
	return x.Add(ip.Invoice, ip.ID)
}

// PutBalanceTransaction stores a customer balance transaction, filed
// under its customer.
func (l *Ledger) PutBalanceTransaction(bt *billing.BalanceTransaction) error {
	if err := l.Put(BalanceTxnsCollection, bt.ID, bt.Created, bt); err != nil {
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

// Policy is the account's dunning policy: what it set through the settings
// control route, or its dialect's default (Dialect.DefaultPolicy).
func (l *Ledger) Policy() (billing.DunningPolicy, error) {
	if l.policy == nil {
		def := l.d.DefaultPolicy()
		// A policy stored before it had a FinalizeDelay keeps the
		// default one.
		p := billing.DunningPolicy{FinalizeDelay: def.FinalizeDelay}
		found, err := l.Setting(dunningPolicyID, &p)
		if err != nil {
			return billing.DunningPolicy{}, fmt.Errorf("dunning policy: %w", err)
		}
		if !found {
			p = def
		}
		l.policy = &p
	}
	p := *l.policy
	p.RetryAfter = slices.Clone(p.RetryAfter)
	return p, nil
}

// PutPolicy stores the account's dunning policy.
func (l *Ledger) PutPolicy(p billing.DunningPolicy) error {
	if err := l.PutSetting(dunningPolicyID, p); err != nil {
		return err
	}
	p.RetryAfter = slices.Clone(p.RetryAfter)
	l.policy = &p
	return nil
}

// Setting decodes the account's setting id into v, if it was ever set;
// found is false (and v untouched) if not. Dialects keep their own
// settings beside the dunning policy ("dunning") this way.
func (l *Ledger) Setting(id string, v any) (found bool, err error) {
	coll, err := l.Collection(SettingsCollection)
	if err != nil {
		return false, err
	}
	raw, err := coll.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decode setting %s: %w", id, err)
	}
	return true, nil
}

// PutSetting stores the account's setting id.
func (l *Ledger) PutSetting(id string, v any) error {
	return l.Put(SettingsCollection, id, 0, v)
}
