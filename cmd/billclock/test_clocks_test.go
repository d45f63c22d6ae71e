package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// clocksCLI runs `billclock test_helpers test_clocks args...` against base
// with the given key.
func clocksCLI(t *testing.T, base, key string, args ...string) (string, error) {
	t.Helper()
	stdout, _, err := runCLI(t, nil, append([]string{"--api-base", base, "--api-key", key, "test_helpers", "test_clocks"}, args...)...)
	return stdout, err
}

// mustClocksCLI is clocksCLI for commands that must succeed.
func mustClocksCLI(t *testing.T, base, key string, args ...string) string {
	t.Helper()
	stdout, err := clocksCLI(t, base, key, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return stdout
}

const (
	nov23 = 1732320000 // 2024-11-23T00:00:00Z
	dec01 = 1733011200 // 2024-12-01T00:00:00Z
)

func TestClockCreateRetrieveDelete(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_crud"

	c := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "2024-11-23T00:00:00Z"))
	if c.FrozenTime != nov23 || c.Status != "ready" || c.Livemode || c.Name != "" {
		t.Errorf("create with RFC 3339: %+v", c)
	}

	named := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "1733011200", "--name", "Annual plan"))
	if named.FrozenTime != dec01 || named.Name != "Annual plan" {
		t.Errorf("create with Unix seconds and --name: %+v", named)
	}

	// -d passes parameters the command has no flag for.
	viaData := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "1733011200", "-d", "name=from -d"))
	if viaData.Name != "from -d" {
		t.Errorf("-d name=...: name = %q", viaData.Name)
	}
	// And the server sees an unknown one.
	_, err := clocksCLI(t, srv.URL(), key, "create", "--frozen-time", "1733011200", "-d", "colour=blue")
	if err == nil || !strings.Contains(err.Error(), "Received unknown parameter: colour") {
		t.Errorf("-d colour=blue: err = %v", err)
	}

	got := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "retrieve", named.ID))
	if got.ID != named.ID || got.Name != "Annual plan" || got.FrozenTime != dec01 {
		t.Errorf("retrieve: %+v, want %+v", got, named)
	}

	del := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "delete", named.ID))
	if del.ID != named.ID || !del.Deleted {
		t.Errorf("delete: %+v", del)
	}
	_, err = clocksCLI(t, srv.URL(), key, "retrieve", named.ID)
	var apiErr *apiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("retrieve after delete: err = %v, want a 404", err)
	}
}

func TestClockList(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_list"
	var ids []string
	for i := range 3 {
		c := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "1732320000", "--name", string(rune('a'+i))))
		ids = append(ids, c.ID)
	}
	// Newest first.
	want := []string{ids[2], ids[1], ids[0]}

	list := func(args ...string) (ids []string, hasMore bool) {
		t.Helper()
		out := mustClocksCLI(t, srv.URL(), key, append([]string{"list"}, args...)...)
		var l struct {
			Object  string  `json:"object"`
			URL     string  `json:"url"`
			HasMore bool    `json:"has_more"`
			Data    []clock `json:"data"`
		}
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("decode list: %v\n%s", err, out)
		}
		if l.Object != "list" || l.URL != "/v1/test_helpers/test_clocks" {
			t.Fatalf("not a clock list: %s", out)
		}
		for _, c := range l.Data {
			ids = append(ids, c.ID)
		}
		return ids, l.HasMore
	}

	if got, more := list(); !slices.Equal(got, want) || more {
		t.Errorf("list = %v has_more=%v, want %v false", got, more, want)
	}
	if got, more := list("--limit", "2"); !slices.Equal(got, want[:2]) || !more {
		t.Errorf("list --limit 2 = %v has_more=%v, want %v true", got, more, want[:2])
	}
	if got, more := list("--limit", "1", "--starting-after", want[0]); !slices.Equal(got, want[1:2]) || !more {
		t.Errorf("list --starting-after = %v has_more=%v, want %v true", got, more, want[1:2])
	}
	if got, more := list("--ending-before", want[2]); !slices.Equal(got, want[:2]) || more {
		t.Errorf("list --ending-before = %v has_more=%v, want %v false", got, more, want[:2])
	}
	if _, err := clocksCLI(t, srv.URL(), key, "list", "--limit", "101"); err == nil {
		t.Error("list --limit 101 succeeded")
	}
}

func TestClockAdvance(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true, AdvanceDelay: 150 * time.Millisecond})
	const key = "sk_test_advance"
	c := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "2024-11-23T00:00:00Z"))

	// Without --wait: the answer at once, still at the old time.
	adv := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "advance", c.ID, "--frozen-time", "2024-12-01T00:00:00Z"))
	if adv.Status != "advancing" || adv.FrozenTime != nov23 || adv.StatusDetails.Advancing == nil ||
		adv.StatusDetails.Advancing.TargetFrozenTime != dec01 {
		t.Errorf("advance: %+v", adv)
	}

	// A second advance while the first runs is the server's error.
	_, err := clocksCLI(t, srv.URL(), key, "advance", c.ID, "--frozen-time", "1734220800", "--wait")
	if err == nil || !strings.Contains(err.Error(), "is already advancing") {
		t.Errorf("advance while advancing: err = %v", err)
	}

	// With --wait: the ready clock at the new time.
	c = decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "2024-11-23T00:00:00Z"))
	const dec15 = 1734220800
	start := time.Now()
	ready := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "advance", c.ID, "--frozen-time", "1734220800", "--wait"))
	if ready.ID != c.ID || ready.Status != "ready" || ready.FrozenTime != dec15 || ready.StatusDetails.Advancing != nil {
		t.Errorf("advance --wait: %+v", ready)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("advance --wait returned after %s, before the 150ms advance delay", took)
	}

	// Moving backwards is the server's error, returned as is.
	_, err = clocksCLI(t, srv.URL(), key, "advance", c.ID, "--frozen-time", "1732320000", "--wait")
	var apiErr *apiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Param != "frozen_time" {
		t.Errorf("advance backwards: err = %#v", err)
	}
}

// TestClockAdvanceWaitInterrupted checks that advance --wait stops when its
// context ends, as it does on Ctrl-C, instead of polling until --wait-timeout.
func TestClockAdvanceWaitInterrupted(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true, AdvanceDelay: time.Minute})
	const key = "sk_test_interrupt"
	c := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "1732320000"))

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	stdout, _, err := runCLIContext(ctx, nil, "--api-base", srv.URL(), "--api-key", key,
		"test_helpers", "test_clocks", "advance", c.ID, "--frozen-time", "1733011200", "--wait", "--wait-timeout", "5s")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("advance --wait took %s to notice its context ended", took)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
}

func TestClockAPIError(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	stdout, err := clocksCLI(t, srv.URL(), "sk_test_err", "retrieve", "clock_nope")
	if err == nil {
		t.Fatal("retrieve clock_nope succeeded")
	}
	if !strings.Contains(err.Error(), "No such billingclock: 'clock_nope'") {
		t.Errorf("err = %q, want the API's message", err)
	}
	var apiErr *apiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || apiErr.Type != "invalid_request_error" ||
		apiErr.Code != "resource_missing" {
		t.Errorf("err = %#v, want a 404 resource_missing apiError", err)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing on error", stdout)
	}

	_, err = clocksCLI(t, srv.URL(), "sk_test_err", "create")
	if err == nil || !strings.Contains(err.Error(), "Missing required param: frozen_time.") {
		t.Errorf("create without --frozen-time: err = %v", err)
	}
}

func TestClockClientEnvironment(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	env := map[string]string{"BILLCLOCK_API_BASE": srv.URL() + "/", "BILLCLOCK_API_KEY": "sk_test_env"}

	stdout, _, err := runCLI(t, env, "test_helpers", "test_clocks", "create", "--frozen-time", "1732320000")
	if err != nil {
		t.Fatal(err)
	}
	id := decodeClock(t, stdout).ID

	// The clock belongs to the environment's key...
	if _, err := clocksCLI(t, srv.URL(), "sk_test_env", "retrieve", id); err != nil {
		t.Errorf("retrieve with the env key as a flag: %v", err)
	}
	// ...so --api-key, which beats the environment, does not see it.
	_, _, err = runCLI(t, env, "--api-key", "sk_test_other", "test_helpers", "test_clocks", "retrieve", id)
	if err == nil || !strings.Contains(err.Error(), "No such billingclock") {
		t.Errorf("retrieve with another key: err = %v, want not found", err)
	}
	// --api-base beats the environment too, also placed after the subcommand.
	env["BILLCLOCK_API_BASE"] = "http://127.0.0.1:1"
	stdout, _, err = runCLI(t, env, "test_helpers", "test_clocks", "retrieve", id, "--api-base", srv.URL())
	if err != nil {
		t.Fatalf("--api-base over a dead BILLCLOCK_API_BASE: %v", err)
	}
	if got := decodeClock(t, stdout).ID; got != id {
		t.Errorf("retrieved %s, want %s", got, id)
	}
}

func TestClockKeyIsolation(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	a := decodeClock(t, mustClocksCLI(t, srv.URL(), "sk_test_alice", "create", "--frozen-time", "1732320000"))
	b := decodeClock(t, mustClocksCLI(t, srv.URL(), "sk_test_bob", "create", "--frozen-time", "1732320000"))

	listIDs := func(key string) []string {
		var l struct{ Data []clock }
		if err := json.Unmarshal([]byte(mustClocksCLI(t, srv.URL(), key, "list")), &l); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range l.Data {
			ids = append(ids, c.ID)
		}
		return ids
	}
	if got := listIDs("sk_test_alice"); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("alice lists %v, want [%s]", got, a.ID)
	}
	if got := listIDs("sk_test_bob"); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("bob lists %v, want [%s]", got, b.ID)
	}
	if _, err := clocksCLI(t, srv.URL(), "sk_test_bob", "delete", a.ID); err == nil {
		t.Error("bob deleted alice's clock")
	}
	if _, err := clocksCLI(t, srv.URL(), "sk_test_alice", "retrieve", a.ID); err != nil {
		t.Errorf("alice's clock after bob's delete: %v", err)
	}
}

func TestWaitReady(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true, AdvanceDelay: 200 * time.Millisecond})
	const key = "sk_test_wait"
	api := clientOptions{APIBase: srv.URL(), APIKey: key}.client()
	newAdvancing := func() string {
		t.Helper()
		id := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "1732320000")).ID
		mustClocksCLI(t, srv.URL(), key, "advance", id, "--frozen-time", "1733011200")
		return id
	}

	t.Run("ready", func(t *testing.T) {
		t.Parallel()
		id := newAdvancing()
		var progress bytes.Buffer
		raw, err := waitReady(t.Context(), api, id, time.Minute, &progress)
		if err != nil {
			t.Fatal(err)
		}
		if c := decodeClock(t, string(raw)); c.Status != "ready" || c.FrozenTime != dec01 {
			t.Errorf("waitReady returned %+v", c)
		}
		p := progress.String()
		if !strings.HasPrefix(p, "\r"+id+": advancing, reached 2024-11-23T00:00:00Z of 2024-12-01T00:00:00Z, 0 tasks done (") ||
			!regexp.MustCompile(`\r`+id+`: ready at 2024-12-01T00:00:00Z, 0 tasks done \([0-9.]+m?s\) *\n$`).MatchString(p) {
			t.Errorf("progress = %q", p)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		id := newAdvancing()
		var progress bytes.Buffer
		_, err := waitReady(t.Context(), api, id, 10*time.Millisecond, &progress)
		if err == nil || !strings.Contains(err.Error(), "still advancing after 10ms") {
			t.Errorf("err = %v", err)
		}
		if !strings.HasSuffix(progress.String(), "\n") {
			t.Errorf("progress %q does not end its line", progress.String())
		}
	})

	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		id := newAdvancing()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		_, err := waitReady(ctx, api, id, time.Minute, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("no such clock", func(t *testing.T) {
		t.Parallel()
		_, err := waitReady(t.Context(), api, "clock_nope", time.Minute, nil)
		if err == nil || !strings.Contains(err.Error(), "No such billingclock: 'clock_nope'") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestClockAdvanceWaitProgress: advance --wait on a terminal shows how far
// the advance has got (simulated time reached, tasks done) on stderr, on
// one line it rewrites, and ends it with the ready clock's figures; stdout
// has the ready clock. Piped, stderr stays empty.
func TestClockAdvanceWaitProgress(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true, AdvanceDelay: 300 * time.Millisecond})
	const key = "sk_test_waitprogress"
	api := testAPI(srv, key)
	newClock := func() string {
		t.Helper()
		// A monthly subscription: advancing 40 days announces its
		// upcoming invoice, renews it once and finalizes the renewal's
		// invoice, three tasks.
		id := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "2024-11-23T00:00:00Z")).ID
		price := mustDo(t, api, http.MethodPost, "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1000"},
			"recurring[interval]": {"month"}, "product_data[name]": {"Seats"}})["id"].(string)
		cus := mustDo(t, api, http.MethodPost, "/v1/customers", url.Values{"test_clock": {id}, "payment_method": {"pm_card_visa"},
			"invoice_settings[default_payment_method]": {"pm_card_visa"}})["id"].(string)
		mustDo(t, api, http.MethodPost, "/v1/subscriptions", url.Values{"customer": {cus}, "items[0][price]": {price}})
		return id
	}
	args := func(id string) []string {
		return []string{"--api-base", srv.URL(), "--api-key", key, "test_helpers", "test_clocks", "advance", id,
			"--frozen-time", "2025-01-02T00:00:00Z", "--wait"}
	}

	id := newClock()
	stdout, stderr, err := runCLITerminal(t.Context(), nil, args(id)...)
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeClock(t, stdout); c.ID != id || c.Status != "ready" || c.FrozenTime != 1735776000 {
		t.Errorf("stdout: %+v", c)
	}
	if !strings.HasPrefix(stderr, "\r"+id+": advancing, reached 2024-11-23T00:00:00Z of 2025-01-02T00:00:00Z, 0 tasks done (") {
		t.Errorf("stderr does not start with the advance under way: %q", stderr)
	}
	if !regexp.MustCompile(`\r` + id + `: ready at 2025-01-02T00:00:00Z, 3 tasks done \([0-9.]+m?s\) *\n$`).MatchString(stderr) {
		t.Errorf("stderr does not end with the ready clock's figures: %q", stderr)
	}
	if n := strings.Count(stderr, "\n"); n != 1 {
		t.Errorf("stderr has %d lines, want one rewritten line: %q", n, stderr)
	}

	id = newClock()
	stdout, stderr, err = runCLI(t, nil, args(id)...)
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeClock(t, stdout); c.Status != "ready" || stderr != "" {
		t.Errorf("piped: clock %+v, stderr %q", c, stderr)
	}
}
