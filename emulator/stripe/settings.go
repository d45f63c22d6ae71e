package stripe

import (
	"strconv"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// Bounds of the settings a request may set. Stripe's Dashboard offers Smart
// Retries within at most two months, and a custom schedule of a few retries,
// each some days after the attempt before; billclock allows more retries
// (tests like long schedules) but keeps each delay within two months.
const (
	maxRetryCount          = 12
	maxRetryDays           = 60
	maxUpcomingInvoiceDays = 60
	daySeconds             = 86400
)

// settingsObject is an account's settings on the wire: a billclock object
// (Stripe keeps these in its Dashboard, under Billing > Revenue recovery).
type settingsObject struct {
	Object string `json:"object"`
	// RetryDays are the retries of a failed invoice payment, each in days
	// after the attempt before it.
	RetryDays []int64 `json:"retry_days"`
	// SubscriptionAction and InvoiceAction apply when the last retry fails.
	SubscriptionAction  string `json:"subscription_action"`
	InvoiceAction       string `json:"invoice_action"`
	UpcomingInvoiceDays int64  `json:"upcoming_invoice_days"`
}

// renderSettings turns the engine's policy (retries as offsets from the
// first failure, in seconds) into the days between attempts that users set.
func renderSettings(p billing.DunningPolicy) *settingsObject {
	o := &settingsObject{Object: "billclock.settings", RetryDays: []int64{}, SubscriptionAction: string(p.SubscriptionAction),
		InvoiceAction: string(p.InvoiceAction), UpcomingInvoiceDays: p.UpcomingNotice / daySeconds}
	var prev int64
	for _, at := range p.RetryAfter {
		o.RetryDays = append(o.RetryDays, (at-prev)/daySeconds)
		prev = at
	}
	return o
}

// getSettings serves GET /_billclock/settings: the account's settings, or
// the defaults if it never set any.
func (s *Surface) getSettings(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	p, err := l.Policy()
	if err != nil {
		return nil, err
	}
	return renderSettings(p), nil
}

// updateSettings serves POST /_billclock/settings: it changes the settings
// sent and leaves the others as they are.
//
//   - retry_days: days after the attempt before, as retry_days=1,3,5 or
//     retry_days[]=1&retry_days[]=3; empty (retry_days=) means no retries.
//   - subscription_action: cancel, unpaid or past_due.
//   - invoice_action: leave_open or mark_uncollectible.
//   - upcoming_invoice_days: 0 (no notice) to 60.
func (s *Surface) updateSettings(c *call, tx *store.Tx) (any, error) {
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	p, err := l.Policy()
	if err != nil {
		return nil, err
	}
	if days, ok := retryDays(c.p); ok {
		p.RetryAfter = nil
		var at int64
		for _, d := range days {
			at += d * daySeconds
			p.RetryAfter = append(p.RetryAfter, at)
		}
	}
	c.p.cannotUnset("subscription_action")
	if v, ok := c.p.enum("subscription_action", string(billing.FinalCancel), string(billing.FinalUnpaid), string(billing.FinalPastDue)); ok {
		p.SubscriptionAction = billing.SubscriptionFinalAction(v)
	}
	c.p.cannotUnset("invoice_action")
	if v, ok := c.p.enum("invoice_action", string(billing.InvoiceLeaveOpen), string(billing.InvoiceMarkUncollectible)); ok {
		p.InvoiceAction = billing.InvoiceFinalAction(v)
	}
	c.p.cannotUnset("upcoming_invoice_days")
	if n, ok := c.p.int64("upcoming_invoice_days"); ok {
		if n < 0 || n > maxUpcomingInvoiceDays {
			c.p.fail(invalid("upcoming_invoice_days", "Invalid upcoming_invoice_days: must be between 0 (no notice) and %d days; got %d.",
				maxUpcomingInvoiceDays, n))
		}
		p.UpcomingNotice = n * daySeconds
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if err := l.PutPolicy(p); err != nil {
		return nil, err
	}
	return renderSettings(p), nil
}

// retryDays reads retry_days, a list of days sent as a comma-separated
// value or as an array. ok is false when it was not sent; an empty value
// is an empty schedule. Problems are recorded on p.
func retryDays(p *params) (days []int64, ok bool) {
	n := p.form.lookup("retry_days")
	raw := p.strings("retry_days")
	if n == nil {
		return nil, false
	}
	if v, leaf := n.leafValue(); leaf && v != "" {
		raw = strings.Split(v, ",")
	}
	if len(raw) > maxRetryCount {
		p.fail(invalid("retry_days", "Invalid retry_days: at most %d retries; got %d.", maxRetryCount, len(raw)))
		return nil, false
	}
	for _, v := range raw {
		v = strings.TrimSpace(v)
		d, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			p.fail(errInvalidInteger("retry_days", v))
			return nil, false
		}
		if d < 1 || d > maxRetryDays {
			p.fail(invalid("retry_days", "Invalid retry_days: each retry must come 1 to %d days after the attempt before it; got %d.",
				maxRetryDays, d))
			return nil, false
		}
		days = append(days, d)
	}
	return days, true
}
