#!/usr/bin/env bash
# A/B of the 7-process cluster pipeline: RUNS runs of each binary, alternating (A B A B …) so
# both see the same machine, each run a fresh stack from bench_pipeline.py --modes cluster.
# Writes one JSON per run under OUT and prints the per-run lines; summarise with
# `python3 Benchmarks/pipeline/summarise.py OUT`.
#
#   Benchmarks/pipeline/ab_cluster.sh CSV BINARY_A BINARY_B OUT [RUNS=3]
set -euo pipefail
csv="$1"; a="$2"; b="$3"; out="$4"; runs="${5:-3}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
echo "ab_cluster: start $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 0 $((runs - 1))); do
  for side in A B; do
    bin="$a"; [[ $side == B ]] && bin="$b"
    python3 "$here/bench_pipeline.py" --csv "$csv" --binary "$bin" --modes cluster --timeout 300 \
      --out "$out/$side-$r.json" | sed "s/^/$side /"
  done
done
echo "ab_cluster: end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
