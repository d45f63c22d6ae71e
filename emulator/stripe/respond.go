package stripe

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// call is one API request as handlers see it.
type call struct {
	r         *http.Request
	p         *params
	vars      map[string]string
	account   string
	requestID string
	idemKey   string
	version   string
	now       time.Time
	// after holds work to do once the transaction has committed.
	after []func()
}

// request is the call as the runtime's ledgers see it; nil for nil.
func (c *call) request() *clockwork.Request {
	if c == nil {
		return nil
	}
	return &clockwork.Request{ID: c.requestID, IdempotencyKey: c.idemKey, Time: c.now}
}

// handler serves one route inside a store transaction and returns the value
// to render as JSON.
type handler func(c *call, tx *store.Tx) (any, error)

// read serves a route in a read-only transaction.
func (s *Surface) read(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, h, false) }
}

// write serves a route in a read-write transaction, honouring
// Idempotency-Key.
func (s *Surface) write(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, h, true) }
}

// serve is the one adapter every Stripe response goes through.
func (s *Surface) serve(w http.ResponseWriter, r *http.Request, h handler, writable bool) {
	c, err := s.begin(w, r)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	if !writable {
		var body []byte
		err := clockwork.View(s.db, func(tx *store.Tx) error {
			v, err := h(c, tx)
			if err != nil {
				return err
			}
			body, err = json.Marshal(v)
			return err
		})
		if err != nil {
			s.writeError(w, c, err)
			return
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	s.serveWrite(w, c, h)
}

// begin checks auth and decodes the request; c is returned even on error so
// the error response carries the request's id and version.
func (s *Surface) begin(w http.ResponseWriter, r *http.Request) (*call, error) {
	c := &call{r: r, vars: mux.Vars(r), requestID: clockwork.NewID("req_", 14), now: s.now()}
	c.version = r.Header.Get("Stripe-Version")
	if c.version == "" {
		c.version = DefaultAPIVersion
	}
	h := w.Header()
	h.Set("Request-Id", c.requestID)
	h.Set("Stripe-Version", c.version)
	account, err := s.authenticate(r)
	if err != nil {
		return c, err
	}
	c.account = account
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return c, &Error{Status: http.StatusRequestEntityTooLarge, Type: typeInvalidRequest,
			Message: "Request body too large: billclock accepts at most 1 MiB."}
	}
	if err != nil {
		return c, invalid("", "Invalid request: could not read the request body.")
	}
	if len(body) > 0 && clockwork.IsJSON(r.Header.Get("Content-Type")) {
		return c, errJSONBody()
	}
	form, err := ParseForm(r.URL.RawQuery, string(body))
	if err != nil {
		return c, err
	}
	c.p = newParams(form)
	if r.Method != http.MethodGet {
		c.idemKey = r.Header.Get("Idempotency-Key")
		if len(c.idemKey) > 255 {
			return c, invalid("", "Invalid Idempotency-Key: must be at most 255 characters.")
		}
	}
	return c, nil
}

// authenticate returns the account (the API key) the request acts for.
func (s *Surface) authenticate(r *http.Request) (string, error) {
	auth := r.Header.Get("Authorization")
	var key string
	switch {
	case auth == "":
		return "", errNoAPIKey()
	case strings.HasPrefix(auth, "Bearer "):
		key = strings.TrimSpace(auth[len("Bearer "):])
	case strings.HasPrefix(auth, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[len("Basic "):]))
		if err != nil {
			return "", errInvalidAPIKey(auth[len("Basic "):])
		}
		key, _, _ = strings.Cut(string(raw), ":")
	default:
		return "", errInvalidAPIKey(auth)
	}
	if key == "" {
		return "", errNoAPIKey()
	}
	// The key names the account's storage: refuse what no key looks like
	// before it gets there.
	if !clockwork.KeyCanAuthenticate(key) {
		return "", errInvalidAPIKey(key)
	}
	if strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_") {
		if !s.rt.KeyAllowed(key) {
			return "", errInvalidAPIKey(key)
		}
		return "", errLiveKey()
	}
	if !strings.HasPrefix(key, "sk_test_") && !strings.HasPrefix(key, "rk_test_") {
		return "", errInvalidAPIKey(key)
	}
	if !s.rt.KeyAllowed(key) {
		return "", errInvalidAPIKey(key)
	}
	return key, nil
}

// serveWrite runs a mutating handler, replaying or recording its response
// under the request's idempotency key.
func (s *Surface) serveWrite(w http.ResponseWriter, c *call, h handler) {
	var fingerprint string
	if c.idemKey != "" {
		release, ok := s.rt.HoldIdempotencyKey(c.account, c.idemKey)
		if !ok {
			s.writeError(w, c, errIdempotencyInUse(c.idemKey))
			return
		}
		defer release()
		sum := sha256.Sum256([]byte(c.r.Method + " " + c.r.URL.Path + "\n" + c.p.form.Canonical()))
		fingerprint = hex.EncodeToString(sum[:])
	}
	var body []byte
	var replay *clockwork.IdempotentResponse
	status := http.StatusOK
	// ran is set when the transaction's work is done: an error after that
	// is the commit's own (a failed disk write), not the request's outcome.
	var ran bool
	err := s.db.Batch(func(tx *store.Tx) error {
		body, replay, c.after, ran, status = nil, nil, nil, false, http.StatusOK
		l, err := s.ledger(tx, c.account, c)
		if err != nil {
			return err
		}
		if c.idemKey != "" {
			if rec, ok, err := l.Idempotent(c.idemKey, c.now); err != nil || ok {
				if err == nil && rec.Fingerprint != fingerprint {
					err = errIdempotencyMismatch(c.idemKey)
				}
				replay, ran = rec, err == nil
				return err
			}
		}
		v, err := h(c, tx)
		if err != nil {
			return err
		}
		if ce, ok := v.(*committedError); ok {
			status = ce.err.Status
			v = envelope{Error: errorBody{Error: ce.err}}
		}
		if body, err = json.Marshal(v); err != nil {
			return err
		}
		if c.idemKey != "" {
			if err := s.idemStore(l, c, fingerprint, status, body); err != nil {
				return err
			}
		}
		ran = true
		return nil
	})
	if err != nil && ran && replay != nil {
		// A replay is read from what was committed before and writes
		// nothing: the failed commit does not change its answer.
		s.logInternal(c, err)
		err = nil
	}
	if err != nil && ran {
		// The commit failed: nothing of the request was written, so
		// nothing is remembered under its key either, and a retry with
		// the key runs it again. A disk error is transient; replaying
		// its 500 forever would make every retry fail.
		s.writeError(w, c, err)
		return
	}
	if err != nil {
		s.recordAfterRollback(c.account, c, err)
		// The endpoint failed. Like Stripe, remember the outcome of a
		// request that got past validation, errors and 500s included;
		// validation failures, conflicts and idempotency errors are not
		// stored.
		e, known := apiError(err)
		if c.idemKey != "" && (!known || c.p.checked && e.Status != http.StatusConflict && e.Type != typeIdempotency) {
			if !known {
				s.logInternal(c, err)
			}
			b, _ := json.Marshal(envelope{Error: errorBody{Error: e}})
			s.db.Update(func(tx *store.Tx) error {
				l, err := s.ledger(tx, c.account, c)
				if err != nil {
					return err
				}
				return s.idemStore(l, c, fingerprint, e.Status, b)
			})
			writeJSON(w, e.Status, b)
			return
		}
		s.writeError(w, c, err)
		return
	}
	if replay != nil {
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Original-Request", replay.RequestID)
		writeJSON(w, replay.Status, replay.Body)
		return
	}
	if c.idemKey != "" {
		w.Header().Set("Idempotency-Key", c.idemKey)
	}
	for _, f := range c.after {
		f()
	}
	s.rt.WakeDeliverer() // the request may have queued events for webhooks
	writeJSON(w, status, body)
}

// committedError is a handler's answer that is an error to the client but
// whose changes commit all the same: a declined card records the failed
// charge and the payment's error before the 402 goes out, as at Stripe.
type committedError struct{ err *Error }

// failAfterCommit makes a handler's answer the error e, rendered in
// Stripe's envelope with e's status, while the transaction still commits
// (and an idempotency key replays it).
func failAfterCommit(e *Error) any { return &committedError{err: e} }

// idemStore remembers the answer to c under its idempotency key.
func (s *Surface) idemStore(l *ledger, c *call, fingerprint string, status int, body []byte) error {
	return l.RememberIdempotent(c.idemKey, &clockwork.IdempotentResponse{Fingerprint: fingerprint, Status: status,
		Body: body, RequestID: c.requestID, Created: c.now.Unix()})
}

// logInternal logs an error the client of c sees only as a 500, without
// the key (clockwork.LogInternal).
func (s *Surface) logInternal(c *call, err error) {
	clockwork.LogInternal(s.log, c.r, c.requestID, c.account, err)
}

// writeError renders err in Stripe's envelope.
func (s *Surface) writeError(w http.ResponseWriter, c *call, err error) {
	e, known := apiError(err)
	if !known {
		s.logInternal(c, err)
	}
	b, _ := json.Marshal(envelope{Error: errorBody{Error: e}})
	writeJSON(w, e.Status, b)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// unrecognized answers a request for a route Stripe does not have.
func (s *Surface) unrecognized(w http.ResponseWriter, r *http.Request) {
	c, err := s.begin(w, r)
	if err == nil {
		err = errUnrecognizedURL(r.Method, r.URL.Path)
	}
	s.writeError(w, c, err)
}

// rollbackThen is an error of a request whose changes are rolled back in
// full, after which record runs in a transaction of its own: it keeps what
// a refusal leaves at Stripe without what the request made before it
// failed (a Checkout Session's SetupIntent keeps its failed confirmation,
// not the customer the completion made for it).
type rollbackThen interface {
	error
	record(l *ledger) error
}

// recordAfterRollback runs the record of err, if err is a rollbackThen, for
// account in a transaction of its own. A failure to record is logged: the
// request's answer is err all the same.
func (s *Surface) recordAfterRollback(account string, c *call, err error) {
	var rt rollbackThen
	if account == "" || !errors.As(err, &rt) {
		return
	}
	rerr := s.db.Batch(func(tx *store.Tx) error {
		l, err := s.ledger(tx, account, c)
		if err != nil {
			return err
		}
		return rt.record(l)
	})
	if rerr != nil {
		s.log.Error("keeping the outcome of a refused request", "account", clockwork.AccountLabel(account),
			"err", strings.ReplaceAll(rerr.Error(), account, "[api key]"))
		return
	}
	s.rt.WakeDeliverer()
}
