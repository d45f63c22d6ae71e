package chargebee

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// idempotencyHeader is the header the SDKs send an idempotency key in
// (the npm SDK's; chargebee-go v4 sends X-CB-Idempotency-Key), and
// replayedHeader the one that marks a replayed answer.
const (
	idempotencyHeader   = "Chargebee-Idempotency-Key"
	idempotencyHeaderV4 = "X-CB-Idempotency-Key"
	replayedHeader      = "Chargebee-Idempotency-Replayed"
)

// call is one API request as handlers see it.
type call struct {
	r       *http.Request
	p       *params
	vars    map[string]string
	account string
	// now is the wall time the request arrived at.
	now     time.Time
	id      string
	idemKey string
	// l is the site's ledger in the request's transaction.
	l *clockwork.Ledger
	// after holds work to do once the transaction has committed.
	after []func()
}

func (c *call) request() *clockwork.Request {
	return &clockwork.Request{ID: c.id, IdempotencyKey: c.idemKey, Time: c.now}
}

// handler serves one route in the site's transaction and returns the
// value to render as JSON.
type handler func(c *call) (any, error)

// read serves a route in a read-only transaction.
func (s *Surface) read(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, h, false) }
}

// write serves a route in a read-write transaction, honouring
// idempotency keys; the events its changes caused are recorded as the
// transaction ends.
func (s *Surface) write(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, h, true) }
}

// committedError is a handler's answer that is an error to the client
// while its changes commit all the same: a declined collection records the
// failed transaction before the 402 goes out.
type committedError struct{ err *Error }

// serve is the one adapter every Chargebee response goes through.
func (s *Surface) serve(w http.ResponseWriter, r *http.Request, h handler, writable bool) {
	c, err := s.begin(w, r)
	if err == nil {
		err = s.ensureSite(c)
	}
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	if !writable {
		var body []byte
		err := clockwork.View(s.db, func(tx *store.Tx) (err error) {
			if c.l, err = s.rt.Ledger(tx, s, c.account, c.request()); err != nil {
				return err
			}
			v, err := h(c)
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

// begin authenticates the request and reads its parameters; c is returned
// even on error, for the log.
func (s *Surface) begin(w http.ResponseWriter, r *http.Request) (*call, error) {
	c := &call{r: r, vars: mux.Vars(r), now: s.now(), id: clockwork.NewID("req_", 14)}
	account, err := s.authenticate(r)
	if err != nil {
		return c, err
	}
	c.account = account
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return c, errInvalid("", "The request body is too large: billclock takes at most 1 MiB.")
	}
	if err != nil {
		return c, errInvalid("", "The request body could not be read.")
	}
	if len(body) > 0 && clockwork.IsJSON(r.Header.Get("Content-Type")) {
		return c, errInvalid("", "Chargebee's API takes form-encoded parameters (Content-Type: application/x-www-form-urlencoded), not JSON.")
	}
	if c.p, err = parseParams(r.URL.RawQuery, string(body)); err != nil {
		return c, err
	}
	if r.Method == http.MethodPost {
		c.idemKey = r.Header.Get(idempotencyHeader)
		if c.idemKey == "" {
			c.idemKey = r.Header.Get(idempotencyHeaderV4)
		}
		if len(c.idemKey) > 255 {
			return c, errInvalid("", "The idempotency key is too long: at most 255 characters.")
		}
	}
	return c, nil
}

// apiKey reads the API key from a Basic Authorization header: the key is
// the username, with an empty password ("key:", the npm SDK's) or with no
// colon at all (chargebee-go's), which Go's Request.BasicAuth refuses, so
// it is decoded by hand. ok is false when the header holds no key.
func apiKey(auth string) (key string, ok bool) {
	scheme, cred, found := strings.Cut(strings.TrimSpace(auth), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(cred); err != nil {
			return "", false
		}
	}
	key, _, _ = strings.Cut(string(raw), ":")
	return key, key != ""
}

// authenticate returns the site (the API key) the request acts for.
func (s *Surface) authenticate(r *http.Request) (string, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", errAuth("Sorry, authentication failed. Send your site's API key as the username of HTTP Basic authentication (curl -u test_...:).")
	}
	key, ok := apiKey(auth)
	// The key names the site's storage: refuse what no key looks like
	// before it gets there.
	if !ok || !clockwork.KeyCanAuthenticate(key) {
		return "", errAuth("Sorry, authentication failed. Invalid api key: send it as the username of HTTP Basic authentication.")
	}
	if strings.HasPrefix(key, "live_") {
		return "", errAuth("Sorry, authentication failed. billclock emulates Chargebee test sites only: live_ API keys are refused. Use a test site's key (test_...).")
	}
	if !strings.HasPrefix(key, "test_") || !s.rt.KeyAllowed(key) {
		return "", errAuth("Sorry, authentication failed. Invalid api key.")
	}
	return key, nil
}

// serveWrite runs a mutating handler, replaying or recording its answer
// under the request's idempotency key.
func (s *Surface) serveWrite(w http.ResponseWriter, c *call, h handler) {
	var fingerprint string
	if c.idemKey != "" {
		release, ok := s.rt.HoldIdempotencyKey(c.account, c.idemKey)
		if !ok {
			s.writeError(w, c, errState("A request with this idempotency key is in progress."))
			return
		}
		defer release()
		sum := sha256.Sum256([]byte(c.r.Method + " " + c.r.URL.Path + "\n" + c.p.canonical()))
		fingerprint = hex.EncodeToString(sum[:])
	}
	var body []byte
	var replay *clockwork.IdempotentResponse
	status := http.StatusOK
	err := s.db.Batch(func(tx *store.Tx) error {
		body, replay, c.after, status = nil, nil, nil, http.StatusOK
		var err error
		if c.l, err = s.rt.Ledger(tx, s, c.account, c.request()); err != nil {
			return err
		}
		if c.idemKey != "" {
			rec, ok, err := c.l.Idempotent(c.idemKey, c.now)
			if err != nil {
				return err
			}
			if ok {
				if rec.Fingerprint != fingerprint {
					return errInvalid("", "This idempotency key was used with another request.")
				}
				replay = rec
				return nil
			}
		}
		v, err := h(c)
		if err != nil {
			return err
		}
		if err := s.flush(c.l, true); err != nil {
			return err
		}
		if ce, ok := v.(*committedError); ok {
			status, v = ce.err.Status, ce.err
		}
		if body, err = json.Marshal(v); err != nil {
			return err
		}
		if c.idemKey != "" {
			return c.l.RememberIdempotent(c.idemKey, &clockwork.IdempotentResponse{Fingerprint: fingerprint,
				Status: status, Body: body, RequestID: c.id, Created: c.now.Unix()})
		}
		return nil
	})
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	if replay != nil {
		w.Header().Set(replayedHeader, "true")
		writeJSON(w, replay.Status, replay.Body)
		return
	}
	for _, f := range c.after {
		f()
	}
	s.rt.WakeDeliverer()
	writeJSON(w, status, body)
}

// canonical is the parameters in a stable order, for idempotency
// fingerprints.
func (p *params) canonical() string {
	keys := make([]string, 0, len(p.vals))
	for k := range p.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%q\n", k, p.vals[k])
	}
	return b.String()
}

// writeError renders err in Chargebee's envelope; an unknown error is
// logged (never with the key) and answered as a 500.
func (s *Surface) writeError(w http.ResponseWriter, c *call, err error) {
	e, known := apiError(err)
	if !known {
		clockwork.LogInternal(s.log, c.r, c.id, c.account, err)
	}
	b, _ := json.Marshal(e)
	writeJSON(w, e.Status, b)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// unknownRoute answers a request for a path or method Chargebee's API
// (as billclock serves it) does not have.
func (s *Surface) unknownRoute(w http.ResponseWriter, r *http.Request) {
	c, err := s.begin(w, r)
	if err == nil {
		err = errUnknownURL(r.Method, r.URL.Path)
	}
	s.writeError(w, c, err)
}
