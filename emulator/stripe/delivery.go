package stripe

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/billclock/billclock/emulator/clockwork"
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

const attemptsCollection = "webhook_attempts"

type deliveryJob struct {
	jobAccount
	Endpoint string `json:"endpoint"`
	Event    string `json:"event"`
	Attempts int    `json:"attempts"`
	// NextAttempt is the wall time (Unix nanoseconds) of the next try.
	NextAttempt int64 `json:"next_attempt"`
}

func deliveryGroup(account, endpoint string) string { return account + "\x00" + endpoint }

// webhookAttempt records one try to deliver an event to an endpoint.
type webhookAttempt struct {
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

// enqueueDeliveries queues event id of type typ for every endpoint of the
// ledger's account that wants it, and returns how many it queued.
func (l *ledger) enqueueDeliveries(id, typ string, only string) (int, error) {
	endpoints, err := l.webhookEndpoints()
	if err != nil || len(endpoints) == 0 {
		return 0, err
	}
	q, err := l.tx.Queue(deliveryQueue)
	if err != nil {
		return 0, err
	}
	n := 0
	now := l.s.now().UnixNano()
	for _, we := range endpoints {
		if only != "" && we.ID != only || only == "" && !we.wants(typ) {
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

// webhookEndpoints lists the account's endpoints, once per transaction.
func (l *ledger) webhookEndpoints() ([]*webhookEndpoint, error) {
	if l.endpoints != nil {
		return *l.endpoints, nil
	}
	coll, err := l.coll(webhookEndpointsCollection)
	if err != nil {
		return nil, err
	}
	var out []*webhookEndpoint
	err = coll.Each(func(_ string, raw []byte) error {
		var we webhookEndpoint
		if err := json.Unmarshal(raw, &we); err != nil {
			return err
		}
		out = append(out, &we)
		return nil
	})
	l.endpoints = &out
	return out, err
}

// deliverer sends queued events to webhook endpoints in the background.
type deliverer struct {
	*dueWork
	s      *Surface
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
	att *webhookAttempt
}

// newDeliverer returns a deliverer with no bound on the endpoints it
// delivers to at once: each endpoint has at most one delivery (so one
// connection) in flight, and an endpoint that hangs until the timeout holds
// up nothing but its own queue. A shared pool of slots would let a few
// dozen hanging endpoints delay every other account's webhooks.
func newDeliverer(s *Surface, opts WebhookOptions) *deliverer {
	opts = opts.withDefaults()
	client := &http.Client{Timeout: opts.Timeout, Transport: http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // Stripe does not follow redirects
		}}
	d := &deliverer{s: s, opts: opts, client: client, unrecorded: map[string]unrecordedAttempt{}}
	d.dueWork = newDueWork("webhook delivery", 0, s.log, s.now, d.scan)
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
	err := d.s.db.View(func(tx *store.Tx) error {
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
			due = append(due, dueJob{key: group, attrs: []any{"endpoint", job.Endpoint, "account", accountLabel(account)},
				secret: account, run: func(ctx context.Context) error { return d.deliver(ctx, group, key) }})
			return nil
		})
	})
	return due, next, err
}

// sign is Stripe's webhook signature header for body sent at t.
func sign(secret string, t int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", t)
	mac.Write(body)
	return "t=" + strconv.FormatInt(t, 10) + ",v1=" + hex.EncodeToString(mac.Sum(nil))
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
	var we *webhookEndpoint
	var body []byte
	stale := false
	err := d.s.db.View(func(tx *store.Tx) error {
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
		if time.Unix(0, job.NextAttempt).After(d.s.now()) {
			stale = true // failed meanwhile and waits for its retry
			return nil
		}
		coll, err := accountWebhooks(tx, job.account())
		if err != nil {
			return err
		}
		if we, err = loadWebhookEndpoint(coll, job.Endpoint); err != nil {
			we = nil
			return nil
		}
		events, err := accountEvents(tx, job.account())
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
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return err
	}
	if we.APIVersion != DefaultAPIVersion {
		body = bytes.Replace(body, []byte(`"api_version":"`+DefaultAPIVersion+`"`),
			[]byte(`"api_version":`+strconv.Quote(we.APIVersion)), 1)
	}

	sent := d.s.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, we.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", sign(we.Secret, sent.Unix(), body))
	start := time.Now()
	resp, err := d.client.Do(req)
	latency := time.Since(start)
	if ctx.Err() != nil {
		return nil // shutting down: the attempt does not count
	}
	job.Attempts++
	att := &webhookAttempt{Object: "webhook_attempt", WebhookEndpoint: we.ID, Event: job.Event, EventType: head.Type,
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
func (d *deliverer) finish(key string, job deliveryJob, att *webhookAttempt) error {
	return d.s.db.Batch(func(tx *store.Tx) error {
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
			job.NextAttempt = d.s.now().Add(d.opts.backoff(job.Attempts)).UnixNano()
			raw, err := json.Marshal(job)
			if err != nil {
				return err
			}
			return q.Put(key, raw)
		}
		if err := q.Delete(key); err != nil {
			return err
		}
		return adjustPendingWebhooks(tx, job.account(), job.Event, -1)
	})
}

func (d *deliverer) recordAttempt(tx *store.Tx, account string, att *webhookAttempt) error {
	acct, err := tx.Account(account)
	if err != nil {
		return err
	}
	coll, err := acct.Collection(attemptsCollection)
	if err != nil {
		return err
	}
	att.ID = clockwork.NewID("wha_", 24)
	raw, err := json.Marshal(att)
	if err != nil {
		return err
	}
	// Stamped with the wall time, which retention goes by.
	if err := coll.Append(att.ID, att.Created, raw); err != nil {
		return err
	}
	return coll.SetGroups(att.ID, 0, attemptGroups(att)...)
}

// attemptGroups are the groups of a webhook attempt, one per filter of
// listWebhookAttempts.
func attemptGroups(att *webhookAttempt) []string {
	return []string{"endpoint:" + att.WebhookEndpoint, "event:" + att.Event}
}

// adjustPendingWebhooks changes an event's pending_webhooks by delta.
func adjustPendingWebhooks(tx *store.Tx, account, id string, delta int) error {
	events, err := accountEvents(tx, account)
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
	var e eventObject
	if err := json.Unmarshal(raw, &e); err != nil {
		return err
	}
	e.PendingWebhooks = max(0, e.PendingWebhooks+delta)
	out, err := e.encode()
	if err != nil {
		return err
	}
	return events.Put(id, 0, out)
}

// listWebhookAttempts serves GET /_billclock/webhook_attempts: the
// delivery attempts of the account, newest first, optionally for one
// webhook_endpoint and/or event.
func (s *Surface) listWebhookAttempts(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	endpoint, _ := c.p.str("webhook_endpoint")
	event, _ := c.p.str("event")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	acct, err := tx.Account(c.account)
	if err != nil {
		return nil, err
	}
	coll, err := acct.Collection(attemptsCollection)
	if err != nil {
		return nil, err
	}
	match := func(raw []byte) (bool, error) {
		var a webhookAttempt
		if err := json.Unmarshal(raw, &a); err != nil {
			return false, err
		}
		return (endpoint == "" || a.WebhookEndpoint == endpoint) && (event == "" || a.Event == event), nil
	}
	const url, kind = "/_billclock/webhook_attempts", "webhook attempt"
	render := func(raw []byte) (json.RawMessage, error) { return append(json.RawMessage(nil), raw...), nil }
	if endpoint == "" && event == "" || !groupsReady(tx) {
		return listCollection(coll, pg, url, kind, match, render)
	}
	// Walk the event's attempts (the smaller group), or the endpoint's.
	q := store.Query{Groups: []string{"endpoint:" + endpoint}}
	if event != "" {
		q = store.Query{Groups: []string{"event:" + event}, Match: match}
	}
	return listGrouped(coll, q, pg, url, kind, render)
}

// retryEvent serves POST /v1/events/{id}/retry (the Stripe CLI's `events
// resend`): the event is queued again for webhook_endpoint, or for every
// endpoint that wants it.
func (s *Surface) retryEvent(c *call, tx *store.Tx) (any, error) {
	endpoint, _ := c.p.str("webhook_endpoint")
	c.p.bool("for_stripecli")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	events, err := l.coll(eventsCollection)
	if err != nil {
		return nil, err
	}
	raw, err := events.Get(c.vars["id"])
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSuch("event", c.vars["id"], "id")
	}
	if err != nil {
		return nil, err
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	if endpoint != "" {
		coll, err := l.coll(webhookEndpointsCollection)
		if err != nil {
			return nil, err
		}
		if _, err := loadWebhookEndpoint(coll, endpoint); err != nil {
			var missing *Error
			if !errors.As(err, &missing) {
				return nil, err
			}
			e := *missing
			e.Param = "webhook_endpoint"
			return nil, &e
		}
	}
	n, err := l.enqueueDeliveries(c.vars["id"], head.Type, endpoint)
	if err != nil {
		return nil, err
	}
	if err := adjustPendingWebhooks(tx, c.account, c.vars["id"], n); err != nil {
		return nil, err
	}
	raw, err = events.Get(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.Clone(raw)), nil
}
