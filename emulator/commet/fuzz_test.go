package commet

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// FuzzDecodeBody: any body is a JSON object or a validation_error, and
// reading any field of it in any way never panics: each problem is a
// detail naming its field.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{}`, `{"count": 1}`, `{"count": 1.5}`, `{"count": "7"}`, `{"seats": {"a": 1, "b": -1}}`,
		`{"events": ["x", 2]}`, `{"metadata": {"a": [1, {"b": null}]}}`, `[1]`, `"x"`, `{"a":1}{"b":2}`, "\xff",
		`{"count": 1e400}`, `{"count": 9223372036854775808}`, `{"overage": {"unitPrice": -1}}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fields, err := decodeBody(raw)
		if err != nil {
			var e *Error
			if !asError(err, &e) || e.Code != "validation_error" || len(e.Details) == 0 {
				t.Fatalf("decodeBody(%q): %v", raw, err)
			}
			return
		}
		p := newParams(fields)
		for name := range fields {
			p.str(name, 10)
			p.int(name, 0, billing.MaxQuantity)
			p.bool(name)
			p.counts(name, 0, 100)
			p.strs(name, 10)
			p.raw(name)
			if o, ok := p.object(name); ok {
				for sub := range o.fields {
					o.int(sub, 1, 5)
				}
			}
		}
		if err := p.check(); err != nil {
			var e *Error
			if !asError(err, &e) || len(e.Details) == 0 || e.Details[0].Field == "" {
				t.Fatalf("check: %v", err)
			}
		}
	})
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

// FuzzParseTime: a time is read or refused, never out of billclock's range.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2030-04-01T00:00:00Z", "2030-04-01", "2030-04-01T00:00:00.999+05:30", "1969-12-31T23:59:59Z",
		"2100-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2030-04-01T00:00", "", "now"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseTime(s)
		if err == nil && (v < billing.MinTimestamp || v > billing.MaxTimestamp+86400) {
			t.Fatalf("parseTime(%q) = %d", s, v)
		}
	})
}

// fuzzRoutes are the routes FuzzAPI sends bodies and queries to.
var fuzzRoutes = []struct{ method, path string }{
	{"GET", "/api/v1/test-clock"},
	{"POST", "/api/v1/test-clock"},
	{"POST", "/api/v1/test-clock/process-billing"},
	{"POST", "/api/v1/customers"},
	{"GET", "/api/v1/customers"},
	{"POST", "/api/v1/features"},
	{"POST", "/api/v1/plans"},
	{"POST", "/api/v1/plans/pro/prices"},
	{"POST", "/api/v1/plans/pro/features"},
	{"POST", "/api/v1/subscriptions"},
	{"GET", "/api/v1/subscriptions"},
	{"POST", "/api/v1/seats"},
	{"PUT", "/api/v1/seats"},
	{"DELETE", "/api/v1/seats"},
	{"PUT", "/api/v1/seats/bulk"},
	{"GET", "/api/v1/seats/balance"},
	{"GET", "/api/v1/seats/balances"},
	{"GET", "/api/v1/invoices"},
	{"POST", "/api/v1/webhooks"},
}

// FuzzAPI sends any body and query, in either version, to the routes of
// an organization with a plan and a seated customer: every answer is JSON,
// a success or Commet's error envelope with a 4xx, never a 500 or a panic.
func FuzzAPI(f *testing.F) {
	db, err := store.Open(filepath.Join(f.TempDir(), "fuzz.db"), &store.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	rt := clockwork.New(clockwork.Options{DB: db})
	s := New(rt)
	rt.Register(s)
	r := mux.NewRouter()
	rt.Routes(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	f.Cleanup(func() { cancel(); <-done })
	const key = "ck_fuzz"
	send := func(method, target, version, body string) *httptest.ResponseRecorder {
		path, query, _ := strings.Cut(target, "?")
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("x-api-key", key)
		req.Header.Set("Content-Type", "application/json")
		if version != "" {
			req.Header.Set("commet-version", version)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	for _, step := range []struct{ method, path, body string }{
		{"POST", "/api/v1/features", `{"name":"Seats","code":"seats","type":"seats"}`},
		{"POST", "/api/v1/plans", `{"name":"Pro","code":"pro"}`},
		{"POST", "/api/v1/plans/pro/prices", `{"billingInterval":"monthly","price":9900}`},
		{"POST", "/api/v1/plans/pro/features", `{"featureId":"seats","includedAmount":5,"overage":{"enabled":true,"unitPrice":2500}}`},
		{"POST", "/api/v1/customers", `{"email":"a@example.test","id":"acme"}`},
		{"POST", "/api/v1/subscriptions", `{"customerId":"acme","planCode":"pro","initialSeats":{"seats":6}}`},
	} {
		if w := send(step.method, step.path, "", step.body); w.Code/100 != 2 {
			f.Fatalf("%s %s: %d %s", step.method, step.path, w.Code, w.Body)
		}
	}
	f.Add(uint8(11), "", `{"customerId":"acme","featureCode":"seats","count":2}`, "2026-07-11")
	f.Add(uint8(1), "", `{"advanceDays":3}`, "")
	f.Add(uint8(1), "", `{"frozenTime":"2099-12-31T23:59:59Z"}`, "")
	f.Add(uint8(16), "customerId=acme&featureCode=seats", ``, "2026-07-31")
	f.Add(uint8(9), "", `{"customerId":"acme","planId":"pro","initialSeats":{"seats":1e3}}`, "")
	f.Fuzz(func(t *testing.T, route uint8, query, body, version string) {
		rte := fuzzRoutes[int(route)%len(fuzzRoutes)]
		target := rte.path
		if query != "" {
			target += "?" + query
		}
		w := send(rte.method, target, version, body)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", rte.method, target, body, w.Code, w.Body)
		}
		if w.Header().Get("x-request-id") == "" {
			t.Fatal("no x-request-id")
		}
		var v any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: not JSON: %q", rte.method, target, w.Body)
		}
		if w.Code >= 400 {
			var e errorBody
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s: not Commet's envelope: %s", rte.method, target, w.Body)
			}
		}
		// Advances run in the background: keep the clock where requests
		// can change it.
		if rte.path == "/api/v1/test-clock" && w.Code == http.StatusAccepted {
			waitIdle(t, db)
		}
	})
}

// waitIdle finishes the clock run under way at once, as the worker would.
func waitIdle(t *testing.T, db *store.DB) {
	t.Helper()
	for range 1000 {
		idle := true
		db.View(func(tx *store.Tx) error {
			q, err := tx.Queue("clock_advances")
			if err != nil {
				return err
			}
			return q.ForEach(func(string, []byte) error { idle = false; return nil })
		})
		if idle {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the clock run did not finish")
}

// FuzzEncodeData: an event's data, whatever its strings hold, encodes
// exactly as json.Marshal encodes it.
func FuzzEncodeData(f *testing.F) {
	f.Add("ada@example.test", "Ada Lovelace", int64(1200))
	f.Add("<a&b>", "\u2028\x00\"\\", int64(-1))
	f.Add("\xff", "日本", int64(0))
	f.Fuzz(func(t *testing.T, key, value string, n int64) {
		data := map[string]any{key: value, "n": n, value: nil, "s": key}
		want, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeData(data)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("encodeData(%q)\n got %s\nwant %s", data, got, want)
		}
	})
}
