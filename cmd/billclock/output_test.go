package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// fakeTerminal is an output that says it is a terminal, as a person's
// screen is: what the CLI writes to it is what a person would see.
type fakeTerminal struct{ bytes.Buffer }

func (*fakeTerminal) IsTerminal() bool { return true }

// runCLITerminal runs the real root command with stdout and stderr on a
// terminal.
func runCLITerminal(ctx context.Context, env map[string]string, args ...string) (stdout, stderr string, err error) {
	var out, errOut fakeTerminal
	cmd := newRootCommand(envFunc(env))
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestIsTerminal(t *testing.T) {
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	if !isTerminal(&fakeTerminal{}) {
		t.Error("a writer that says it is a terminal is not one")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}

// columnsOf splits a table line at its header's column starts, trimmed.
func columnsOf(header, line string) []string {
	starts := []int{0}
	for i := 1; i < len(header); i++ {
		if header[i] != ' ' && header[i-1] == ' ' && i >= 2 && header[i-2] == ' ' {
			starts = append(starts, i)
		}
	}
	var cols []string
	for i, s := range starts {
		end := len(line)
		if i+1 < len(starts) && starts[i+1] < end {
			end = starts[i+1]
		}
		if s >= len(line) {
			cols = append(cols, "")
			continue
		}
		cols = append(cols, strings.TrimSpace(line[s:end]))
	}
	return cols
}

// tableOf splits a table into its header's columns and its rows' cells,
// and checks that every cell starts under its header.
func tableOf(t *testing.T, out string) (header []string, rows [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %q ends in spaces", l)
		}
	}
	header = columnsOf(lines[0], lines[0])
	for _, l := range lines[1:] {
		rows = append(rows, columnsOf(lines[0], l))
	}
	return header, rows
}

func TestClockListTable(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true, AdvanceDelay: time.Hour})
	const key = "sk_test_table"
	named := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "2024-11-23T00:00:00Z", "--name", "Annual plan"))
	moving := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "2024-11-23T00:00:00Z"))
	mustClocksCLI(t, srv.URL(), key, "advance", moving.ID, "--frozen-time", "2024-12-01T00:00:00Z")
	args := []string{"--api-base", srv.URL(), "--api-key", key, "test_helpers", "test_clocks", "list"}

	out, _, err := runCLITerminal(t.Context(), nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	header, rows := tableOf(t, out)
	if want := []string{"ID", "STATUS", "FROZEN TIME", "TARGET", "NAME"}; !slices.Equal(header, want) {
		t.Fatalf("header %q, want %q\n%s", header, want, out)
	}
	want := [][]string{
		{moving.ID, "advancing", "2024-11-23T00:00:00Z", "2024-12-01T00:00:00Z", ""},
		{named.ID, "ready", "2024-11-23T00:00:00Z", "", "Annual plan"},
	}
	if len(rows) != len(want) {
		t.Fatalf("table:\n%s", out)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d = %q, want %q\n%s", i, rows[i], want[i], out)
		}
	}

	// More than a page: the table says how to get the next.
	out, _, err = runCLITerminal(t.Context(), nil, append(args, "--limit", "1")...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || lines[2] != "(more: --starting-after "+moving.ID+")" {
		t.Errorf("--limit 1:\n%s", out)
	}

	// --json on a terminal, and any output that is not a terminal, get
	// the API's JSON list.
	out, _, err = runCLITerminal(t.Context(), nil, append(args, "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	piped := mustClocksCLI(t, srv.URL(), key, "list")
	for name, got := range map[string]string{"--json": out, "piped": piped} {
		var l struct {
			Object string  `json:"object"`
			Data   []clock `json:"data"`
		}
		if err := json.Unmarshal([]byte(got), &l); err != nil || l.Object != "list" || len(l.Data) != 2 {
			t.Errorf("%s: not the JSON list (%v):\n%s", name, err, got)
		}
	}

	// An empty list says so.
	out, _, err = runCLITerminal(t.Context(), nil, "--api-base", srv.URL(), "--api-key", "sk_test_tableempty", "test_helpers", "test_clocks", "list")
	if err != nil || out != "No test clocks.\n" {
		t.Errorf("empty list: %q, %v", out, err)
	}
}

func TestEventListTable(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_eventtable"
	if _, _, err := runCLI(t, nil, "--api-base", srv.URL(), "--api-key", key, "trigger", "customer.updated"); err != nil {
		t.Fatal(err)
	}
	api := testAPI(srv, key)
	var l struct {
		Data []struct {
			ID      string `json:"id"`
			Type    string `json:"type"`
			Created int64  `json:"created"`
			Data    struct {
				Object struct {
					ID string `json:"id"`
				} `json:"object"`
			} `json:"data"`
		} `json:"data"`
	}
	raw, err := api.do(t.Context(), "GET", "/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &l); err != nil || len(l.Data) != 2 {
		t.Fatalf("events (%v): %s", err, raw)
	}

	out, _, err := runCLITerminal(t.Context(), nil, "events", "list", "--api-base", srv.URL(), "--api-key", key)
	if err != nil {
		t.Fatal(err)
	}
	header, rows := tableOf(t, out)
	if want := []string{"ID", "CREATED", "TYPE", "OBJECT"}; !slices.Equal(header, want) {
		t.Fatalf("header %q, want %q\n%s", header, want, out)
	}
	if len(rows) != 2 {
		t.Fatalf("table:\n%s", out)
	}
	for i, ev := range l.Data {
		want := []string{ev.ID, time.Unix(ev.Created, 0).UTC().Format(time.RFC3339), ev.Type, ev.Data.Object.ID}
		if !slices.Equal(rows[i], want) {
			t.Errorf("row %d = %q, want %q", i, rows[i], want)
		}
	}
	if !regexp.MustCompile(`^cus_`).MatchString(rows[0][3]) || rows[0][2] != "customer.updated" {
		t.Errorf("the newest event is not the customer's update: %q", rows[0])
	}

	out, _, err = runCLITerminal(t.Context(), nil, "events", "list", "--json", "--api-base", srv.URL(), "--api-key", key)
	if err != nil || !strings.HasPrefix(out, "{\n") || !strings.Contains(out, `"object": "list"`) {
		t.Errorf("--json: %v\n%s", err, out)
	}
	out, _, err = runCLITerminal(t.Context(), nil, "events", "list", "--api-base", srv.URL(), "--api-key", "sk_test_noevents")
	if err != nil || out != "No events.\n" {
		t.Errorf("empty list: %q, %v", out, err)
	}
}
