package stripe

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves Stripe's search routes (GET /v1/{resource}/search). A
// search tests each of the resource's stored records without decoding it:
// most fields are read straight from the stored JSON (search_json.go). Fields that exist only in
// Stripe's shape of the object (a charge's card details, an invoice's
// total) are read from the object as rendered, only for records that the
// other clauses have not decided.

// maxSearchQuery is the longest query (Stripe's spec).
const maxSearchQuery = 5000

// searchField is a field a search can test.
type searchField struct {
	typ fieldType
	// path is where the field is, member names outermost first: in the
	// stored record, or (wire) in the object as rendered.
	path []string
	wire bool
}

func stored(typ fieldType, path ...string) searchField { return searchField{typ: typ, path: path} }
func wire(typ fieldType, path ...string) searchField {
	return searchField{typ: typ, path: path, wire: true}
}

// searchResource is a resource Stripe can search: its fields (those
// Stripe's docs list in "Query fields for ..."), where its records are
// and how they render.
type searchResource struct {
	name       string // as in the URL: customers, payment_intents, ...
	collection string
	fields     map[string]searchField
	expansions []string
	// render decodes a stored record and renders it.
	render func(l *ledger, raw []byte, ex expandSet) (any, error)
}

// decodeRender returns a render function of a resource whose records
// decode as T.
func decodeRender[T any](render func(l *ledger, v *T, ex expandSet) (any, error)) func(*ledger, []byte, expandSet) (any, error) {
	return func(l *ledger, raw []byte, ex expandSet) (any, error) {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		return render(l, &v, ex)
	}
}

// metadataField is every resource's metadata['key'].
var metadataField = stored(fieldToken, "metadata")

// searchResources are the resources Stripe can search, with the query
// fields its docs list for each.
var searchResources = []*searchResource{
	{name: "customers", collection: clockwork.CustomersCollection,
		fields: map[string]searchField{
			"created": stored(fieldNumeric, "created"), "email": stored(fieldString, "email"),
			"name": stored(fieldString, "name"), "phone": wire(fieldString, "phone"), "metadata": metadataField,
		},
		expansions: customerExpansions,
		render: decodeRender(func(l *ledger, c *billing.Customer, ex expandSet) (any, error) {
			return renderCustomer(c, l, ex)
		})},
	{name: "payment_intents", collection: clockwork.PaymentsCollection,
		fields: map[string]searchField{
			"amount": stored(fieldNumeric, "amount"), "created": stored(fieldNumeric, "created"),
			"currency": stored(fieldString, "currency"), "customer": stored(fieldString, "customer"),
			"status": stored(fieldString, "status"), "metadata": metadataField,
		},
		expansions: paymentIntentExpansions,
		render: decodeRender(func(l *ledger, p *billing.Payment, ex expandSet) (any, error) {
			return renderPaymentIntentEx(p, l, ex)
		})},
	{name: "charges", collection: clockwork.ChargesCollection,
		fields: map[string]searchField{
			"amount": stored(fieldNumeric, "amount"), "created": stored(fieldNumeric, "created"),
			"currency": stored(fieldString, "currency"), "customer": stored(fieldString, "customer"),
			"status": stored(fieldString, "status"), "metadata": metadataField,
			"disputed": wire(fieldBoolean, "disputed"), "refunded": wire(fieldBoolean, "refunded"),
			"billing_details.address.postal_code":     wire(fieldString, "billing_details", "address", "postal_code"),
			"payment_method_details.card.last4":       wire(fieldString, "payment_method_details", "card", "last4"),
			"payment_method_details.card.brand":       wire(fieldString, "payment_method_details", "card", "brand"),
			"payment_method_details.card.fingerprint": wire(fieldString, "payment_method_details", "card", "fingerprint"),
			"payment_method_details.card.exp_month":   wire(fieldNumeric, "payment_method_details", "card", "exp_month"),
			"payment_method_details.card.exp_year":    wire(fieldNumeric, "payment_method_details", "card", "exp_year"),
		},
		expansions: chargeExpansions,
		render: decodeRender(func(l *ledger, ch *billing.Charge, ex expandSet) (any, error) {
			return renderChargeEx(ch, l, ex)
		})},
	{name: "invoices", collection: clockwork.InvoicesCollection,
		fields: map[string]searchField{
			"created": stored(fieldNumeric, "created"), "currency": stored(fieldString, "currency"),
			"customer": stored(fieldString, "customer"), "number": stored(fieldString, "number"),
			"status": stored(fieldString, "status"), "subscription": stored(fieldString, "subscription"),
			"metadata": metadataField, "total": wire(fieldNumeric, "total"),
			"receipt_number":               wire(fieldString, "receipt_number"),
			"last_finalization_error_code": wire(fieldString, "last_finalization_error", "code"),
			"last_finalization_error_type": wire(fieldString, "last_finalization_error", "type"),
		},
		expansions: invoiceExpansions,
		render: decodeRender(func(l *ledger, inv *billing.Invoice, ex expandSet) (any, error) {
			return renderInvoice(inv, l, ex)
		})},
	{name: "prices", collection: clockwork.PricesCollection,
		fields: map[string]searchField{
			"active": stored(fieldBoolean, "active"), "currency": stored(fieldString, "currency"),
			"lookup_key": stored(fieldString, "lookup_key"), "product": stored(fieldString, "product"),
			"type": wire(fieldString, "type"), "metadata": metadataField,
		},
		render: decodeRender(func(_ *ledger, p *billing.Price, _ expandSet) (any, error) { return renderPrice(p), nil })},
	{name: "products", collection: clockwork.ProductsCollection,
		fields: map[string]searchField{
			"active": stored(fieldBoolean, "active"), "description": stored(fieldString, "description"),
			"name": stored(fieldString, "name"), "shippable": wire(fieldBoolean, "shippable"),
			"url": wire(fieldString, "url"), "metadata": metadataField,
		},
		render: decodeRender(func(_ *ledger, p *billing.Product, _ expandSet) (any, error) { return renderProduct(p), nil })},
	{name: "subscriptions", collection: clockwork.SubscriptionsCollection,
		fields: map[string]searchField{
			"created": stored(fieldNumeric, "created"), "status": stored(fieldString, "status"),
			"canceled_at": stored(fieldNumeric, "canceled_at"), "metadata": metadataField,
		},
		expansions: subscriptionExpansions,
		render: decodeRender(func(l *ledger, s *billing.Subscription, ex expandSet) (any, error) {
			return renderSubscription(s, l, ex)
		})},
}

// compile checks a parsed query against the resource's fields and returns
// its clauses with their fields, stored ones first: a record is tested on
// its stored JSON before anything is rendered.
func (r *searchResource) compile(q *searchQuery) ([]compiledClause, error) {
	out := make([]compiledClause, 0, len(q.clauses))
	for _, c := range q.clauses {
		f, ok := r.fields[c.field]
		if !ok {
			return nil, invalid("", "Field `%s` is an unsupported search field for resource `%s`. "+
				"See http://stripe.com/docs/search#query-fields-for-%s for a list of supported fields.",
				c.field, r.name, strings.ReplaceAll(r.name, "_", "-"))
		}
		if c.hasKey != (c.field == "metadata") {
			return nil, errSearchSyntax()
		}
		if err := checkClause(&c, f.typ); err != nil {
			return nil, err
		}
		cc := compiledClause{searchClause: c, f: f}
		if c.hasKey {
			cc.f.path = []string{"metadata", c.key}
		}
		cc.num, _ = searchNumber(c.value)
		cc.lower = strings.ToLower(c.value)
		out = append(out, cc)
	}
	// Stored fields first: the order of the clauses does not change the
	// outcome, and a record decided on them is never rendered.
	sorted := make([]compiledClause, 0, len(out))
	for _, wireField := range []bool{false, true} {
		for _, c := range out {
			if c.f.wire == wireField {
				sorted = append(sorted, c)
			}
		}
	}
	return sorted, nil
}

// compiledClause is a clause with its field.
type compiledClause struct {
	searchClause
	f     searchField
	num   float64 // the value as a number, for numeric fields
	lower string  // the value in lower case, for string fields
}

// test reports whether the clause holds for the field's value raw
// (present false when the record has no such field).
func (c *compiledClause) test(raw []byte, present bool) bool {
	return c.holds(raw, present) != c.negate
}

func (c *compiledClause) holds(raw []byte, present bool) bool {
	isNull := !present || string(raw) == "null" || string(raw) == `""`
	if c.null {
		return isNull
	}
	if isNull {
		return false
	}
	switch c.f.typ {
	case fieldNumeric:
		v, ok := searchNumber(string(raw))
		if !ok {
			return false
		}
		switch c.op {
		case ">":
			return v > c.num
		case "<":
			return v < c.num
		case ">=":
			return v >= c.num
		case "<=":
			return v <= c.num
		}
		return v == c.num
	case fieldBoolean:
		return string(raw) == c.value
	}
	if inner, ok := plainString(raw); ok {
		// Most stored strings: compared where they lie.
		switch {
		case c.f.typ == fieldToken:
			return string(inner) == c.value
		case c.op == "~":
			return containsFold(inner, c.lower)
		}
		return bytes.EqualFold(inner, []byte(c.value))
	}
	s, ok := jsonString(raw)
	if !ok {
		s = string(raw) // a number in a string field
	}
	switch {
	case c.f.typ == fieldToken:
		return s == c.value
	case c.op == "~":
		return strings.Contains(strings.ToLower(s), c.lower)
	}
	return strings.EqualFold(s, c.value)
}

// containsFold reports whether s contains lower (in lower case), ignoring
// case, without copying s when both are ASCII.
func containsFold(s []byte, lower string) bool {
	ascii := func(b []byte) bool {
		for _, c := range b {
			if c >= 0x80 {
				return false
			}
		}
		return true
	}
	if !ascii(s) || !ascii([]byte(lower)) {
		return strings.Contains(strings.ToLower(string(s)), lower)
	}
	toLower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for i := 0; i+len(lower) <= len(s); i++ {
		j := 0
		for j < len(lower) && toLower(s[i+j]) == lower[j] {
			j++
		}
		if j == len(lower) {
			return true
		}
	}
	return false
}

// matcher tests stored records against a compiled query.
type matcher struct {
	l       *ledger
	r       *searchResource
	clauses []compiledClause
	or      bool
}

// match reports whether the stored record raw matches. The clauses of
// wire fields render the record once, when they are reached.
func (m *matcher) match(raw []byte) (bool, error) {
	var rendered []byte
	for i := range m.clauses {
		c := &m.clauses[i]
		doc := raw
		if c.f.wire {
			if rendered == nil {
				v, err := m.r.render(m.l, raw, nil)
				if err != nil {
					return false, err
				}
				if rendered, err = json.Marshal(v); err != nil {
					return false, err
				}
			}
			doc = rendered
		}
		v, present := jsonField(doc, c.f.path)
		if ok := c.test(v, present); ok == m.or {
			return ok, nil // the first true of an OR, or false of an AND, decides
		}
	}
	return !m.or, nil
}

// searchResult is Stripe's search envelope.
type searchResult struct {
	Object     string            `json:"object"`
	Data       []json.RawMessage `json:"data"`
	HasMore    bool              `json:"has_more"`
	NextPage   *string           `json:"next_page"`
	TotalCount *int64            `json:"total_count,omitempty"`
	URL        string            `json:"url"`
}

// pagePrefix starts every page cursor billclock hands out, so that one of
// another kind is told apart.
const pagePrefix = "bcpage1:"

// encodePage is the next_page cursor after the record at pos (see
// store.Collection.Records): the page that follows holds older records.
func encodePage(pos []byte) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte(pagePrefix), pos...))
}

// decodePage reads a page cursor: the position of the last record of the
// page before.
func decodePage(page string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(page)
	if err != nil {
		return nil, false
	}
	pos, ok := bytes.CutPrefix(raw, []byte(pagePrefix))
	return pos, ok && len(pos) == store.PosLen
}

// errBadPage refuses a page cursor billclock did not hand out.
func errBadPage() *Error {
	return invalid("page", "Invalid page: pass the next_page of an earlier search with the same query, unchanged.")
}

// searchHit is a record a search found, and its place in the listing.
type searchHit struct{ pos, data []byte }

// search serves GET /v1/{resource}/search. It tests every record of the
// resource once, in storage order, and sorts what matches newest first:
// the whole answer costs one pass, whatever the query, and total_count
// comes with it.
func (s *Surface) search(r *searchResource) handler {
	return func(c *call, tx *store.Tx) (any, error) {
		query, hasQuery := c.p.text("query", maxSearchQuery)
		limit := defaultListLimit
		if v, ok := c.p.intIn("limit", 1, maxListLimit); ok {
			limit = int(v)
		}
		page, hasPage := c.p.str("page")
		ex, err := c.p.expansions(append([]string{"total_count"}, r.expansions...)...)
		if err != nil {
			return nil, err
		}
		if !hasQuery {
			return nil, errMissing("query")
		}
		q, err := parseSearchQuery(query)
		if err != nil {
			return nil, err
		}
		clauses, err := r.compile(q)
		if err != nil {
			return nil, err
		}
		var after []byte
		if hasPage {
			var ok bool
			if after, ok = decodePage(page); !ok {
				return nil, errBadPage()
			}
		}
		l, err := s.ledger(tx, c.account, c)
		if err != nil {
			return nil, err
		}
		coll, err := l.Collection(r.collection)
		if err != nil {
			return nil, err
		}
		m := &matcher{l: l, r: r, clauses: clauses, or: q.or}
		var hits []searchHit
		var total int64
		err = coll.Records(func(pos, data []byte) error {
			ok, err := m.match(data)
			if !ok || err != nil {
				return err
			}
			total++
			if after == nil || bytes.Compare(pos, after) < 0 {
				hits = append(hits, searchHit{pos, data})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", r.name, err)
		}
		slices.SortFunc(hits, func(a, b searchHit) int { return bytes.Compare(b.pos, a.pos) })
		out := &searchResult{Object: "search_result", Data: []json.RawMessage{}, URL: "/v1/" + r.name + "/search"}
		if len(hits) > limit {
			next := encodePage(hits[limit-1].pos)
			out.HasMore, out.NextPage, hits = true, &next, hits[:limit]
		}
		for _, h := range hits {
			v, err := r.render(l, h.data, expandSet(ex))
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			out.Data = append(out.Data, b)
		}
		if ex["total_count"] {
			out.TotalCount = &total
		}
		return out, nil
	}
}
