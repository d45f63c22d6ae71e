package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// sweepInterval is how often the janitor runs: billing work of objects on
// no test clock falls due in wall time, and expired records are removed.
const sweepInterval = time.Minute

// DefaultRetention is how long events, webhook attempts and the deleted
// stubs of customers are kept: 30 days, as Stripe keeps events.
const DefaultRetention = 30 * 24 * time.Hour

// pruneBatch bounds the records one janitor transaction deletes or
// upgrades, so that a large backlog never makes one huge transaction nor
// holds up other writers for long.
const pruneBatch = 1000

// Keys of the surface's one-time upgrades in the store's metadata.
const (
	// metaStampedSince holds the wall time (Unix seconds) at which a
	// billclock that stamps events, webhook attempts and tombstones with
	// the wall time they were recorded at first served the database.
	// Records from before carry no stamp (0) and count as recorded then.
	metaStampedSince = "stripe.stamped_since"
	// metaGroupsReady marks that every event and webhook attempt is in
	// its groups, so that filtered lists may walk the groups. Until then
	// they decode every record, as billclock did before it had groups.
	metaGroupsReady = "stripe.groups_ready"
)

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

// sweep does the wall-time work of each account: the billing work due for
// objects on no test clock (renewals of ordinary subscriptions), deleting
// clocks whose deletes_after has passed, and pruning what has expired
// (see prune). The first sweep also finishes the one-time upgrade of a
// database written by an earlier billclock. An account whose sweep fails
// does not stop the others; the error names it by its label, never by its
// key.
func (s *Surface) sweep() error {
	since, err := s.upgrade()
	if err != nil {
		return err
	}
	var accounts []string
	if err := s.db.View(func(tx *store.Tx) error {
		return tx.Accounts(func(key string) error { accounts = append(accounts, key); return nil })
	}); err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, account := range accounts {
		more := false
		err := s.db.Update(func(tx *store.Tx) error {
			if err := s.deleteExpiredClocks(tx, account, now.Unix()); err != nil {
				return err
			}
			l, err := s.ledger(tx, account, nil)
			if err != nil {
				return err
			}
			if _, err = l.engine().Run("", now.Unix(), 0); err != nil {
				return err
			}
			more, err = s.prune(tx, account, now, since)
			return err
		})
		for err == nil && more {
			err = s.db.Update(func(tx *store.Tx) error {
				more, err = s.prune(tx, account, now, since)
				return err
			})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s: %s", accountLabel(account),
				strings.ReplaceAll(err.Error(), account, "[api key]")))
		}
	}
	return errors.Join(errs...)
}

// prune deletes up to pruneBatch of the account's expired records, oldest
// first, and reports whether it deleted some and stopped with more
// possibly left:
//   - events, webhook attempts and the deleted stubs of customers recorded
//     more than the retention ago in wall time (never by an event's
//     created, which follows its clock);
//   - idempotency keys older than 24 hours, as Stripe forgets them.
//
// Each kind is kept in the order it was recorded in, so pruning stops at
// the first record young enough to keep instead of visiting them all.
// Records written before billclock stamped them count as recorded at since.
func (s *Surface) prune(tx *store.Tx, account string, now time.Time, since int64) (more bool, err error) {
	acct, err := tx.Account(account)
	if err != nil {
		return false, err
	}
	cutoff := now.Add(-s.retention).Unix()
	legacyExpired := since < cutoff
	budget := pruneBatch
	step := func(c *store.Collection, before int64, keep func(string, []byte) (bool, error)) error {
		if budget == 0 {
			more = true
			return nil
		}
		n, cut, err := c.Prune(before, budget, keep)
		budget -= n
		more = more || cut
		return err
	}
	// A pruned event may still be queued for webhook delivery: the
	// deliverer drops deliveries of events that are gone.
	for _, name := range []string{eventsCollection, attemptsCollection, customerTombstones} {
		c, err := acct.Collection(name)
		if err != nil {
			return false, err
		}
		if oldest, ok := c.Oldest(); ok && oldest == 0 && !legacyExpired {
			continue // unstamped records, first in line, are not due yet
		}
		if err := step(c, cutoff, nil); err != nil {
			return false, err
		}
	}
	if legacyExpired {
		if err := s.pruneLegacyTombstones(acct, &budget, &more); err != nil {
			return false, err
		}
	}
	// A key reused after it expired keeps its first place: keep it while
	// its latest use is younger than 24 hours.
	keys, err := acct.Collection(idempotencyCollection)
	if err != nil {
		return false, err
	}
	err = step(keys, now.Add(-idempotencyTTL).Unix()+1, func(_ string, raw []byte) (bool, error) {
		var rec idemRecord
		return json.Unmarshal(raw, &rec) == nil && !time.Unix(rec.Created, 0).Add(idempotencyTTL).Before(now), nil
	})
	// Go on only after progress: records kept by keep are visited again.
	return more && budget < pruneBatch, err
}

// pruneLegacyTombstones removes, within budget, the deleted-customer stubs
// that earlier billclocks kept in an index without a time, once the
// records of earlier billclocks have expired.
func (s *Surface) pruneLegacyTombstones(acct *store.Account, budget *int, more *bool) error {
	x, err := acct.Index(deletedCustomers)
	if err != nil {
		return err
	}
	var ids []string
	errFull := errors.New("batch full")
	err = x.Each("", func(id string) error {
		if len(ids) == *budget {
			*more = true
			return errFull
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return err
	}
	for _, id := range ids {
		if err := x.Remove("", id); err != nil {
			return err
		}
	}
	*budget -= len(ids)
	return nil
}

// upgrade brings a database written by an earlier billclock up to date and
// returns the time its records got stamps since (metaStampedSince): it
// records that time on first use, then puts every event and webhook
// attempt of every account in its groups, in bounded batches, and marks
// the database done. Records written meanwhile get their groups when
// written. Once done, it only reads the marks.
// Prepare finishes what a database needs before the surface serves from
// it: the one-time upgrade of a database written by an earlier billclock
// (stamping and indexing its events). Run it before serving, so that the
// janitor's later sweeps find nothing to do here.
func (s *Surface) Prepare() error {
	_, err := s.upgrade()
	return err
}

func (s *Surface) upgrade() (since int64, err error) {
	var ready, stamped bool
	read := func(tx *store.Tx) error {
		raw := tx.Meta(metaStampedSince)
		if stamped = raw != nil; stamped {
			if since, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
				return fmt.Errorf("meta %s: %w", metaStampedSince, err)
			}
		}
		ready = groupsReady(tx)
		return nil
	}
	if err := s.db.View(read); err != nil {
		return 0, err
	}
	if !stamped {
		err := s.db.Update(func(tx *store.Tx) error {
			if err := read(tx); err != nil || stamped {
				return err
			}
			since = s.now().Unix()
			return tx.SetMeta(metaStampedSince, []byte(strconv.FormatInt(since, 10)))
		})
		if err != nil {
			return 0, err
		}
	}
	if ready {
		return since, nil
	}
	var accounts []string
	if err := s.db.View(func(tx *store.Tx) error {
		return tx.Accounts(func(key string) error { accounts = append(accounts, key); return nil })
	}); err != nil {
		return since, err
	}
	for _, account := range accounts {
		if err := s.groupAll(account, eventsCollection, func(raw []byte) (int64, []string, error) {
			var head struct {
				Type    string `json:"type"`
				Created int64  `json:"created"`
			}
			err := json.Unmarshal(raw, &head)
			return head.Created, eventGroups(head.Type), err
		}); err != nil {
			return since, err
		}
		if err := s.groupAll(account, attemptsCollection, func(raw []byte) (int64, []string, error) {
			var a webhookAttempt
			err := json.Unmarshal(raw, &a)
			return 0, attemptGroups(&a), err
		}); err != nil {
			return since, err
		}
	}
	return since, s.db.Update(func(tx *store.Tx) error { return tx.SetMeta(metaGroupsReady, []byte("1")) })
}

// groupsReady reports whether every event and webhook attempt is in its
// groups.
func groupsReady(tx *store.Tx) bool { return tx.Meta(metaGroupsReady) != nil }

// groupAll puts every record of a collection of the account that is in no
// group in the groups groupsOf finds, oldest first, pruneBatch records per
// transaction. A record groupsOf cannot read is logged and left out of
// every group: filtered lists skip it.
func (s *Surface) groupAll(account, coll string, groupsOf func([]byte) (int64, []string, error)) error {
	after := ""
	for {
		done := false
		err := s.db.Update(func(tx *store.Tx) error {
			acct, err := tx.Account(account)
			if err != nil {
				return err
			}
			c, err := acct.Collection(coll)
			if err != nil {
				return err
			}
			type grouping struct {
				id     string
				tag    int64
				groups []string
			}
			var todo []grouping
			seen, last := 0, after
			err = c.Scan(after, func(id string, raw []byte) (bool, error) {
				seen++
				last = id
				if c.Grouped(id) {
					return seen < pruneBatch, nil
				}
				tag, groups, err := groupsOf(raw)
				if err != nil {
					s.log.Error("upgrade: unreadable record left out of filtered lists", "collection", coll, "id", id, "err", err)
				} else {
					todo = append(todo, grouping{id, tag, groups})
				}
				return seen < pruneBatch, nil
			})
			if errors.Is(err, store.ErrNotFound) {
				// The record to resume after is gone: start over; the
				// records done already are skipped quickly.
				after = ""
				return nil
			}
			if err != nil {
				return err
			}
			for _, g := range todo {
				if err := c.SetGroups(g.id, g.tag, g.groups...); err != nil {
					return err
				}
			}
			after, done = last, seen < pruneBatch
			return nil
		})
		if err != nil || done {
			return err
		}
	}
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
