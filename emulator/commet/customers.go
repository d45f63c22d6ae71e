package commet

import (
	"encoding/json"
	"net/mail"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file serves customers: create (idempotent on the customer's own
// id), retrieve by Commet's id, own id or external id, and list.

// maxListLimit is the largest page a list gives.
const maxListLimit = 100

func (s *Surface) createCustomer(c *call, l *clockwork.Ledger) (any, error) {
	email := c.p.requiredStr("email", maxText)
	own, _ := c.p.str("id", maxText)
	ext, _ := c.p.str("externalId", maxText)
	fullName, _ := c.p.str("fullName", maxText)
	tz, _ := c.p.str("timezone", 100)
	tax, _ := c.p.str("taxDocument", maxText)
	meta, _ := c.p.raw("metadata")
	addr, _ := c.p.raw("address")
	if email != "" && !validEmail(email) {
		c.p.fail("email", "Invalid email address.")
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := now(c, l)
	if err != nil {
		return nil, err
	}
	if own != "" {
		if id, err := lookup(l, customerKeysCollection, "own:"+own); err != nil {
			return nil, err
		} else if id != "" {
			// Create is idempotent on the customer's own id.
			cust, rec, err := s.customer(l, id)
			if err != nil {
				return nil, err
			}
			return renderCustomer(cust, rec), nil
		}
	}
	if ext != "" {
		if id, err := lookup(l, customerKeysCollection, "ext:"+ext); err != nil {
			return nil, err
		} else if id != "" {
			return nil, &Error{Status: 409, Type: typeConflict, Code: "customer_exists", Param: "externalId",
				Message: "A customer with this externalId exists already: " + id}
		}
	}
	cust := &billing.Customer{ID: s.NewID("cus_"), Created: at, Clock: orgClockID, Email: email, Name: fullName,
		InvoicePrefix: invoicePrefix()}
	if ext != "" {
		// Events name the customer by it; kept beside billing's data so
		// that rendering a renewal's events reads nothing more.
		cust.Metadata = map[string]string{externalIDKey: ext}
	}
	rec := &customerRecord{ID: cust.ID, OwnID: own, ExternalID: ext, FullName: fullName, Timezone: tz, TaxDocument: tax,
		Metadata: meta, Address: addr, Created: at, Updated: at}
	if err := l.PutCustomer(cust); err != nil {
		return nil, err
	}
	if err := putCustomerRecord(l, rec); err != nil {
		return nil, err
	}
	for key, v := range map[string]string{"own:": own, "ext:": ext} {
		if v != "" {
			if err := file(l, customerKeysCollection, key+v, cust.ID); err != nil {
				return nil, err
			}
		}
	}
	if err := l.Emit(billing.Event{Type: billing.EventCustomerCreated, Time: at, Object: cust}); err != nil {
		return nil, err
	}
	c.status = 201
	return renderCustomer(cust, rec), nil
}

// validEmail is a loose check: an address with an @ and a domain.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// invoicePrefix is a customer's invoice number prefix.
func invoicePrefix() string {
	return "INV-" + strings.ToUpper(clockwork.NewSecret("", 6))
}

func (s *Surface) retrieveCustomer(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	cust, rec, err := s.customer(l, c.vars["id"])
	if err != nil {
		return nil, err
	}
	return renderCustomer(cust, rec), nil
}

// pageOf reads limit and cursor.
func pageOf(p *params) (limit int, cursor string) {
	n, ok := p.int("limit", 1, maxListLimit)
	if !ok {
		n = 20
	}
	cursor, _ = p.str("cursor", maxText)
	return int(n), cursor
}

func (s *Surface) listCustomers(c *call, l *clockwork.Ledger) (any, error) {
	limit, cursor := pageOf(c.p)
	ext, hasExt := c.p.str("externalId", maxText)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	coll, err := l.Collection(customersCollection)
	if err != nil {
		return nil, err
	}
	var match func([]byte) (bool, error)
	if hasExt {
		match = func(raw []byte) (bool, error) {
			var rec customerRecord
			err := json.Unmarshal(raw, &rec)
			return err == nil && (rec.ExternalID == ext || rec.OwnID == ext), err
		}
	}
	return listPage(coll, limit, cursor, match, func(raw []byte) (any, error) {
		var rec customerRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, err
		}
		cust, err := l.Customer(rec.ID)
		if err != nil {
			return nil, err
		}
		return renderCustomer(cust, &rec), nil
	})
}
