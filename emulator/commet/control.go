package commet

import (
	"encoding/json"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves the runtime's control routes for Commet keys: the
// organization's dunning settings, webhook delivery attempts, the clock's
// progress and failure injection.

// settingsObject is the organization's dunning settings.
type settingsObject struct {
	Object             string  `json:"object"`
	RetryDays          []int64 `json:"retryDays"`
	SubscriptionAction string  `json:"subscriptionAction"`
	InvoiceAction      string  `json:"invoiceAction"`
	Livemode           bool    `json:"livemode"`
}

func renderSettings(p billing.DunningPolicy) *settingsObject {
	o := &settingsObject{Object: "billclock.settings", RetryDays: []int64{}, SubscriptionAction: string(p.SubscriptionAction),
		InvoiceAction: string(p.InvoiceAction)}
	for _, after := range p.RetryAfter {
		o.RetryDays = append(o.RetryDays, after/86400)
	}
	return o
}

func (s *Surface) getSettings(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	p, err := l.Policy()
	if err != nil {
		return nil, err
	}
	return renderSettings(p), nil
}

// updateSettings takes {"retryDays": [1, 3, 5, 7], "subscriptionAction":
// "cancel"|"past_due", "invoiceAction": "mark_uncollectible"|"leave_open"}:
// retry days are counted from the first failure, ascending, each from 1 to
// 60.
func (s *Surface) updateSettings(c *call, l *clockwork.Ledger) (any, error) {
	p, err := l.Policy()
	if err != nil {
		return nil, err
	}
	if v, ok := c.p.value("retryDays"); ok {
		arr, isArr := v.([]any)
		if !isArr || len(arr) > 10 {
			c.p.fail("retryDays", "Expected an array of at most 10 day counts.")
		} else {
			p.RetryAfter = nil
			prev := int64(0)
			for _, e := range arr {
				d, err := asInt(e, false)
				if err != nil || d <= prev || d > 60 {
					c.p.fail("retryDays", "Expected ascending day counts from 1 to 60.")
					break
				}
				prev = d
				p.RetryAfter = append(p.RetryAfter, d*86400)
			}
		}
	}
	if a, ok := c.p.str("subscriptionAction", 30); ok {
		switch billing.SubscriptionFinalAction(a) {
		case billing.FinalCancel, billing.FinalPastDue:
			p.SubscriptionAction = billing.SubscriptionFinalAction(a)
		default:
			c.p.fail("subscriptionAction", "Expected cancel or past_due.")
		}
	}
	if a, ok := c.p.str("invoiceAction", 30); ok {
		switch billing.InvoiceFinalAction(a) {
		case billing.InvoiceMarkUncollectible, billing.InvoiceLeaveOpen:
			p.InvoiceAction = billing.InvoiceFinalAction(a)
		default:
			c.p.fail("invoiceAction", "Expected mark_uncollectible or leave_open.")
		}
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if err := l.PutPolicy(p); err != nil {
		return nil, err
	}
	return renderSettings(p), nil
}

func (s *Surface) listWebhookAttempts(c *call, l *clockwork.Ledger) (any, error) {
	limit, cursor := pageOf(c.p)
	endpoint, _ := c.p.str("webhookId", maxText)
	event, _ := c.p.str("eventId", maxText)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	out := &listResult{}
	var last string
	hasMore, err := l.ListAttempts(clockwork.AttemptFilter{Endpoint: endpoint, Event: event},
		store.Page{Limit: limit, StartingAfter: cursor}, func(raw []byte) error {
			var a clockwork.Attempt
			if err := json.Unmarshal(raw, &a); err != nil {
				return err
			}
			last = a.ID
			out.Data = append(out.Data, a)
			return nil
		})
	if err != nil {
		return nil, err
	}
	out.HasMore = hasMore
	if hasMore {
		out.NextCursor = last
	}
	return out, nil
}

func (s *Surface) clockProgress(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	return l.Progress(c.vars["id"])
}

func (s *Surface) failNextAdvance(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if _, err := orgClock(l, c.now.Unix()); err != nil {
		return nil, err
	}
	if _, err := l.ArmAdvanceFailure(c.vars["id"]); err != nil {
		return nil, err
	}
	return s.clockView(c, l)
}
