package clockwork

import (
	"errors"
	"fmt"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// The event log: the engine emits neutral billing.Events; the ledger's
// dialect renders each (Recorder), and the runtime stores it in the
// account's EventsCollection, in the order recorded, in its type's group,
// and queues it for every endpoint that wants it.

// Record stores an engine event as its dialect renders it, caused by the
// ledger's request (none for background work), and queues it for every
// endpoint of the account that wants its type.
func (l *Ledger) Record(ev billing.Event) error {
	if l.observed != nil {
		*l.observed = append(*l.observed, ev)
	}
	if l.rec == nil {
		l.rec = l.d.NewRecorder(l)
	}
	e, ok, err := l.rec.Render(ev)
	if err != nil || !ok {
		return err
	}
	pending, err := l.queueDeliveries(e.ID, e.Type, "")
	if err != nil {
		return err
	}
	raw, err := e.Encode(pending)
	if err != nil {
		return err
	}
	return l.StoreEvent(e.ID, e.Type, e.Created, raw)
}

// Groups of the events collection: every event is in eventsAll and in its
// type's group, tagged with its created time, so that lists filtered by
// type or created walk these instead of decoding every event.
const (
	eventsAll      = "all"
	eventTypeGroup = "type:"
)

func eventGroups(typ string) []string { return []string{eventsAll, eventTypeGroup + typ} }

// StoreEvent stores an event already rendered: id, its dialect's type,
// created (when it happened) and stored, its stored form. Record stores
// the engine's events this way; a dialect may store events of its own.
func (l *Ledger) StoreEvent(id, typ string, created int64, stored []byte) error {
	events, err := l.Collection(EventsCollection)
	if err != nil {
		return err
	}
	// Events are listed in the order they happened, not by created: events
	// of objects on a test clock carry simulated times, and a clock's
	// advancing and ready events must bracket the billing events between
	// them in any listing. Append keeps that order and stamps each event
	// with the wall time it was recorded at, which retention goes by.
	if err := events.AppendGrouped(id, l.Wall(), stored, created, eventGroups(typ)...); err != nil {
		return err
	}
	l.rt.streams.recorded(l.tx, l.account)
	return nil
}

// Event returns an event as stored. The bytes are valid only in the
// ledger's transaction.
func (l *Ledger) Event(id string) ([]byte, error) {
	events, err := l.Collection(EventsCollection)
	if err != nil {
		return nil, err
	}
	raw, err := events.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, billing.NotFoundError(KindEvent, id, "id")
	}
	return raw, err
}

// EventFilter selects events for ListEvents.
type EventFilter struct {
	// Types are the dialect's event types to list (none: every type); a
	// type ending in "*" stands for every type it prefixes.
	Types []string
	// Created, if not nil, keeps the events whose created it accepts.
	Created func(created int64) bool
}

// ListEvents emits one page of the account's events that f selects,
// newest first, as stored; hasMore reports whether more follow. It walks
// the type groups, so its cost follows the events it lists. A cursor that
// names no event is store.ErrNotFound.
func (l *Ledger) ListEvents(f EventFilter, pg store.Page, emit func(stored []byte) error) (hasMore bool, err error) {
	events, err := l.Collection(EventsCollection)
	if err != nil {
		return false, err
	}
	if !GroupsReady(l.tx) {
		return events.List(pg, l.eventMatcher(f), emit)
	}
	q, filtered, err := eventQuery(events, f)
	if err != nil {
		return false, err
	}
	if !filtered {
		return events.List(pg, nil, emit)
	}
	return events.ListGroups(q, pg, emit)
}

// eventQuery is the group walk that answers a list filtered by type
// patterns and created: the groups of the types the patterns name (a
// pattern ending in "*" names every type it prefixes, found by a prefix
// seek), or every event for a created filter alone, keeping the events
// whose created matches. filtered is false when nothing is filtered.
func eventQuery(events *store.Collection, f EventFilter) (q store.Query, filtered bool, err error) {
	q.Tag = f.Created
	everyType := len(f.Types) == 0
	for _, p := range f.Types {
		prefix, wild := strings.CutSuffix(p, "*")
		if !wild {
			q.Groups = append(q.Groups, eventTypeGroup+p)
			continue
		}
		if prefix == "" {
			everyType = true
			break
		}
		groups, err := events.Groups(eventTypeGroup + prefix)
		if err != nil {
			return q, false, err
		}
		q.Groups = append(q.Groups, groups...)
	}
	if everyType {
		q.Groups = []string{eventsAll}
		return q, q.Tag != nil, nil
	}
	return q, true, nil
}

// eventMatcher filters stored events by decoding each one: lists take it
// until the events are all in their groups (see upgrade).
func (l *Ledger) eventMatcher(f EventFilter) func([]byte) (bool, error) {
	matchType := typeMatcher(f.Types)
	return func(raw []byte) (bool, error) {
		typ, created, err := l.d.EventHead(raw)
		if err != nil {
			return false, err
		}
		return (len(f.Types) == 0 || matchType(typ)) && (f.Created == nil || f.Created(created)), nil
	}
}

// typeMatcher matches event types against patterns, where a trailing "*"
// matches any suffix (e.g. "invoice.*").
func typeMatcher(patterns []string) func(string) bool {
	return func(typ string) bool {
		for _, p := range patterns {
			if prefix, wild := strings.CutSuffix(p, "*"); wild && strings.HasPrefix(typ, prefix) || p == typ {
				return true
			}
		}
		return false
	}
}

// Redeliver queues event id again for endpoint, or, when endpoint is "",
// for every endpoint that wants it (the Stripe CLI's `events resend`), and
// returns how many deliveries it queued. An endpoint that does not exist
// is a not-found error.
func (l *Ledger) Redeliver(id, endpoint string) (int, error) {
	raw, err := l.Event(id)
	if err != nil {
		return 0, err
	}
	typ, _, err := l.d.EventHead(raw)
	if err != nil {
		return 0, fmt.Errorf("event %s: %w", id, err)
	}
	if endpoint != "" {
		if _, err := l.Endpoint(endpoint); err != nil {
			return 0, err
		}
	}
	n, err := l.queueDeliveries(id, typ, endpoint)
	if err != nil {
		return 0, err
	}
	return n, l.adjustPending(id, n)
}
