package stripe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file parses Stripe's search query language (docs.stripe.com/search):
// up to ten clauses `field:'value'`, `field~'sub'` (a substring of at least
// three characters), `-field:'x'` (negation), `metadata['key']:'value'`,
// `field>N` (also <, >=, <=, =) and `field:null`, joined by spaces or AND,
// or all by OR (AND and OR cannot be mixed, and there are no
// parentheses). String values are quoted, with ' or ", and a backslash
// escapes the character after it; numbers, null, true and false may go
// bare.

// maxSearchClauses is how many clauses a query may combine.
const maxSearchClauses = 10

// minSubstring is the shortest value of a substring (~) clause, in
// characters.
const minSubstring = 3

// searchClause is one clause of a query.
type searchClause struct {
	negate bool
	// field is the field's name as written (a dotted path for nested
	// ones); key is the metadata key of metadata['key'].
	field  string
	key    string
	hasKey bool
	// op is one of : ~ > < >= <= =.
	op    string
	value string
	// quoted: the value was a quoted string; null: it was the bare word
	// null.
	quoted, null bool
}

// searchQuery is a parsed query: its clauses, all of which must match, or
// (or) any one.
type searchQuery struct {
	clauses []searchClause
	or      bool
}

// errSearchSyntax is Stripe's answer to a query it cannot parse.
func errSearchSyntax() *Error {
	return invalid("", "We were unable to parse your search query. Try using the format `metadata[\"key\"]:\"value\"` "+
		"to query for metadata or key:\"value\" to query for other fields.")
}

// queryParser reads a query left to right.
type queryParser struct {
	s string
	i int
}

func (p *queryParser) skipSpace() bool {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
	return p.i > start
}

// keyword reads AND or OR (in any case) followed by a space, if that is
// what comes next.
func (p *queryParser) keyword() string {
	for _, kw := range []string{"AND", "OR"} {
		end := p.i + len(kw)
		if end < len(p.s) && strings.EqualFold(p.s[p.i:end], kw) && strings.ContainsRune(" \t\n\r", rune(p.s[end])) {
			p.i = end
			return kw
		}
	}
	return ""
}

func isFieldByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// quoted reads a quoted string at p.i: ok is false if there is none or it
// is not closed.
func (p *queryParser) quoted() (string, bool) {
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", false
	}
	q := p.s[p.i]
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			p.i++
			b.WriteByte(p.s[p.i])
		case c == q:
			p.i++
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// bareValue reports whether a value may go unquoted: a number, null, true
// or false.
func bareValue(v string) bool {
	switch v {
	case "null", "true", "false":
		return true
	}
	_, ok := searchNumber(v)
	return ok
}

// searchNumber reads a number of a query (or of a record): an integer or
// a decimal, possibly signed.
func searchNumber(v string) (float64, bool) {
	if v == "" || strings.ContainsAny(v, "eEnNxXpP_") {
		return 0, false // no exponents, infinities, NaN, hex or digit separators
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// clause reads one clause.
func (p *queryParser) clause() (searchClause, bool) {
	var c searchClause
	if p.i < len(p.s) && p.s[p.i] == '-' {
		c.negate = true
		p.i++
	}
	start := p.i
	for p.i < len(p.s) && isFieldByte(p.s[p.i]) {
		p.i++
	}
	c.field = p.s[start:p.i]
	if c.field == "" {
		return c, false
	}
	if p.i < len(p.s) && p.s[p.i] == '[' {
		p.i++
		key, ok := p.quoted()
		if !ok || p.i >= len(p.s) || p.s[p.i] != ']' {
			return c, false
		}
		p.i++
		c.key, c.hasKey = key, true
	}
	for _, op := range []string{">=", "<=", ":", "~", ">", "<", "="} {
		if strings.HasPrefix(p.s[p.i:], op) {
			c.op = op
			p.i += len(op)
			break
		}
	}
	if c.op == "" {
		return c, false
	}
	if v, ok := p.quoted(); ok {
		c.value, c.quoted = v, true
	} else {
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune(" \t\n\r'\"", rune(p.s[p.i])) {
			p.i++
		}
		c.value = p.s[start:p.i]
		if !bareValue(c.value) {
			return c, false
		}
		c.null = c.value == "null"
	}
	// A clause ends the query or is followed by a space.
	return c, p.i == len(p.s) || strings.ContainsRune(" \t\n\r", rune(p.s[p.i]))
}

// parseSearchQuery parses a query. The fields are checked against a
// resource later (searchResource.check).
func parseSearchQuery(s string) (*searchQuery, error) {
	p := &queryParser{s: s}
	q := &searchQuery{}
	joiner := ""
	p.skipSpace()
	for p.i < len(p.s) {
		if len(q.clauses) > 0 {
			// Clauses joined by a space are ANDed.
			sep := "AND"
			if kw := p.keyword(); kw != "" {
				sep = kw
				p.skipSpace()
			}
			if joiner != "" && joiner != sep {
				return nil, invalid("", "A search query cannot combine AND and OR: join every clause with the same one "+
					"(parentheses are not supported).")
			}
			joiner = sep
		}
		c, ok := p.clause()
		if !ok {
			return nil, errSearchSyntax()
		}
		q.clauses = append(q.clauses, c)
		if len(q.clauses) > maxSearchClauses {
			return nil, invalid("", "A search query can combine at most %d clauses.", maxSearchClauses)
		}
		p.skipSpace()
	}
	if len(q.clauses) == 0 {
		return nil, errSearchSyntax()
	}
	q.or = joiner == "OR"
	return q, nil
}

// fieldType is the type of a searchable field, which decides the
// operators it takes and how values compare.
type fieldType int

const (
	// fieldString: exact (:) and substring (~) matches, ignoring case.
	fieldString fieldType = iota
	// fieldToken: exact matches (:), case sensitive (metadata values).
	fieldToken
	// fieldNumeric: : = > < >= <=.
	fieldNumeric
	// fieldBoolean: : true or false.
	fieldBoolean
)

// checkClause checks a clause against the type of its field, in
// resource; nil when it is fine.
func checkClause(c *searchClause, typ fieldType) *Error {
	name := c.field
	if c.hasKey {
		name = c.field + "['" + c.key + "']"
	}
	if c.null {
		if c.op != ":" {
			return invalid("", "Search for null with a colon: %s:null.", name)
		}
		return nil
	}
	switch typ {
	case fieldNumeric:
		if c.op == "~" {
			return invalid("", "Field `%s` is numeric: it takes :, =, >, <, >= and <=, not ~.", name)
		}
		if _, ok := searchNumber(c.value); !ok {
			return invalid("", "Field `%s` is numeric: compare it with a number, such as %s>1000.", name, name)
		}
	case fieldBoolean:
		if c.op != ":" {
			return invalid("", "Field `%s` takes only an exact match (:) with true or false.", name)
		}
		if c.value != "true" && c.value != "false" {
			return invalid("", "Field `%s` is a boolean: search it with %s:'true' or %s:'false'.", name, name, name)
		}
	case fieldToken:
		if c.op != ":" {
			return invalid("", "Field `%s` takes only an exact match (:).", name)
		}
	default:
		switch c.op {
		case ":":
		case "~":
			if n := utf8.RuneCountInString(c.value); n < minSubstring {
				return invalid("", "A substring search (~) needs a value of at least %d characters; `%s~'%s'` has %d.",
					minSubstring, name, c.value, n)
			}
		default:
			return invalid("", "Field `%s` takes an exact (:) or a substring (~) match, not %s.", name, c.op)
		}
	}
	return nil
}
