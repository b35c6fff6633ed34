#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds everything, runs the Swift
# tests (unit, integration over loopback, crash and end-to-end tests), then the offline
# deployment checks and the HTTP conformance checks (schemathesis, the influxdb client).
# Last, a fuzz smoke: every libFuzzer target for FUZZ_SECONDS (default 10) each; set
# FUZZ_SECONDS=0 to skip it. Long soaks, benchmarks and the container image are opt-in:
# TELEMETRY_LONG_TESTS=1, TELEMETRY_BENCHMARKS=1, TELEMETRY_IMAGE_TESTS=1 (root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
start=$(date +%s)
swift build --build-tests
# Two runs: the suites that prove latency or timeouts (a broker killed and restarted, a slow
# disk, a dead broker, visibility timeouts) run after the rest, among themselves, so the
# CPU-heavy suites (crash rounds, fuzz regressions, 5,000-case property tests) cannot starve
# them of the two cores and turn a timing bound into a false failure.
timing='RestartTests|PipelineCollectorTests|PipelineStreamerTests|SlowDiskTests|BrokerHTTPTests|PipelineHTTPTests|ScrapeTLSTests|SlowClientTests'
swift test --skip-build --skip "$timing"
swift test --skip-build --filter "$timing"
# Checks outside Swift: the Helm chart offline, the built-in UI in headless Chromium, the
# OpenAPI document against real responses (schemathesis), a real InfluxDB client, a real
# Prometheus remote-writing what it scraped, and our PromQL answers against the same Prometheus
# 2.42 (Debian's prometheus, apt-installed when missing).
export SCHEMATHESIS_MAX_TIME="${SCHEMATHESIS_MAX_TIME:-60}"
for extra in Tests/deploy/run.sh Tests/UI/run.sh Tests/APIServerTests/influx_client.sh Tests/APIServerTests/prometheus_remote_write.sh Tests/APIServerTests/schemathesis.sh Tests/PromQLTests/compare_prometheus.sh; do
  echo "== $extra" >&2
  env -u TELEMETRY_IMAGE_TESTS bash "$extra"
done
# Opt-in (root, ~10 min with the release build): the container image built without Docker
# (deploy/docker/build-offline.sh) and every role of the rendered chart run from it.
if [[ "${TELEMETRY_IMAGE_TESTS:-0}" == 1 ]]; then
  echo "== image: deploy/docker/build-offline.sh + Tests/deploy/test_image*.py" >&2
  archive=test-artifacts/image/telemetry.oci.tar
  deploy/docker/build-offline.sh --output "$archive"
  TELEMETRY_IMAGE_ARCHIVE="$archive" bash Tests/deploy/run.sh -k image -rP
fi
# The fuzz build shares .build's dependencies (they are not instrumented); it rebuilds our
# modules with coverage and AddressSanitizer, so it runs after everything that uses them.
if [ "${FUZZ_SECONDS:-10}" != 0 ]; then
  echo "== scripts/fuzz.sh ${FUZZ_SECONDS:-10}" >&2
  FUZZ_SCRATCH=.build scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
fi
echo "all tests passed in $(( $(date +%s) - start )) s" >&2
