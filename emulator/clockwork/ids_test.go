package clockwork

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Ids made later sort after ids made before, keep their length and
// alphabet, and stay unique; secrets are random throughout.
func TestNewIDSortsByTime(t *testing.T) {
	a := NewID("in_", 24)
	time.Sleep(2 * time.Millisecond)
	b := NewID("in_", 24)
	assert.Less(t, a, b)
	seen := map[string]bool{}
	for range 10000 {
		for _, id := range []string{NewID("cus_", 14), NewID("evt_", 24)} {
			assert.False(t, seen[id], id)
			seen[id] = true
			body := id[strings.IndexByte(id, '_')+1:]
			assert.Contains(t, []int{14, 24}, len(body))
			assert.Equal(t, -1, strings.IndexFunc(body, func(r rune) bool { return !strings.ContainsRune(IDAlphabet, r) }), id)
		}
	}
	s1, s2 := NewSecret("whsec_", 32), NewSecret("whsec_", 32)
	assert.NotEqual(t, s1[:6+idTimeChars], s2[:6+idTimeChars], "secrets carry no time prefix")
}
