package stripe

import (
	"encoding/json"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// The runtime's control routes, as the Stripe dialect serves them (see
// Control); the settings routes are in settings.go.

// failNextAdvance serves POST /_billclock/test_clocks/{id}/fail_next_advance,
// a control route: the clock's next advance ends in internal_failure, as
// Stripe's clocks sometimes do, so that users can test how they handle it.
// It answers with the clock, unchanged to the eye until it advances.
func (s *Surface) failNextAdvance(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	clock, err := l.ArmAdvanceFailure(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return renderClock(clock), nil
}

// clockProgress serves GET /_billclock/test_clocks/{id}/progress: how far
// the clock's advance has got.
func (s *Surface) clockProgress(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	return l.Progress(c.vars["id"])
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
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	f := clockwork.AttemptFilter{Endpoint: endpoint, Event: event}
	return listPage(func(emit func([]byte) error) (bool, error) { return l.ListAttempts(f, pg, emit) }, pg,
		"/_billclock/webhook_attempts", "webhook attempt",
		func(raw []byte) (json.RawMessage, error) { return append(json.RawMessage(nil), raw...), nil })
}
