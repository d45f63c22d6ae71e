#!/usr/bin/env bash
# fuzz-all.sh: runs every fuzz target of the module for FUZZTIME (default
# 30s) each, found by go test -list, so that a new Fuzz function is never
# left out of `make fuzz`.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
cd "$(dirname "$0")/.."
for pkg in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	for target in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "== $pkg $target"
		$GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
	done
done
