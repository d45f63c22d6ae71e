package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billclock/billclock/store/storetest"
)

// runMainEnv makes the test binary run main() instead of the tests, so
// that tests can run the real program in a child process and see its exit
// status and everything it prints.
const runMainEnv = "BILLCLOCK_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs `billclock args...` in a child process with an environment
// of its own, and returns its output and exit status.
func runMain(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = []string{runMainEnv + "=1", "HOME=" + t.TempDir()}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), status
}

// TestMainDamagedDB runs the real program on every damaged file: serve and
// db check each print one line naming the file and exit with status 1,
// never a panic or a goroutine dump.
func TestMainDamagedDB(t *testing.T) {
	for _, d := range storetest.Damages() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "billclock.db")
			storetest.Populated(t, path)
			d.Apply(t, path)
			for _, args := range [][]string{
				{"serve", "--addr", "127.0.0.1:0", "--db", path},
				{"db", "check", path},
			} {
				stdout, stderr, status := runMain(t, args...)
				if status != 1 {
					t.Errorf("%s: exit status %d, want 1", args[0], status)
				}
				if stdout != "" {
					t.Errorf("%s: stdout = %q, want nothing", args[0], stdout)
				}
				if !strings.HasPrefix(stderr, "billclock: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, path) {
					t.Errorf("%s: stderr = %q, want one line naming the file", args[0], stderr)
				}
				if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
					t.Errorf("%s: stderr shows a panic: %q", args[0], stderr)
				}
			}
		})
	}
}

func TestMainDBCheckOK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "billclock.db")
	storetest.Populated(t, path)
	stdout, stderr, status := runMain(t, "db", "check", path)
	if status != 0 || stderr != "" || !strings.HasPrefix(stdout, "ok: ") {
		t.Errorf("db check: status %d, stdout %q, stderr %q; want 0 and ok", status, stdout, stderr)
	}
}
