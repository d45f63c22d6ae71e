package commet

import (
	"encoding/json"
	"errors"

	"github.com/billclock/billclock/store"
)

// listPage lists one page of a collection, newest first, after the record
// named by cursor: the records match keeps (all when nil), each rendered
// by render.
func listPage(coll *store.Collection, limit int, cursor string, match func(raw []byte) (bool, error),
	render func(raw []byte) (any, error)) (*listResult, error) {
	out := &listResult{Data: []any{}}
	var last string
	hasMore, err := coll.List(store.Page{Limit: limit, StartingAfter: cursor}, match, func(raw []byte) error {
		v, err := render(raw)
		if err != nil {
			return err
		}
		var head struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return err
		}
		last = head.ID
		out.Data = append(out.Data, v)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidField("cursor", "Unknown cursor: %s.", cursor)
	}
	if err != nil {
		return nil, err
	}
	out.HasMore = hasMore
	if hasMore {
		out.NextCursor = last
	}
	return out, nil
}
