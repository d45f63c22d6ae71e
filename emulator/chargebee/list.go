package chargebee

import (
	"encoding/json"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// Lists answer {"list": [{"<object>": {...}, ...}], "next_offset": "..."}:
// limit (1 to 100, default 10) entries, newest first unless sorted
// ascending, and, when more follow, the offset that gets them. billclock's
// next_offset is the id of the page's last object.

// listPage is a list's answer.
type listPage struct {
	List       []any  `json:"list"`
	NextOffset string `json:"next_offset,omitempty"`
}

// listing says how to list a collection.
type listing struct {
	coll string
	// asc lists oldest first.
	asc bool
	// match, if set, keeps the records it accepts.
	match func(raw []byte) (bool, error)
	// entry renders one record as the list's entry ({"subscription": ...,
	// "customer": ...}).
	entry func(raw []byte) (any, error)
}

// list serves one page of a collection, after the list's own parameters
// were read.
func (c *call) list(lst listing) (any, error) {
	limit, offset := c.p.page()
	if err := c.p.check(); err != nil {
		return nil, err
	}
	coll, err := c.l.Collection(lst.coll)
	if err != nil {
		return nil, err
	}
	out := &listPage{List: []any{}}
	var last string
	add := func(raw []byte) error {
		var head struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return err
		}
		e, err := lst.entry(raw)
		if err != nil {
			return err
		}
		out.List, last = append(out.List, e), head.ID
		return nil
	}
	var more bool
	if !lst.asc {
		more, err = coll.List(store.Page{Limit: limit, StartingAfter: offset}, lst.match, add)
	} else {
		err = coll.Scan(offset, func(_ string, raw []byte) (bool, error) {
			if lst.match != nil {
				if ok, err := lst.match(raw); err != nil || !ok {
					return err == nil, err
				}
			}
			if len(out.List) == limit {
				more = true
				return false, nil
			}
			return true, add(raw)
		})
	}
	if err != nil {
		return nil, err
	}
	if more {
		out.NextOffset = last
	}
	return out, nil
}

// listCollection lists a catalog collection newest first, each entry the
// object under key.
func (c *call) listCollection(coll, key string, match func([]byte) (bool, error), render func([]byte) (any, error)) (any, error) {
	return c.list(listing{coll: coll, match: match, entry: func(raw []byte) (any, error) {
		o, err := render(raw)
		if err != nil {
			return nil, err
		}
		return map[string]any{key: o}, nil
	}})
}

// asBilling reports whether err is an engine error, and sets be.
func asBilling(err error, be **billing.Error) bool {
	e, ok := err.(*billing.Error)
	if ok {
		*be = e
	}
	return ok
}
