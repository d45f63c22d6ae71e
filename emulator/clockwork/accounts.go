package clockwork

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/billclock/billclock/store"
)

// Accounts: every API key is an account, of exactly one dialect, whose
// data lives in the store under the key. Dialects authenticate keys their
// own way and hand the key to Runtime.Ledger, which records the dialect on
// the account at its first write, so that background work (advances,
// deliveries, the janitor) knows whose account it is.

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

// accountCollection holds what the runtime records about an account
// itself: its dialect (record dialectRecord, the dialect's name as bytes).
const (
	accountCollection = "account"
	dialectRecord     = "dialect"
)

// legacyDialect owns the accounts that recorded no dialect: billclock
// served only Stripe before accounts recorded theirs.
const legacyDialect = "stripe"

// ErrOtherDialect refuses a ledger of an account to a dialect other than
// the one the account belongs to.
var ErrOtherDialect = errors.New("clockwork: the account belongs to another dialect")

// recordedDialect reads the name of the dialect recorded on account; ""
// if none is.
func recordedDialect(tx *store.Tx, account string) (string, error) {
	acct, err := tx.Account(account)
	if err != nil {
		return "", err
	}
	coll, err := acct.Collection(accountCollection)
	if err != nil {
		return "", err
	}
	raw, err := coll.Get(dialectRecord)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return string(raw), err
}

// claim makes account d's: it records d on the account at its first write,
// and refuses an account another dialect recorded (ErrOtherDialect).
func claim(tx *store.Tx, acct *store.Account, account string, d Dialect) error {
	coll, err := acct.Collection(accountCollection)
	if err != nil {
		return err
	}
	raw, err := coll.Get(dialectRecord)
	switch {
	case errors.Is(err, store.ErrNotFound) && tx.Writable():
		return coll.Put(dialectRecord, 0, []byte(d.Name()))
	case errors.Is(err, store.ErrNotFound):
		return nil // nothing written yet
	case err != nil:
		return err
	case string(raw) != d.Name():
		return fmt.Errorf("%w (%s is %s's, not %s's)", ErrOtherDialect, AccountLabel(account), raw, d.Name())
	}
	return nil
}

// dialectOf is the dialect of an account, for background work: the one
// it recorded, or for an account that recorded none, legacyDialect.
func (rt *Runtime) dialectOf(tx *store.Tx, account string) (Dialect, error) {
	name, err := recordedDialect(tx, account)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = legacyDialect
	}
	if d := rt.dialect(name); d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("account %s is of the dialect %q, which this server does not serve", AccountLabel(account), name)
}

// backgroundLedger is the ledger of account in tx for work no request
// asked for: advances, deliveries, the janitor.
func (rt *Runtime) backgroundLedger(tx *store.Tx, account string) (*Ledger, error) {
	d, err := rt.dialectOf(tx, account)
	if err != nil {
		return nil, err
	}
	acct, err := tx.Account(account)
	if err != nil {
		return nil, err
	}
	return rt.newLedger(tx, acct, d, account, nil), nil
}
