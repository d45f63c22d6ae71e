package emulator_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// commetScriptDir holds the @commet/node scenario (package.json,
// package-lock.json, scenario.mjs).
const commetScriptDir = "../scripts/commet-node"

// TestCommetNodeSDKScenario runs scripts/commet-node/scenario.mjs against a
// server: @commet/node 7.10.0, pointed at billclock by wrapping fetch,
// drives customers, a seats plan, a checkout, seat changes, a renewal
// checked to the cent, a renewal failed to dunning_exhausted and webhook
// signatures. Node and npm are required, not optional: CI has them.
func TestCommetNodeSDKScenario(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH (%v): this test runs @commet/node and needs Node.js 20+ with npm", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	npmCIIn(t, ctx, commetScriptDir)

	srv := emulatortest.Start(t, emulator.Config{})
	cmd := exec.CommandContext(ctx, "node", "scenario.mjs")
	cmd.Dir = commetScriptDir
	cmd.Env = append(os.Environ(), "BILLCLOCK_URL="+srv.URL(), "BILLCLOCK_COMMET_KEY=ck_node_scenario", "CI=true")
	out := runLogged(t, cmd)
	summary := regexp.MustCompile(`(?m)^(\d+) passed, 0 failed$`).FindStringSubmatch(out)
	require.NotNil(t, summary, "scenario.mjs printed no \"N passed, 0 failed\" line")
	assert.NotEqual(t, "0", summary[1], "scenario.mjs checked nothing")
}

// npmCIIn installs dir's locked dependencies unless its node_modules is
// already at least as new as its package-lock.json.
func npmCIIn(t *testing.T, ctx context.Context, dir string) {
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
