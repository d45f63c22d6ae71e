package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// commetPost sends a Commet API request as key and decodes its answer.
func commetPost(t *testing.T, srv *emulatortest.Server, key, method, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	target := path
	if strings.HasPrefix(path, "/") {
		target = srv.URL() + "/api/v1" + path
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// commetCLI runs `billclock commet args...` as key against srv and
// decodes what it printed.
func commetCLI(t *testing.T, srv *emulatortest.Server, key string, args ...string) (map[string]any, error) {
	t.Helper()
	env := map[string]string{"BILLCLOCK_API_BASE": srv.URL(), "BILLCLOCK_COMMET_API_KEY": key,
		"BILLCLOCK_API_KEY": "sk_test_not_this_one"}
	stdout, _, err := runCLI(t, env, append([]string{"commet"}, args...)...)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("commet %v: decode %q: %v", args, stdout, err)
	}
	return out, nil
}

func mustCommetCLI(t *testing.T, srv *emulatortest.Server, key string, args ...string) map[string]any {
	t.Helper()
	out, err := commetCLI(t, srv, key, args...)
	if err != nil {
		t.Fatalf("commet %v: %v", args, err)
	}
	return out
}

func TestCommetCLITestClockAndSeats(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "ck_cli"
	clock := mustCommetCLI(t, srv, key, "test-clock", "get")
	if clock["simulatedTime"] != nil {
		t.Errorf("simulatedTime before the first advance: %v", clock["simulatedTime"])
	}
	clock = mustCommetCLI(t, srv, key, "test-clock", "advance", "--frozen-time", "2030-04-01T00:00:00Z", "--wait")
	if clock["simulatedTime"] != "2030-04-01T00:00:00.000Z" {
		t.Errorf("after advance --wait: %v", clock)
	}
	if run, _ := clock["latestRun"].(map[string]any); run["status"] != "completed" {
		t.Errorf("latestRun: %v", clock["latestRun"])
	}

	commetPost(t, srv, key, "POST", "/features", map[string]any{"name": "Seats", "code": "seats", "type": "seats"})
	commetPost(t, srv, key, "POST", "/plans", map[string]any{"name": "Pro", "code": "pro"})
	commetPost(t, srv, key, "POST", "/plans/pro/prices", map[string]any{"billingInterval": "monthly", "price": 9900})
	commetPost(t, srv, key, "POST", "/plans/pro/features", map[string]any{"featureId": "seats", "includedAmount": 5,
		"overage": map[string]any{"enabled": true, "unitPrice": 2500}})
	commetPost(t, srv, key, "POST", "/customers", map[string]any{"email": "a@example.test", "id": "acme"})
	sub := commetPost(t, srv, key, "POST", "/subscriptions", map[string]any{"customerId": "acme", "planCode": "pro",
		"initialSeats": map[string]any{"seats": 6}})
	commetPost(t, srv, key, "POST", sub["checkoutUrl"].(string), map[string]any{})

	for _, step := range []struct {
		args []string
		want float64
	}{
		{[]string{"seats", "add", "--customer", "acme", "--feature", "seats", "--count", "2"}, 8},
		{[]string{"seats", "remove", "--customer", "acme", "--feature", "seats", "--count", "3"}, 5},
		{[]string{"seats", "set", "--customer", "acme", "--feature", "seats", "--count", "7"}, 7},
	} {
		ev := mustCommetCLI(t, srv, key, step.args...)
		if ev["newBalance"] != step.want || ev["object"] != "seat_event" {
			t.Errorf("%v: %v", step.args, ev)
		}
	}
	bal := mustCommetCLI(t, srv, key, "seats", "balance", "--customer", "acme", "--feature", "seats")
	if bal["current"] != 7.0 || bal["object"] != "seat_balance" {
		t.Errorf("balance: %v", bal)
	}
	all := mustCommetCLI(t, srv, key, "seats", "balance", "--customer", "acme")
	if all["object"] != "seat_balance_collection" {
		t.Errorf("balances: %v", all)
	}
	run := mustCommetCLI(t, srv, key, "test-clock", "advance", "--days", "31")
	if run["object"] != "test_clock_run" {
		t.Errorf("advance without --wait prints the run: %v", run)
	}

	_, err := commetCLI(t, srv, key, "seats", "remove", "--customer", "acme", "--feature", "seats", "--count", "99")
	if err == nil || !strings.Contains(err.Error(), "insufficient_seats") {
		t.Errorf("removing too many: %v", err)
	}
	_, err = commetCLI(t, srv, key, "test-clock", "advance", "--days", "1", "--frozen-time", "2031-01-01T00:00:00Z")
	if err == nil {
		t.Error("both --days and --frozen-time accepted")
	}
	_, err = commetCLI(t, srv, "ck_other", "seats", "balance", "--customer", "acme")
	if err == nil || !strings.Contains(err.Error(), "customer_not_found") {
		t.Errorf("another organization sees the customer: %v", err)
	}
}
