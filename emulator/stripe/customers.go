package stripe

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"maps"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// maxCustomersPerClock is Stripe's cap on customers attached to one test
// clock, enforced only with Options.StripeLimits.
const maxCustomersPerClock = 3

// customerExpansions are the fields of a customer that expand[] may name.
var customerExpansions = []string{"test_clock", "default_source", "invoice_settings.default_payment_method"}

// customerFields are the scalar fields shared by customer create and update.
type customerFields struct {
	email, name, description *string
	metadata                 map[string]string
	clearMetadata            bool
	// defaultPM is invoice_settings[default_payment_method]; nil when not sent.
	defaultPM *string
	// footer is invoice_settings[footer]; nil when not sent.
	footer *string
	// contact holds the contact details and preferences sent (contact.go).
	contact customerContact
	// balance, invoicePrefix and nextSequence are nil when not sent.
	balance       *int64
	invoicePrefix *string
	nextSequence  *int64
}

// readCustomerFields reads the parameters customer create and update share.
// A field sent empty reads as "" (clear); a field not sent reads as nil.
func readCustomerFields(p *params) customerFields {
	var f customerFields
	f.email = p.clearableText("email", maxEmail)
	f.name = p.clearableText("name", maxCustomerName)
	f.description = p.clearableText("description", maxDescription)
	f.metadata, f.clearMetadata = p.metadata("metadata")
	if settings, ok := p.sub("invoice_settings"); ok {
		f.defaultPM = settings.clearable("invoice_settings[default_payment_method]")
		f.footer = settings.clearableText("invoice_settings[footer]", maxFooter)
		p.fail(settings.check())
	}
	f.contact = readContact(p)
	if v, ok := p.intIn("balance", -billing.MaxAmount, billing.MaxAmount); ok {
		f.balance = &v
	}
	if v, ok := p.str("invoice_prefix"); ok {
		if !validInvoicePrefix(v) {
			p.fail(invalid("invoice_prefix", "Invalid invoice_prefix: %s. It must be 3 to 12 uppercase letters or digits.", v))
		}
		f.invoicePrefix = &v
	}
	if v, ok := p.intIn("next_invoice_sequence", 1, maxInvoiceSequence); ok {
		f.nextSequence = &v
	}
	return f
}

// apply sets the fields that were sent on c, other than the default
// payment method, which must be resolved first (see
// ledger.attachedPaymentMethod).
func (f customerFields) apply(c *billing.Customer) {
	if f.email != nil {
		c.Email = *f.email
	}
	if f.name != nil {
		c.Name = *f.name
	}
	if f.description != nil {
		c.Description = *f.description
	}
	c.Metadata = applyMetadata(c.Metadata, f.metadata, f.clearMetadata)
	if f.footer != nil {
		c.InvoiceFooter = *f.footer
	}
	f.contact.apply(c)
	if f.invoicePrefix != nil {
		c.InvoicePrefix = *f.invoicePrefix
	}
	if f.nextSequence != nil {
		// The engine counts the invoices numbered so far.
		c.NextInvoiceSequence = int(*f.nextSequence - 1)
	}
}

// newInvoicePrefix returns 8 random uppercase letters and digits.
func newInvoicePrefix() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func customerView(l *ledger, cust *billing.Customer, ex map[string]bool) (any, error) {
	return renderCustomer(cust, l, expandSet(ex))
}

func (s *Surface) createCustomer(c *call, tx *store.Tx) (any, error) {
	f := readCustomerFields(c.p)
	pmID, hasPM := c.p.str("payment_method")
	source, hasSource := c.p.str("source")
	clockID, _ := c.p.str("test_clock")
	discount := readCustomerDiscount(c.p)
	id, hasID := c.p.str("id")
	if hasID && !validCustomID(id) {
		c.p.fail(invalid("id", "Invalid id: %s. billclock takes up to 255 printable characters other than spaces, '/', '?', '#' and '%%'.", elide(id)))
	}
	ex, err := c.p.expansions(customerExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if clockID != "" {
		if _, err := l.Clock(clockID); err != nil {
			return nil, withParam(err, "test_clock")
		}
	}
	// A customer on a test clock lives in the clock's time.
	created, err := l.TimeOn(clockID, c.now.Unix())
	if err != nil {
		return nil, err
	}
	if clockID != "" && s.limits {
		n := 0
		if err := l.CustomersOnClock(clockID, func(*billing.Customer) error { n++; return nil }); err != nil {
			return nil, err
		}
		if n >= maxCustomersPerClock {
			return nil, invalid("test_clock", "Test clocks can have at most %d customers, and the test clock %s already has %d. "+
				"billclock enforces this Stripe limit because it was started with --stripe-limits.", maxCustomersPerClock, clockID, n)
		}
	}
	if !hasID {
		id = l.NewID("cus_")
	} else if err := customerIDFree(l, id); err != nil {
		return nil, err
	}
	cust := &billing.Customer{ID: id, Created: created, Clock: clockID, InvoicePrefix: newInvoicePrefix()}
	f.apply(cust)
	if f.balance != nil {
		cust.Balance, cust.BalanceCurrency = *f.balance, defaultCurrency
	}
	// The payment methods to attach once the customer exists, in order.
	var attach []*billing.PaymentMethod
	var pm *billing.PaymentMethod
	if hasPM {
		if pm, _, err = l.resolvePaymentMethod(pmID, "payment_method", created); err != nil {
			return nil, err
		}
		attach = append(attach, pm)
		// Stripe only attaches payment_method; billclock also makes it the
		// default, so that the customer's invoices have something to charge.
		cust.DefaultPaymentMethod = pm.ID
	}
	if f.defaultPM != nil && *f.defaultPM != "" {
		const param = "invoice_settings[default_payment_method]"
		switch {
		case hasPM && *f.defaultPM == pmID:
		case isMagicPaymentMethod(*f.defaultPM):
			def, _, err := l.resolvePaymentMethod(*f.defaultPM, param, created)
			if err != nil {
				return nil, err
			}
			attach = append(attach, def)
			cust.DefaultPaymentMethod = def.ID
		default:
			// A customer being created has nothing attached yet.
			def, err := l.PaymentMethod(*f.defaultPM)
			if err != nil {
				return nil, withParam(err, param)
			}
			return nil, stripeError(billing.CheckDefault(def, cust.ID, param), opDefault)
		}
	}
	if hasSource {
		card, err := l.sourceFromToken(source, "source", created)
		if err != nil {
			return nil, err
		}
		attach = append(attach, card)
		cust.DefaultSource = card.ID
	}
	if err := l.PutCustomer(cust); err != nil {
		return nil, err
	}
	// customer.discount.created comes first, then customer.created with
	// the discount, as an update's customer.discount.* come before its
	// customer.updated.
	if err := discount.apply(l, cust, created); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: billing.EventCustomerCreated, Time: created, Object: cust}); err != nil {
		return nil, err
	}
	if cust.Balance != 0 {
		if err := l.Engine().InitialBalance(cust, created); err != nil {
			return nil, err
		}
	}
	for _, pm := range attach {
		if err := l.Engine().AttachPaymentMethod(pm, cust, created); err != nil {
			return nil, stripeError(err, opAttach)
		}
	}
	return customerView(l, cust, ex)
}

func (s *Surface) retrieveCustomer(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(customerExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	cust, err := l.Customer(c.vars["id"])
	if err != nil {
		// As at Stripe, a deleted customer reads as its deleted stub.
		if gone, derr := l.CustomerDeleted(c.vars["id"]); derr != nil || gone {
			return renderDeleted(c.vars["id"], "customer"), derr
		}
		return nil, err
	}
	return customerView(l, cust, ex)
}

// customerNow loads customer id, which parameter param named, and the
// time it lives in: that of its test clock, or wall.
func (l *ledger) customerNow(id, param string, wall int64) (*billing.Customer, int64, error) {
	cust, err := l.Customer(id)
	if err != nil {
		return nil, 0, withParam(err, param)
	}
	now, err := l.TimeOn(cust.Clock, wall)
	return cust, now, err
}

// openCustomer is onClock for the customer the path names, which lives
// on its test clock, if it has one.
func (s *Surface) openCustomer(c *call, tx *store.Tx) (*ledger, *billing.Customer, int64, error) {
	return onClock(s, c, tx, (*ledger).Customer, func(cust *billing.Customer) string { return cust.Clock })
}

func (s *Surface) updateCustomer(c *call, tx *store.Tx) (any, error) {
	f := readCustomerFields(c.p)
	source, hasSource := c.p.str("source")
	defaultSource := c.p.clearable("default_source")
	discount := readCustomerDiscount(c.p)
	ex, err := c.p.expansions(customerExpansions...)
	if err != nil {
		return nil, err
	}
	l, cust, now, err := s.openCustomer(c, tx)
	if err != nil {
		return nil, err
	}
	// Removing the discount announces its own customer.updated.
	if discount.remove {
		if err := discount.apply(l, cust, now); err != nil {
			return nil, err
		}
	}
	before, err := json.Marshal(cust)
	if err != nil {
		return nil, err
	}
	snapshot := *cust
	snapshot.Metadata = maps.Clone(cust.Metadata)
	f.apply(cust)
	if f.balance != nil {
		if err := l.Engine().SetBalance(cust, *f.balance, defaultCurrency, billing.BalanceAdjustment, now); err != nil {
			return nil, err
		}
	}
	if f.defaultPM != nil {
		cust.DefaultPaymentMethod = ""
		if *f.defaultPM != "" {
			if cust.DefaultPaymentMethod, err = l.attachedPaymentMethod(cust, *f.defaultPM, "invoice_settings[default_payment_method]", now); err != nil {
				return nil, err
			}
		}
	}
	if defaultSource != nil {
		cust.DefaultSource = ""
		if *defaultSource != "" {
			card, err := l.PaymentMethod(*defaultSource)
			if isMissing(err) || err == nil && (!card.Legacy || billing.CheckDefault(card, cust.ID, "default_source") != nil) {
				return nil, errNoSuch("source", *defaultSource, "default_source")
			}
			if err != nil {
				return nil, err
			}
			cust.DefaultSource = card.ID
		}
	}
	// A new source replaces the default source, which is deleted.
	var replaced string
	if hasSource {
		card, err := l.sourceFromToken(source, "source", now)
		if err != nil {
			return nil, err
		}
		if err := l.Engine().AttachPaymentMethod(card, cust, now); err != nil {
			return nil, stripeError(err, opAttach)
		}
		replaced, cust.DefaultSource = cust.DefaultSource, card.ID
	}
	if discount.spec != nil {
		if err := discount.apply(l, cust, now); err != nil {
			return nil, err
		}
	}
	after, err := json.Marshal(cust)
	if err != nil {
		return nil, err
	}
	// Stripe sends customer.updated only when something changed.
	if !bytes.Equal(before, after) {
		if err := l.PutCustomer(cust); err != nil {
			return nil, err
		}
		if err := l.Emit(billing.Event{Type: billing.EventCustomerUpdated, Time: now, Object: cust, Before: &snapshot}); err != nil {
			return nil, err
		}
	}
	if replaced != "" {
		old, err := l.PaymentMethod(replaced)
		if err != nil && !isMissing(err) {
			return nil, err
		}
		if err == nil && old.Legacy && old.Customer == cust.ID {
			if err := l.Engine().DetachPaymentMethod(old, now); err != nil {
				return nil, err
			}
		}
	}
	return customerView(l, cust, ex)
}

func (s *Surface) deleteCustomer(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, cust, now, err := s.openCustomer(c, tx)
	if err != nil {
		return nil, err
	}
	// Deleting a customer cancels their subscriptions at once, without
	// prorating or invoicing.
	var live []string
	if err := l.SubscriptionsOnClock(cust.Clock, func(sub *billing.Subscription) error {
		if sub.Customer == cust.ID && !sub.Ended() {
			live = append(live, sub.ID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, id := range live {
		if _, err := l.Engine().CancelSubscription(id, false, false, now); err != nil {
			return nil, err
		}
	}
	if err := l.DeleteCustomer(cust.ID); err != nil {
		return nil, err
	}
	if err := l.Emit(billing.Event{Type: billing.EventCustomerDeleted, Time: now, Object: cust}); err != nil {
		return nil, err
	}
	return renderDeleted(cust.ID, "customer"), nil
}

func (s *Surface) listCustomers(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	email, _ := c.p.str("email")
	clock, _ := c.p.str("test_clock")
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions(customerExpansions...)
	if err != nil {
		return nil, err
	}
	l, coll, err := s.openCollection(c, tx, clockwork.CustomersCollection)
	if err != nil {
		return nil, err
	}
	match := func(cust *billing.Customer) bool {
		// Customers on a test clock are listed only when asked for by clock.
		return cust.Clock == clock &&
			(email == "" || cust.Email == email) &&
			created.match(cust.Created)
	}
	return listTyped(coll, pg, "/v1/customers", "customer", match, func(cust *billing.Customer) (any, error) {
		return customerView(l, cust, ex)
	})
}
