#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds everything, runs the Swift
# tests (unit, integration over loopback, crash and end-to-end tests), then the offline
# deployment checks and the HTTP conformance checks (schemathesis, the influxdb client).
# Last, a fuzz smoke: every libFuzzer target for FUZZ_SECONDS (default 10) each; set
# FUZZ_SECONDS=0 to skip it. Long soaks and benchmarks are opt-in: TELEMETRY_LONG_TESTS=1,
# TELEMETRY_BENCHMARKS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
start=$(date +%s)
swift build --build-tests
swift test --skip-build
# Checks outside Swift: the Helm chart offline, the built-in UI in headless Chromium, the
# OpenAPI document against real responses (schemathesis), a real InfluxDB client, a real
# Prometheus remote-writing what it scraped, and our PromQL answers against the same Prometheus
# 2.42 (Debian's prometheus, apt-installed when missing).
export SCHEMATHESIS_MAX_TIME="${SCHEMATHESIS_MAX_TIME:-60}"
for extra in Tests/deploy/run.sh Tests/UI/run.sh Tests/APIServerTests/influx_client.sh Tests/APIServerTests/prometheus_remote_write.sh Tests/APIServerTests/schemathesis.sh Tests/PromQLTests/compare_prometheus.sh; do
  echo "== $extra" >&2
  bash "$extra"
done
# The fuzz build shares .build's dependencies (they are not instrumented); it rebuilds our
# modules with coverage and AddressSanitizer, so it runs after everything that uses them.
if [ "${FUZZ_SECONDS:-10}" != 0 ]; then
  echo "== scripts/fuzz.sh ${FUZZ_SECONDS:-10}" >&2
  FUZZ_SCRATCH=.build scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
fi
echo "all tests passed in $(( $(date +%s) - start )) s" >&2
