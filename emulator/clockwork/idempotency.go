package clockwork

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/billclock/billclock/store"
)

// Idempotency keys: every provider lets a client send a write again under
// the same key and get the first answer back. The runtime stores the
// answers, by key, per account, in the transaction of the write itself (so
// a crash keeps both or neither), forgets them after IdempotencyTTL (the
// janitor prunes them), and guards against two requests with one key at
// once. Each dialect's adapter keeps its own header names, fingerprint of
// the request and replay headers.

// IdempotencyTTL is how long idempotency keys are remembered.
const IdempotencyTTL = 24 * time.Hour

// IdempotentResponse is an answer remembered under an idempotency key.
type IdempotentResponse struct {
	// Fingerprint identifies the request (the dialect's digest of its
	// method, path and parameters): a key sent again with another
	// request is refused.
	Fingerprint string          `json:"fingerprint"`
	Status      int             `json:"status"`
	Body        json.RawMessage `json:"body"`
	// RequestID is the id of the request that was answered.
	RequestID string `json:"request_id"`
	// Created is the wall time of the answer (Unix seconds).
	Created int64 `json:"created"`
}

// HoldIdempotencyKey marks key of account as in use by a request in
// flight, until release is called; ok is false if another request holds
// it (the dialect answers its 409).
func (rt *Runtime) HoldIdempotencyKey(account, key string) (release func(), ok bool) {
	slot := account + "\x00" + key
	if _, busy := rt.inflight.LoadOrStore(slot, struct{}{}); busy {
		return nil, false
	}
	return func() { rt.inflight.Delete(slot) }, true
}

// Idempotent returns the answer remembered under key, if one was given
// less than IdempotencyTTL before now.
func (l *Ledger) Idempotent(key string, now time.Time) (*IdempotentResponse, bool, error) {
	keys, err := l.Collection(IdempotencyCollection)
	if err != nil {
		return nil, false, err
	}
	raw, err := keys.Get(key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var rec IdempotentResponse
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, false, err
	}
	if time.Unix(rec.Created, 0).Add(IdempotencyTTL).Before(now) {
		return nil, false, nil
	}
	return &rec, true, nil
}

// RememberIdempotent stores the answer given under key.
func (l *Ledger) RememberIdempotent(key string, r *IdempotentResponse) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	keys, err := l.Collection(IdempotencyCollection)
	if err != nil {
		return err
	}
	return keys.Put(key, r.Created, raw)
}
