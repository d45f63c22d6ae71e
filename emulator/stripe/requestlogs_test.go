package stripe

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/clockwork"
)

// logsSessionFilters is the filters field of the fixture of `stripe logs
// tail`'s session request.
func logsSessionFilters(t testing.TB) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "stripecli", "logs_session_request.form"))
	require.NoError(t, err)
	form, err := url.ParseQuery(string(raw))
	require.NoError(t, err)
	return form.Get("filters")
}

func TestLogFilters(t *testing.T) {
	get404 := &clockwork.RequestRecord{Method: "GET", Path: "/v1/customers/cus_1", Status: 404, RemoteIP: "127.0.0.1"}
	post200 := &clockwork.RequestRecord{Method: "POST", Path: "/v1/customers", Status: 200, RemoteIP: "::1"}
	tests := []struct {
		name          string
		filters       string
		get404, post2 bool
	}{
		{name: "the CLI's, no flag", filters: logsSessionFilters(t), get404: true, post2: true},
		{name: "empty", filters: "", get404: true, post2: true},
		{name: "null", filters: "null", get404: true, post2: true},
		{name: "method", filters: `{"filter_http_method":["post"]}`, post2: true},
		{name: "methods", filters: `{"filter_http_method":["GET","POST"]}`, get404: true, post2: true},
		{name: "path", filters: `{"filter_request_path":["/v1/customers"]}`, post2: true},
		{name: "status code", filters: `{"filter_status_code":["404"]}`, get404: true},
		{name: "status code type", filters: `{"filter_status_code_type":["400","500"]}`, get404: true},
		{name: "succeeded", filters: `{"filter_request_status":["SUCCEEDED"]}`, post2: true},
		{name: "failed", filters: `{"filter_request_status":["FAILED"]}`, get404: true},
		{name: "source API", filters: `{"filter_source":["API"]}`, get404: true, post2: true},
		{name: "source dashboard", filters: `{"filter_source":["DASHBOARD"]}`},
		{name: "ip", filters: `{"filter_ip_address":["::1"]}`, post2: true},
		{name: "all must keep", filters: `{"filter_http_method":["GET"],"filter_status_code":["200"]}`},
		{name: "account is not applied", filters: `{"filter_account":["connect_in"]}`, get404: true, post2: true},
		{name: "unknown filter ignored", filters: `{"filter_future":["x"]}`, get404: true, post2: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := decodeLogFilters(tt.filters)
			require.NoError(t, err)
			assert.Equal(t, tt.get404, f.match(get404), "GET 404")
			assert.Equal(t, tt.post2, f.match(post200), "POST 200")
		})
	}
	for _, bad := range []string{"GET", `{"filter_http_method":"GET"}`, `{"filter_status_code":[404]}`, `[]`, `{`} {
		_, err := decodeLogFilters(bad)
		var e *Error
		require.ErrorAs(t, err, &e, "%q", bad)
		assert.Equal(t, 400, e.Status)
		assert.Equal(t, "filters", e.Param)
	}
}

// FuzzDecodeLogFilters: whatever filters a session request carries, the
// decoder answers filters or a 400 on the filters parameter, never
// panics, and the filters it answers match any request without
// panicking.
func FuzzDecodeLogFilters(f *testing.F) {
	f.Add(logsSessionFilters(f))
	f.Add(`{"filter_http_method":["GET"],"filter_status_code_type":["400"],"filter_request_status":["FAILED"]}`)
	f.Add(`{"filter_status_code_type":[""],"filter_ip_address":[null]}`)
	f.Add(`null`)
	f.Add(`{"filter_request_path":"x"}`)
	f.Fuzz(func(t *testing.T, raw string) {
		filters, err := decodeLogFilters(raw)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Status != 400 || e.Param != "filters" || filters != nil {
				t.Fatalf("decodeLogFilters(%q) = %v, %v", raw, filters, err)
			}
			return
		}
		if strings.TrimSpace(raw) != "" && !json.Valid([]byte(raw)) {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
		for _, status := range []int{0, 200, 404, 500, 1000} {
			filters.match(&clockwork.RequestRecord{Method: "GET", Path: "/v1/x", Status: status})
		}
	})
}

// FuzzCLISession sends any form to POST /v1/stripecli/sessions (the
// session decoder of `stripe listen` and `stripe logs tail`): the answer
// is a session or a 400 in Stripe's envelope, never a 500 or a panic.
func FuzzCLISession(f *testing.F) {
	s, r := newSurface(f, clockwork.Options{}, Options{})
	for _, name := range []string{"session_request.form", "logs_session_request.form"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "stripecli", name))
		require.NoError(f, err)
		f.Add(string(raw))
	}
	f.Add("device_name=x&websocket_features[]=request_logs&filters=" +
		url.QueryEscape(`{"filter_http_method":["GET"],"filter_status_code_type":["400"],"filter_account":["self"]}`))
	f.Add("websocket_features[]=request_logs&filters[filter_http_method]=GET")
	f.Add("websocket_features[]=request_logs&websocket_features[]=webhooks&filters=null")
	f.Add("websocket_features[]=v2_events&filters=%7B")
	f.Fuzz(func(t *testing.T, form string) {
		req := httptest.NewRequest(http.MethodPost, "http://billclock/v1/stripecli/sessions", strings.NewReader(form))
		req.Header.Set("Authorization", "Bearer sk_test_fuzz")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%q: %d, body not JSON: %s", form, w.Code, w.Body)
		}
		switch w.Code {
		case http.StatusOK:
			// End the session, so that the next ones stay within the
			// limits.
			sessions := s.cliSessions()
			sessions.mu.Lock()
			sess := sessions.byID[out["websocket_id"].(string)]
			sessions.mu.Unlock()
			require.NotNil(t, sess)
			sessions.end(sess)
		case http.StatusBadRequest:
			if e, _ := out["error"].(map[string]any); e == nil || e["message"] == "" {
				t.Fatalf("%q: 400 without Stripe's error envelope: %s", form, w.Body)
			}
		default:
			t.Fatalf("%q: status %d: %s", form, w.Code, w.Body)
		}
	})
}
