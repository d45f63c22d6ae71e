package store

// PosLen is the length of a record's position (see Records).
const PosLen = sortKeyLen

// Records calls fn for every record of the collection, in no particular
// order, with its place in the listing: pos orders records as List does,
// a record whose pos is greater (bytes.Compare) being listed before (newer,
// or made later at the same created time). It reads the records in one
// pass without the listing index, the cheapest way to test every record;
// pos and data are valid only inside the transaction. fn must not change
// the collection.
func (c *Collection) Records(fn func(pos, data []byte) error) error {
	if c.records == nil {
		return nil
	}
	cur := c.records.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(v) < sortKeyLen {
			continue // not a record (a nested bucket has no value)
		}
		if err := fn(v[:sortKeyLen], v[sortKeyLen:]); err != nil {
			return err
		}
	}
	return nil
}
