package commet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file is the test clock run of API version 2026-07-31: an advance
// is a persisted run that the runtime's advance worker processes in time
// order. Each billing deadline it meets becomes an item of the run
// (ObserveTask): a billing cycle (a subscription's period ends: renewal,
// trial end or scheduled cancellation; its invoice's collection follows
// at once) or a dunning retry. The clock's ready event completes the run,
// its failure event fails it; both are persisted with the advance, so a
// run under way when the server stops finishes after a restart.
//
// Under 2026-07-11, process-billing runs the same deadlines on demand and
// counts them (billingTally).

// Collections of the runs.
const (
	runsCollection     = "commet_clock_runs"
	runItemsCollection = "commet_clock_run_items" // run id + "/" + seq
	runInvoiceIndex    = "commet_clock_run_invoices"
	// runSetting is the setting naming the latest run and whether it is
	// under way.
	runSetting = "commet_clock_run"
)

// Run and item statuses.
const (
	runPending    = "pending"
	runRunning    = "running"
	runCompleted  = "completed"
	runFailed     = "failed"
	itemPending   = "pending"
	itemRunning   = "processing"
	itemCompleted = "completed"
	itemFailed    = "failed"
)

// Deadline kinds.
const (
	kindBillingCycle = "billing_cycle"
	kindDunningRetry = "dunning_retry"
)

// runRecord is a clock run as stored; its items are stored apart.
type runRecord struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	StartedAt  int64  `json:"started_at_time"`
	Target     int64  `json:"target_time"`
	Estimated  int64  `json:"estimated"`
	Completed  int64  `json:"completed"`
	Failed     int64  `json:"failed"`
	Error      string `json:"error,omitempty"`
	Items      int    `json:"items"`
	Created    int64  `json:"created"`
	FinishedAt int64  `json:"finished_at,omitempty"`
}

// runItem is one billing deadline of a run. Items are stored in their
// wire form (itemObject), so that showing a run of thousands of items
// copies them rather than decoding each one.
type runItem struct {
	Kind           string
	Status         string
	DueAt          int64
	SubscriptionID string
	CustomerName   string
	InvoiceNumber  string
	InvoiceID      string
	Outcome        string
	Detail         string
	Error          string
}

func (it *runItem) wire() itemObject {
	return itemObject{Kind: it.Kind, Status: it.Status, DueAt: iso(it.DueAt), SubscriptionID: strPtr(it.SubscriptionID),
		CustomerName: strPtr(it.CustomerName), InvoiceNumber: strPtr(it.InvoiceNumber), InvoiceID: strPtr(it.InvoiceID),
		Outcome: strPtr(it.Outcome), Detail: strPtr(it.Detail), Error: strPtr(it.Error)}
}

// runPointer is the runSetting: the latest run, and the run under way
// (kept here rather than in runsCollection until it ends, so that each
// task reads and writes one record).
type runPointer struct {
	Latest string     `json:"latest"`
	Active *runRecord `json:"active,omitempty"`
}

func itemKey(run string, seq int) string { return fmt.Sprintf("%s/%08d", run, seq) }

func getRun(l *clockwork.Ledger, id string) (*runRecord, error) {
	var r runRecord
	return &r, l.Get(runsCollection, "test_clock_run", id, &r)
}

// runState is the runSetting as a ledger's recorder keeps it: every task
// an advance applies reads and writes the run under way, and decoding it
// each time cost more than the rest of the task's run bookkeeping.
func runState(l *clockwork.Ledger) (*runPointer, error) {
	r, ok := l.Recorder().(*recorder)
	if ok && r.run != nil {
		return r.run, nil
	}
	var ptr runPointer
	if _, err := l.Setting(runSetting, &ptr); err != nil {
		return nil, err
	}
	if ok {
		r.run = &ptr
	}
	return &ptr, nil
}

// putRunState stores ptr as the runSetting.
func putRunState(l *clockwork.Ledger, ptr runPointer) error {
	if err := l.PutSetting(runSetting, ptr); err != nil {
		return err
	}
	if r, ok := l.Recorder().(*recorder); ok {
		r.run = &ptr
	}
	return nil
}

// putActiveRun stores r as the run under way.
func putActiveRun(l *clockwork.Ledger, r *runRecord) error {
	return putRunState(l, runPointer{Latest: r.ID, Active: r})
}

// activeRun is the run under way, or nil. The caller may change it and
// store it again with putActiveRun.
func activeRun(l *clockwork.Ledger) (*runRecord, error) {
	ptr, err := runState(l)
	if err != nil {
		return nil, err
	}
	return ptr.Active, nil
}

// latestRun is the latest run, or nil.
func latestRun(l *clockwork.Ledger) (*runRecord, error) {
	ptr, err := runState(l)
	if err != nil || ptr.Latest == "" {
		return nil, err
	}
	if ptr.Active != nil {
		return ptr.Active, nil
	}
	return getRun(l, ptr.Latest)
}

// deadline is what one task did, as a billing deadline.
type deadline struct {
	kind string
	// update is set when the task collected the invoice of an earlier
	// billing cycle (its invoice's finalization).
	update   bool
	item     runItem
	customer string
	// declined: its charge was declined.
	declined bool
}

// classify makes a deadline of task t, which caused events; ok is false
// for a task that is no billing deadline or did nothing.
func classify(l *clockwork.Ledger, t billing.Task, events []billing.Event) (d deadline, ok bool, err error) {
	if len(events) == 0 {
		return d, false, nil
	}
	var inv *billing.Invoice
	var paid, failed, canceled bool
	for _, ev := range events {
		switch o := ev.Object.(type) {
		case *billing.Invoice:
			inv = o
			switch ev.Type {
			case billing.EventInvoicePaid:
				paid = true
			case billing.EventInvoicePaymentFailed, billing.EventInvoicePaymentActionRequired:
				failed = true
			}
		case *billing.Subscription:
			if ev.Type == billing.EventSubscriptionDeleted {
				canceled = true
			}
		}
	}
	d.item = runItem{DueAt: t.At, Status: itemCompleted}
	switch t.Kind {
	case billing.TaskPeriodEnd:
		if inv == nil && !canceled {
			return d, false, nil // a subscription waiting for its first payment
		}
		d.kind, d.item.SubscriptionID = kindBillingCycle, t.Subject
		switch {
		case canceled && inv == nil:
			d.item.Outcome, d.item.Detail = "canceled", "The subscription ended at the end of its period."
		case inv != nil && inv.Status == billing.InvoiceDraft:
			d.item.Status, d.item.Outcome = itemRunning, "invoiced"
		}
	case billing.TaskFinalize:
		d.kind, d.update = kindBillingCycle, true
	case billing.TaskRetryPayment:
		d.kind = kindDunningRetry
	default:
		return d, false, nil
	}
	if inv != nil {
		d.item.InvoiceID, d.item.InvoiceNumber = inv.ID, inv.Number
		if d.item.SubscriptionID == "" {
			d.item.SubscriptionID = inv.Subscription
		}
		d.customer = inv.Customer
		if inv.Status != billing.InvoiceDraft {
			collected(&d, inv, paid, failed, canceled)
		}
	}
	if d.customer == "" && d.item.SubscriptionID != "" {
		if sub, err := l.Subscription(d.item.SubscriptionID); err == nil {
			d.customer = sub.Customer
		}
	}
	if d.customer != "" {
		d.item.CustomerName = customerName(l, d.customer)
	}
	return d, true, nil
}

// collected sets a deadline's outcome from its invoice's collection.
func collected(d *deadline, inv *billing.Invoice, paid, failed, canceled bool) {
	switch {
	case paid && d.kind == kindDunningRetry:
		d.item.Outcome, d.item.Detail = "recovered", "The retry paid the outstanding invoice."
	case paid || inv.Status == billing.InvoicePaid:
		d.item.Outcome, d.item.Detail = "paid", "The invoice was paid."
	case failed:
		d.declined = true
		d.item.Status, d.item.Outcome = itemFailed, "payment_failed"
		d.item.Error = "The payment was declined."
		if d.kind == kindDunningRetry {
			d.item.Outcome = "retry_failed"
		}
		if canceled || inv.Status == billing.InvoiceUncollectible {
			d.item.Outcome, d.item.Detail = "dunning_exhausted", "Every retry failed: the subscription was canceled."
		}
	}
}

// customerName is how run items name a customer: its full name, else its
// email.
func customerName(l *clockwork.Ledger, id string) string {
	c, err := l.Customer(id)
	switch {
	case err != nil:
		return ""
	case c.Name != "":
		return c.Name
	}
	return c.Email
}

// ObserveTask sees each task the runtime applies on the organization's
// clock: it counts it for a process-billing request under way, or makes
// it an item of the run under way.
func (s *Surface) ObserveTask(l *clockwork.Ledger, t billing.Task, events []billing.Event) error {
	if t.Clock != orgClockID {
		return nil
	}
	if v, ok := s.tallies.Load(l); ok {
		d, ok, err := classify(l, t, events)
		if ok && err == nil {
			v.(*billingTally).add(d)
		}
		return err
	}
	run, err := activeRun(l)
	if err != nil || run == nil {
		return err
	}
	d, ok, err := classify(l, t, events)
	if err != nil {
		return err
	}
	if run.Status == runPending {
		run.Status = runRunning
	}
	if ok {
		if err := addItem(l, run, d); err != nil {
			return err
		}
	}
	return putActiveRun(l, run)
}

// addItem files deadline d in run: a new item, or the billing cycle of
// the invoice it collected.
func addItem(l *clockwork.Ledger, run *runRecord, d deadline) error {
	items, err := l.Collection(runItemsCollection)
	if err != nil {
		return err
	}
	if d.update && d.item.InvoiceID != "" {
		key, err := lookup(l, runInvoiceIndex, run.ID+"/"+d.item.InvoiceID)
		if err != nil {
			return err
		}
		if key != "" {
			var it itemObject
			raw, err := items.Get(key)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(raw, &it); err != nil {
				return err
			}
			if it.Status != itemRunning {
				return nil
			}
			it.Status, it.Outcome, it.Detail = d.item.Status, strPtr(d.item.Outcome), strPtr(d.item.Detail)
			it.Error, it.InvoiceNumber = strPtr(d.item.Error), strPtr(d.item.InvoiceNumber)
			countItem(run, it.Status)
			raw, err = json.Marshal(it)
			if err != nil {
				return err
			}
			return items.Put(key, run.Created, raw)
		}
	}
	key := itemKey(run.ID, run.Items)
	run.Items++
	d.item.Kind = d.kind
	countItem(run, d.item.Status)
	raw, err := json.Marshal(d.item.wire())
	if err != nil {
		return err
	}
	if err := items.Put(key, run.Created, raw); err != nil {
		return err
	}
	if d.item.Status == itemRunning && d.item.InvoiceID != "" {
		return file(l, runInvoiceIndex, run.ID+"/"+d.item.InvoiceID, key)
	}
	return nil
}

func countItem(run *runRecord, status string) {
	switch status {
	case itemCompleted:
		run.Completed++
	case itemFailed:
		run.Failed++
	}
}

// endRun ends the run under way as the clock's advance ends: completed
// when the clock is ready, failed when the advance failed.
func (s *Surface) endRun(l *clockwork.Ledger, ev billing.Event) error {
	c, ok := ev.Object.(*billing.Clock)
	if !ok || c.ID != orgClockID {
		return nil
	}
	run, err := activeRun(l)
	if err != nil || run == nil {
		return err
	}
	run.Status, run.FinishedAt = runCompleted, l.Wall()
	if ev.Type == billing.EventClockInternalFailure {
		run.Status, run.Error = runFailed, "The run could not be processed; the test clock stays where it was before the failed deadline."
	}
	if err := l.Put(runsCollection, run.ID, run.Created, run); err != nil {
		return err
	}
	return putRunState(l, runPointer{Latest: run.ID})
}

// runObject is a test_clock_run on the wire.
type runObject struct {
	ID                     string            `json:"id"`
	Object                 string            `json:"object"`
	Livemode               bool              `json:"livemode"`
	Status                 string            `json:"status"`
	StartedAtTime          string            `json:"startedAtTime"`
	TargetTime             string            `json:"targetTime"`
	EstimatedDeadlineCount int64             `json:"estimatedDeadlineCount"`
	CompletedDeadlineCount int64             `json:"completedDeadlineCount"`
	FailedDeadlineCount    int64             `json:"failedDeadlineCount"`
	Error                  *string           `json:"error"`
	Items                  []json.RawMessage `json:"items"`
	CreatedAt              string            `json:"createdAt"`
	CompletedAt            *string           `json:"completedAt"`
}

type itemObject struct {
	Kind           string  `json:"kind"`
	Status         string  `json:"status"`
	DueAt          string  `json:"dueAt"`
	SubscriptionID *string `json:"subscriptionId"`
	CustomerName   *string `json:"customerName"`
	InvoiceNumber  *string `json:"invoiceNumber"`
	InvoiceID      *string `json:"invoiceId"`
	Outcome        *string `json:"outcome"`
	Detail         *string `json:"detail"`
	Error          *string `json:"error"`
}

// itemsField is how json.Marshal encodes an empty items field of a
// runObject, with the keys around it.
const itemsField = `,"items":[],"createdAt":`

// encodeJSON encodes the run as json.Marshal does, faster: its items,
// thousands in a long run, are stored as json.Marshal encoded them, and
// are copied in as they are instead of being checked and compacted again
// (which was most of the cost of showing a finished run).
func (o *runObject) encodeJSON() ([]byte, error) {
	shell := *o
	shell.Items = []json.RawMessage{}
	raw, err := json.Marshal(&shell)
	if err != nil {
		return nil, err
	}
	at := bytes.Index(raw, []byte(itemsField))
	if at < 0 {
		return nil, fmt.Errorf("encode run %s: no items field", o.ID)
	}
	at += len(`,"items":[`)
	size := len(raw)
	for _, it := range o.Items {
		size += len(it) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, raw[:at]...)
	for i, it := range o.Items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, it...)
	}
	return append(out, raw[at:]...), nil
}

func renderRun(l *clockwork.Ledger, r *runRecord) (*runObject, error) {
	o := &runObject{ID: r.ID, Object: "test_clock_run", Status: r.Status, StartedAtTime: iso(r.StartedAt),
		TargetTime: iso(r.Target), EstimatedDeadlineCount: max(r.Estimated, int64(r.Items)),
		CompletedDeadlineCount: r.Completed, FailedDeadlineCount: r.Failed, Error: strPtr(r.Error),
		Items: make([]json.RawMessage, 0, r.Items), CreatedAt: iso(r.Created), CompletedAt: isoPtr(r.FinishedAt)}
	items, err := l.Collection(runItemsCollection)
	if err != nil {
		return nil, err
	}
	for seq := range r.Items {
		raw, err := items.Get(itemKey(r.ID, seq))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		o.Items = append(o.Items, append(json.RawMessage(nil), raw...))
	}
	return o, nil
}

// estimateDeadlines counts the billing deadlines an advance to target will
// meet, as far as they are known now: each live subscription's period
// ends, and the retries still due of invoices being retried.
func estimateDeadlines(l *clockwork.Ledger, from, target int64) (int64, error) {
	policy, err := l.Policy()
	if err != nil {
		return 0, err
	}
	var n int64
	err = l.SubscriptionsOnClock(orgClockID, func(sub *billing.Subscription) error {
		if sub.Ended() || sub.Status == billing.StatusIncomplete {
			return nil
		}
		for k, end := sub.PeriodIndex, sub.PeriodEnd; end <= target && k < sub.PeriodIndex+10000; k++ {
			if end > from || end == sub.PeriodEnd {
				n++
			}
			if sub.CancelAtPeriodEnd {
				break
			}
			end = sub.Interval.Nth(sub.BillingCycleAnchor, k+1)
		}
		if sub.Status == billing.StatusPastDue && sub.LatestInvoice != "" {
			inv, err := l.Invoice(sub.LatestInvoice)
			if err != nil {
				return nil
			}
			for i := max(inv.AttemptCount-1, 0); i < len(policy.RetryAfter); i++ {
				if at := inv.FirstFailureAt + policy.RetryAfter[i]; at > from && at <= target {
					n++
				}
			}
		}
		return nil
	})
	return n, err
}

// billingTally counts what a process-billing request ran.
type billingTally struct {
	customers map[string]bool
	cycles    int64
	failed    int64
	retried   int64
	retryFail int64
}

func (t *billingTally) add(d deadline) {
	switch {
	case d.kind == kindDunningRetry:
		t.retried++
		if d.declined {
			t.retryFail++
		}
	case d.update:
		if d.declined {
			t.failed++
		}
	default:
		t.cycles++
		if d.customer != "" {
			t.customers[d.customer] = true
		}
		if d.declined {
			t.failed++
		}
	}
}
