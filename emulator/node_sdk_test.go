package emulator_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// nodeScriptDir holds the stripe-node webhook check (package.json,
// package-lock.json, verify.mjs).
const nodeScriptDir = "../scripts/webhook-node"

// TestNodeSDKVerifiesWebhooks runs scripts/webhook-node/verify.mjs against a
// server: stripe-node's stripe.webhooks.constructEvent must accept every
// delivery. Node and npm are required, not optional: CI has them.
func TestNodeSDKVerifiesWebhooks(t *testing.T) {
	t.Parallel()
	runNodeScript(t, nodeScriptDir, "verify.mjs", "stripe-node's webhook verification", 2*time.Minute,
		"BILLCLOCK_API_KEY="+testKey)
}

// runNodeScript runs `node script` in dir (a folder of scripts/ with its
// package.json and package-lock.json) against a server of its own, once
// dir's locked dependencies are installed, with BILLCLOCK_URL and env
// added to its environment, and fails the test unless it exits 0 after
// printing "N passed, 0 failed" with N above 0. what names what the script
// runs, for the failure when Node or npm is missing: they are required,
// not optional (CI has them).
func runNodeScript(t *testing.T, dir, script, what string, timeout time.Duration, env ...string) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH (%v): this test runs %s and needs Node.js 20+ with npm", tool, err, what)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	npmCI(t, ctx, dir)

	srv := emulatortest.Start(t, emulator.Config{})
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "BILLCLOCK_URL="+srv.URL()), env...)
	out := runLogged(t, cmd)
	summary := regexp.MustCompile(`(?m)^(\d+) passed, 0 failed$`).FindStringSubmatch(out)
	require.NotNil(t, summary, "%s printed no \"N passed, 0 failed\" line", script)
	assert.NotEqual(t, "0", summary[1], "%s checked nothing", script)
}

// npmCI installs the locked dependencies of the script in dir unless
// node_modules is already at least as new as package-lock.json. npm
// writes node_modules/.package-lock.json on every install, so its time is
// the install's.
func npmCI(t *testing.T, ctx context.Context, dir string) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	require.NoError(t, err)
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	runLogged(t, cmd)
}

// runLogged runs cmd with its output streamed to t.Log line by line, fails
// the test if it does not exit 0, and returns the output.
func runLogged(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var out strings.Builder
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			t.Log(sc.Text())
			out.WriteString(sc.Text() + "\n")
		}
		io.Copy(io.Discard, pr) // a line too long for the scanner
	}()
	start := time.Now()
	err := cmd.Run()
	pw.Close()
	wg.Wait()
	require.NoError(t, err, "%s (after %v)", strings.Join(cmd.Args, " "), time.Since(start).Round(time.Millisecond))
	t.Logf("%s: ok in %v", strings.Join(cmd.Args, " "), time.Since(start).Round(time.Millisecond))
	return out.String()
}
