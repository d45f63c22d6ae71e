#!/usr/bin/env bash
# Makes sure podman and runc are installed, from Debian's packages, for the
# container smoke test (scripts/container-smoke.sh). Run as root, or as a
# user who may sudo. It fails, loudly, when it cannot install them: the
# smoke test is part of `make test` and must not be skipped.
set -euo pipefail

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "ensure-podman: FAIL: ${missing[*]} missing, and neither root nor sudo is available to install them" >&2
  echo "ensure-podman: install them (apt-get install podman runc), or run make test as root" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-podman: FAIL: ${missing[*]} missing and this is not a Debian-like system (no apt-get): install podman and runc" >&2
  exit 1
fi

echo "ensure-podman: installing podman and runc from Debian (for the container smoke test)"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq podman runc >/dev/null
for tool in podman runc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "ensure-podman: FAIL: $tool still missing after apt-get install" >&2; exit 1; }
done
