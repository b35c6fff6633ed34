#!/usr/bin/env bash
# Browser tests of the built-in UI: headless Chromium (Debian's `chromium`) drives the fleet,
# GPU and query pages of a real `telemetry run` over the DCGM sample and checks what they
# show; screenshots go to test-artifacts/ui/. Works on a fresh Debian 12 machine (apt + PyPI).
#   bash Tests/UI/run.sh                 # uses .build/debug/telemetry (builds it when missing)
#   TELEMETRY_BIN=.build/release/telemetry bash Tests/UI/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

sudo_cmd=""
if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
apt_updated=0
apt_install() {
  echo "== installing $* (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then $sudo_cmd apt-get update -qq; apt_updated=1; fi
  $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

command -v chromium >/dev/null 2>&1 || apt_install chromium
command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv

venv=.venv/ui-tests
if [ ! -x "$venv/bin/python" ]; then
  echo "== creating $venv" >&2
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    apt_install python3-venv
    python3 -m venv "$venv"
  fi
fi
if ! "$venv/bin/python" -c "import pytest, websocket" 2>/dev/null; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "pytest>=7" "websocket-client>=1.6"
fi

export TELEMETRY_BIN="${TELEMETRY_BIN:-.build/debug/telemetry}"
if [ ! -x "$TELEMETRY_BIN" ]; then
  echo "== building telemetry (debug)" >&2
  swift build --product telemetry
fi

mkdir -p test-artifacts/ui
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/UI "$@"
