package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
)

// envFunc turns a map into the getenv newRootCommand takes, so tests never
// see the real environment.
func envFunc(env map[string]string) getenvFunc {
	return func(k string) string { return env[k] }
}

// runCLI runs the real root command with args until it returns.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runCLIContext(t.Context(), env, args...)
}

func runCLIContext(ctx context.Context, env map[string]string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd := newRootCommand(envFunc(env))
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// syncBuffer is a bytes.Buffer that a running server may write to while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRootUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"bogus"}, `unknown command "bogus" for "billclock"`},
		{[]string{"test_helpers", "bogus"}, `unknown command "bogus" for "billclock test_helpers"`},
		{[]string{"test_helpers", "test_clocks", "creat"}, "did you mean create?"},
		{[]string{"test_helpers", "test_clocks", "retrieve"}, "takes one clock ID"},
		{[]string{"test_helpers", "test_clocks", "delete", "a", "b"}, "got 2 arguments"},
		{[]string{"test_helpers", "test_clocks", "fail-next-advance"}, "takes one clock ID"},
		{[]string{"test_helpers", "test_clocks", "create", "--frozen-time", "yesterday"}, `invalid timestamp "yesterday"`},
		{[]string{"test_helpers", "test_clocks", "create", "-d", "novalue"}, `invalid -d "novalue"`},
		{[]string{"serve", "extra"}, `unknown command "extra" for "billclock serve"`},
		{[]string{"serve", "--nope"}, "unknown flag: --nope"},
		{[]string{"listen", "--forward-to", "ftp://localhost/x"}, "invalid --forward-to"},
		{[]string{"listen", "extra"}, `unknown command "extra" for "billclock listen"`},
		{[]string{"trigger"}, "accepts 1 arg(s), received 0"},
		{[]string{"trigger", "charge.succeeded"}, `event "charge.succeeded" is not supported`},
		{[]string{"events", "bogus"}, `unknown command "bogus" for "billclock events"`},
		{[]string{"events", "resend"}, "takes one event ID"},
		{[]string{"events", "retrieve", "a", "b"}, "got 2 arguments"},
		{[]string{"fixtures"}, "accepts 1 arg(s), received 0"},
		{[]string{"db", "bogus"}, `unknown command "bogus" for "billclock db"`},
		{[]string{"db", "check"}, "accepts 1 arg(s), received 0"},
		{[]string{"db", "check", "a.db", "b.db"}, "accepts 1 arg(s), received 2"},
		{[]string{"settings", "bogus"}, `unknown command "bogus" for "billclock settings"`},
		{[]string{"settings", "get", "extra"}, `unknown command "extra" for "billclock settings get"`},
		{[]string{"settings", "set"}, "nothing to set"},
		{[]string{"settings", "set", "--upcoming-invoice-days", "soon"}, `invalid argument "soon"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// No server is running at this base: every case must fail
			// before it sends anything.
			env := map[string]string{"BILLCLOCK_API_BASE": "http://127.0.0.1:1"}
			stdout, _, err := runCLI(t, env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestRootHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"},
		{"test_helpers"},
		{"test_helpers", "test_clocks"},
		{"test_helpers", "test_clocks", "advance", "--help"},
		{"settings"},
		{"settings", "set", "--help"},
	} {
		stdout, _, err := runCLI(t, nil, args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(stdout, "Usage:") {
			t.Errorf("%v: no usage in output:\n%s", args, stdout)
		}
	}
}
