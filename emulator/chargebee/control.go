package chargebee

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// The control routes, outside /api/v2: the runtime's (settings, failure
// injection, progress, webhook attempts) as a Chargebee key gets them, and
// the dialect's own webhook endpoints.

// WebhookEndpointsPath is the control route of a site's webhook
// endpoints: POST to add one (url; username and password for Basic
// authentication; event_types, comma-separated or a JSON array, all when
// omitted), GET to list them, DELETE .../{id} to remove one.
const WebhookEndpointsPath = "/_billclock/chargebee/webhook_endpoints"

// webhookEndpointObject is a webhook endpoint as the control route shows
// it: the password is never shown.
type webhookEndpointObject struct {
	ID          string   `json:"id"`
	Object      string   `json:"object"`
	URL         string   `json:"url"`
	Username    string   `json:"username,omitempty"`
	HasPassword bool     `json:"has_password"`
	EventTypes  []string `json:"event_types"`
	CreatedAt   int64    `json:"created_at"`
}

func renderEndpoint(ep *clockwork.Endpoint) *webhookEndpointObject {
	return &webhookEndpointObject{ID: ep.ID, Object: "webhook_endpoint", URL: ep.URL, Username: ep.Username,
		HasPassword: ep.Password != "", EventTypes: ep.EnabledEvents, CreatedAt: ep.Created}
}

// readEventTypes reads event_types: Chargebee's types, comma-separated
// or as a JSON array; "*" or none is every type.
func readEventTypes(p *params) []string {
	v, ok := p.text("event_types", 4000)
	if !ok {
		return []string{"*"}
	}
	var types []string
	if strings.HasPrefix(strings.TrimSpace(v), "[") {
		var err error
		if types, err = parseJSONArray("event_types", v); err != nil {
			p.fail(err.(*Error))
			return nil
		}
	} else {
		for _, t := range strings.Split(v, ",") {
			types = append(types, strings.TrimSpace(t))
		}
	}
	for _, t := range types {
		if t != "*" && !contains(eventTypes, t) {
			p.fail(errParam("event_types", fmt.Sprintf("unknown event type %q: billclock sends %s", truncate(t, 60), strings.Join(eventTypes, ", "))))
			return nil
		}
	}
	if len(types) == 0 {
		return []string{"*"}
	}
	return types
}

func (s *Surface) createWebhookEndpoint(c *call) (any, error) {
	u := c.p.required("url", 2000)
	if parsed, err := url.Parse(u); u != "" && (err != nil || parsed.Scheme != "http" && parsed.Scheme != "https" || parsed.Host == "") {
		c.p.fail(errParam("url", "invalid value, must be an http:// or https:// URL"))
	}
	user, _ := c.p.text("username", 255)
	pass, _ := c.p.text("password", 255)
	if strings.Contains(user, ":") {
		c.p.fail(errParam("username", "cannot contain a colon (Basic authentication)"))
	}
	if pass != "" && user == "" {
		c.p.fail(errRequired("username"))
	}
	types := readEventTypes(c.p)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	ep := &clockwork.Endpoint{ID: s.NewID("whv2_"), URL: u, APIVersion: "v2", EnabledEvents: types, Username: user,
		Password: pass, Created: c.now.Unix()}
	if err := c.l.PutEndpoint(ep); err != nil {
		return nil, err
	}
	return map[string]any{"webhook_endpoint": renderEndpoint(ep)}, nil
}

func (s *Surface) listWebhookEndpoints(c *call) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	eps, err := c.l.Endpoints()
	if err != nil {
		return nil, err
	}
	out := &listPage{List: []any{}}
	for _, ep := range eps {
		out.List = append(out.List, map[string]any{"webhook_endpoint": renderEndpoint(ep)})
	}
	return out, nil
}

func (s *Surface) deleteWebhookEndpoint(c *call) (any, error) {
	ep, err := c.l.Endpoint(c.vars["id"])
	if err != nil {
		return nil, err
	}
	if err := c.l.DeleteEndpoint(ep.ID); err != nil {
		return nil, err
	}
	return map[string]any{"webhook_endpoint": renderEndpoint(ep), "deleted": true}, nil
}

// listWebhookAttempts serves GET /_billclock/webhook_attempts: the site's
// delivery attempts, newest first, optionally of one webhook_endpoint or
// event.
func (s *Surface) listWebhookAttempts(c *call) (any, error) {
	endpoint, _ := c.p.text("webhook_endpoint", 200)
	event, _ := c.p.text("event", 200)
	limit, offset := c.p.page()
	if err := c.p.check(); err != nil {
		return nil, err
	}
	out := &listPage{List: []any{}}
	var last string
	more, err := c.l.ListAttempts(clockwork.AttemptFilter{Endpoint: endpoint, Event: event},
		store.Page{Limit: limit, StartingAfter: offset}, func(raw []byte) error {
			var a clockwork.Attempt
			if err := json.Unmarshal(raw, &a); err != nil {
				return err
			}
			out.List, last = append(out.List, map[string]any{"webhook_attempt": json.RawMessage(bytes.Clone(raw))}), a.ID
			return nil
		})
	if err != nil {
		return nil, err
	}
	if more {
		out.NextOffset = last
	}
	return out, nil
}

// Bounds of the dunning settings: Chargebee's dunning runs for at most a
// few weeks; billclock allows up to 12 retries within 60 days of the
// first failure.
const (
	maxRetries   = 12
	maxRetryDays = 60
)

// settingsObject is a site's dunning settings (Chargebee keeps them in
// its site settings, under Revenue Recovery).
type settingsObject struct {
	Object string `json:"object"`
	// RetryDays are the retries, in days after the first failed attempt.
	RetryDays []int64 `json:"retry_days"`
	// SubscriptionAction is what the last failure does to the
	// subscription: cancel (cancel_reason not_paid) or leave_active. The
	// invoice is not_paid either way.
	SubscriptionAction string `json:"subscription_action"`
}

// Subscription actions of the settings.
const (
	actionCancel      = "cancel"
	actionLeaveActive = "leave_active"
)

func renderSettings(p billing.DunningPolicy) *settingsObject {
	o := &settingsObject{Object: "billclock.chargebee_settings", RetryDays: []int64{}, SubscriptionAction: actionCancel}
	for _, at := range p.RetryAfter {
		o.RetryDays = append(o.RetryDays, at/86400)
	}
	if p.SubscriptionAction != billing.FinalCancel {
		o.SubscriptionAction = actionLeaveActive
	}
	return o
}

func (s *Surface) getSettings(c *call) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	p, err := c.l.Policy()
	if err != nil {
		return nil, err
	}
	return renderSettings(p), nil
}

// updateSettings serves POST /_billclock/settings: retry_days (days
// after the first failure, ascending, comma-separated: 1,4,7,8,9; empty
// for no retries) and subscription_action (cancel or leave_active).
func (s *Surface) updateSettings(c *call) (any, error) {
	p, err := c.l.Policy()
	if err != nil {
		return nil, err
	}
	if v, ok := c.p.str("retry_days"); ok {
		if days, err := parseRetryDays(v); err != nil {
			c.p.fail(err)
		} else {
			p.RetryAfter = nil
			for _, d := range days {
				p.RetryAfter = append(p.RetryAfter, d*86400)
			}
		}
	}
	if v, ok := c.p.enum("subscription_action", actionCancel, actionLeaveActive); ok {
		p.SubscriptionAction = billing.FinalCancel
		if v == actionLeaveActive {
			p.SubscriptionAction = billing.FinalLeaveAsIs
		}
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	p.InvoiceAction, p.StayActiveWhileRetrying, p.FinalizeDelay = billing.InvoiceMarkUncollectible, true, 0
	if err := c.l.PutPolicy(p); err != nil {
		return nil, err
	}
	return renderSettings(p), nil
}

// parseRetryDays reads a retry schedule: days after the first failure,
// comma-separated, each 1 to 60 and later than the one before.
func parseRetryDays(v string) ([]int64, *Error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxRetries {
		return nil, errParam("retry_days", fmt.Sprintf("at most %d retries", maxRetries))
	}
	var days []int64
	for _, part := range parts {
		d, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || d < 1 || d > maxRetryDays {
			return nil, errParam("retry_days", fmt.Sprintf("each retry is 1 to %d days after the first failure; got %q", maxRetryDays, truncate(part, 20)))
		}
		if len(days) > 0 && d <= days[len(days)-1] {
			return nil, errParam("retry_days", "the days after the first failure must go up: 1,4,7,8,9")
		}
		days = append(days, d)
	}
	return days, nil
}

// failNextTravel serves POST /_billclock/test_clocks/delorean/fail_next_advance:
// the site's next time travel (travel_forward or start_afresh) ends
// failed, with nothing of it applied.
func (s *Surface) failNextTravel(c *call) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if id := c.vars["id"]; id != machineID {
		return nil, errNotFound("time machine", id)
	}
	clock, err := c.l.ArmAdvanceFailure(machineID)
	if err != nil {
		return nil, err
	}
	_, site, err := c.machine()
	if err != nil {
		return nil, err
	}
	return map[string]any{"time_machine": renderTimeMachine(clock, site)}, nil
}

// travelProgress serves GET /_billclock/test_clocks/delorean/progress: how
// far the travel under way has got.
func (s *Surface) travelProgress(c *call) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if id := c.vars["id"]; id != machineID {
		return nil, errNotFound("time machine", id)
	}
	return c.l.Progress(machineID)
}
