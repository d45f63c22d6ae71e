package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// decodeMachine reads the time machine a command printed.
func decodeMachine(t *testing.T, out string) map[string]any {
	t.Helper()
	var v struct {
		TimeMachine map[string]any `json:"time_machine"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.TimeMachine == nil {
		t.Fatalf("not a time machine: %v\n%s", err, out)
	}
	return v.TimeMachine
}

// TestChargebeeTimeMachineCLI: `billclock chargebee time-machine`
// retrieves, starts afresh and travels a site's machine, waiting with
// --wait; the key comes from --api-key or BILLCLOCK_CHARGEBEE_API_KEY;
// refusals print Chargebee's message.
func TestChargebeeTimeMachineCLI(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	base := srv.URL()
	run := func(env map[string]string, args ...string) (string, error) {
		t.Helper()
		out, _, err := runCLI(t, env, append([]string{"chargebee", "time-machine", "--api-base", base}, args...)...)
		return out, err
	}
	out, err := run(nil, "retrieve", "--api-key", "test_cli_site")
	if err != nil {
		t.Fatal(err)
	}
	if m := decodeMachine(t, out); m["time_travel_status"] != "succeeded" || m["name"] != "delorean" {
		t.Errorf("retrieve: %v", m)
	}

	env := map[string]string{"BILLCLOCK_CHARGEBEE_API_KEY": "test_cli_site"}
	genesis := time.Now().Add(-50 * 24 * time.Hour).UTC().Truncate(time.Second)
	out, err = run(env, "start-afresh", "--genesis-time", genesis.Format(time.RFC3339), "--wait")
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMachine(t, out)
	if m["time_travel_status"] != "succeeded" || int64(m["genesis_time"].(float64)) != genesis.Unix() {
		t.Errorf("start-afresh --wait: %v", m)
	}

	dest := genesis.Unix() + 10*86400
	out, err = run(env, "travel-forward", "--destination-time", strconv.FormatInt(dest, 10), "--wait")
	if err != nil {
		t.Fatal(err)
	}
	if m := decodeMachine(t, out); m["time_travel_status"] != "succeeded" || int64(m["destination_time"].(float64)) != dest {
		t.Errorf("travel-forward --wait: %v", m)
	}
	// Another key is another site: its machine is where it started.
	out, err = run(nil, "retrieve", "--api-key", "test_other_cli_site")
	if err != nil {
		t.Fatal(err)
	}
	if m := decodeMachine(t, out); int64(m["destination_time"].(float64)) == dest {
		t.Errorf("another site shares the machine: %v", m)
	}

	if _, err := run(env, "travel-forward"); err == nil || !strings.Contains(err.Error(), "--destination-time") {
		t.Errorf("travel-forward without a destination: %v", err)
	}
	_, err = run(env, "travel-forward", "--destination-time", strconv.FormatInt(dest-1, 10))
	if err == nil || !strings.Contains(err.Error(), "destination_time") || !strings.Contains(err.Error(), "400") {
		t.Errorf("travel-forward backwards: %v", err)
	}
	_, err = run(env, "start-afresh", "--genesis-time", "2099-01-01T00:00:00Z")
	if err == nil || !strings.Contains(err.Error(), "genesis_time") {
		t.Errorf("start-afresh in the future: %v", err)
	}
	_, err = run(map[string]string{"BILLCLOCK_CHARGEBEE_API_KEY": "live_nope"}, "retrieve")
	if err == nil || !strings.Contains(err.Error(), "live_") || !strings.Contains(err.Error(), "401") {
		t.Errorf("a live key: %v", err)
	}
}
