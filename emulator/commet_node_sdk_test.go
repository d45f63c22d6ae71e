package emulator_test

import (
	"testing"
	"time"
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
	runNodeScript(t, commetScriptDir, "scenario.mjs", "@commet/node", 3*time.Minute,
		"BILLCLOCK_COMMET_KEY=ck_node_scenario", "CI=true")
}
