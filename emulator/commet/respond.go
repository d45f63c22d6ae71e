package commet

import (
	"crypto/sha256"
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

// This file is the one adapter every Commet answer goes through: auth by
// x-api-key, the version, x-request-id, the body codec, idempotency keys,
// the transaction, and the envelope of the request's version.

// call is one API request as handlers see it.
type call struct {
	r         *http.Request
	vars      map[string]string
	p         *params
	raw       []byte
	account   string
	requestID string
	idemKey   string
	version   string
	// legacy: the version answers in the {success, data} envelope.
	legacy bool
	now    time.Time
	// status is the answer's status when it is not 200.
	status int
	// after holds work to do once the transaction has committed.
	after []func()
}

func (c *call) request() *clockwork.Request {
	return &clockwork.Request{ID: c.requestID, IdempotencyKey: c.idemKey, Time: c.now}
}

// handler serves one route in a transaction, over the account's ledger,
// and returns the value to render.
type handler func(c *call, l *clockwork.Ledger) (any, error)

// listResult is a page of a list, rendered by version.
type listResult struct {
	Data       []any
	HasMore    bool
	NextCursor string
}

// committed is an answer that is an error to the client although the
// request's changes commit (a declined retry keeps its failed attempt).
type committed struct{ err *Error }

// resolveVersion reads the commet-version header: the versions billclock
// knows, and for anything else the current one.
func resolveVersion(h string) string {
	switch v := strings.TrimSpace(h); v {
	case LegacyVersion, bareVersion, CurrentVersion:
		return v
	}
	return CurrentVersion
}

// runsAdvances reports whether version advances the clock with a run.
func runsAdvances(version string) bool { return version >= CurrentVersion }

// read serves a route in a read-only transaction.
func (s *Surface) read(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, h, false) }
}

// write serves a route in a read-write transaction, honouring
// Idempotency-Key on POST and PUT.
func (s *Surface) write(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, h, true) }
}

// begin authenticates and decodes the request; c is returned even on
// error, so that the error answer carries its id and version.
func (s *Surface) begin(w http.ResponseWriter, r *http.Request) (*call, error) {
	c := &call{r: r, vars: mux.Vars(r), requestID: clockwork.NewID("req_", 20), now: s.now(),
		version: resolveVersion(r.Header.Get("commet-version"))}
	c.legacy = c.version < bareVersion
	w.Header().Set("x-request-id", c.requestID)
	w.Header().Set("commet-version", c.version)
	key, err := s.authenticate(r)
	if err != nil {
		return c, err
	}
	c.account = key
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return c, &Error{Status: http.StatusRequestEntityTooLarge, Type: typeInvalidRequest, Code: "payload_too_large",
			Message: "The request body is larger than billclock accepts (1 MiB)."}
	}
	if err != nil {
		return c, invalidField("body", "The request body could not be read.")
	}
	c.raw = raw
	if r.Method == http.MethodGet {
		c.p = queryParams(r.URL.Query())
	} else {
		fields, err := decodeBody(raw)
		if err != nil {
			return c, err
		}
		c.p = newParams(fields)
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		c.idemKey = r.Header.Get("Idempotency-Key")
		if len(c.idemKey) > 255 || !clockwork.KeyChars(c.idemKey) {
			return c, invalidField("Idempotency-Key", "Must be at most 255 printable characters.")
		}
	}
	return c, nil
}

// authenticate returns the organization (the API key) the request acts
// for.
func (s *Surface) authenticate(r *http.Request) (string, error) {
	key := r.Header.Get("x-api-key")
	switch {
	case key == "":
		return "", errUnauthorized("Missing API key. Send your key in the x-api-key header.")
	case !strings.HasPrefix(key, "ck_") || len(key) <= len("ck_") || !clockwork.KeyCanAuthenticate(key) || !s.rt.KeyAllowed(key):
		return "", errUnauthorized("Invalid API key.")
	}
	return key, nil
}

// Claims reports whether r carries a Commet key (x-api-key: ck_...).
func (s *Surface) Claims(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("x-api-key"), "ck_")
}

func (s *Surface) ledger(tx *store.Tx, c *call) (*clockwork.Ledger, error) {
	return s.rt.Ledger(tx, s, c.account, c.request())
}

// serve is the adapter.
func (s *Surface) serve(w http.ResponseWriter, r *http.Request, h handler, writable bool) {
	c, err := s.begin(w, r)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	if !writable {
		var body []byte
		err := clockwork.View(s.db, func(tx *store.Tx) error {
			l, err := s.ledger(tx, c)
			if err != nil {
				return err
			}
			v, err := h(c, l)
			if err != nil {
				return err
			}
			body, err = c.render(v)
			return err
		})
		if err != nil {
			s.writeError(w, c, err)
			return
		}
		writeJSON(w, c.answerStatus(), body)
		return
	}
	s.serveWrite(w, c, h)
}

func (c *call) answerStatus() int {
	if c.status == 0 {
		return http.StatusOK
	}
	return c.status
}

// render encodes v in the envelope of the call's version.
func (c *call) render(v any) ([]byte, error) {
	if l, ok := v.(*listResult); ok {
		var cursor *string
		if l.NextCursor != "" {
			cursor = &l.NextCursor
		}
		data := l.Data
		if data == nil {
			data = []any{}
		}
		if c.legacy {
			return json.Marshal(struct {
				Success    bool    `json:"success"`
				Data       []any   `json:"data"`
				HasMore    bool    `json:"hasMore"`
				NextCursor *string `json:"nextCursor"`
			}{true, data, l.HasMore, cursor})
		}
		return json.Marshal(struct {
			Object     string  `json:"object"`
			Data       []any   `json:"data"`
			HasMore    bool    `json:"hasMore"`
			NextCursor *string `json:"nextCursor"`
		}{"list", data, l.HasMore, cursor})
	}
	if c.legacy {
		return json.Marshal(struct {
			Success bool `json:"success"`
			Data    any  `json:"data"`
		}{true, v})
	}
	if e, ok := v.(selfEncoding); ok {
		return e.encodeJSON()
	}
	return json.Marshal(v)
}

// selfEncoding is an answer that encodes itself, exactly as json.Marshal
// would, only faster (a clock run and the clock showing it).
type selfEncoding interface {
	encodeJSON() ([]byte, error)
}

// fingerprint identifies a request for its idempotency key.
func (c *call) fingerprint() string {
	sum := sha256.Sum256([]byte(c.r.Method + " " + c.r.URL.Path + "?" + c.r.URL.RawQuery + "\n" + c.version + "\n" + string(c.raw)))
	return hex.EncodeToString(sum[:])
}

// serveWrite runs a mutating handler, replaying or remembering its answer
// under the request's idempotency key.
func (s *Surface) serveWrite(w http.ResponseWriter, c *call, h handler) {
	var fingerprint string
	if c.idemKey != "" {
		release, ok := s.rt.HoldIdempotencyKey(c.account, c.idemKey)
		if !ok {
			s.writeError(w, c, errIdempotencyInUse())
			return
		}
		defer release()
		fingerprint = c.fingerprint()
	}
	var body []byte
	var replay *clockwork.IdempotentResponse
	var status int
	var ran bool
	err := s.db.Batch(func(tx *store.Tx) error {
		body, replay, c.after, c.status, ran = nil, nil, nil, 0, false
		l, err := s.ledger(tx, c)
		if err != nil {
			return err
		}
		if c.idemKey != "" {
			if rec, ok, err := l.Idempotent(c.idemKey, c.now); err != nil || ok {
				if err == nil && rec.Fingerprint != fingerprint {
					err = errIdempotencyMismatch()
				}
				replay, ran = rec, err == nil
				return err
			}
		}
		v, err := h(c, l)
		if err != nil {
			return err
		}
		status = c.answerStatus()
		if ce, ok := v.(*committed); ok {
			status, body = ce.err.Status, mustJSON(ce.err.body())
		} else if body, err = c.render(v); err != nil {
			return err
		}
		if c.idemKey != "" {
			if err := l.RememberIdempotent(c.idemKey, &clockwork.IdempotentResponse{Fingerprint: fingerprint,
				Status: status, Body: body, RequestID: c.requestID, Created: c.now.Unix()}); err != nil {
				return err
			}
		}
		ran = true
		return nil
	})
	switch {
	case err != nil && ran && replay != nil:
		s.logInternal(c, err)
	case err != nil:
		s.writeError(w, c, err)
		return
	}
	if replay != nil {
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, replay.Status, replay.Body)
		return
	}
	for _, f := range c.after {
		f()
	}
	s.rt.WakeDeliverer()
	writeJSON(w, status, body)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// logInternal logs an error the client of c sees only as a 500, without
// the key (clockwork.LogInternal).
func (s *Surface) logInternal(c *call, err error) {
	clockwork.LogInternal(s.log, c.r, c.requestID, c.account, err)
}

// writeError renders err in Commet's envelope.
func (s *Surface) writeError(w http.ResponseWriter, c *call, err error) {
	e, known := apiError(err)
	if !known {
		s.logInternal(c, err)
	}
	writeJSON(w, e.Status, mustJSON(e.body()))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// notFoundRoute answers a request no route takes, in Commet's envelope.
func (s *Surface) notFoundRoute(w http.ResponseWriter, r *http.Request) {
	c, err := s.begin(w, r)
	if err == nil {
		err = errRouteNotFound(r.Method, r.URL.Path)
	}
	s.writeError(w, c, err)
}
