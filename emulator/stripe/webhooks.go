package stripe

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

const webhookEndpointsCollection = "webhook_endpoints"

// webhookEndpoint is a user's webhook endpoint as stored.
type webhookEndpoint struct {
	ID            string            `json:"id"`
	URL           string            `json:"url"`
	Description   string            `json:"description,omitempty"`
	APIVersion    string            `json:"api_version"`
	EnabledEvents []string          `json:"enabled_events"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	Secret        string            `json:"secret"`
	Disabled      bool              `json:"disabled,omitempty"`
	Created       int64             `json:"created"`
}

// wants reports whether the endpoint subscribes to events of type typ.
func (we *webhookEndpoint) wants(typ string) bool {
	if we.Disabled {
		return false
	}
	for _, e := range we.EnabledEvents {
		if e == "*" || e == typ {
			return true
		}
	}
	return false
}

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
func renderWebhookEndpoint(we *webhookEndpoint, withSecret bool) *webhookEndpointObject {
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
func webhookParams(p *params, we *webhookEndpoint, create bool) {
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

func accountWebhooks(tx *store.Tx, account string) (*store.Collection, error) {
	acct, err := tx.Account(account)
	if err != nil {
		return nil, err
	}
	return acct.Collection(webhookEndpointsCollection)
}

func loadWebhookEndpoint(coll *store.Collection, id string) (*webhookEndpoint, error) {
	raw, err := coll.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSuch("webhook endpoint", id, "id")
	}
	if err != nil {
		return nil, err
	}
	var we webhookEndpoint
	return &we, json.Unmarshal(raw, &we)
}

func saveWebhookEndpoint(coll *store.Collection, we *webhookEndpoint) error {
	raw, err := json.Marshal(we)
	if err != nil {
		return err
	}
	return coll.Put(we.ID, we.Created, raw)
}

func (s *Surface) createWebhookEndpoint(c *call, tx *store.Tx) (any, error) {
	we := &webhookEndpoint{ID: clockwork.NewID("we_", 24), Created: c.now.Unix(), APIVersion: DefaultAPIVersion,
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
	coll, err := accountWebhooks(tx, c.account)
	if err != nil {
		return nil, err
	}
	if err := saveWebhookEndpoint(coll, we); err != nil {
		return nil, err
	}
	return renderWebhookEndpoint(we, true), nil
}

func (s *Surface) retrieveWebhookEndpoint(c *call, tx *store.Tx) (any, error) {
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	coll, err := accountWebhooks(tx, c.account)
	if err != nil {
		return nil, err
	}
	we, err := loadWebhookEndpoint(coll, c.vars["id"])
	if err != nil {
		return nil, err
	}
	return renderWebhookEndpoint(we, false), nil
}

func (s *Surface) updateWebhookEndpoint(c *call, tx *store.Tx) (any, error) {
	coll, err := accountWebhooks(tx, c.account)
	if err != nil {
		return nil, err
	}
	we, err := loadWebhookEndpoint(coll, c.vars["id"])
	if err != nil {
		// Read the params anyway so an unknown one is reported first.
		webhookParams(c.p, &webhookEndpoint{}, false)
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
	if err := saveWebhookEndpoint(coll, we); err != nil {
		return nil, err
	}
	c.after = append(c.after, s.deliverer.wake)
	return renderWebhookEndpoint(we, false), nil
}

func (s *Surface) deleteWebhookEndpoint(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	coll, err := accountWebhooks(tx, c.account)
	if err != nil {
		return nil, err
	}
	if _, err := loadWebhookEndpoint(coll, c.vars["id"]); err != nil {
		return nil, err
	}
	if err := coll.Delete(c.vars["id"]); err != nil {
		return nil, err
	}
	// Deliveries still queued for it are dropped by the deliverer.
	c.after = append(c.after, s.deliverer.wake)
	return renderDeleted(c.vars["id"], "webhook_endpoint"), nil
}

func (s *Surface) listWebhookEndpoints(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	coll, err := accountWebhooks(tx, c.account)
	if err != nil {
		return nil, err
	}
	return listCollection(coll, pg, "/v1/webhook_endpoints", "webhook endpoint", nil, func(raw []byte) (json.RawMessage, error) {
		var we webhookEndpoint
		if err := json.Unmarshal(raw, &we); err != nil {
			return nil, err
		}
		return json.Marshal(renderWebhookEndpoint(&we, false))
	})
}
