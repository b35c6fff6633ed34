#!/usr/bin/env bash
# From a fresh clone to a running stack: installs what is missing, builds the release
# binary and starts every role in one process on the bundled DCGM sample
# (API and UI on http://127.0.0.1:8080, data in ./data). Extra arguments go to `telemetry run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product telemetry
exec .build/release/telemetry run "$@"
