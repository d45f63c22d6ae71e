package clockwork

import (
	"errors"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// The advance log: each clock's moves, as billclock's dashboard shows
// them on its timeline. Not every dialect records events of its clock
// (Chargebee's time machine has none), so the runtime notes every move of
// a clock where all of them pass: PutClock, which compares the clock with
// the one stored before.

// advanceLogCollection holds, by clock id, the clock's ClockMoves.
const advanceLogCollection = "clock_moves"

// maxClockMoves bounds a clock's log: the oldest moves are dropped.
const maxClockMoves = 500

// Outcomes of a ClockMove.
const (
	MoveAdvancing = "advancing" // under way
	MoveReady     = "ready"     // done: the clock is at To
	MoveFailed    = "failed"    // ended in internal_failure, at From
	// MoveSet: the clock was moved without an advance (Commet's
	// 2026-07-11 test clock), its work left for later.
	MoveSet = "set"
)

// ClockMove is one move of a clock's simulated time: an advance (or a
// restart, To before From), from its start to its end.
type ClockMove struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Outcome is one of the Move* values.
	Outcome string `json:"outcome"`
	// Started and Ended are wall times (Unix seconds).
	Started int64 `json:"started"`
	Ended   int64 `json:"ended,omitempty"`
	// Tasks counts the billing work the advance applied.
	Tasks int64 `json:"tasks,omitempty"`
}

type clockMoves struct {
	Moves []ClockMove `json:"moves"`
}

// ClockMoves returns the moves of clock id, oldest first (at most the
// latest 500).
func (l *Ledger) ClockMoves(id string) ([]ClockMove, error) {
	var log clockMoves
	err := l.Get(advanceLogCollection, KindClock, id, &log)
	var be *billing.Error
	if errors.As(err, &be) && be.Kind == billing.NotFound {
		return nil, nil
	}
	return log.Moves, err
}

// noteClockMove records in the advance log how c, about to be stored,
// moved from the clock stored before: an advance begun, ended or failed,
// or a time set without an advance. A new clock, and one that follows
// wall time, did not move.
func (l *Ledger) noteClockMove(c *billing.Clock) error {
	var before billing.Clock
	err := l.Get(ClocksCollection, KindClock, c.ID, &before)
	var be *billing.Error
	if errors.As(err, &be) && be.Kind == billing.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	wall := l.Wall()
	var log clockMoves
	changed := false
	last := func() *ClockMove {
		if n := len(log.Moves); n > 0 && log.Moves[n-1].Outcome == MoveAdvancing {
			return &log.Moves[n-1]
		}
		return nil
	}
	read := func() error {
		moves, err := l.ClockMoves(c.ID)
		log.Moves = moves
		return err
	}
	switch {
	case before.Status != billing.ClockAdvancing && c.Status == billing.ClockAdvancing:
		if err := read(); err != nil {
			return err
		}
		if c.TargetTime < before.FrozenTime {
			log.Moves = nil // a restart: what came before is gone
		}
		log.Moves = append(log.Moves, ClockMove{From: before.FrozenTime, To: c.TargetTime, Outcome: MoveAdvancing, Started: wall})
		changed = true
	case before.Status == billing.ClockAdvancing && c.Status != billing.ClockAdvancing:
		if err := read(); err != nil {
			return err
		}
		m := last()
		if m == nil {
			log.Moves = append(log.Moves, ClockMove{From: before.FrozenTime, To: before.TargetTime, Started: wall})
			m = &log.Moves[len(log.Moves)-1]
		}
		m.Outcome, m.Ended, m.Tasks = MoveReady, wall, c.AdvanceTasks
		if c.Status == billing.ClockInternalFailure {
			m.Outcome = MoveFailed
		}
		changed = true
	case c.Status == billing.ClockReady && before.Status == billing.ClockReady && c.FrozenTime != before.FrozenTime:
		follows, err := l.FollowsWall(c.ID)
		if err != nil || follows {
			return err
		}
		if err := read(); err != nil {
			return err
		}
		log.Moves = append(log.Moves, ClockMove{From: before.FrozenTime, To: c.FrozenTime, Outcome: MoveSet, Started: wall, Ended: wall})
		changed = true
	}
	if !changed {
		return nil
	}
	if n := len(log.Moves); n > maxClockMoves {
		log.Moves = log.Moves[n-maxClockMoves:]
	}
	return l.Put(advanceLogCollection, c.ID, c.Created, &log)
}

// forgetClockMoves drops the advance log of a deleted clock.
func (l *Ledger) forgetClockMoves(id string) error {
	coll, err := l.Collection(advanceLogCollection)
	if err != nil {
		return err
	}
	if err := coll.Delete(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
