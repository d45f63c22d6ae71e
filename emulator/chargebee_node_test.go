package emulator_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// chargebeeNodeDir holds the npm chargebee SDK's scenario (package.json,
// package-lock.json, scenario.mjs).
const chargebeeNodeDir = "../scripts/chargebee-node"

// TestChargebeeNodeSDKScenario runs scripts/chargebee-node/scenario.mjs
// against a server: the npm chargebee 3.33.0 SDK starts afresh, builds a
// catalog and a 5-seat subscription, travels through a renewal, a
// prorated change to 8 seats and a dunning run to not_paid, and its
// webhook handler checks every delivery (Basic authentication) and their
// order. Node and npm are required, not optional: CI has them.
func TestChargebeeNodeSDKScenario(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH (%v): this test runs the npm chargebee SDK and needs Node.js 20+ with npm", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	npmCI(t, ctx, chargebeeNodeDir)

	srv := emulatortest.Start(t, emulator.Config{})
	cmd := exec.CommandContext(ctx, "node", "scenario.mjs")
	cmd.Dir = chargebeeNodeDir
	cmd.Env = append(os.Environ(), "BILLCLOCK_URL="+srv.URL(), "BILLCLOCK_CHARGEBEE_KEY=test_node_scenario")
	out := runLogged(t, cmd)
	summary := regexp.MustCompile(`(?m)^(\d+) passed, 0 failed$`).FindStringSubmatch(out)
	require.NotNil(t, summary, "scenario.mjs printed no \"N passed, 0 failed\" line")
	assert.NotEqual(t, "0", summary[1], "scenario.mjs checked nothing")
}
