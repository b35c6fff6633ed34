#!/usr/bin/env bash
# wrk benchmark of `telemetry api` side by side with VictoriaMetrics on the same data
# (see bench_api.py). Installs wrk and victoria-metrics from Debian if missing, generates
# the data set with ../shared/bench/gen_dcgm.py if missing, builds a release binary if none.
#
# Env: DATA (default /tmp/apibench-data), WORK (default /tmp/apibench-work),
#      TELEMETRY_BIN (default .build/release/telemetry), SECONDS_PER_RUN (default 15)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DATA=${DATA:-/tmp/apibench-data}
WORK=${WORK:-/tmp/apibench-work}
BIN=${TELEMETRY_BIN:-$ROOT/.build/release/telemetry}
GEN=$ROOT/../shared/bench/gen_dcgm.py

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
if ((${#need[@]})); then
    # A policy-rc.d that forbids starting services keeps victoria-metrics from listening on 0.0.0.0.
    policy=/usr/sbin/policy-rc.d; created=0
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; created=1; fi
    apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
    if [ "$created" = 1 ]; then rm -f "$policy"; fi
fi
if [ ! -f "$DATA/manifest.json" ]; then
    python3 "$GEN" --out "$DATA" --hosts 1 --gpus 8 --ticks 86400 --interval 1 --formats csv,lp
fi
if [ ! -x "$BIN" ]; then swift build -c release --product telemetry; fi
mkdir -p "$ROOT/Benchmarks/api/results"
python3 "$ROOT/Benchmarks/api/bench_api.py" --data "$DATA" --bin "$BIN" --work "$WORK" \
    --seconds "${SECONDS_PER_RUN:-15}" --out "$ROOT/Benchmarks/api/results/api-$(date -u +%Y%m%d-%H%M%S).json" "$@"
