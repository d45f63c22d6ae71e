package dashboard

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// FuzzDashboard: any path under /_billclock/, method, Authorization
// header, remote address and body get an answer that is not a 500, and
// never one that shows an API key.
func FuzzDashboard(f *testing.F) {
	w := newWorld(f, clockwork.Options{})
	label := clockwork.AccountLabel(stripeKey)
	for _, seed := range []struct{ method, path, auth, body string }{
		{"GET", "", "", ""},
		{"GET", "dashboard/clocks/" + w.clock, "", ""},
		{"GET", "dashboard/" + label + "/clocks/" + w.clock, "Bearer " + stripeKey, ""},
		{"GET", "dashboard/" + label + "/clocks/" + w.clock + "/timeline", "", ""},
		{"GET", "dashboard/" + label + "/clocks/" + w.clock + "/status", "Basic eDp5", ""},
		{"POST", "dashboard/" + label + "/clocks/" + w.clock + "/advance", "", "by=hour"},
		{"POST", "dashboard/" + label + "/clocks/" + w.clock + "/advance", "", "to=2026-01-01T00:30"},
		{"POST", "dashboard/" + label + "/clocks/" + w.clock + "/advance", "", "to=99999-01-01"},
		{"GET", "dashboard/" + label + "/objects/invoice/" + w.invoice, "", ""},
		{"GET", "dashboard/" + label + "/objects/event/evt_x", "", ""},
		{"GET", "dashboard/" + clockwork.AccountLabel(commetKey) + "/objects/payment/pay_x", "", ""},
		{"GET", "dashboard/assets/dashboard.js", "", ""},
		{"GET", "dashboard/assets/../../v1/customers", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.auth, seed.body, true)
	}
	f.Fuzz(func(t *testing.T, method, path, auth, body string, fromLoopback bool) {
		if method != http.MethodPost {
			method = http.MethodGet
		}
		w.t = t
		req := &http.Request{Method: method, URL: &url.URL{Path: "/_billclock/" + path}, Header: http.Header{},
			Body: httpBody(body), Host: "127.0.0.1:12800", RemoteAddr: "127.0.0.1:5000", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		if !fromLoopback {
			req.RemoteAddr = "192.0.2.1:5000"
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if strings.HasSuffix(path, "/advance") {
			req.Header.Set(advanceHeader, "1")
		}
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req.WithContext(t.Context()))
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		for _, k := range allKeys {
			if bytes.Contains(rec.Body.Bytes(), []byte(k)) && !strings.Contains(path+auth+body, k) {
				t.Fatalf("%s %s shows a key: %s", method, path, rec.Body)
			}
		}
	})
}

func httpBody(s string) *bodyReader { return &bodyReader{strings.NewReader(s)} }

type bodyReader struct{ *strings.Reader }

func (bodyReader) Close() error { return nil }

// FuzzAdvanceTarget: any advance form gives a target or an error, never a
// panic; a target "by" a step is later than the clock.
func FuzzAdvanceTarget(f *testing.F) {
	for _, s := range []string{"by=hour", "by=month", "to=2026-03-01", "to=2026-03-01T12:30", "to=0000-01-01", "to=9999-12-31T23:59:59Z", "by=", "to=%"} {
		f.Add(s, int64(1767225600))
	}
	f.Fuzz(func(t *testing.T, form string, frozen int64) {
		frozen = min(max(frozen, billing.MinTimestamp), billing.MaxTimestamp)
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		got, err := target(v, frozen)
		if err == nil && v.Get("to") == "" && got <= frozen {
			t.Fatalf("%q from %d gave %d", form, frozen, got)
		}
	})
}
