package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

func TestParseFixture(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{name: "ok", in: `{"_meta":{"template_version":0},"fixtures":[{"name":"c","path":"/v1/customers","method":"post"}]}`},
		{name: "no meta", in: `{"fixtures":[{"name":"c","path":"/v1/customers","method":"GET"}]}`},
		{name: "newer version", in: `{"_meta":{"template_version":1},"fixtures":[{"name":"c","path":"/v1/customers","method":"post"}]}`,
			wantErr: "template_version 1 is not supported"},
		{name: "not json", in: `{`, wantErr: "invalid fixture"},
		{name: "no steps", in: `{"fixtures":[]}`, wantErr: "no steps"},
		{name: "no name", in: `{"fixtures":[{"path":"/v1/customers","method":"post"}]}`, wantErr: "step 1 has no name"},
		{name: "relative path", in: `{"fixtures":[{"name":"c","path":"v1/customers","method":"post"}]}`, wantErr: "must start with /"},
		{name: "bad method", in: `{"fixtures":[{"name":"c","path":"/v1/customers","method":"put"}]}`, wantErr: `method "put"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFixture([]byte(tt.in))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// testRunner is a runner whose earlier answers are given as JSON.
func testRunner(t *testing.T, responses map[string]string, env map[string]string) *fixtureRunner {
	t.Helper()
	r := &fixtureRunner{getenv: envFunc(env), responses: map[string]any{}}
	for name, raw := range responses {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		r.responses[name] = v
	}
	return r
}

func TestFixtureEncodeParams(t *testing.T) {
	r := testRunner(t, map[string]string{"price": `{"id":"price_1"}`}, nil)
	f, err := parseFixture([]byte(`{"fixtures":[{"name":"s","path":"/v1/subscriptions","method":"post","params":{
		"customer": "cus_1",
		"frozen_time": 1732320000,
		"amount": 20.10,
		"off_session": true,
		"description": "",
		"skipped": null,
		"metadata": {"a": "b", "n": 3},
		"items": [{"price": "${price:id}", "quantity": 2}, {"price": "price_2"}],
		"expand": ["latest_invoice", "customer"]
	}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	params := url.Values{}
	if err := r.encodeParams(params, "", f.Steps[0].Params); err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"customer":           {"cus_1"},
		"frozen_time":        {"1732320000"},
		"amount":             {"20.10"},
		"off_session":        {"true"},
		"description":        {""},
		"metadata[a]":        {"b"},
		"metadata[n]":        {"3"},
		"items[0][price]":    {"price_1"},
		"items[0][quantity]": {"2"},
		"items[1][price]":    {"price_2"},
		"expand[0]":          {"latest_invoice"},
		"expand[1]":          {"customer"},
	}
	if params.Encode() != want.Encode() {
		t.Errorf("params:\n%s\nwant:\n%s", params.Encode(), want.Encode())
	}

	err = r.encodeParams(url.Values{}, "", map[string]any{"customer": "${nope:id}"})
	if err == nil || !strings.Contains(err.Error(), "param customer") || !strings.Contains(err.Error(), `no earlier step named "nope"`) {
		t.Errorf("unresolved reference: err = %v", err)
	}
}

func TestFixtureResolve(t *testing.T) {
	r := testRunner(t, map[string]string{
		"sub": `{"id":"sub_1","items":{"data":[{"id":"si_1","quantity":3},{"id":"si_2"}]},"cancel_at_period_end":false,
			"latest_invoice":null,"metadata":{"k":"v"}}`,
		"failed": `null`,
	}, map[string]string{"CUSTOMER": "cus_env"})
	tests := []struct{ in, want, wantErr string }{
		{in: "no reference", want: "no reference"},
		{in: "${sub:id}", want: "sub_1"},
		{in: "/v1/subscriptions/${sub:id}/x", want: "/v1/subscriptions/sub_1/x"},
		{in: "${sub:items.data.1.id}", want: "si_2"},
		{in: "${sub:items.data[0].id}", want: "si_1"},
		{in: "${sub:items.data[0].quantity}", want: "3"},
		{in: "${sub:cancel_at_period_end}", want: "false"},
		{in: "${sub:id}-${sub:items.data.0.id}", want: "sub_1-si_1"},
		{in: "${sub:nope|fallback}", want: "fallback"},
		{in: "${sub:nope|}", want: ""},
		{in: "${sub:id|fallback}", want: "sub_1"},
		{in: "${.env:CUSTOMER}", want: "cus_env"},
		{in: "${.env:MISSING|dflt}", want: "dflt"},
		{in: "${.env:MISSING}", wantErr: "environment variable MISSING is not set"},
		{in: "${sub:nope}", wantErr: `sub has no field "nope"`},
		{in: "${sub:items.data.5.id}", wantErr: `no element "5"`},
		{in: "${sub:latest_invoice}", wantErr: "is null"},
		{in: "${sub:metadata}", wantErr: "not a single value"},
		{in: "${sub:id.more}", wantErr: "has no field"},
		{in: "${failed:id}", wantErr: "has no field"},
		{in: "${other:id}", wantErr: `no earlier step named "other"`},
	}
	for _, tt := range tests {
		got, err := r.resolve(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("resolve(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("resolve(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestFixturesTestClock runs the repository's fixtures/test_clock.json.
func TestFixturesTestClock(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_fixture_clock"
	stdout, _, err := runCLI(t, nil, "fixtures", filepath.Join("..", "..", "fixtures", "test_clock.json"),
		"--api-base", srv.URL(), "--api-key", key)
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Data []clock }
	if err := json.Unmarshal([]byte(mustClocksCLI(t, srv.URL(), key, "list")), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Data) != 1 || l.Data[0].Name != "billclock fixture" {
		t.Fatalf("clocks: %+v", l.Data)
	}
	want := "Setting up fixture for: clock\nSetting up fixture for: advance\n" +
		"clock    test_helpers.test_clock  " + l.Data[0].ID + "\n" +
		"advance  test_helpers.test_clock  " + l.Data[0].ID + "\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	raw, err := waitReady(t.Context(), testAPI(srv, key), l.Data[0].ID, waitTimeout, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeClock(t, string(raw)); c.FrozenTime != 1737590400 {
		t.Errorf("clock after the fixture: %+v", c)
	}
}

// TestFixturesScenario runs a user's scenario that uses nested params,
// references into arrays, the environment and an expected error.
func TestFixturesScenario(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_fixture_scenario"
	file := filepath.Join(t.TempDir(), "seats.json")
	scenario := `{
  "_meta": {"template_version": 0},
  "fixtures": [
    {"name": "clock", "path": "/v1/test_helpers/test_clocks", "method": "post", "params": {"frozen_time": 1732320000}},
    {"name": "customer", "path": "/v1/customers", "method": "post",
     "params": {"name": "${.env:CUSTOMER_NAME}", "test_clock": "${clock:id}", "metadata": {"plan": "seats"}}},
    {"name": "price", "path": "/v1/prices", "method": "post",
     "params": {"currency": "usd", "unit_amount": 1200, "recurring": {"interval": "month"}, "product_data": {"name": "Seats"}}},
    {"name": "subscription", "path": "/v1/subscriptions", "method": "post",
     "params": {"customer": "${customer:id}", "items": [{"price": "${price:id}", "quantity": 3}]}},
    {"name": "bad", "path": "/v1/customers/cus_nope", "method": "get", "expected_error_type": "invalid_request_error"},
    {"name": "more_seats", "path": "/v1/subscription_items/${subscription:items.data[0].id}", "method": "post",
     "params": {"quantity": 5, "proration_behavior": "none"}},
    {"name": "check", "path": "/v1/subscriptions/${subscription:id}", "method": "get"}
  ]
}`
	if err := os.WriteFile(file, []byte(scenario), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BILLCLOCK_API_BASE": srv.URL(), "BILLCLOCK_API_KEY": key, "CUSTOMER_NAME": "Jenny Rosen"}
	stdout, _, err := runCLI(t, env, "fixtures", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if n := strings.Count(stdout, "Setting up fixture for: "); n != 7 {
		t.Errorf("stdout:\n%s", stdout)
	}
	// Every step that answered an object is listed, the expected error
	// ("bad") aside.
	var listed []string
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")[7:] {
		if !createdLine.MatchString(line) {
			t.Errorf("line %q is not step, object type and id", line)
		}
		listed = append(listed, strings.Fields(line)[0]+" "+strings.Fields(line)[1])
	}
	if want := []string{"clock test_helpers.test_clock", "customer customer", "price price", "subscription subscription",
		"more_seats subscription_item", "check subscription"}; !slices.Equal(listed, want) {
		t.Errorf("listed %q, want %q", listed, want)
	}
	api := testAPI(srv, key)
	// Objects on a test clock are listed only for their clock.
	clocks := mustDo(t, api, http.MethodGet, clocksPath, nil)["data"].([]any)
	if len(clocks) != 1 {
		t.Fatalf("clocks: %v", clocks)
	}
	onClock := url.Values{"test_clock": {clocks[0].(map[string]any)["id"].(string)}}
	custs := mustDo(t, api, http.MethodGet, "/v1/customers", onClock)["data"].([]any)
	if len(custs) != 1 {
		t.Fatalf("customers: %v", custs)
	}
	cus := custs[0].(map[string]any)
	if cus["name"] != "Jenny Rosen" || cus["metadata"].(map[string]any)["plan"] != "seats" || cus["test_clock"] == nil {
		t.Errorf("customer: %v", cus)
	}
	subs := mustDo(t, api, http.MethodGet, "/v1/subscriptions", onClock)["data"].([]any)
	if len(subs) != 1 {
		t.Fatalf("subscriptions: %v", subs)
	}
	sub := subs[0].(map[string]any)
	if q := sub["items"].(map[string]any)["data"].([]any)[0].(map[string]any)["quantity"]; q != float64(5) {
		t.Errorf("quantity = %v, want 5", q)
	}

	// A step that fails stops the fixture, naming the step.
	broken := filepath.Join(t.TempDir(), "broken.json")
	if err := os.WriteFile(broken, []byte(`{"fixtures":[
		{"name":"made","path":"/v1/customers","method":"post"},
		{"name":"c","path":"/v1/customers","method":"post","params":{"colour":"blue"}},
		{"name":"after","path":"/v1/customers","method":"post"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = runCLI(t, env, "fixtures", broken)
	if err == nil || !strings.Contains(err.Error(), "fixture c: Received unknown parameter: colour") {
		t.Errorf("broken fixture: err = %v", err)
	}
	if strings.Contains(stdout, "after") {
		t.Errorf("the fixture went on after a failed step:\n%s", stdout)
	}
	// What was made before the failure is listed.
	if !regexp.MustCompile(`\nmade +customer +cus_\w+\n$`).MatchString(stdout) {
		t.Errorf("broken fixture: the customer made first is not listed:\n%s", stdout)
	}

	_, _, err = runCLI(t, env, "fixtures", filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: err = %v", err)
	}
}
