package emulator_test

import (
	"testing"
	"time"
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
	runNodeScript(t, chargebeeNodeDir, "scenario.mjs", "the npm chargebee SDK", 3*time.Minute,
		"BILLCLOCK_CHARGEBEE_KEY=test_node_scenario")
}
