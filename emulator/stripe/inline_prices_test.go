package stripe

import "testing"

// TestNestErrorNamesNestedParams checks that errors of a hash's parameters name them within
// the hash, in param and message, without touching words that merely
// contain the name.
func TestNestErrorNamesNestedParams(t *testing.T) {
	for _, c := range [][3]string{
		{"id", "Invalid integer: id", "Invalid integer: items[0][id]"},
		{"id", "Invalid value", "Invalid value"},
		{"price_data[recurring]", "Missing required param: price_data[recurring].", "Missing required param: items[0][price_data][recurring]."},
		{"quantity", "Received unknown parameter: quantity", "Received unknown parameter: items[0][quantity]"},
		// A name that is not UTF-8 (FuzzAPI found it made a 500).
		{"pr\x80x", "Received unknown parameter: pr\x80x", "Received unknown parameter: items[0][pr\x80x]"},
		// Where a name stands alone is judged in the whole message.
		{"id", "idid id", "idid items[0][id]"},
	} {
		e := nestError("items[0]", invalid(c[0], "%s", c[1])).(*Error)
		if e.Message != c[2] {
			t.Errorf("%q -> %q", c[1], e.Message)
		}
	}
}
