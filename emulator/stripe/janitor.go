package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// sweepInterval is how often the janitor runs: billing work of objects on
// no test clock falls due in wall time, and expired idempotency keys and
// clocks past their deletes_after are removed.
const sweepInterval = time.Minute

// janitor sweeps at start and then every sweepInterval until ctx ends.
func (s *Surface) janitor(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		if err := s.sweep(); err != nil {
			s.log.Error("sweep", "err", err)
		}
		s.deliverer.wake()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep does the wall-time work of each account in one transaction: the
// billing work due for objects on no test clock (renewals of ordinary
// subscriptions), and, as Stripe does, forgetting idempotency keys older
// than 24 hours and deleting clocks whose deletes_after has passed.
// An account whose sweep fails does not stop the others; the error names
// it by its label, never by its key.
func (s *Surface) sweep() error {
	var accounts []string
	if err := s.db.View(func(tx *store.Tx) error {
		return tx.Accounts(func(key string) error { accounts = append(accounts, key); return nil })
	}); err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, account := range accounts {
		err := s.db.Update(func(tx *store.Tx) error {
			acct, err := tx.Account(account)
			if err != nil {
				return err
			}
			keys, err := acct.Collection(idempotencyCollection)
			if err != nil {
				return err
			}
			var stale []string
			err = keys.Each(func(id string, raw []byte) error {
				var rec idemRecord
				if json.Unmarshal(raw, &rec) != nil || time.Unix(rec.Created, 0).Add(idempotencyTTL).Before(now) {
					stale = append(stale, id)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, id := range stale {
				if err := keys.Delete(id); err != nil {
					return err
				}
			}
			if err := s.deleteExpiredClocks(tx, account, now.Unix()); err != nil {
				return err
			}
			l, err := s.ledger(tx, account, nil)
			if err != nil {
				return err
			}
			_, err = l.engine().Run("", now.Unix(), 0)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s: %s", accountLabel(account),
				strings.ReplaceAll(err.Error(), account, "[api key]")))
		}
	}
	return errors.Join(errs...)
}

func (s *Surface) deleteExpiredClocks(tx *store.Tx, account string, now int64) error {
	clocks, err := accountClocks(tx, account)
	if err != nil {
		return err
	}
	var expired []*billing.Clock
	err = clocks.Each(func(_ string, raw []byte) error {
		var c billing.Clock
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		if c.DeletesAfter() <= now {
			expired = append(expired, &c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range expired {
		if err := s.removeClock(tx, account, clocks, c, nil, now); err != nil {
			return err
		}
	}
	return nil
}
