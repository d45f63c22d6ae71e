#!/usr/bin/env bash
# Builds billclock's container image from a static binary and checks that it
# serves: /healthz, a test clock created and advanced through the API, and
# the image's health command. Needs podman (apt-get install podman runc) or
# docker; on machines where crun fails on cgroups, podman runs with runc.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=${CONTAINER_ENGINE:-$(command -v podman || command -v docker || true)}
[ -n "$engine" ] || { echo "container-smoke: podman or docker is needed" >&2; exit 1; }
run_flags=()
if [ "$(basename "$engine")" = podman ]; then
  run_flags=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
fi
port=${PORT:-12830}
name=billclock-smoke-$$
ctx=$(mktemp -d)
cleanup() { "$engine" rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$ctx"; }
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$ctx/billclock" ./cmd/billclock
cp Dockerfile "$ctx/"
"$engine" build -q -t billclock:smoke "$ctx" >/dev/null
"$engine" run "${run_flags[@]}" -d --rm -p "127.0.0.1:$port:12800" --name "$name" billclock:smoke >/dev/null

base=http://127.0.0.1:$port
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || { echo "FAIL: /healthz never answered"; "$engine" logs "$name"; exit 1; }
clock=$(curl -sf -u sk_test_smoke: "$base/v1/test_helpers/test_clocks" -d frozen_time=1732320000 | sed -E 's/.*"id":"([^"]+)".*/\1/')
curl -sf -u sk_test_smoke: "$base/v1/test_helpers/test_clocks/$clock/advance" -d frozen_time=1737590400 >/dev/null
for _ in $(seq 50); do
  curl -sf -u sk_test_smoke: "$base/v1/test_helpers/test_clocks/$clock" | grep -q '"status":"ready"' && break
  sleep 0.1
done
curl -sf -u sk_test_smoke: "$base/v1/test_helpers/test_clocks/$clock" | grep -q '"frozen_time":1737590400' ||
  { echo "FAIL: the clock did not advance"; exit 1; }
"$engine" exec "$name" /billclock health --api-base http://127.0.0.1:12800 >/dev/null ||
  { echo "FAIL: billclock health inside the container"; exit 1; }
echo "container smoke test: 3 passed, 0 failed"
