package billing

import (
	"fmt"
	"slices"
)

// This file is unit billing: a subscription item that bills the units
// (seats) a customer holds of a feature. The plan includes some units at no
// charge; each unit beyond them costs the item's price per period. Extra
// units are billed on renewal invoices only:
//
//   - an advance: the extra units held as the new period starts, each at
//     the whole period's price;
//   - a true-up for the period that ended: each extra unit added during it
//     (beyond those included and those already paid for), at the price ×
//     the days it was held ÷ the days of the period (WholeDays: a partial
//     day counts as a whole one), each change on its own line, rounded
//     half away from zero.
//
// A removal takes effect at the period's end: nothing is refunded, a unit
// removed and added again in the same period is not charged twice, and the
// next advance counts only the units still held. The units held can never
// go below zero. A trial bills no units: its end bills the advance for the
// first paid period and no true-up. The first invoice of a subscription
// bills the advance for the units it starts with.
//
// Each unit item keeps a ledger of its current period (UnitLedger): the
// units held and paid for as it started and every change since, so that
// renewal computes the advance and the true-up exactly.

// UnitTerms make a new subscription item bill units.
type UnitTerms struct {
	// Feature is the code the units are counted under, unique within a
	// subscription.
	Feature string
	// Included is how many units the plan includes at no charge.
	Included int64
}

// UnitLedger is the record of an item billed by units over its current
// period (or, until renewal runs, the period that just ended). The engine
// never changes a ledger in place but replaces it, so copies of a
// subscription may share one.
type UnitLedger struct {
	Feature  string `json:"feature"`
	Included int64  `json:"included"`
	// Start and End bound the period. Days is the length in days of a
	// whole period ending at End: what a day-prorated charge divides by
	// (a first period cut short is shorter than Days).
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Days  int64 `json:"days"`
	// Opening is the units held as the period started; Advanced the extra
	// units billed in advance for it.
	Opening  int64 `json:"opening"`
	Advanced int64 `json:"advanced"`
	// Free periods (a trial) bill no units: no true-up at their end.
	Free bool `json:"free,omitempty"`
	// Changes are the period's changes, oldest first.
	Changes []UnitChange `json:"changes,omitempty"`
}

// UnitOp is a kind of change to the units held.
type UnitOp string

// Unit operations.
const (
	UnitsAdd    UnitOp = "add"
	UnitsRemove UnitOp = "remove"
	UnitsSet    UnitOp = "set"
)

// UnitRequest asks for a change to the units of one feature: add or
// remove Count units (at least one), or set them to Count (zero or more).
type UnitRequest struct {
	Feature string
	Op      UnitOp
	Count   int64
}

// UnitChange is a change made to the units a subscription holds of a
// feature.
type UnitChange struct {
	ID           string `json:"id"`
	Subscription string `json:"subscription"`
	Customer     string `json:"customer"`
	Feature      string `json:"feature"`
	Op           UnitOp `json:"op"`
	Count        int64  `json:"count"`
	Previous     int64  `json:"previous"`
	New          int64  `json:"new"`
	At           int64  `json:"at"`
}

// UnitCharge is what a line of an item billed by units charges for.
type UnitCharge string

// Unit charges. An item billed by units has no other lines; a plan's base
// price is an ordinary item, billed per period.
const (
	// UnitAdvance: extra units for the period that starts.
	UnitAdvance UnitCharge = "advance"
	// UnitTrueUp: extra units added during the period that ended, for the
	// days they were held.
	UnitTrueUp UnitCharge = "true_up"
)

// UnitLine is what a line of an item billed by units charges: the line's
// Quantity extra units of Feature at UnitAmount each for a whole period,
// for Days of the period's PeriodDays.
type UnitLine struct {
	Feature    string     `json:"feature"`
	Charge     UnitCharge `json:"charge"`
	UnitAmount int64      `json:"unit_amount"`
	Included   int64      `json:"included"`
	Days       int64      `json:"days"`
	PeriodDays int64      `json:"period_days"`
}

// EventUnitsChanged announces a change to the units a subscription holds
// (Object: *UnitChange). The subscription itself is not announced as
// updated.
const EventUnitsChanged EventType = "subscription.units_changed"

// Error codes of unit billing (Error.Code). Their errors carry a neutral
// English Message too; only surfaces that bill units word them.
const (
	// CodeInsufficientUnits: a removal of more units than are held.
	CodeInsufficientUnits Code = "insufficient_units"
	// CodeNoActiveSubscription: the customer has no subscription that can
	// hold units (active, trialing or past due).
	CodeNoActiveSubscription Code = "no_active_subscription"
	// CodeMultipleActiveSubscriptions: the customer has more than one, so
	// which one holds the units is ambiguous.
	CodeMultipleActiveSubscriptions Code = "multiple_active_subscriptions"
	// CodeInvalidUnits: a unit change or unit terms that cannot be
	// applied as given (Message says why).
	CodeInvalidUnits Code = "invalid_units"
)

// unitsInvalid is a CodeInvalidUnits error about param.
func unitsInvalid(param, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: CodeInvalidUnits, Param: param, Message: fmt.Sprintf(format, args...)}
}

// UnitItem returns the item of s billing units of feature, or nil.
func (s *Subscription) UnitItem(feature string) *SubscriptionItem {
	for i := range s.Items {
		if u := s.Items[i].Units; u != nil && u.Feature == feature {
			return &s.Items[i]
		}
	}
	return nil
}

// HoldsUnits reports whether s can hold units and change them: it is
// active, trialing or past due (units keep working while a payment is
// retried).
func (s *Subscription) HoldsUnits() bool {
	switch s.Status {
	case StatusActive, StatusTrialing, StatusPastDue:
		return true
	}
	return false
}

// UnitHolder returns, among a customer's subscriptions, the one holding
// its units: a customer needs exactly one that HoldsUnits.
func UnitHolder(subs []*Subscription) (*Subscription, error) {
	var holder *Subscription
	for _, s := range subs {
		if !s.HoldsUnits() {
			continue
		}
		if holder != nil {
			return nil, &Error{Kind: Invalid, Code: CodeMultipleActiveSubscriptions,
				Message: "The customer has more than one active subscription."}
		}
		holder = s
	}
	if holder == nil {
		return nil, errNoActiveSubscription()
	}
	return holder, nil
}

func errNoActiveSubscription() *Error {
	return &Error{Kind: NotFound, Code: CodeNoActiveSubscription, Resource: "subscription",
		Message: "The customer has no active subscription."}
}

// ChangeUnits applies reqs to the units subscription id holds, at now, all
// or none: a request that cannot be applied (an unknown feature, a count
// out of range, more units removed than held) fails them all. It returns
// the changes in the order of reqs. A change is billed at the next
// renewal, never at once.
func (e *Engine) ChangeUnits(id string, reqs []UnitRequest, now int64) ([]UnitChange, error) {
	sub, err := e.L.Subscription(id)
	if err != nil {
		return nil, err
	}
	if !sub.HoldsUnits() {
		return nil, errNoActiveSubscription()
	}
	if len(reqs) == 0 {
		return nil, unitsInvalid("feature", "No units to change.")
	}
	next := make([]int64, len(reqs))
	seen := map[string]bool{}
	for i, r := range reqs {
		it := sub.UnitItem(r.Feature)
		if it == nil {
			return nil, NotFoundError("feature", r.Feature, "feature")
		}
		if seen[r.Feature] {
			return nil, unitsInvalid("feature", "The feature %s is given more than once.", r.Feature)
		}
		seen[r.Feature] = true
		if next[i], err = unitsAfter(it.Quantity, r); err != nil {
			return nil, err
		}
	}
	changes := make([]UnitChange, len(reqs))
	for i, r := range reqs {
		it := sub.UnitItem(r.Feature)
		c := UnitChange{ID: e.L.NewID("unitchg_"), Subscription: sub.ID, Customer: sub.Customer, Feature: r.Feature,
			Op: r.Op, Count: r.Count, Previous: it.Quantity, New: next[i], At: now}
		u := *it.Units
		u.Changes = append(slices.Clip(u.Changes), c)
		it.Units, it.Quantity = &u, c.New
		changes[i] = c
	}
	if err := e.L.PutSubscription(sub); err != nil {
		return nil, err
	}
	for i := range changes {
		c := changes[i]
		if err := e.emit(EventUnitsChanged, now, &c); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// unitsAfter is the units held after r is applied to held.
func unitsAfter(held int64, r UnitRequest) (int64, error) {
	switch r.Op {
	case UnitsAdd, UnitsRemove:
		if r.Count < 1 || r.Count > MaxQuantity {
			return 0, unitsInvalid("count", "The count must be an integer from 1 to %d.", MaxQuantity)
		}
	case UnitsSet:
		if r.Count < 0 || r.Count > MaxQuantity {
			return 0, unitsInvalid("count", "The count must be an integer from 0 to %d.", MaxQuantity)
		}
	default:
		return 0, unitsInvalid("op", "Unknown unit operation %q.", r.Op)
	}
	n := r.Count
	switch r.Op {
	case UnitsAdd:
		n = held + r.Count
	case UnitsRemove:
		n = held - r.Count
	}
	switch {
	case n < 0:
		return 0, &Error{Kind: Invalid, Code: CodeInsufficientUnits, Param: "count",
			Message: fmt.Sprintf("Cannot remove %d units of %s: only %d are held.", r.Count, r.Feature, held)}
	case n > MaxQuantity:
		return 0, unitsInvalid("count", "A subscription can hold at most %d units of a feature.", MaxQuantity)
	}
	return n, nil
}

// checkUnitTerms checks the unit terms of a new item with qty units, given
// as param, against the items before it.
func checkUnitTerms(items []SubscriptionItem, t *UnitTerms, qty int64, param string) error {
	switch {
	case t.Feature == "":
		return unitsInvalid(param+"[units][feature]", "Missing required param: %s[units][feature].", param)
	case t.Included < 0 || t.Included > MaxQuantity:
		return unitsInvalid(param+"[units][included]", "The included units must be an integer from 0 to %d.", MaxQuantity)
	case qty > MaxQuantity:
		return unitsInvalid(param+"[quantity]", "A subscription can hold at most %d units of a feature.", MaxQuantity)
	}
	for _, it := range items {
		if it.Units != nil && it.Units.Feature == t.Feature {
			return unitsInvalid(param+"[units][feature]", "The feature %s is billed by another item of the subscription.", t.Feature)
		}
	}
	return nil
}

// newUnitLedger is the ledger of a new item with terms t: no period yet,
// and nothing to true up when the first one opens.
func newUnitLedger(t *UnitTerms) *UnitLedger {
	return &UnitLedger{Feature: t.Feature, Included: t.Included, Free: true}
}

// checkUnitUpdate refuses a subscription update's spec that would change an
// item billed by units, or add one: their units change only through
// ChangeUnits.
func checkUnitUpdate(sub *Subscription, spec ItemSpec) error {
	if spec.ID == "" && spec.Units != nil {
		return unitsInvalid(spec.Param+"[units]", "billclock cannot add an item billed by units to an existing subscription.")
	}
	if it := sub.Item(spec.ID); spec.ID != "" && it != nil && it.Units != nil {
		return unitsInvalid(spec.Param, "The units of %s change only through unit changes, not through the subscription's items.", it.Units.Feature)
	}
	return nil
}

// unitLines adds to inv, for each of sub's items billed by units, the
// true-up of the period its ledger covers and the advance for sub's
// current period, and moves the ledger on to the current period. free
// makes the current period bill no units (a trial, or a first period cut
// short and not prorated).
func (e *Engine) unitLines(inv *Invoice, sub *Subscription, free bool) error {
	// A first period cut short by the anchor is billed for its share of
	// the whole period that ends with it.
	fullStart := sub.Interval.Nth(sub.BillingCycleAnchor, sub.PeriodIndex-1)
	days := WholeDays(fullStart, sub.PeriodEnd)
	for i := range sub.Items {
		it := &sub.Items[i]
		if it.Units == nil {
			continue
		}
		rp, err := e.recurringPrice(it.Price, "", nil)
		if err != nil {
			return err
		}
		old := it.Units
		next := &UnitLedger{Feature: old.Feature, Included: old.Included, Start: sub.PeriodStart, End: sub.PeriodEnd,
			Days: days, Opening: it.Quantity, Free: free}
		if !free {
			next.Advanced = max(it.Quantity-old.Included, 0)
		}
		if next.Advanced > 0 {
			whole, err := mulAmount(rp.UnitAmount, next.Advanced)
			if err != nil {
				return err
			}
			held := min(WholeDays(sub.PeriodStart, sub.PeriodEnd), days)
			amount, err := ProrateDays(whole, held, days)
			if err != nil {
				return err
			}
			inv.Lines = append(inv.Lines, InvoiceLine{ID: e.L.NewID("il_"), Amount: amount, Quantity: next.Advanced,
				Price: it.Price, SubscriptionItem: it.ID, PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd,
				Proration: held < days,
				Units: &UnitLine{Feature: old.Feature, Charge: UnitAdvance, UnitAmount: rp.UnitAmount,
					Included: old.Included, Days: held, PeriodDays: days}})
		}
		if err := e.trueUpLines(inv, it, rp); err != nil {
			return err
		}
		it.Units = next
	}
	return nil
}

// trueUpLines adds to inv the true-up of the period its ledger covers: one
// line per change that raised the extra units beyond those paid for.
// Removals take effect at the period's end, so what is paid for never goes
// down within the period: a unit removed and added again is paid for.
func (e *Engine) trueUpLines(inv *Invoice, it *SubscriptionItem, rp *resolvedPrice) error {
	u := it.Units
	if u.Free {
		return nil
	}
	paid := u.Advanced
	for _, c := range u.Changes {
		if c.At >= u.End {
			// Made after the period ended, before its renewal ran: the
			// advance for the next period counts it.
			continue
		}
		extra := max(c.New-u.Included, 0)
		if extra <= paid {
			continue
		}
		added := extra - paid
		paid = extra
		whole, err := mulAmount(rp.UnitAmount, added)
		if err != nil {
			return err
		}
		held := min(WholeDays(c.At, u.End), u.Days)
		amount, err := ProrateDays(whole, held, u.Days)
		if err != nil {
			return err
		}
		inv.Lines = append(inv.Lines, InvoiceLine{ID: e.L.NewID("il_"), Amount: amount, Quantity: added,
			Price: it.Price, SubscriptionItem: it.ID, PeriodStart: c.At, PeriodEnd: u.End, Proration: true,
			Units: &UnitLine{Feature: u.Feature, Charge: UnitTrueUp, UnitAmount: rp.UnitAmount,
				Included: u.Included, Days: held, PeriodDays: u.Days}})
	}
	return nil
}
