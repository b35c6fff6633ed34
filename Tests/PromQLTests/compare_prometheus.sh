#!/usr/bin/env bash
# Compares our PromQL answers with a real Prometheus 2.42 (Debian's package, installed here
# when missing) over one generated DCGM data set; see compare_prometheus.py. Needs the built
# `telemetry` binary (swift build) or TELEMETRY_BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  apt-get install -y prometheus >/dev/null || { apt-get update >/dev/null && apt-get install -y prometheus >/dev/null; }
fi
bin="${TELEMETRY_BIN:-$(swift build --show-bin-path)/telemetry}"
exec python3 Tests/PromQLTests/compare_prometheus.py "$bin"
