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

const attemptsCollection = "webhook_attempts"

// maxParallelDeliveries bounds the endpoints delivered to at once.
const maxParallelDeliveries = 16

type deliveryJob struct {
	Account  string `json:"account"`
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
		raw, err := json.Marshal(deliveryJob{Account: l.account, Endpoint: we.ID, Event: id, NextAttempt: now})
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
}

func newDeliverer(s *Surface, opts WebhookOptions) *deliverer {
	opts = opts.withDefaults()
	d := &deliverer{s: s, opts: opts, client: &http.Client{Timeout: opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // Stripe does not follow redirects
		}}}
	d.dueWork = newDueWork("webhook delivery", maxParallelDeliveries, s.log, s.now, d.scan)
	return d
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
			due = append(due, dueJob{key: group, run: func(ctx context.Context) error {
				return d.deliver(ctx, key, job)
			}})
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

// deliver makes one attempt at the head of an endpoint's queue and records
// its outcome. A job found by a scan made before an earlier attempt of it
// committed is stale (done, or put back for a later retry): it is dropped
// unsent.
func (d *deliverer) deliver(ctx context.Context, key string, job deliveryJob) error {
	var we *webhookEndpoint
	var body []byte
	stale := false
	err := d.s.db.View(func(tx *store.Tx) error {
		q, err := tx.Queue(deliveryQueue)
		if err != nil {
			return err
		}
		raw, err := q.Get(key)
		if errors.Is(err, store.ErrNotFound) {
			stale = true
			return nil
		}
		if err != nil {
			return err
		}
		var current deliveryJob
		if err := json.Unmarshal(raw, &current); err != nil {
			return fmt.Errorf("decode delivery: %w", err)
		}
		if current != job {
			stale = true
			return nil
		}
		coll, err := accountWebhooks(tx, job.Account)
		if err != nil {
			return err
		}
		if we, err = loadWebhookEndpoint(coll, job.Endpoint); err != nil {
			we = nil
			return nil
		}
		events, err := accountEvents(tx, job.Account)
		if err != nil {
			return err
		}
		stored, err := events.Get(job.Event)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		body = bytes.Clone(stored)
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
	return d.finish(key, job, att)
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
			if err := d.recordAttempt(tx, job.Account, att); err != nil {
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
		return adjustPendingWebhooks(tx, job.Account, job.Event, -1)
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
	att.ID = newID("wha_", 24)
	raw, err := json.Marshal(att)
	if err != nil {
		return err
	}
	return coll.Put(att.ID, 0, raw)
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
	return listCollection(coll, pg, "/_billclock/webhook_attempts", "webhook attempt", match, func(raw []byte) (json.RawMessage, error) {
		return append(json.RawMessage(nil), raw...), nil
	})
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
