package commet

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves webhook endpoints (/webhooks) and their test delivery.
// Events reach endpoints through the runtime's outbox, in Commet's
// envelope, signed with X-Commet-Signature (dialect.go).

type webhookObject struct {
	ID          string   `json:"id"`
	Object      string   `json:"object"`
	Livemode    bool     `json:"livemode"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description *string  `json:"description"`
	IsActive    bool     `json:"isActive"`
	APIVersion  *string  `json:"apiVersion"`
	CreatedAt   string   `json:"createdAt"`
	SecretKey   string   `json:"secretKey,omitempty"`
}

func renderWebhook(ep *clockwork.Endpoint, withSecret bool) *webhookObject {
	o := &webhookObject{ID: ep.ID, Object: "webhook", URL: ep.URL, Events: ep.EnabledEvents,
		Description: strPtr(ep.Description), IsActive: !ep.Disabled, APIVersion: strPtr(ep.APIVersion),
		CreatedAt: iso(ep.Created)}
	if withSecret {
		o.SecretKey = ep.Secret
	}
	return o
}

// webhookParams reads the fields of a create or update into ep.
func webhookParams(p *params, ep *clockwork.Endpoint, create bool) {
	if u, ok := p.str("url", 2000); ok {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			p.fail("url", "Expected an http:// or https:// URL.")
		}
		ep.URL = u
	} else if create && !p.failed("url") {
		p.fail("url", "Required.")
	}
	if events, ok := p.strs("events", 100); ok {
		if len(events) == 0 {
			p.fail("events", "Give at least one event.")
		}
		for _, e := range events {
			if e != "*" && !eventTypes[e] {
				p.fail("events", "Unknown event: %s.", e)
				break
			}
		}
		ep.EnabledEvents = events
	} else if create && !p.failed("events") {
		p.fail("events", "Required.")
	}
	if _, ok := p.fields["description"]; ok && p.fields["description"] == nil {
		ep.Description = ""
	} else if d, ok := p.str("description", maxText); ok {
		ep.Description = d
	}
	if v, ok := p.str("apiVersion", 20); ok {
		if v != LegacyVersion && v != bareVersion && v != CurrentVersion {
			p.fail("apiVersion", "Expected one of %s, %s, %s.", LegacyVersion, bareVersion, CurrentVersion)
		}
		ep.APIVersion = v
	}
}

func (s *Surface) createWebhook(c *call, l *clockwork.Ledger) (any, error) {
	ep := &clockwork.Endpoint{ID: s.NewID("wh_"), Created: c.now.Unix(), APIVersion: CurrentVersion,
		Secret: clockwork.NewSecret("whsec_", 32)}
	webhookParams(c.p, ep, true)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if err := l.PutEndpoint(ep); err != nil {
		return nil, err
	}
	c.status = http.StatusCreated
	return renderWebhook(ep, true), nil
}

func (s *Surface) getWebhook(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	ep, err := l.Endpoint(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return renderWebhook(ep, false), nil
}

func (s *Surface) updateWebhook(c *call, l *clockwork.Ledger) (any, error) {
	ep, err := l.Endpoint(c.vars["id"])
	if err != nil {
		return nil, err
	}
	webhookParams(c.p, ep, false)
	active, hasActive := c.p.bool("isActive")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if hasActive {
		ep.Disabled = !active
	}
	if err := l.PutEndpoint(ep); err != nil {
		return nil, err
	}
	c.after = append(c.after, s.rt.WakeDeliverer)
	return renderWebhook(ep, false), nil
}

func (s *Surface) deleteWebhook(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if err := l.DeleteEndpoint(c.vars["id"]); err != nil {
		return nil, err
	}
	c.after = append(c.after, s.rt.WakeDeliverer)
	return map[string]any{"id": c.vars["id"], "deleted": true, "object": "webhook", "livemode": false}, nil
}

func (s *Surface) listWebhooks(c *call, l *clockwork.Ledger) (any, error) {
	limit, cursor := pageOf(c.p)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	coll, err := l.Collection(clockwork.EndpointsCollection)
	if err != nil {
		return nil, err
	}
	return listPage(coll, limit, cursor, nil, func(raw []byte) (any, error) {
		var ep clockwork.Endpoint
		if err := json.Unmarshal(raw, &ep); err != nil {
			return nil, err
		}
		return renderWebhook(&ep, false), nil
	})
}

// testTimeout bounds a test delivery.
const testTimeout = 10 * time.Second

// testWebhook serves POST /webhooks/{id}/test: a webhook.test event is
// sent to the endpoint at once, signed like every delivery, and the
// answer says whether it took it (a 2xx).
func (s *Surface) testWebhook(w http.ResponseWriter, r *http.Request) {
	c, err := s.begin(w, r)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	var ep *clockwork.Endpoint
	err = s.db.View(func(tx *store.Tx) error {
		l, err := s.ledger(tx, c)
		if err != nil {
			return err
		}
		ep, err = l.Endpoint(c.vars["id"])
		return err
	})
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	id := clockwork.NewID("whdel_", 20)
	data := mustJSON(map[string]any{"webhookId": ep.ID, "deliveryId": id, "message": "This is a test event from billclock."})
	version := ep.APIVersion
	if version == "" {
		version = CurrentVersion
	}
	body := mustJSON(envelope{Event: "webhook.test", Timestamp: iso(c.now.Unix()), OrganizationID: organizationID(c.account),
		Mode: "sandbox", APIVersion: version, Data: data})
	ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	success, status := false, 0
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Commet-Signature", signature(ep.Secret, body))
		req.Header.Set("X-Commet-Event", "webhook.test")
		var resp *http.Response
		if resp, err = http.DefaultClient.Do(req); err == nil {
			status = resp.StatusCode
			success = status >= 200 && status < 300
			resp.Body.Close()
		}
	}
	out := map[string]any{"success": success, "deliveryId": id, "deliveredAt": iso(s.now().Unix()),
		"statusCode": status, "object": "webhook", "livemode": false}
	b, err := c.render(out)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
