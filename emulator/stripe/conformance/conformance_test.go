package conformance

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const subsetPath = "../../../testdata/openapi/stripe-subset.json"

var loadSubset = sync.OnceValues(func() (*Spec, error) { return Load(subsetPath) })

func spec(t *testing.T) *Spec {
	t.Helper()
	s, err := loadSubset()
	require.NoError(t, err)
	return s
}

// testClock returns a conforming test_helpers.test_clock object.
func testClock() map[string]any {
	return map[string]any{
		"id":             "clock_123",
		"object":         "test_helpers.test_clock",
		"created":        1700000000,
		"deletes_after":  1700604800,
		"frozen_time":    1700000000,
		"livemode":       false,
		"name":           "Monthly renewal",
		"status":         "ready",
		"status_details": map[string]any{},
	}
}

// violations asserts that err is a *ValidationError and returns its
// violations as "path: message" strings.
func violations(t *testing.T, err error) []string {
	t.Helper()
	var verr *ValidationError
	require.True(t, errors.As(err, &verr), "want *ValidationError, got %v", err)
	out := make([]string, len(verr.Violations))
	for i, v := range verr.Violations {
		out[i] = v.String()
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestLoad(t *testing.T) {
	s := spec(t)
	assert.Equal(t, "2026-08-26.dahlia", s.APIVersion())
	for _, name := range []string{"test_helpers.test_clock", "deleted_test_helpers.test_clock", "event", "error"} {
		assert.Contains(t, s.schemas, name)
	}

	_, err := Load("testdata/does-not-exist.json")
	assert.Error(t, err)
}

func TestTestClockSchema(t *testing.T) {
	s := spec(t)
	const name = "test_helpers.test_clock"

	t.Run("valid", func(t *testing.T) {
		assert.NoError(t, s.ValidateSchema(name, testClock()))
	})

	t.Run("advancing with status details", func(t *testing.T) {
		c := testClock()
		c["status"] = "advancing"
		c["status_details"] = map[string]any{"advancing": map[string]any{"target_frozen_time": 1700086400}}
		assert.NoError(t, s.ValidateSchema(name, c))
	})

	t.Run("name null is allowed", func(t *testing.T) {
		c := testClock()
		c["name"] = nil
		assert.NoError(t, s.ValidateSchema(name, c))
	})

	t.Run("name may be omitted", func(t *testing.T) {
		// The spec marks name nullable but not required.
		c := testClock()
		delete(c, "name")
		assert.NoError(t, s.ValidateSchema(name, c))
	})

	t.Run("missing status", func(t *testing.T) {
		c := testClock()
		delete(c, "status")
		assert.Equal(t, []string{`$: missing required property "status"`}, violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("missing status_details", func(t *testing.T) {
		c := testClock()
		delete(c, "status_details")
		assert.Equal(t, []string{`$: missing required property "status_details"`}, violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("extra property", func(t *testing.T) {
		c := testClock()
		c["customer"] = "cus_1"
		assert.Equal(t, []string{`$: unexpected property "customer"`}, violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("extra nested property", func(t *testing.T) {
		c := testClock()
		c["status_details"] = map[string]any{"foo": 1}
		assert.Equal(t, []string{`$.status_details: unexpected property "foo"`}, violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("nested required", func(t *testing.T) {
		c := testClock()
		c["status_details"] = map[string]any{"advancing": map[string]any{}}
		assert.Equal(t, []string{`$.status_details.advancing: missing required property "target_frozen_time"`},
			violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("frozen_time as string", func(t *testing.T) {
		c := testClock()
		c["frozen_time"] = "1700000000"
		assert.Equal(t, []string{`$.frozen_time: expected integer, got string "1700000000"`}, violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("fractional integer", func(t *testing.T) {
		c := testClock()
		c["created"] = 1700000000.5
		assert.Equal(t, []string{`$.created: expected integer, got number 1700000000.5`}, violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("whole number in exponent form is an integer", func(t *testing.T) {
		raw := mustJSON(t, testClock())
		raw = []byte(strings.Replace(string(raw), `"created":1700000000`, `"created":1.7e9`, 1))
		require.Contains(t, string(raw), "1.7e9")
		assert.NoError(t, s.ValidateSchema(name, json.RawMessage(raw)))
	})

	t.Run("bad enum value", func(t *testing.T) {
		c := testClock()
		c["status"] = "frozen"
		assert.Equal(t, []string{`$.status: "frozen" is not one of the allowed values ["advancing","internal_failure","ready"]`},
			violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("null where not nullable", func(t *testing.T) {
		c := testClock()
		c["status"] = nil
		c["status_details"] = nil
		assert.Equal(t, []string{
			`$.status: null is not allowed (expected string; the schema is not nullable)`,
			`$.status_details: null is not allowed (expected object; the schema is not nullable)`,
		}, violations(t, s.ValidateSchema(name, c)))
	})

	t.Run("maxLength", func(t *testing.T) {
		c := testClock()
		c["name"] = strings.Repeat("é", 5001)
		assert.Equal(t, []string{`$.name: string has 5001 characters, more than maxLength 5000`}, violations(t, s.ValidateSchema(name, c)))
		c["name"] = strings.Repeat("é", 5000) // counted in characters, not bytes
		assert.NoError(t, s.ValidateSchema(name, c))
	})

	t.Run("every violation is reported", func(t *testing.T) {
		c := testClock()
		delete(c, "id")
		c["object"] = "clock"
		c["livemode"] = "false"
		c["zzz"] = true
		err := s.ValidateSchema(name, c)
		assert.Equal(t, []string{
			`$: missing required property "id"`,
			`$.livemode: expected boolean, got string "false"`,
			`$.object: "clock" is not one of the allowed values ["test_helpers.test_clock"]`,
			`$: unexpected property "zzz"`,
		}, violations(t, err))
		assert.Contains(t, err.Error(), `schema "test_helpers.test_clock": 4 violation(s):`)
	})

	t.Run("not an object", func(t *testing.T) {
		assert.Equal(t, []string{`$: expected object, got array`}, violations(t, s.ValidateSchema(name, []any{})))
	})

	t.Run("structs are validated through their JSON encoding", func(t *testing.T) {
		type statusDetails struct{}
		type clock struct {
			ID            string        `json:"id"`
			Object        string        `json:"object"`
			Created       int64         `json:"created"`
			DeletesAfter  int64         `json:"deletes_after"`
			FrozenTime    int64         `json:"frozen_time"`
			Livemode      bool          `json:"livemode"`
			Name          *string       `json:"name"`
			Status        string        `json:"status"`
			StatusDetails statusDetails `json:"status_details"`
		}
		assert.NoError(t, s.ValidateSchema(name, clock{
			ID: "clock_1", Object: "test_helpers.test_clock", Created: 1, DeletesAfter: 2, FrozenTime: 1, Status: "ready",
		}))
	})

	t.Run("unknown schema", func(t *testing.T) {
		err := s.ValidateSchema("no_such_schema", map[string]any{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"no_such_schema"`)
	})
}

func TestMetadataAndDescriptionProperty(t *testing.T) {
	s := spec(t)
	// payment_data has a property literally named "description" (which the
	// extractor must keep) and a Stripe metadata hash:
	// additionalProperties: {maxLength: 500, type: string}.
	const name = "payment_data"
	assert.NoError(t, s.ValidateSchema(name, map[string]any{
		"description": "Order 42",
		"metadata":    map[string]any{"order_id": "42", "weird key/with.dots": "ok"},
	}))
	assert.Equal(t, []string{
		`$.metadata.long: string has 501 characters, more than maxLength 500`,
		`$.metadata["weird key"]: expected string, got integer 42`,
	}, violations(t, s.ValidateSchema(name, map[string]any{
		"metadata": map[string]any{"long": strings.Repeat("x", 501), "weird key": 42},
	})))
}

func TestExpandableAnyOf(t *testing.T) {
	s := spec(t)
	// subscription is anyOf [{type: string}, {$ref: subscription}].
	const name = "billing_bill_resource_invoicing_parents_invoice_subscription_parent"
	assert.NoError(t, s.ValidateSchema(name, map[string]any{"subscription": "sub_1"}))
	assert.NoError(t, s.ValidateSchema(name, map[string]any{"subscription": "sub_1", "metadata": nil}))

	// An object is checked against the expanded schema; only that branch's
	// violations are reported.
	vs := violations(t, s.ValidateSchema(name, map[string]any{"subscription": map[string]any{"id": "sub_1", "object": "subscription"}}))
	assert.Contains(t, vs, `$.subscription: missing required property "items"`)
	for _, v := range vs {
		assert.NotContains(t, v, "expected string")
	}

	assert.Equal(t, []string{`$.subscription: integer 7 matches none of the anyOf alternatives (string | subscription)`},
		violations(t, s.ValidateSchema(name, map[string]any{"subscription": 7})))
	assert.Equal(t, []string{`$.subscription: null is not allowed (the schema is not nullable)`},
		violations(t, s.ValidateSchema(name, map[string]any{"subscription": nil})))
}

func TestValidateResponseTestClocks(t *testing.T) {
	s := spec(t)

	t.Run("create", func(t *testing.T) {
		assert.NoError(t, s.ValidateResponse("POST", "/v1/test_helpers/test_clocks", 200, mustJSON(t, testClock())))
	})

	t.Run("retrieve", func(t *testing.T) {
		assert.NoError(t, s.ValidateResponse("GET", "/v1/test_helpers/test_clocks/clock_123", 200, mustJSON(t, testClock())))
	})

	t.Run("advance with query string", func(t *testing.T) {
		c := testClock()
		c["status"] = "advancing"
		assert.NoError(t, s.ValidateResponse("post", "/v1/test_helpers/test_clocks/clock_123/advance?expand[]=x", 200, mustJSON(t, c)))
	})

	t.Run("full URL", func(t *testing.T) {
		assert.NoError(t, s.ValidateResponse("GET", "http://127.0.0.1:12111/v1/test_helpers/test_clocks/clock_123#frag", 200, mustJSON(t, testClock())))
	})

	t.Run("delete returns the deleted stub", func(t *testing.T) {
		body := `{"id":"clock_x","object":"test_helpers.test_clock","deleted":true}`
		assert.NoError(t, s.ValidateResponse("DELETE", "/v1/test_helpers/test_clocks/clock_x", 200, []byte(body)))

		body = `{"id":"clock_x","object":"test_helpers.test_clock","deleted":false}`
		assert.Equal(t, []string{`$.deleted: false is not one of the allowed values [true]`},
			violations(t, s.ValidateResponse("DELETE", "/v1/test_helpers/test_clocks/clock_x", 200, []byte(body))))

		// The full clock is not the deleted stub.
		assert.Error(t, s.ValidateResponse("DELETE", "/v1/test_helpers/test_clocks/clock_x", 200, mustJSON(t, testClock())))
	})

	t.Run("list", func(t *testing.T) {
		list := map[string]any{
			"object":   "list",
			"url":      "/v1/test_helpers/test_clocks",
			"has_more": false,
			"data":     []any{testClock(), testClock()},
		}
		assert.NoError(t, s.ValidateResponse("GET", "/v1/test_helpers/test_clocks?limit=2", 200, mustJSON(t, list)))

		list["data"].([]any)[1].(map[string]any)["status_details"] = map[string]any{"foo": "bar"}
		delete(list, "has_more")
		list["url"] = "/v1/events"
		err := s.ValidateResponse("GET", "/v1/test_helpers/test_clocks", 200, mustJSON(t, list))
		assert.Equal(t, []string{
			`$: missing required property "has_more"`,
			`$.data[1].status_details: unexpected property "foo"`,
			`$.url: "/v1/events" does not match pattern "^/v1/test_helpers/test_clocks"`,
		}, violations(t, err))
		assert.Contains(t, err.Error(),
			`GET /v1/test_helpers/test_clocks -> 200 (spec: GET /v1/test_helpers/test_clocks, response "200"): 3 violation(s):`)
	})

	t.Run("error envelope via default response", func(t *testing.T) {
		body := `{"error":{"type":"invalid_request_error","message":"x"}}`
		assert.NoError(t, s.ValidateResponse("POST", "/v1/test_helpers/test_clocks", 400, []byte(body)))
		assert.NoError(t, s.ValidateResponse("GET", "/v1/test_helpers/test_clocks/clock_missing", 404, []byte(body)))

		body = `{"error":{"type":"not_found","message":"x","extra":1}}`
		err := s.ValidateResponse("GET", "/v1/test_helpers/test_clocks/clock_missing", 404, []byte(body))
		assert.Equal(t, []string{
			`$.error: unexpected property "extra"`,
			`$.error.type: "not_found" is not one of the allowed values ["api_error","card_error","idempotency_error","invalid_request_error"]`,
		}, violations(t, err))
		assert.Contains(t, err.Error(), `response "default"`)

		// A success body is not an error envelope.
		assert.Equal(t, []string{`$: missing required property "error"`},
			violations(t, s.ValidateResponse("GET", "/v1/test_helpers/test_clocks/clock_missing", 404, []byte(`{}`))))
	})
}

func event() map[string]any {
	return map[string]any{
		"id":               "evt_1",
		"object":           "event",
		"api_version":      "2026-08-26.dahlia",
		"created":          1,
		"data":             map[string]any{"object": testClock()},
		"livemode":         false,
		"pending_webhooks": 0,
		"request":          map[string]any{"id": nil, "idempotency_key": nil},
		"type":             "test_helpers.test_clock.ready",
	}
}

func TestValidateResponseEvents(t *testing.T) {
	s := spec(t)

	t.Run("retrieve", func(t *testing.T) {
		assert.NoError(t, s.ValidateResponse("GET", "/v1/events/evt_1", 200, mustJSON(t, event())))
	})

	t.Run("optional and nullable members", func(t *testing.T) {
		e := event()
		e["request"] = nil // request: anyOf [notification_event_request], nullable
		e["api_version"] = nil
		e["data"].(map[string]any)["previous_attributes"] = map[string]any{"status": "advancing"}
		assert.NoError(t, s.ValidateResponse("GET", "/v1/events/evt_1", 200, mustJSON(t, e)))

		e = event()
		delete(e, "request") // neither request nor api_version is required
		delete(e, "api_version")
		e["request"] = map[string]any{} // and request's members are optional
		assert.NoError(t, s.ValidateResponse("GET", "/v1/events/evt_1", 200, mustJSON(t, e)))
	})

	t.Run("violations", func(t *testing.T) {
		e := event()
		e["request"] = map[string]any{"id": "req_1", "idempotency_key": nil, "foo": 1}
		e["data"] = map[string]any{"previous_attributes": nil}
		delete(e, "pending_webhooks")
		assert.Equal(t, []string{
			`$: missing required property "pending_webhooks"`,
			`$.data: missing required property "object"`,
			`$.data.previous_attributes: null is not allowed (expected object; the schema is not nullable)`,
			`$.request: unexpected property "foo"`,
		}, violations(t, s.ValidateResponse("GET", "/v1/events/evt_1", 200, mustJSON(t, e))))
	})

	t.Run("list", func(t *testing.T) {
		list := map[string]any{
			"object":   "list",
			"url":      "/v1/events",
			"has_more": true,
			"data":     []any{event()},
		}
		assert.NoError(t, s.ValidateResponse("GET", "/v1/events", 200, mustJSON(t, list)))
	})
}

func TestValidateResponseErrors(t *testing.T) {
	s := spec(t)

	err := s.ValidateResponse("GET", "/v1/payouts/po_1", 200, []byte(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no path in the spec matches")

	err = s.ValidateResponse("PUT", "/v1/events/evt_1", 200, []byte(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no PUT operation for /v1/events/{id}")

	assert.Error(t, s.ValidateResponse("GET", "/v1/events/", 200, []byte(`{}`)), "empty path parameter")

	err = s.ValidateResponse("GET", "/v1/events/evt_1", 200, []byte(`{"id":`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not valid JSON")
	var verr *ValidationError
	assert.False(t, errors.As(err, &verr))

	assert.Error(t, s.ValidateResponse("GET", "/v1/events/evt_1", 200, append(mustJSON(t, event()), []byte(` {}`)...)),
		"trailing data")
}

func TestRouteSpecificity(t *testing.T) {
	s := &Spec{}
	for _, tmpl := range []string{"/v1/customers/{customer}", "/v1/customers/search", "/v1/{a}/search"} {
		rt, err := (&parser{schemas: map[string]*schema{}}).parseRoute(tmpl, nil)
		require.NoError(t, err)
		s.routes = append(s.routes, rt)
	}
	assert.Equal(t, "/v1/customers/search", s.matchRoute("/v1/customers/search").template)
	assert.Equal(t, "/v1/customers/{customer}", s.matchRoute("/v1/customers/cus_1").template)
	assert.Equal(t, "/v1/{a}/search", s.matchRoute("/v1/prices/search").template)
	assert.Nil(t, s.matchRoute("/v1/customers"))
}

func TestParseRejectsUnsupportedKeywords(t *testing.T) {
	doc := `{"openapi":"3.0.0","info":{"version":"x"},"paths":{},
		"components":{"schemas":{"a":{"type":"integer","minimum":1}}}}`
	_, err := parseSpec([]byte(doc))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unsupported schema keyword "minimum"`)

	doc = `{"openapi":"3.0.0","info":{"version":"x"},"paths":{},
		"components":{"schemas":{"a":{"$ref":"#/components/schemas/b"}}}}`
	_, err = parseSpec([]byte(doc))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such schema")
}

func TestFreeFormAndReferenceCycles(t *testing.T) {
	doc := `{"openapi":"3.0.0","info":{"version":"x"},"paths":{},"components":{"schemas":{
		"free":   {"type":"object"},
		"open":   {"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":true},
		"closed": {"type":"object","properties":{},"additionalProperties":false},
		"bools":  {"type":"boolean","enum":[true]},
		"oneof":  {"oneOf":[{"type":"string"},{"type":"string","maxLength":1}]},
		"allof":  {"allOf":[{"type":"string"},{"maxLength":2}]},
		"ts":     {"format":"unix-time"},
		"loop1":  {"$ref":"#/components/schemas/loop2"},
		"loop2":  {"$ref":"#/components/schemas/loop1"}
	}}}`
	s, err := parseSpec([]byte(doc))
	require.NoError(t, err)

	assert.NoError(t, s.ValidateSchema("free", map[string]any{"anything": []any{1, nil}}))
	assert.NoError(t, s.ValidateSchema("open", map[string]any{"a": "x", "b": 1}))
	assert.Equal(t, []string{`$.a: expected string, got integer 1`}, violations(t, s.ValidateSchema("open", map[string]any{"a": 1})))
	assert.Equal(t, []string{`$: unexpected property "b"`}, violations(t, s.ValidateSchema("closed", map[string]any{"b": 1})))
	assert.NoError(t, s.ValidateSchema("bools", true))
	assert.Error(t, s.ValidateSchema("bools", false))
	assert.NoError(t, s.ValidateSchema("oneof", "x"), "overlapping oneOf branches are treated as anyOf")
	assert.NoError(t, s.ValidateSchema("allof", "ab"))
	assert.Equal(t, []string{`$: string has 3 characters, more than maxLength 2`}, violations(t, s.ValidateSchema("allof", "abc")))
	assert.NoError(t, s.ValidateSchema("ts", 1700000000))
	assert.Equal(t, []string{`$: format unix-time: expected integer, got string "now"`}, violations(t, s.ValidateSchema("ts", "now")))
	assert.Error(t, s.ValidateSchema("loop1", 1))
}
