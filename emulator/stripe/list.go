package stripe

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// listObject is Stripe's list envelope.
type listObject struct {
	Object  string            `json:"object"`
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
	URL     string            `json:"url"`
}

const (
	defaultListLimit = 10
	maxListLimit     = 100
)

// pageParams reads limit, starting_after and ending_before.
func pageParams(p *params) store.Page {
	pg := store.Page{Limit: defaultListLimit}
	if limit, ok := p.intIn("limit", 1, maxListLimit); ok {
		pg.Limit = int(limit)
	}
	pg.StartingAfter, _ = p.str("starting_after")
	pg.EndingBefore, _ = p.str("ending_before")
	if pg.StartingAfter != "" && pg.EndingBefore != "" {
		p.fail(invalid("", "You may only specify one of these parameters: ending_before, starting_after."))
	}
	return pg
}

// listCollection renders one page of a collection as a Stripe list. kind
// names the object in "No such ..." errors for a bad cursor; match (may be
// nil) filters stored records; render turns a stored record into its JSON.
func listCollection(coll *store.Collection, pg store.Page, url, kind string,
	match func([]byte) (bool, error), render func([]byte) (json.RawMessage, error)) (*listObject, error) {
	return listPage(func(emit func([]byte) error) (bool, error) { return coll.List(pg, match, emit) }, pg, url, kind, render)
}

// listGrouped is listCollection over the records q selects by group.
func listGrouped(coll *store.Collection, q store.Query, pg store.Page, url, kind string,
	render func([]byte) (json.RawMessage, error)) (*listObject, error) {
	return listPage(func(emit func([]byte) error) (bool, error) { return coll.ListGroups(q, pg, emit) }, pg, url, kind, render)
}

// listPage renders the page list emits as a Stripe list.
func listPage(list func(emit func([]byte) error) (bool, error), pg store.Page, url, kind string,
	render func([]byte) (json.RawMessage, error)) (*listObject, error) {
	out := &listObject{Object: "list", URL: url, Data: []json.RawMessage{}}
	hasMore, err := list(func(data []byte) error {
		v, err := render(data)
		if err != nil {
			return err
		}
		out.Data = append(out.Data, v)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		cursor, param := pg.StartingAfter, "starting_after"
		if pg.EndingBefore != "" {
			cursor, param = pg.EndingBefore, "ending_before"
		}
		return nil, errNoSuch(kind, cursor, param)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", url, err)
	}
	out.HasMore = hasMore
	return out, nil
}

// rangeFilter is Stripe's created filter: an exact value or gt/gte/lt/lte
// bounds; unset bounds are nil.
type rangeFilter struct {
	eq, gt, gte, lt, lte *int64
}

// set reports whether the filter has any bound.
func (f rangeFilter) set() bool {
	return f.eq != nil || f.gt != nil || f.gte != nil || f.lt != nil || f.lte != nil
}

func (f rangeFilter) match(v int64) bool {
	switch {
	case f.eq != nil && v != *f.eq,
		f.gt != nil && v <= *f.gt, f.gte != nil && v < *f.gte,
		f.lt != nil && v >= *f.lt, f.lte != nil && v > *f.lte:
		return false
	}
	return true
}

// rangeParam reads name=T or name[gt|gte|lt|lte]=T.
func rangeParam(p *params, name string) rangeFilter {
	var f rangeFilter
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil {
		return f
	}
	if n.leaf {
		if v, ok := p.timestamp(name); ok {
			f.eq = &v
		}
		return f
	}
	bounds := map[string]**int64{"gt": &f.gt, "gte": &f.gte, "lt": &f.lt, "lte": &f.lte}
	for _, k := range n.keys {
		full := name + "[" + k + "]"
		dst, known := bounds[k]
		if !known {
			p.fail(errUnknown(full))
			return f
		}
		v, err := strconv.ParseInt(n.kids[k].value, 10, 64)
		if !n.kids[k].leaf || err != nil {
			p.fail(errInvalidInteger(full, n.kids[k].value))
			return f
		}
		if err := billing.CheckTimestamp(full, v); err != nil {
			p.fail(err)
			return f
		}
		*dst = &v
	}
	return f
}

// listTyped is listCollection over records that are JSON-encoded T: match
// (may be nil) filters decoded records and render gives each one's wire
// shape.
func listTyped[T any](coll *store.Collection, pg store.Page, url, kind string,
	match func(*T) bool, render func(*T) (any, error)) (*listObject, error) {
	decode := func(raw []byte) (*T, error) {
		var v T
		return &v, json.Unmarshal(raw, &v)
	}
	var filter func([]byte) (bool, error)
	if match != nil {
		filter = func(raw []byte) (bool, error) {
			v, err := decode(raw)
			if err != nil {
				return false, err
			}
			return match(v), nil
		}
	}
	return listCollection(coll, pg, url, kind, filter, func(raw []byte) (json.RawMessage, error) {
		v, err := decode(raw)
		if err != nil {
			return nil, err
		}
		out, err := render(v)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	})
}
