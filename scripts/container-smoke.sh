#!/usr/bin/env bash
# Container smoke test, run by `make test`: builds billclock's image from the
# Dockerfile (FROM scratch, a static binary built here) and checks that
#   1. the image keeps its HEALTHCHECK (podman drops it unless --format docker),
#   2. the binary in it reports its version,
#   3. the server answers /healthz on the published port,
#   4. the image's HEALTHCHECK command finds the server healthy,
#   5. a test clock advances through the published port, renewing a
#      subscription,
#   6. billclock listen on the host gets the events of the server in the
#      container (it connects to the server) and leaves nothing behind,
#   7. data survive the container: a clock made in one container is there
#      in a new container on the same named volume.
# It uses podman (installing podman and runc from Debian when they are
# missing, see ensure-podman.sh), or CONTAINER_ENGINE=docker. It never skips:
# if the test cannot run on this machine, it fails. Containers, the volume and
# the image it made are removed on the way out, also after a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "container-smoke: FAIL: $*" >&2
  if [ -s "${log:-/dev/null}" ]; then
    echo "container-smoke: engine output:" >&2
    tail -n 40 "$log" >&2
  fi
  for c in "${containers[@]}"; do
    echo "container-smoke: logs of $c:" >&2
    "$engine" logs "$c" 2>&1 | tail -n 20 >&2 || true
  done
  exit 1
}

engine=${CONTAINER_ENGINE:-podman}
if [ "$engine" = podman ]; then
  bash scripts/ensure-podman.sh || fail "podman and runc are needed and could not be installed"
fi
command -v "$engine" >/dev/null 2>&1 || fail "$engine not found"

run_flags=()
build_flags=()
if [ "$(basename "$engine")" = podman ]; then
  # crun fails on cgroups in some sandboxes, and they cannot raise
  # resource limits: runc, with limits below the sandbox's own.
  run_flags=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
  # podman's default OCI format has no HEALTHCHECK.
  build_flags=(--format docker)
fi

tag=$$-$RANDOM
image=localhost/billclock-smoke:$tag
volume=billclock-smoke-$tag
containers=()
ctx=$(mktemp -d)
log=$ctx/engine.log
cleanup() {
  for c in "${containers[@]}"; do "$engine" rm -f "$c" >/dev/null 2>&1 || true; done
  "$engine" volume rm -f "$volume" >/dev/null 2>&1 || true
  "$engine" rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$ctx"
}
trap cleanup EXIT

passed=0
pass() { passed=$((passed + 1)); echo "container-smoke: ok: $*"; }

# The engine's own chatter (podman's healthcheck timers need systemd, which
# containers here lack) goes to the log, shown on failure.
eng() { "$engine" "$@" 2>>"$log"; }

CGO_ENABLED=0 go build -buildvcs=auto -o "$ctx/billclock" ./cmd/billclock
cp Dockerfile "$ctx/"
eng build "${build_flags[@]}" -q -t "$image" "$ctx" >/dev/null || fail "$engine build"

healthcheck=$(eng image inspect --format '{{json .Config.Healthcheck}}' "$image") || fail "$engine image inspect"
case $healthcheck in
  *'"/billclock","health"'*) pass "the image has its HEALTHCHECK: $healthcheck" ;;
  *) fail "the image has no HEALTHCHECK (got: $healthcheck)" ;;
esac

version=$(eng run "${run_flags[@]}" --rm "$image" --version) || fail "billclock --version in the image"
case $version in
  "billclock "*"(commit "*) pass "$version" ;;
  *) fail "billclock --version printed: $version" ;;
esac

# start NAME: runs the server in a container on the volume, on a free
# loopback port, and sets base to its URL once /healthz answers.
start() {
  local name=$1
  containers+=("$name")
  eng run "${run_flags[@]}" -d --name "$name" -p 127.0.0.1::12800 -v "$volume:/data" "$image" >/dev/null ||
    fail "$engine run $name"
  local addr
  addr=$(eng port "$name" 12800) || fail "$engine port $name"
  base=http://${addr##*[[:space:]]}
  for _ in $(seq 100); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "/healthz never answered at $base"
}

# api METHOD PATH [curl args...]: one API call with the smoke test's key.
api() {
  local method=$1 path=$2
  shift 2
  curl -sS --fail-with-body -u sk_test_smoke: -X "$method" "$base$path" "$@" || fail "$method $path"
}

# field NAME: the first string or number field NAME of the JSON on stdin
# (Stripe's objects start with their own fields, nested objects later).
field() { { grep -oE '"'"$1"'": *("[^"]*"|[0-9]+)' || true; } | sed -nE '1s/^[^:]*: *"?([^"]*)"?$/\1/p'; }

start billclock-smoke-a-$tag
pass "/healthz answers at $base"

if [ "$(basename "$engine")" = podman ]; then
  eng healthcheck run "billclock-smoke-a-$tag" >/dev/null || fail "the image's HEALTHCHECK found the server unhealthy"
else
  for _ in $(seq 150); do
    health=$(eng inspect --format '{{.State.Health.Status}}' "billclock-smoke-a-$tag") || fail "$engine inspect"
    [ "$health" = healthy ] && break
    sleep 0.1
  done
  [ "$health" = healthy ] || fail "the container's health is $health, want healthy"
fi
pass "the HEALTHCHECK command finds the server healthy"

clock=$(api POST /v1/test_helpers/test_clocks -d frozen_time=1732320000 | field id)
[ -n "$clock" ] || fail "no clock id"
price=$(api POST /v1/prices -d currency=usd -d unit_amount=1200 -d 'recurring[interval]=month' \
  -d 'product_data[name]=Seats' | field id)
customer=$(api POST /v1/customers -d test_clock="$clock" -d payment_method=pm_card_visa \
  -d 'invoice_settings[default_payment_method]=pm_card_visa' | field id)
api POST /v1/subscriptions -d customer="$customer" -d 'items[0][price]'="$price" >/dev/null
api POST "/v1/test_helpers/test_clocks/$clock/advance" -d frozen_time=1735776000 >/dev/null # 2025-01-02
for _ in $(seq 100); do
  status=$(api GET "/v1/test_helpers/test_clocks/$clock" | field status)
  [ "$status" != advancing ] && break
  sleep 0.1
done
frozen=$(api GET "/v1/test_helpers/test_clocks/$clock" | field frozen_time)
[ "$status" = ready ] && [ "$frozen" = 1735776000 ] || fail "clock $clock is $status at $frozen, want ready at 1735776000"
invoices=$(api GET "/v1/invoices?customer=$customer" | { grep -o '"object": *"invoice"' || true; } | wc -l)
[ "$invoices" -eq 2 ] || fail "$invoices invoices after the advance, want 2 (the first and the renewal)"
pass "clock $clock advanced to 2025-01-02 and renewed the subscription"

# billclock listen on the host, against the server in the container: it
# connects to the server (nothing connects back), gets the account's events
# and leaves no webhook endpoint behind.
"$ctx/billclock" listen --api-base "$base" --api-key sk_test_smoke >"$ctx/listen.out" 2>>"$log" &
listen_pid=$!
for _ in $(seq 100); do grep -q '^Ready!' "$ctx/listen.out" && break; sleep 0.1; done
grep -q '^Ready!' "$ctx/listen.out" || { kill "$listen_pid"; fail "billclock listen printed no Ready line: $(cat "$ctx/listen.out")"; }
listened=$(api POST /v1/customers -d name=listened | field id)
event=$(api GET "/v1/events?limit=1" | field id)
for _ in $(seq 100); do grep -q "customer.created \[$event\]" "$ctx/listen.out" && break; sleep 0.1; done
kill -9 "$listen_pid"; wait "$listen_pid" 2>/dev/null || true
grep -q "customer.created \[$event\]" "$ctx/listen.out" || fail "billclock listen did not print $event: $(cat "$ctx/listen.out")"
endpoints=$(api GET /v1/webhook_endpoints | { grep -o '"object": *"webhook_endpoint"' || true; } | wc -l)
[ "$endpoints" -eq 0 ] || fail "billclock listen left $endpoints webhook endpoints"
pass "billclock listen on the host printed $event of customer $listened from the container, and left nothing behind"

# A graceful stop (SIGTERM), a new container on the same volume.
eng stop -t 10 "billclock-smoke-a-$tag" >/dev/null || fail "$engine stop"
eng rm "billclock-smoke-a-$tag" >/dev/null || fail "$engine rm"
start billclock-smoke-b-$tag
got=$(api GET "/v1/test_helpers/test_clocks/$clock")
[ "$(echo "$got" | field id)" = "$clock" ] && [ "$(echo "$got" | field frozen_time)" = 1735776000 ] ||
  fail "clock $clock not found after the restart: $got"
pass "clock $clock survived a new container on volume $volume"

echo "container-smoke: $passed passed, 0 failed"
