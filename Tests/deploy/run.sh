#!/usr/bin/env bash
# Runs the deployment tests (Helm chart, dashboards, quick-deploy.sh, Dockerfile) offline.
#
#   Tests/deploy/run.sh [pytest args...]        e.g. Tests/deploy/run.sh -k dashboards
#   UPDATE_SNAPSHOTS=1 Tests/deploy/run.sh      rewrite Tests/deploy/snapshots/*.yaml
#
# Creates (or reuses) a virtualenv at .venv/deploy-tests with the pinned packages of
# Tests/deploy/requirements.txt from PyPI, installs shellcheck with apt-get when it is
# missing and we are root, then runs pytest. The exit code is pytest's.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${DEPLOY_TEST_VENV:-$ROOT/.venv/deploy-tests}"
REQS="$ROOT/Tests/deploy/requirements.txt"
cd "$ROOT"

log() { printf '[deploy-tests] %s\n' "$*" >&2; }

apt_install() {
    [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1 || return 1
    log "apt-get install $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
    fi
}

# Python 3.10+ with venv. Prefer Debian's python3 (ensurepip works there once python3-venv is in).
PYTHON=""
for candidate in /usr/bin/python3 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
        PYTHON="$(command -v "$candidate")"
        break
    fi
done
if [[ -z "$PYTHON" ]]; then
    apt_install python3 python3-venv || { log "python3 >= 3.10 is required"; exit 2; }
    PYTHON=/usr/bin/python3
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3-venv || { log "python3-venv is required (apt-get install python3-venv)"; exit 2; }
fi

if ! command -v shellcheck >/dev/null 2>&1; then
    apt_install shellcheck || log "shellcheck not installed; its test will be skipped (outside CI)"
fi

# (Re)create the venv when missing, broken, or made from other requirements.
stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)-$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
if [[ ! -x "$VENV/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]] \
    || ! "$VENV/bin/python" -c 'import helm_python, kubernetes_validate, yaml, pytest' 2>/dev/null; then
    log "creating $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$REQS"
    echo "$want" >"$stamp"
fi

# promtool (from Debian's prometheus package, unpacked without installing the service)
# checks the rendered prometheus.yml and parses every PromQL query of the dashboards.
if [[ -z "${PROMTOOL:-}" ]]; then
    if command -v promtool >/dev/null 2>&1; then
        PROMTOOL="$(command -v promtool)"
    elif [[ -x "$VENV/promtool/usr/bin/promtool" ]]; then
        PROMTOOL="$VENV/promtool/usr/bin/promtool"
    elif command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
        log "fetching promtool (Debian package prometheus)"
        tmp="$(mktemp -d)"
        if (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get download prometheus >/dev/null 2>&1; }; }) \
            && dpkg -x "$tmp"/prometheus_*.deb "$VENV/promtool"; then
            PROMTOOL="$VENV/promtool/usr/bin/promtool"
        else
            log "promtool unavailable; its tests will be skipped (outside CI)"
        fi
        rm -rf "$tmp"
    fi
fi
export PROMTOOL="${PROMTOOL:-}"

set +e
"$VENV/bin/python" -m pytest -p no:cacheprovider -q "$ROOT/Tests/deploy" "$@"
status=$?
set -e
exit "$status"
