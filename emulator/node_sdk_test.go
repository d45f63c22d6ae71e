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
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH (%v): this test runs stripe-node's webhook verification and needs Node.js 20+ with npm", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	npmCI(t, ctx, nodeScriptDir)

	srv := emulatortest.Start(t, emulator.Config{})
	cmd := exec.CommandContext(ctx, "node", "verify.mjs")
	cmd.Dir = nodeScriptDir
	cmd.Env = append(os.Environ(), "BILLCLOCK_URL="+srv.URL(), "BILLCLOCK_API_KEY="+testKey)
	out := runLogged(t, cmd)
	summary := regexp.MustCompile(`(?m)^(\d+) passed, 0 failed$`).FindStringSubmatch(out)
	require.NotNil(t, summary, "verify.mjs printed no \"N passed, 0 failed\" line")
	assert.NotEqual(t, "0", summary[1], "verify.mjs checked nothing")
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
