package clockwork

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/billclock/billclock/store"
)

// Accounts: every API key is an account, of exactly one dialect, whose
// data lives in the store under the key. Dialects authenticate keys their
// own way and hand the key to Runtime.Ledger.

// maxAPIKeyLen is the longest API key taken, in bytes (Stripe's own keys
// are about 110 characters).
const maxAPIKeyLen = 255

// KeyChars reports whether s is made only of the printable ASCII
// characters other than space (0x21–0x7E), the only ones keys have.
func KeyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// KeyCanAuthenticate reports whether a request could ever carry key: API
// keys of every dialect are printable ASCII without spaces, at most 255
// bytes. A key names its account's storage, so dialects refuse any other
// before it gets there.
func KeyCanAuthenticate(key string) bool { return len(key) <= maxAPIKeyLen && KeyChars(key) }

// AccountLabel names an account in logs without its key: acct_ and the
// first 8 hex digits of the key's SHA-256.
func AccountLabel(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "acct_" + hex.EncodeToString(sum[:4])
}

// dialectOf is the dialect of an account, for background work.
func (rt *Runtime) dialectOf(_ *store.Tx, _ string) (Dialect, error) {
	return rt.dialects[0], nil
}

// backgroundLedger is the ledger of account in tx for work no request
// asked for: advances, deliveries, the janitor.
func (rt *Runtime) backgroundLedger(tx *store.Tx, account string) (*Ledger, error) {
	d, err := rt.dialectOf(tx, account)
	if err != nil {
		return nil, err
	}
	return rt.Ledger(tx, d, account, nil)
}
