package clockwork

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

// Keys of the runtime's one-time upgrades in the store's metadata. They
// were written when the runtime was part of the Stripe surface, hence the
// "stripe." in their names, which stays: renaming them would redo the
// upgrades of every database.
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
func (rt *Runtime) janitor(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		if err := rt.sweep(); err != nil {
			rt.log.Error("sweep", "err", err)
		}
		rt.deliverer.wake()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep does the janitor's round at once; the janitor does it every
// minute, and tests call it after moving their wall clock.
func (rt *Runtime) Sweep() error { return rt.sweep() }

// sweep does the wall-time work of each account: the billing work due for
// objects on no test clock (renewals of ordinary subscriptions) and on
// clocks that follow wall time (wallclock.go), deleting
// clocks older than their dialect's ClockLifetime, and pruning what has
// expired (see prune). The first sweep also finishes the one-time upgrade
// of a database written by an earlier billclock. An account whose sweep
// fails does not stop the others; the error names it by its label, never
// by its key.
func (rt *Runtime) sweep() error {
	since, err := rt.upgrade()
	if err != nil {
		return err
	}
	var accounts []string
	if err := rt.db.View(func(tx *store.Tx) error {
		return tx.Accounts(func(key string) error { accounts = append(accounts, key); return nil })
	}); err != nil {
		return err
	}
	now := rt.now()
	var errs []error
	for _, account := range accounts {
		more := false
		err := rt.db.Update(func(tx *store.Tx) error {
			l, err := rt.backgroundLedger(tx, account)
			if err != nil {
				return err
			}
			if err := l.deleteExpiredClocks(now.Unix()); err != nil {
				return err
			}
			if _, err = l.run("", now.Unix(), 0); err != nil {
				return err
			}
			if err := l.runWallClocks(now.Unix()); err != nil {
				return err
			}
			more, err = rt.prune(tx, account, now, since)
			return err
		})
		for err == nil && more {
			err = rt.db.Update(func(tx *store.Tx) error {
				more, err = rt.prune(tx, account, now, since)
				return err
			})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s: %s", AccountLabel(account),
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
func (rt *Runtime) prune(tx *store.Tx, account string, now time.Time, since int64) (more bool, err error) {
	acct, err := tx.Account(account)
	if err != nil {
		return false, err
	}
	cutoff := now.Add(-rt.retention).Unix()
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
	for _, name := range []string{EventsCollection, AttemptsCollection, TombstonesCollection} {
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
		if err := rt.pruneLegacyTombstones(acct, &budget, &more); err != nil {
			return false, err
		}
	}
	// A key reused after it expired keeps its first place: keep it while
	// its latest use is younger than 24 hours.
	keys, err := acct.Collection(IdempotencyCollection)
	if err != nil {
		return false, err
	}
	err = step(keys, now.Add(-IdempotencyTTL).Unix()+1, func(_ string, raw []byte) (bool, error) {
		var rec IdempotentResponse
		return json.Unmarshal(raw, &rec) == nil && !time.Unix(rec.Created, 0).Add(IdempotencyTTL).Before(now), nil
	})
	// Go on only after progress: records kept by keep are visited again.
	return more && budget < pruneBatch, err
}

// pruneLegacyTombstones removes, within budget, the deleted-customer stubs
// that earlier billclocks kept in an index without a time, once the
// records of earlier billclocks have expired.
func (rt *Runtime) pruneLegacyTombstones(acct *store.Account, budget *int, more *bool) error {
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
func (rt *Runtime) upgrade() (since int64, err error) {
	var ready, stamped bool
	read := func(tx *store.Tx) error {
		raw := tx.Meta(metaStampedSince)
		if stamped = raw != nil; stamped {
			if since, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
				return fmt.Errorf("meta %s: %w", metaStampedSince, err)
			}
		}
		ready = GroupsReady(tx)
		return nil
	}
	if err := rt.db.View(read); err != nil {
		return 0, err
	}
	if !stamped {
		err := rt.db.Update(func(tx *store.Tx) error {
			if err := read(tx); err != nil || stamped {
				return err
			}
			since = rt.now().Unix()
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
	if err := rt.db.View(func(tx *store.Tx) error {
		return tx.Accounts(func(key string) error { accounts = append(accounts, key); return nil })
	}); err != nil {
		return since, err
	}
	for _, account := range accounts {
		var d Dialect
		if err := rt.db.View(func(tx *store.Tx) (err error) {
			d, err = rt.dialectOf(tx, account)
			return err
		}); err != nil {
			return since, err
		}
		if err := rt.groupAll(account, EventsCollection, func(raw []byte) (int64, []string, error) {
			typ, created, err := d.EventHead(raw)
			return created, eventGroups(typ), err
		}); err != nil {
			return since, err
		}
		if err := rt.groupAll(account, AttemptsCollection, func(raw []byte) (int64, []string, error) {
			var a Attempt
			err := json.Unmarshal(raw, &a)
			return 0, attemptGroups(&a), err
		}); err != nil {
			return since, err
		}
	}
	return since, rt.db.Update(func(tx *store.Tx) error { return tx.SetMeta(metaGroupsReady, []byte("1")) })
}

// GroupsReady reports whether every event and webhook attempt is in its
// groups: until the one-time upgrade of a database written by an earlier
// billclock is done, lists decode every record instead of walking groups.
func GroupsReady(tx *store.Tx) bool { return tx.Meta(metaGroupsReady) != nil }

// groupAll puts every record of a collection of the account that is in no
// group in the groups groupsOf finds, oldest first, pruneBatch records per
// transaction. A record groupsOf cannot read is logged and left out of
// every group: filtered lists skip it.
func (rt *Runtime) groupAll(account, coll string, groupsOf func([]byte) (int64, []string, error)) error {
	after := ""
	for {
		done := false
		err := rt.db.Update(func(tx *store.Tx) error {
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
					rt.log.Error("upgrade: unreadable record left out of filtered lists", "collection", coll, "id", id, "err", err)
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

// deleteExpiredClocks deletes the account's clocks created longer than
// their dialect's ClockLifetime ago.
func (l *Ledger) deleteExpiredClocks(now int64) error {
	lifetime := int64(l.d.ClockLifetime() / time.Second)
	if lifetime <= 0 {
		return nil
	}
	clocks, err := l.Collection(ClocksCollection)
	if err != nil {
		return err
	}
	var expired []*billing.Clock
	err = clocks.Each(func(_ string, raw []byte) error {
		var c billing.Clock
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		if c.Created+lifetime <= now {
			expired = append(expired, &c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range expired {
		if err := l.DeleteClock(c, now); err != nil {
			return err
		}
	}
	return nil
}
