package main

import (
	"net"
	"strings"
	"testing"
)

// closedBase is the URL of a port nothing listens on.
func closedBase(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	return base
}

// TestNoServerSuggestsServe: every client command, when nothing answers
// at --api-base, says so and how to start a server, instead of Go's
// "dial tcp ...: connect: connection refused" alone.
func TestNoServerSuggestsServe(t *testing.T) {
	t.Parallel()
	base := closedBase(t)
	for _, args := range [][]string{
		{"test_helpers", "test_clocks", "list"},
		{"test_helpers", "test_clocks", "create", "--frozen-time", "1732320000"},
		{"events", "list"},
		{"trigger", "customer.created"},
		{"settings", "get"},
		{"listen"},
		{"health"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runCLI(t, map[string]string{"BILLCLOCK_API_BASE": base}, args...)
			if err == nil {
				t.Fatal("succeeded without a server")
			}
			msg := err.Error()
			for _, want := range []string{"no billclock server at " + base, "connection refused", "billclock serve", "--api-base"} {
				if !strings.Contains(msg, want) {
					t.Errorf("err = %q, want it to contain %q", msg, want)
				}
			}
			if strings.Contains(stdout, "{") {
				t.Errorf("stdout = %q", stdout)
			}
		})
	}
}

// TestAPIBaseWithoutScheme: an --api-base (or BILLCLOCK_API_BASE) that is
// not an http(s) URL is explained, before anything is sent.
func TestAPIBaseWithoutScheme(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flag, env string
		want      string
	}{
		{flag: "127.0.0.1:12800", want: `invalid --api-base "127.0.0.1:12800": give a URL with its scheme, such as http://127.0.0.1:12800`},
		{flag: "localhost:12800", want: `invalid --api-base "localhost:12800": give a URL with its scheme, such as http://localhost:12800`},
		{env: "127.0.0.1:12800", want: `invalid BILLCLOCK_API_BASE "127.0.0.1:12800": give a URL with its scheme, such as http://127.0.0.1:12800`},
		{flag: "ftp://127.0.0.1:12800", want: `invalid --api-base "ftp://127.0.0.1:12800": want an http:// or https:// URL`},
		{flag: "http://", want: `invalid --api-base "http://": no host`},
		{flag: "", want: `invalid --api-base "": give a URL with its scheme, such as http://127.0.0.1:12800`},
	}
	for _, tt := range tests {
		t.Run(tt.flag+tt.env, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			var args []string
			if tt.env != "" {
				env["BILLCLOCK_API_BASE"] = tt.env
			} else {
				args = []string{"--api-base", tt.flag}
			}
			for _, cmd := range [][]string{{"test_helpers", "test_clocks", "list"}, {"events", "list"}, {"health"}, {"listen"}} {
				stdout, _, err := runCLI(t, env, append(cmd, args...)...)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%v: err = %v, want it to contain %q", cmd, err, tt.want)
				}
				if stdout != "" {
					t.Errorf("%v: stdout = %q", cmd, stdout)
				}
			}
		})
	}
}
