package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// TestOpenURL: the page's address is the server's (flag beats environment
// beats default), its trailing slashes dropped, with the clock's id
// escaped for a path.
func TestOpenURL(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"clock_123"}, "http://127.0.0.1:12800/_billclock/dashboard/clocks/clock_123"},
		{nil, []string{"delorean", "--api-base", "http://localhost:9000/"}, "http://localhost:9000/_billclock/dashboard/clocks/delorean"},
		{map[string]string{"BILLCLOCK_API_BASE": "https://billclock.internal:8443"}, []string{"org_test_clock"},
			"https://billclock.internal:8443/_billclock/dashboard/clocks/org_test_clock"},
		{map[string]string{"BILLCLOCK_API_BASE": "http://ignored:1"}, []string{"clock_1", "--api-base", "http://127.0.0.1:1"},
			"http://127.0.0.1:1/_billclock/dashboard/clocks/clock_1"},
		{nil, []string{"a b/c?d"}, "http://127.0.0.1:12800/_billclock/dashboard/clocks/a%20b%2Fc%3Fd"},
	} {
		stdout, _, err := runCLI(t, c.env, append([]string{"open", "--print"}, c.args...)...)
		if err != nil || stdout != c.want+"\n" {
			t.Errorf("open --print %q (env %v) = %q, %v; want %q", c.args, c.env, stdout, err, c.want)
		}
	}
	for args, want := range map[string]string{
		"":                             "takes one clock ID",
		"a b":                          "takes one clock ID",
		"clock_1 --api-base 127.0.0.1": "give a URL with its scheme",
	} {
		_, _, err := runCLI(t, nil, append([]string{"open", "--print"}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("open --print %s: err = %v, want one saying %q", args, err, want)
		}
	}
}

// TestOpenURLServesTheClock: the printed address answers with the clock's
// page on a running server (from loopback, without a key).
func TestOpenURLServesTheClock(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	out, _, err := runCLI(t, nil, "test_helpers", "test_clocks", "create", "--frozen-time", "1767225600", "--api-base", srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out[strings.Index(out, "clock_"):])
	id = id[:strings.IndexAny(id, "\" \n")]
	u, _, err := runCLI(t, nil, "open", "--print", id, "--api-base", srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(strings.TrimSpace(u))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.Path, "/clocks/"+id) {
		t.Fatalf("%s answered %s at %s", u, resp.Status, resp.Request.URL)
	}
}
