package clockwork

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/billclock/billclock/store"
)

// WebhookOptions configure webhook delivery. Zero values mean defaults
// suited to tests: a first retry after a second, backoff doubling up to 30
// seconds, 5 attempts of at most 10 seconds each.
type WebhookOptions struct {
	// Attempts is how many times an event is tried on an endpoint before
	// it is given up.
	Attempts int
	// RetryDelay is the wait before the first retry; each later one
	// doubles, up to MaxRetryDelay.
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// Timeout bounds one attempt, connection included.
	Timeout time.Duration
}

func (o WebhookOptions) withDefaults() WebhookOptions {
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 30 * time.Second
	}
	if o.MaxRetryDelay < o.RetryDelay {
		o.MaxRetryDelay = o.RetryDelay
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return o
}

// backoff is the wait after the n-th failed attempt (n ≥ 1).
func (o WebhookOptions) backoff(n int) time.Duration {
	d := o.RetryDelay
	for i := 1; i < n && d < o.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, o.MaxRetryDelay)
}

// deliveryQueue holds pending deliveries, one FIFO per (account, endpoint):
// an event is sent to an endpoint only once the one before it to that
// endpoint has succeeded or been given up.
const deliveryQueue = "webhook_deliveries"

type deliveryJob struct {
	jobAccount
	Endpoint string `json:"endpoint"`
	Event    string `json:"event"`
	Attempts int    `json:"attempts"`
	// NextAttempt is the wall time (Unix nanoseconds) of the next try.
	NextAttempt int64 `json:"next_attempt"`
}

func deliveryGroup(account, endpoint string) string { return account + "\x00" + endpoint }

// Attempt records one try to deliver an event to an endpoint: the
// records of GET /_billclock/webhook_attempts, the same for every dialect.
type Attempt struct {
	ID              string `json:"id"`
	Object          string `json:"object"`
	WebhookEndpoint string `json:"webhook_endpoint"`
	Event           string `json:"event"`
	EventType       string `json:"event_type"`
	Attempt         int    `json:"attempt"`
	Created         int64  `json:"created"`
	URL             string `json:"url"`
	StatusCode      int    `json:"status_code,omitempty"`
	LatencyMS       int64  `json:"latency_ms"`
	Error           string `json:"error,omitempty"`
	// Outcome is succeeded, retrying or failed (given up).
	Outcome string `json:"outcome"`
}

// queueDeliveries queues event id of type typ for endpoint only, or if
// only is "", for every endpoint of the ledger's account that wants it,
// and returns how many it queued.
func (l *Ledger) queueDeliveries(id, typ string, only string) (int, error) {
	endpoints, err := l.Endpoints()
	if err != nil || len(endpoints) == 0 {
		return 0, err
	}
	q, err := l.tx.Queue(deliveryQueue)
	if err != nil {
		return 0, err
	}
	n := 0
	now := l.rt.now().UnixNano()
	for _, we := range endpoints {
		if only != "" && we.ID != only || only == "" && !we.Wants(typ) {
			continue
		}
		raw, err := json.Marshal(deliveryJob{jobAccount: newJobAccount(l.account), Endpoint: we.ID, Event: id, NextAttempt: now})
		if err != nil {
			return 0, err
		}
		if _, err := q.Append(deliveryGroup(l.account, we.ID), raw); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// deliverer sends queued events to webhook endpoints in the background.
type deliverer struct {
	*dueWork
	rt     *Runtime
	opts   WebhookOptions
	client *http.Client

	mu sync.Mutex
	// unrecorded holds, by queue key, the attempts that were made but
	// whose outcome could not be stored (a full disk): the next run of
	// the endpoint's job stores the outcome instead of sending again. It
	// lives in memory only, so a restart before the outcome is stored
	// sends the event once more.
	unrecorded map[string]unrecordedAttempt
}

// unrecordedAttempt is an attempt made and not yet stored, with the job as
// it stood after the attempt.
type unrecordedAttempt struct {
	job deliveryJob
	att *Attempt
}

// newDeliverer returns a deliverer with no bound on the endpoints it
// delivers to at once: each endpoint has at most one delivery (so one
// connection) in flight, and an endpoint that hangs until the timeout holds
// up nothing but its own queue. A shared pool of slots would let a few
// dozen hanging endpoints delay every other account's webhooks.
func newDeliverer(rt *Runtime, opts WebhookOptions) *deliverer {
	opts = opts.withDefaults()
	client := &http.Client{Timeout: opts.Timeout, Transport: http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // providers do not follow redirects
		}}
	d := &deliverer{rt: rt, opts: opts, client: client, unrecorded: map[string]unrecordedAttempt{}}
	d.dueWork = newDueWork("webhook delivery", 0, rt.log, rt.now, d.scan)
	return d
}

// run delivers until ctx ends, then closes the idle connections.
func (d *deliverer) run(ctx context.Context) error {
	defer d.client.CloseIdleConnections()
	return d.dueWork.run(ctx)
}

// scan finds, for every endpoint, the event at the head of its queue if it
// is due, and when the next one falls due.
func (d *deliverer) scan(now time.Time) ([]dueJob, time.Duration, error) {
	var due []dueJob
	next := time.Duration(-1)
	err := d.rt.db.View(func(tx *store.Tx) error {
		q, err := tx.Queue(deliveryQueue)
		if err != nil {
			return err
		}
		return q.Heads(func(group, key string, raw []byte) error {
			var job deliveryJob
			if err := json.Unmarshal(raw, &job); err != nil {
				return fmt.Errorf("decode delivery: %w", err)
			}
			if wait := time.Unix(0, job.NextAttempt).Sub(now); wait > 0 {
				if next < 0 || wait < next {
					next = wait
				}
				return nil
			}
			account := job.account()
			due = append(due, dueJob{key: group, attrs: []any{"endpoint", job.Endpoint, "account", AccountLabel(account)},
				secret: account, run: func(ctx context.Context) error { return d.deliver(ctx, group, key) }})
			return nil
		})
	})
	return due, next, err
}

// deliver makes one attempt at the queue entry key, the head of group when
// scanned, and records its outcome. A scan's findings may be stale by the
// time its job runs (another job of the group may have delivered that head
// and cleared the group's busy mark meanwhile), so the entry is read again
// here: if it is no longer the head, or no longer due, there is nothing to
// do.
func (d *deliverer) deliver(ctx context.Context, group, key string) error {
	d.mu.Lock()
	u, made := d.unrecorded[key]
	d.mu.Unlock()
	if made {
		return d.record(key, u)
	}
	var job deliveryJob
	var we *Endpoint
	var dialect Dialect
	var body []byte
	stale := false
	err := d.rt.db.View(func(tx *store.Tx) error {
		q, err := tx.Queue(deliveryQueue)
		if err != nil {
			return err
		}
		head, raw, err := q.Head(group)
		if errors.Is(err, store.ErrNotFound) || err == nil && head != key {
			stale = true
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &job); err != nil {
			return fmt.Errorf("decode delivery: %w", err)
		}
		if time.Unix(0, job.NextAttempt).After(d.rt.now()) {
			stale = true // failed meanwhile and waits for its retry
			return nil
		}
		l, err := d.rt.backgroundLedger(tx, job.account())
		if err != nil {
			return err
		}
		dialect = l.d
		if we, err = l.Endpoint(job.Endpoint); err != nil {
			we = nil
			return nil
		}
		events, err := l.Collection(EventsCollection)
		if err != nil {
			return err
		}
		ev, err := events.Get(job.Event)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		body = bytes.Clone(ev)
		return nil
	})
	if err != nil || stale {
		return err
	}
	if we == nil || we.Disabled || body == nil {
		// The endpoint or event is gone, or the endpoint was disabled:
		// nothing to send.
		return d.finish(key, job, nil)
	}
	typ, _, err := dialect.EventHead(body)
	if err != nil {
		return err
	}
	sent := d.rt.now()
	body, header, err := dialect.FormatDelivery(we, body, sent)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, we.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	start := time.Now()
	resp, err := d.client.Do(req)
	latency := time.Since(start)
	if ctx.Err() != nil {
		return nil // shutting down: the attempt does not count
	}
	job.Attempts++
	att := &Attempt{Object: "webhook_attempt", WebhookEndpoint: we.ID, Event: job.Event, EventType: typ,
		Attempt: job.Attempts, Created: sent.Unix(), URL: we.URL, LatencyMS: latency.Milliseconds()}
	if err != nil {
		att.Error = err.Error()
	} else {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		att.StatusCode = resp.StatusCode
		if resp.StatusCode/100 != 2 {
			att.Error = "HTTP " + resp.Status
		}
	}
	return d.record(key, unrecordedAttempt{job: job, att: att})
}

// record stores the outcome of an attempt made, or keeps it in memory for
// the next try if it cannot be stored.
func (d *deliverer) record(key string, u unrecordedAttempt) error {
	err := d.finish(key, u.job, u.att)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.unrecorded[key] = u
		return fmt.Errorf("store the outcome of a delivery: %w", err)
	}
	delete(d.unrecorded, key)
	return nil
}

// finish records an attempt (nil: the delivery was dropped) and moves the
// queue on: success and the last failure remove the job, other failures
// put it back for a later retry.
func (d *deliverer) finish(key string, job deliveryJob, att *Attempt) error {
	return d.rt.db.Batch(func(tx *store.Tx) error {
		q, err := tx.Queue(deliveryQueue)
		if err != nil {
			return err
		}
		if _, err := q.Get(key); errors.Is(err, store.ErrNotFound) {
			return nil
		}
		done := true
		if att != nil {
			switch {
			case att.Error == "":
				att.Outcome = "succeeded"
			case job.Attempts >= d.opts.Attempts:
				att.Outcome = "failed"
			default:
				att.Outcome, done = "retrying", false
			}
			if err := d.recordAttempt(tx, job.account(), att); err != nil {
				return err
			}
		}
		if !done {
			job.NextAttempt = d.rt.now().Add(d.opts.backoff(job.Attempts)).UnixNano()
			raw, err := json.Marshal(job)
			if err != nil {
				return err
			}
			return q.Put(key, raw)
		}
		if err := q.Delete(key); err != nil {
			return err
		}
		l, err := d.rt.backgroundLedger(tx, job.account())
		if err != nil {
			return err
		}
		return l.adjustPending(job.Event, -1)
	})
}

func (d *deliverer) recordAttempt(tx *store.Tx, account string, att *Attempt) error {
	acct, err := tx.Account(account)
	if err != nil {
		return err
	}
	coll, err := acct.Collection(AttemptsCollection)
	if err != nil {
		return err
	}
	att.ID = NewID("wha_", 24)
	raw, err := json.Marshal(att)
	if err != nil {
		return err
	}
	// Stamped with the wall time, which retention goes by.
	return coll.AppendGrouped(att.ID, att.Created, raw, 0, attemptGroups(att)...)
}

// attemptGroups are the groups of a webhook attempt, one per filter of
// listWebhookAttempts.
func attemptGroups(att *Attempt) []string {
	return []string{"endpoint:" + att.WebhookEndpoint, "event:" + att.Event}
}

// adjustPending changes by delta the count of endpoints event id is still
// to be delivered to, for a dialect whose events show it (PendingCounter).
func (l *Ledger) adjustPending(id string, delta int) error {
	pc, ok := l.d.(PendingCounter)
	if !ok || delta == 0 {
		return nil
	}
	events, err := l.Collection(EventsCollection)
	if err != nil {
		return err
	}
	raw, err := events.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	out, err := pc.AdjustPending(raw, delta)
	if err != nil {
		return err
	}
	return events.Put(id, 0, out)
}

// AttemptFilter selects webhook attempts for ListAttempts; empty fields
// select all.
type AttemptFilter struct {
	Endpoint string
	Event    string
}

// ListAttempts emits one page of the account's webhook delivery attempts
// that f selects, newest first, as stored (JSON Attempts); hasMore reports
// whether more follow. A cursor that names no attempt is
// store.ErrNotFound.
func (l *Ledger) ListAttempts(f AttemptFilter, pg store.Page, emit func(stored []byte) error) (hasMore bool, err error) {
	coll, err := l.Collection(AttemptsCollection)
	if err != nil {
		return false, err
	}
	match := func(raw []byte) (bool, error) {
		var a Attempt
		if err := json.Unmarshal(raw, &a); err != nil {
			return false, err
		}
		return (f.Endpoint == "" || a.WebhookEndpoint == f.Endpoint) && (f.Event == "" || a.Event == f.Event), nil
	}
	if f.Endpoint == "" && f.Event == "" || !GroupsReady(l.tx) {
		return coll.List(pg, match, emit)
	}
	// Walk the event's attempts (the smaller group), or the endpoint's.
	q := store.Query{Groups: []string{"endpoint:" + f.Endpoint}}
	if f.Event != "" {
		q = store.Query{Groups: []string{"event:" + f.Event}, Match: match}
	}
	return coll.ListGroups(q, pg, emit)
}

// DeliverDue makes one attempt at every webhook delivery due now, again
// until none is due, and returns how many attempts it made: what the
// background deliverer does, at once, for tests that step wall time.
func (rt *Runtime) DeliverDue(ctx context.Context) (int, error) {
	n := 0
	for {
		due, _, err := rt.deliverer.scan(rt.now())
		if err != nil || len(due) == 0 {
			return n, err
		}
		for _, job := range due {
			if err := job.run(ctx); err != nil {
				return n, err
			}
			n++
		}
	}
}
