#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed, for the browser tests that
# `make test` runs (emulator/browsertest drives it with chromedp). Run as
# root, or as a user who may sudo without a password. It fails, loudly,
# when it cannot install it: the browser tests are part of `make test` and
# must not be skipped. BILLCLOCK_CHROMIUM names another executable to use
# instead (then nothing is installed).
set -euo pipefail

chromium=${BILLCLOCK_CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
  exit 0
fi
if [ -n "${BILLCLOCK_CHROMIUM:-}" ]; then
  echo "ensure-chromium: FAIL: BILLCLOCK_CHROMIUM=$chromium is not an executable" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "ensure-chromium: FAIL: $chromium is missing, and neither root nor passwordless sudo is available to install it" >&2
  echo "ensure-chromium: install it (apt-get install chromium), or run make test as root" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: FAIL: $chromium is missing and this is not a Debian-like system (no apt-get): install Chromium" >&2
  exit 1
fi

echo "ensure-chromium: installing chromium from Debian (for the browser tests)"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
"${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium fonts-liberation >/dev/null
if [ ! -x "$chromium" ]; then
  echo "ensure-chromium: FAIL: $chromium still missing after apt-get install chromium" >&2
  exit 1
fi
"$chromium" --version
