package stripe

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSearchQuery(t *testing.T) {
	cl := func(neg bool, field, op, value string) searchClause {
		return searchClause{negate: neg, field: field, op: op, value: value, quoted: true}
	}
	tests := []struct {
		in   string
		want searchQuery
	}{
		{`email:'jenny@example.com'`, searchQuery{clauses: []searchClause{cl(false, "email", ":", "jenny@example.com")}}},
		{`email:"jenny@example.com"`, searchQuery{clauses: []searchClause{cl(false, "email", ":", "jenny@example.com")}}},
		{`  name~"ann"  `, searchQuery{clauses: []searchClause{cl(false, "name", "~", "ann")}}},
		{`-currency:'jpy'`, searchQuery{clauses: []searchClause{cl(true, "currency", ":", "jpy")}}},
		{`description:"the story called \"The Sky and the Sea.\""`,
			searchQuery{clauses: []searchClause{cl(false, "description", ":", `the story called "The Sky and the Sea."`)}}},
		{`name:'O\'Brien' email:'a\\b'`,
			searchQuery{clauses: []searchClause{cl(false, "name", ":", "O'Brien"), cl(false, "email", ":", `a\b`)}}},
		{`metadata['order id']:'42'`, searchQuery{clauses: []searchClause{
			{field: "metadata", key: "order id", hasKey: true, op: ":", value: "42", quoted: true}}}},
		{`metadata["k"]:null`, searchQuery{clauses: []searchClause{
			{field: "metadata", key: "k", hasKey: true, op: ":", value: "null", null: true}}}},
		{`amount>1000 AND created<=1700000000`, searchQuery{clauses: []searchClause{
			{field: "amount", op: ">", value: "1000"}, {field: "created", op: "<=", value: "1700000000"}}}},
		{`amount>=-5 and amount<'20.5'`, searchQuery{clauses: []searchClause{
			{field: "amount", op: ">=", value: "-5"}, {field: "amount", op: "<", value: "20.5", quoted: true}}}},
		{`status:'active' OR status:"trialing" or amount=3`, searchQuery{or: true, clauses: []searchClause{
			cl(false, "status", ":", "active"), cl(false, "status", ":", "trialing"), {field: "amount", op: "=", value: "3"}}}},
		{`payment_method_details.card.last4:4242`, searchQuery{clauses: []searchClause{
			{field: "payment_method_details.card.last4", op: ":", value: "4242"}}}},
		{`active:true url:null`, searchQuery{clauses: []searchClause{
			{field: "active", op: ":", value: "true"}, {field: "url", op: ":", value: "null", null: true}}}},
		{`email:''`, searchQuery{clauses: []searchClause{cl(false, "email", ":", "")}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSearchQuery(tt.in)
			require.NoError(t, err)
			assert.Equal(t, &tt.want, got)
		})
	}
}

func TestParseSearchQueryErrors(t *testing.T) {
	syntax := errSearchSyntax().Message
	mixed := "A search query cannot combine AND and OR: join every clause with the same one (parentheses are not supported)."
	tests := []struct{ in, msg string }{
		{``, syntax},
		{`   `, syntax},
		{`asdf`, syntax},
		{`email`, syntax},
		{`email:`, syntax},
		{`email:foo@example.com`, syntax}, // strings are quoted
		{`email:'unclosed`, syntax},
		{`email:'a'name:'b'`, syntax},
		{`email:'a' AND`, syntax},
		{`AND email:'a'`, syntax},
		{`(email:'a' OR name:'b')`, syntax},
		{`metadata['k':'v'`, syntax},
		{`metadata[k]:'v'`, syntax},
		{`email!='a'`, syntax},
		{`-`, syntax},
		{`amount>1e3`, syntax},
		{`email:'a' AND name:'b' OR phone:'c'`, mixed},
		{`email:'a' OR name:'b' phone:'c'`, mixed},
		{`email:'a' name:'b' OR phone:'c'`, mixed},
		{strings.Repeat(`email:'a' `, 11), "A search query can combine at most 10 clauses."},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parseSearchQuery(tt.in)
			require.Error(t, err)
			e, ok := err.(*Error)
			require.True(t, ok, "%T", err)
			assert.Equal(t, 400, e.Status)
			assert.Equal(t, tt.msg, e.Message)
		})
	}
	q, err := parseSearchQuery(strings.TrimSpace(strings.Repeat(`email:'a' `, 10)))
	require.NoError(t, err)
	assert.Len(t, q.clauses, 10)
}

// resource returns the search resource called name.
func resource(t *testing.T, name string) *searchResource {
	t.Helper()
	for _, r := range searchResources {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no search resource %s", name)
	return nil
}

func TestCompileSearchQuery(t *testing.T) {
	tests := []struct{ resource, in, msg string }{
		{"prices", `foo:"bar"`, "Field `foo` is an unsupported search field for resource `prices`. " +
			"See http://stripe.com/docs/search#query-fields-for-prices for a list of supported fields."},
		{"payment_intents", `email:'a'`, "Field `email` is an unsupported search field for resource `payment_intents`. " +
			"See http://stripe.com/docs/search#query-fields-for-payment-intents for a list of supported fields."},
		{"customers", `metadata:'v'`, errSearchSyntax().Message},
		{"customers", `email['k']:'v'`, errSearchSyntax().Message},
		{"customers", `email~'ab'`, "A substring search (~) needs a value of at least 3 characters; `email~'ab'` has 2."},
		{"customers", `email>'a'`, "Field `email` takes an exact (:) or a substring (~) match, not >."},
		{"customers", `created~'123'`, "Field `created` is numeric: it takes :, =, >, <, >= and <=, not ~."},
		{"customers", `created>'soon'`, "Field `created` is numeric: compare it with a number, such as created>1000."},
		{"customers", `metadata['k']~'abc'`, "Field `metadata['k']` takes only an exact match (:)."},
		{"products", `active:'yes'`, "Field `active` is a boolean: search it with active:'true' or active:'false'."},
		{"products", `active>1`, "Field `active` takes only an exact match (:) with true or false."},
		{"customers", `created>null`, "Search for null with a colon: created:null."},
	}
	for _, tt := range tests {
		t.Run(tt.resource+" "+tt.in, func(t *testing.T) {
			q, err := parseSearchQuery(tt.in)
			require.NoError(t, err)
			_, err = resource(t, tt.resource).compile(q)
			require.Error(t, err)
			assert.Equal(t, tt.msg, err.(*Error).Message)
		})
	}
	// Substrings count characters, not bytes.
	q, err := parseSearchQuery(`name~'äöü'`)
	require.NoError(t, err)
	_, err = resource(t, "customers").compile(q)
	assert.NoError(t, err)
}

// TestSearchMatchStored tests queries against stored records, read without
// decoding them.
func TestSearchMatchStored(t *testing.T) {
	doc := `{"id":"cus_1","created":1732320000,"email":"Jenny.Rosen@Example.com","name":"Jenny \"J\" Rosen",` +
		`"metadata":{"plan":"Pro","empty":""},"invoice_prefix":"ABC","nested":{"email":"x@y.z"}}`
	tests := []struct {
		query string
		want  bool
	}{
		{`email:'jenny.rosen@example.com'`, true}, // exact, ignoring case
		{`email:'jenny'`, false},
		{`email~'ROSEN@'`, true},
		{`name:'Jenny "J" Rosen'`, true},
		{`name~'"J"'`, true},
		{`-email:'jenny.rosen@example.com'`, false},
		{`-email:'other@example.com'`, true},
		{`metadata['plan']:'Pro'`, true},
		{`metadata['plan']:'pro'`, false}, // metadata values match case
		{`metadata['empty']:null`, true},
		{`metadata['missing']:null`, true},
		{`-metadata['plan']:null`, true},
		{`metadata['missing']:'x'`, false},
		{`phone:null`, true},
		{`-name:null`, true},
		{`created:1732320000`, true},
		{`created='1732320000'`, true},
		{`created>1732320000`, false},
		{`created>=1732320000`, true},
		{`created<1732320001`, true},
		{`created<=1732319999`, false},
		{`created>1732319999.5`, true},
		{`email:'x@y.z'`, false}, // a nested member is not the field
		{`email:'nope@example.com' OR created>0`, true},
		{`email:'nope@example.com' AND created>0`, false},
		{`email:'nope@example.com' created>0`, false},
		{`email~'example' name~'rosen' metadata['plan']:'Pro'`, true},
	}
	r := resource(t, "customers")
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := parseSearchQuery(tt.query)
			require.NoError(t, err)
			clauses, err := r.compile(q)
			require.NoError(t, err)
			m := &matcher{r: r, clauses: clauses, or: q.or}
			got, err := m.match([]byte(doc))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestContainsFold(t *testing.T) {
	for _, tc := range []struct {
		s, lower string
		want     bool
	}{
		{"Jenny.Rosen@Example.COM", "rosen@example", true},
		{"Jenny", "", true},
		{"", "a", false},
		{"@", "`", false}, // '@' | 0x20 is '`', but '@' is not a letter
		{"[x", "{x", false},
		{"ab", "abc", false},
		{"ÄÖÜ straße", "öü", true},
		{"ÄÖÜ", "ab", false},
	} {
		assert.Equal(t, tc.want, containsFold([]byte(tc.s), tc.lower), "%q in %q", tc.lower, tc.s)
	}
}

func TestJSONField(t *testing.T) {
	doc := []byte(` { "a" : 1 , "b":{"c":[1,{"d":"}"}],"e\"f":"x\\"},"g":null,"h":"tab\there","k":true} `)
	tests := []struct {
		path []string
		want string
		ok   bool
	}{
		{[]string{"a"}, "1", true},
		{[]string{"b", "c"}, `[1,{"d":"}"}]`, true},
		{[]string{"b", `e"f`}, `"x\\"`, true},
		{[]string{"g"}, "null", true},
		{[]string{"h"}, `"tab\there"`, true},
		{[]string{"k"}, "true", true},
		{[]string{"z"}, "", false},
		{[]string{"a", "x"}, "", false},
		{[]string{"b", "c", "d"}, "", false},
	}
	for _, tt := range tests {
		got, ok := jsonField(doc, tt.path)
		assert.Equal(t, tt.ok, ok, "%v", tt.path)
		assert.Equal(t, tt.want, string(got), "%v", tt.path)
	}
	s, ok := jsonString([]byte(`"tab\there \u00e9"`))
	assert.True(t, ok)
	assert.Equal(t, "tab\there é", s)
	// Malformed up to the member: not found. (What follows the member is
	// not read.)
	for _, bad := range []string{``, `{`, `{"a"`, `{"a":`, `{"a" 1}`, `{1:2}`, `[1]`, `{"a":"1}`, `{"b":1 "a":2}`, `{"b":[,"a":1}`} {
		_, ok := jsonField([]byte(bad), []string{"a"})
		assert.False(t, ok, "%q", bad)
	}
}

// FuzzSearchQuery feeds any query, against every resource, to records of
// any bytes: parsing and matching never panic, a query that parses fails
// only with Stripe's envelope, and a member the scanner finds in a valid
// JSON object is the one encoding/json decodes.
func FuzzSearchQuery(f *testing.F) {
	for _, s := range []struct{ query, doc string }{
		{`email:'a@b.c'`, `{"email":"a@b.c"}`},
		{`metadata['k']:"v" OR -name~'abc'`, `{"metadata":{"k":"v"},"name":"xabcx"}`},
		{`amount>=10 AND created<5 currency:null`, `{"amount":12,"created":4}`},
		{`payment_method_details.card.last4:4242 refunded:'true'`, `{"payment_method_details":{"card":{"last4":"4242"}}}`},
		{`name:"a\"b" `, `{"name":"a\"b","x":[{"y":"}"}]}`},
		{`x:'\`, `{"a`},
		{`email:'a'`, "{\"\xc5\":0}"}, // a key that is not UTF-8 reads as encoding/json reads it
	} {
		f.Add(s.query, s.doc)
	}
	f.Fuzz(func(t *testing.T, query, doc string) {
		q, err := parseSearchQuery(query)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Status != 400 || e.Message == "" {
				t.Fatalf("parse %q: %v", query, err)
			}
		}
		if q != nil {
			if len(q.clauses) == 0 || len(q.clauses) > maxSearchClauses {
				t.Fatalf("parse %q: %d clauses", query, len(q.clauses))
			}
			for _, r := range searchResources {
				clauses, err := r.compile(q)
				if err != nil {
					if e, ok := err.(*Error); !ok || e.Status != 400 || e.Message == "" {
						t.Fatalf("compile %q for %s: %v", query, r.name, err)
					}
					continue
				}
				// Only stored fields: wire fields need a ledger to render.
				stored := clauses[:0]
				for _, c := range clauses {
					if !c.f.wire {
						stored = append(stored, c)
					}
				}
				m := &matcher{r: r, clauses: stored, or: q.or}
				if _, err := m.match([]byte(doc)); err != nil {
					t.Fatalf("match %q on %q: %v", query, doc, err)
				}
			}
		}
		lower := strings.ToLower(query)
		if got, want := containsFold([]byte(doc), lower), strings.Contains(strings.ToLower(doc), lower); got != want {
			t.Fatalf("containsFold(%q, %q) = %v, want %v", doc, lower, got, want)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(doc), &obj) != nil {
			return
		}
		for k, want := range obj {
			got, ok := jsonMember([]byte(doc), k)
			if !ok {
				t.Fatalf("member %q of %q not found", k, doc)
			}
			var a, b any
			if json.Unmarshal(got, &a) != nil || json.Unmarshal(want, &b) != nil {
				t.Fatalf("member %q of %q: %q is not the value %q", k, doc, got, want)
			}
		}
	})
}
