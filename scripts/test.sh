#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds everything, runs the Swift
# tests (unit, integration over loopback, crash and end-to-end tests), then the offline
# deployment checks and the HTTP conformance checks (schemathesis, the influxdb client).
# Long soaks and benchmarks are opt-in: TELEMETRY_LONG_TESTS=1, TELEMETRY_BENCHMARKS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
start=$(date +%s)
swift build --build-tests
swift test --skip-build
for extra in Tests/deploy/run.sh Tests/APIServerTests/schemathesis.sh Tests/APIServerTests/influx_client.sh; do
  if [ -x "$extra" ] || [ -f "$extra" ]; then
    echo "== $extra" >&2
    bash "$extra"
  fi
done
echo "all tests passed in $(( $(date +%s) - start )) s" >&2
