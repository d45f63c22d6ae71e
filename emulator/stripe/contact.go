package stripe

import (
	"strings"

	"github.com/billclock/billclock/emulator/billing"
)

// This file reads what customer create and update say about the customer
// besides money: address, shipping, phone, preferred locales, tax
// exemption; and checks a customer's invoice prefix and a custom id.

// Length limits of customer parameters (Stripe's spec).
const (
	maxPhone        = 20
	maxAddressField = 5000
	maxFooter       = 5000
	// maxInvoiceSequence bounds next_invoice_sequence (Stripe's spec
	// gives none): ten billion invoices, far from overflowing.
	maxInvoiceSequence = 10_000_000_000
	// maxCustomID is the longest custom customer id billclock takes.
	maxCustomID = 255
)

// defaultCurrency is the currency of the account (a US account): a
// customer's balance set before anything was billed is in it.
const defaultCurrency = "usd"

// customerContact holds the contact parameters of a customer create or
// update. A nil field was not sent; a cleared one (sent empty) is set in
// clear*.
type customerContact struct {
	address       *billing.Address
	clearAddress  bool
	shipping      *billing.Shipping
	clearShipping bool
	phone         *string
	locales       []string
	setLocales    bool
	taxExempt     *billing.TaxExempt
}

// readAddress reads the address hash name (an address param whose keys
// are named name[city] ...); ok is false when it was not sent as a hash.
func readAddress(p *params, name string) (a billing.Address, ok bool) {
	sub, ok := p.sub(name)
	if !ok {
		return a, false
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"city", &a.City}, {"country", &a.Country}, {"line1", &a.Line1}, {"line2", &a.Line2},
		{"postal_code", &a.PostalCode}, {"state", &a.State},
	} {
		*f.dst, _ = sub.text(name+"["+f.key+"]", maxAddressField)
	}
	p.fail(sub.check())
	return a, true
}

// sentEmpty reports whether name was sent as an empty value (Stripe's
// unset).
func (p *params) sentEmpty(name string) bool {
	v, ok := p.form.lookup(name).leafValue()
	return ok && v == ""
}

// readContact reads address, shipping, phone, preferred_locales and
// tax_exempt.
func readContact(p *params) customerContact {
	var c customerContact
	if a, ok := readAddress(p, "address"); ok {
		c.address = &a
	}
	c.clearAddress = p.sentEmpty("address")
	if sub, ok := p.sub("shipping"); ok {
		var sh billing.Shipping
		a, ok := readAddress(sub, "shipping[address]")
		if !ok {
			sub.fail(errMissing("shipping[address]"))
		}
		sh.Address = a
		if name, ok := sub.text("shipping[name]", maxAddressField); ok {
			sh.Name = name
		} else {
			sub.fail(errMissing("shipping[name]"))
		}
		sh.Phone, _ = sub.text("shipping[phone]", maxAddressField)
		p.fail(sub.check())
		c.shipping = &sh
	}
	c.clearShipping = p.sentEmpty("shipping")
	c.phone = p.clearableText("phone", maxPhone)
	if p.present("preferred_locales") {
		c.locales, c.setLocales = p.strings("preferred_locales"), true
	}
	if p.sentEmpty("tax_exempt") {
		p.seen["tax_exempt"] = true
		none := billing.TaxExemptNone
		c.taxExempt = &none
	} else if v, ok := p.enum("tax_exempt", "exempt", "none", "reverse"); ok {
		t := billing.TaxExempt(v)
		if v == "none" {
			t = billing.TaxExemptNone
		}
		c.taxExempt = &t
	}
	return c
}

// apply sets what was sent on cust.
func (c customerContact) apply(cust *billing.Customer) {
	switch {
	case c.address != nil:
		cust.Address = c.address
	case c.clearAddress:
		cust.Address = nil
	}
	switch {
	case c.shipping != nil:
		cust.Shipping = c.shipping
	case c.clearShipping:
		cust.Shipping = nil
	}
	if c.phone != nil {
		cust.Phone = *c.phone
	}
	if c.setLocales {
		cust.PreferredLocales = c.locales
	}
	if c.taxExempt != nil {
		cust.TaxExempt = *c.taxExempt
	}
}

// validInvoicePrefix reports whether prefix is 3 to 12 uppercase letters
// or digits, as Stripe requires.
func validInvoicePrefix(prefix string) bool {
	if len(prefix) < 3 || len(prefix) > 12 {
		return false
	}
	for _, r := range prefix {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// validCustomID reports whether id can be a customer's id: printable
// ASCII without spaces, and nothing that would not survive in a URL path
// ('/', '?', '#', '%'), at most maxCustomID characters.
func validCustomID(id string) bool {
	if id == "" || len(id) > maxCustomID || strings.ContainsAny(id, "/?#%") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// customerIDFree refuses a custom customer id that a customer has, or had
// (a deleted customer keeps its id), with Stripe's error.
func customerIDFree(l *ledger, id string) error {
	_, err := l.Customer(id)
	if err == nil {
		return errCustomerExists()
	}
	if !isMissing(err) {
		return err
	}
	gone, err := l.CustomerDeleted(id)
	if err != nil {
		return err
	}
	if gone {
		return errCustomerExists()
	}
	return nil
}

// errCustomerExists is Stripe's answer to a custom id already taken.
func errCustomerExists() *Error {
	e := invalid("id", "Customer already exists.")
	e.Code = "resource_already_exists"
	return e
}
