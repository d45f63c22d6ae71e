package chargebee

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// testCard is a card of Chargebee's test gateway: how it behaves, and
// what it shows.
type testCard struct {
	brand    string
	behavior billing.CardBehavior
}

// testCards are the test gateway's cards billclock knows, by number: four
// that always succeed, one that is declined when stored (verification
// fails) and one that is stored fine and then declined on every charge
// with "Insufficient funds".
var testCards = map[string]testCard{
	"4111111111111111": {brand: "visa"},
	"5555555555554444": {brand: "mastercard"},
	"378282246310005":  {brand: "american_express"},
	"6011111111111117": {brand: "discover"},
	"4119862760338320": {brand: "visa", behavior: billing.CardBehavior{DeclineOnAttach: billing.DeclineGeneric}},
	"4005519200000004": {brand: "visa", behavior: billing.CardBehavior{DeclineCharges: billing.DeclineInsufficientFunds}},
}

// cardParams are a card's details as a request sends them: card[number]
// and the rest on customer create (prefix "card"), number and the rest on
// the credit_card route (no prefix).
type cardParams struct {
	number              string
	expMonth, expYear   int64
	firstName, lastName string
}

// readCard reads a card sent as fields (with param names made by name);
// ok is false when no card was sent.
func readCard(p *params, fields map[string]string, name func(string) string, now int64) (cardParams, bool) {
	var cp cardParams
	if len(fields) == 0 {
		return cp, false
	}
	num := strings.NewReplacer(" ", "", "-", "").Replace(fields["number"])
	if num == "" {
		p.fail(errRequired(name("number")))
		return cp, true
	}
	if _, ok := testCards[num]; !ok {
		p.fail(errParam(name("number"), "not a card of Chargebee's test gateway that billclock knows: use 4111 1111 1111 1111, "+
			"5555 5555 5555 4444, 3782 822463 10005 or 6011 1111 1111 1117 (succeed), 4119 8627 6033 8320 (declined when stored) "+
			"or 4005 5192 0000 0004 (stored, then every charge fails with Insufficient funds)"))
		return cp, true
	}
	cp.number = num
	month, err := strconv.ParseInt(strings.TrimSpace(fields["expiry_month"]), 10, 64)
	if err != nil || month < 1 || month > 12 {
		p.fail(errParam(name("expiry_month"), "invalid value, must be a month from 1 to 12"))
		return cp, true
	}
	year, err := strconv.ParseInt(strings.TrimSpace(fields["expiry_year"]), 10, 64)
	if err != nil || year < 1970 || year > 2099 {
		p.fail(errParam(name("expiry_year"), "invalid value, must be a four-digit year"))
		return cp, true
	}
	t := time.Unix(now, 0).UTC()
	if year < int64(t.Year()) || year == int64(t.Year()) && month < int64(t.Month()) {
		p.fail(errParam(name("expiry_year"), "the card has expired"))
		return cp, true
	}
	cp.expMonth, cp.expYear = month, year
	for _, f := range []struct {
		field string
		dst   *string
	}{{"first_name", &cp.firstName}, {"last_name", &cp.lastName}} {
		if len(fields[f.field]) > 150 {
			p.fail(errParam(name(f.field), "cannot be longer than 150 characters"))
		}
		*f.dst = fields[f.field]
	}
	return cp, true
}

// storeCard stores the card cp for cust as its primary payment source, in
// place of the one it had (detached). A card that is declined when stored
// is refused, and the caller must not keep what the request changed.
func (c *call) storeCard(cust *billing.Customer, cp cardParams, now int64) (*billing.PaymentMethod, error) {
	tc := testCards[cp.number]
	pm := &billing.PaymentMethod{Type: "card", Behavior: tc.behavior,
		Card: billing.Card{Brand: tc.brand, Last4: cp.number[len(cp.number)-4:], ExpMonth: int(cp.expMonth),
			ExpYear: int(cp.expYear), Funding: "credit", Country: "US"},
		Metadata: map[string]string{mdIIN: cp.number[:6]}}
	if cp.firstName != "" {
		pm.Metadata[mdFirstName] = cp.firstName
	}
	if cp.lastName != "" {
		pm.Metadata[mdLastName] = cp.lastName
	}
	eng := c.l.Engine()
	if err := eng.CreatePaymentMethod(pm, now); err != nil {
		return nil, err
	}
	pm.Created = now
	if err := eng.AttachPaymentMethod(pm, cust, now); err != nil {
		if _, declined := err.(*billing.Declined); declined {
			return nil, errPayment("payment_method_verification_failed",
				"The card could not be verified: it was declined by the gateway (test card 4119 8627 6033 8320).")
		}
		return nil, err
	}
	old := cust.DefaultPaymentMethod
	cust.DefaultPaymentMethod = pm.ID
	if err := c.l.PutCustomer(cust); err != nil {
		return nil, err
	}
	if old != "" {
		prev, err := c.l.PaymentMethod(old)
		if err == nil && prev.Customer == cust.ID {
			if err := eng.DetachPaymentMethod(prev, now); err != nil {
				return nil, err
			}
		}
	}
	return pm, nil
}

// customerFields reads the fields a customer is created or updated with,
// into its metadata (and email); it reports whether any was sent.
func customerFields(p *params, cust *billing.Customer) {
	for _, f := range []struct {
		name string
		max  int
	}{{mdFirstName, 150}, {mdLastName, 150}, {mdCompany, 250}, {mdPhone, 50}} {
		if v, ok := p.str(f.name); ok {
			if len([]rune(v)) > f.max {
				p.fail(errParam(f.name, fmt.Sprintf("cannot be longer than %d characters", f.max)))
				continue
			}
			cust.Metadata = billing.MergeMetadata(cust.Metadata, map[string]string{f.name: v})
		}
	}
	if v, ok := p.str("email"); ok {
		if v != "" && (len(v) > 70 || !strings.Contains(v, "@") || strings.ContainsAny(v, " \t\r\n")) {
			p.fail(errParam("email", "invalid email address"))
		}
		cust.Email = v
	}
	if raw, ok := p.jsonObject("meta_data"); ok {
		cust.Metadata = billing.MergeMetadata(cust.Metadata, map[string]string{mdMetaData: string(raw)})
	}
}

// customerEntry is a customer with its card, as Chargebee answers it.
func (c *call) customerEntry(cust *billing.Customer, now int64) (map[string]any, error) {
	o, err := renderCustomer(cust, c.l)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"customer": o}
	card, err := customerCard(cust, c.l, now)
	if err != nil {
		return nil, err
	}
	if card != nil {
		out["card"] = card
	}
	return out, nil
}

func (s *Surface) createCustomer(c *call) (any, error) {
	id := c.readID("id", false)
	cust := &billing.Customer{}
	customerFields(c.p, cust)
	now, err := c.siteNow(true)
	if err != nil {
		return nil, err
	}
	card, hasCard := readCard(c.p, c.p.hash("card"), func(f string) string { return "card[" + f + "]" }, now)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if id == "" {
		id = s.NewID("cus_")
	} else if _, err := c.l.Customer(id); err == nil {
		return nil, errDuplicate("id", "customer", id)
	}
	cust.ID, cust.Created, cust.Clock = id, now, machineID
	cust.InvoicePrefix = "INV"
	if err := c.l.PutCustomer(cust); err != nil {
		return nil, err
	}
	if err := c.l.Emit(billing.Event{Type: billing.EventCustomerCreated, Time: now, Object: cust}); err != nil {
		return nil, err
	}
	if hasCard {
		if _, err := c.storeCard(cust, card, now); err != nil {
			return nil, err
		}
	}
	return c.customerEntry(cust, now)
}

func (s *Surface) retrieveCustomer(c *call) (any, error) {
	cust, err := c.l.Customer(c.vars["id"])
	if err != nil {
		return nil, err
	}
	now, err := c.siteNow(false)
	if err != nil {
		return nil, err
	}
	return c.customerEntry(cust, now)
}

func (s *Surface) updateCustomer(c *call) (any, error) {
	cust, err := c.l.Customer(c.vars["id"])
	if err != nil {
		return nil, err
	}
	before := *cust
	before.Metadata = copyMap(cust.Metadata)
	customerFields(c.p, cust)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	now, err := c.siteNow(true)
	if err != nil {
		return nil, err
	}
	cust.Metadata = billing.MergeMetadata(cust.Metadata, map[string]string{mdUpdatedAt: strconv.FormatInt(now, 10)})
	if err := c.l.PutCustomer(cust); err != nil {
		return nil, err
	}
	if err := c.l.Emit(billing.Event{Type: billing.EventCustomerUpdated, Time: now, Object: cust, Before: &before}); err != nil {
		return nil, err
	}
	return c.customerEntry(cust, now)
}

// updateCard serves POST /customers/{id}/credit_card (the SDKs'
// card.updateCardForCustomer): the card sent becomes the customer's
// primary payment source, in place of the one it had.
func (s *Surface) updateCard(c *call) (any, error) {
	cust, err := c.l.Customer(c.vars["id"])
	if err != nil {
		return nil, err
	}
	now, err := c.siteNow(true)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, f := range []string{"number", "expiry_month", "expiry_year", "cvv", "first_name", "last_name"} {
		if v, ok := c.p.str(f); ok {
			fields[f] = v
		}
	}
	if len(fields) == 0 {
		fields["number"] = ""
	}
	card, _ := readCard(c.p, fields, func(f string) string { return f }, now)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if _, err := c.storeCard(cust, card, now); err != nil {
		return nil, err
	}
	return c.customerEntry(cust, now)
}

func (s *Surface) listCustomers(c *call) (any, error) {
	now, err := c.siteNow(false)
	if err != nil {
		return nil, err
	}
	return c.list(listing{coll: clockwork.CustomersCollection, entry: func(raw []byte) (any, error) {
		var cust billing.Customer
		if err := json.Unmarshal(raw, &cust); err != nil {
			return nil, err
		}
		return c.customerEntry(&cust, now)
	}})
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func parseInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
