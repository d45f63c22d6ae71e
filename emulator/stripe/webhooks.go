package stripe

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// webhookEndpointObject is a webhook endpoint on Stripe's wire.
type webhookEndpointObject struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	APIVersion    *string           `json:"api_version"`
	Application   *string           `json:"application"`
	Created       int64             `json:"created"`
	Description   *string           `json:"description"`
	EnabledEvents []string          `json:"enabled_events"`
	Livemode      bool              `json:"livemode"`
	Metadata      map[string]string `json:"metadata"`
	Secret        string            `json:"secret,omitempty"`
	Status        string            `json:"status"`
	URL           string            `json:"url"`
}

// renderWebhookEndpoint renders an endpoint; the secret is shown only when
// withSecret is set (in the create response, as at Stripe).
func renderWebhookEndpoint(we *clockwork.Endpoint, withSecret bool) *webhookEndpointObject {
	o := &webhookEndpointObject{ID: we.ID, Object: "webhook_endpoint", Created: we.Created,
		EnabledEvents: we.EnabledEvents, Metadata: metadata(we.Metadata), Status: "enabled", URL: we.URL,
		APIVersion: nullString(we.APIVersion), Description: nullString(we.Description)}
	if we.Disabled {
		o.Status = "disabled"
	}
	if withSecret {
		o.Secret = we.Secret
	}
	return o
}

// apiVersionPattern is the shape of a Stripe API version.
var apiVersionPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

// webhookParams reads the parameters shared by create and update.
func webhookParams(p *params, we *clockwork.Endpoint, create bool) {
	if u, ok := p.str("url"); ok {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			p.fail(invalid("url", "Invalid URL: %s. URLs must begin with http:// or https://.", u))
		}
		we.URL = u
	} else if create {
		p.fail(errMissing("url"))
	}
	if p.present("enabled_events") {
		events := p.strings("enabled_events")
		for _, e := range events {
			if e != "*" && !strings.Contains(e, ".") {
				p.fail(invalid("enabled_events", "Invalid event type: %s", e))
			}
		}
		if len(events) == 0 {
			p.fail(errMissing("enabled_events"))
		}
		we.EnabledEvents = events
	} else if create {
		p.fail(errMissing("enabled_events"))
	}
	if d := p.clearableText("description", maxDescription); d != nil {
		we.Description = *d
	}
	meta, cleared := p.metadata("metadata")
	we.Metadata = applyMetadata(we.Metadata, meta, cleared)
}

func (s *Surface) createWebhookEndpoint(c *call, tx *store.Tx) (any, error) {
	we := &clockwork.Endpoint{ID: clockwork.NewID("we_", 24), Created: c.now.Unix(), APIVersion: DefaultAPIVersion,
		Secret: clockwork.NewSecret("whsec_", 32)}
	webhookParams(c.p, we, true)
	if v, ok := c.p.str("api_version"); ok {
		if !apiVersionPattern.MatchString(v) {
			c.p.fail(invalid("api_version", "Invalid API version: %s", v))
		}
		we.APIVersion = v
	}
	c.p.bool("connect")
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if err := l.PutEndpoint(we); err != nil {
		return nil, err
	}
	return renderWebhookEndpoint(we, true), nil
}

func (s *Surface) retrieveWebhookEndpoint(c *call, tx *store.Tx) (any, error) {
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	_, we, err := openByID(s, c, tx, (*ledger).Endpoint)
	if err != nil {
		return nil, err
	}
	return renderWebhookEndpoint(we, false), nil
}

func (s *Surface) updateWebhookEndpoint(c *call, tx *store.Tx) (any, error) {
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	we, err := l.Endpoint(c.vars["id"])
	if err != nil {
		// Read the params anyway so an unknown one is reported first.
		webhookParams(c.p, &clockwork.Endpoint{}, false)
		c.p.bool("disabled")
		if _, perr := c.p.expansions(); perr != nil {
			return nil, perr
		}
		return nil, err
	}
	webhookParams(c.p, we, false)
	if d, ok := c.p.bool("disabled"); ok {
		we.Disabled = d
	}
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	if err := l.PutEndpoint(we); err != nil {
		return nil, err
	}
	c.after = append(c.after, s.rt.WakeDeliverer)
	return renderWebhookEndpoint(we, false), nil
}

func (s *Surface) deleteWebhookEndpoint(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if err := l.DeleteEndpoint(c.vars["id"]); err != nil {
		return nil, err
	}
	// Deliveries still queued for it are dropped by the deliverer.
	c.after = append(c.after, s.rt.WakeDeliverer)
	return renderDeleted(c.vars["id"], "webhook_endpoint"), nil
}

func (s *Surface) listWebhookEndpoints(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	_, coll, err := s.openCollection(c, tx, clockwork.EndpointsCollection)
	if err != nil {
		return nil, err
	}
	return listCollection(coll, pg, "/v1/webhook_endpoints", "webhook endpoint", nil, func(raw []byte) (json.RawMessage, error) {
		var we clockwork.Endpoint
		if err := json.Unmarshal(raw, &we); err != nil {
			return nil, err
		}
		return json.Marshal(renderWebhookEndpoint(&we, false))
	})
}
