#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/TelemetryFuzz: one binary, FUZZ_TARGET picks the
# harness) with coverage and AddressSanitizer on our modules, then runs every target (or the
# ones named) for SECONDS each over its committed corpus (Fuzz/corpus/<target>/, which also
# holds every crash ever found, so they are re-run first). Fails on any crash, invariant
# violation, leak, hang (one input over 5 s) or out-of-memory (over 2 GiB).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS defaults to 20
#   scripts/fuzz.sh --list                  the targets
#   scripts/fuzz.sh --seeds                 regenerate the generated seeds (seed-N files)
#
# FUZZ_SCRATCH: the build folder (default .build-fuzz; scripts/test.sh passes .build so the
# dependencies, built without instrumentation, are shared with the normal build).
# New inputs found go to $FUZZ_SCRATCH/fuzz/work/<target>, crashes to
# $FUZZ_SCRATCH/fuzz/artifacts/<target>/; add a crash to the corpus with its regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${FUZZ_SCRATCH:-.build-fuzz}"

build() {
  echo "== building TelemetryFuzz in $scratch" >&2
  local t0=$SECONDS
  TELEMETRY_FUZZ=1 swift build --scratch-path "$scratch" --product TelemetryFuzz >&2
  bin="$(TELEMETRY_FUZZ=1 swift build --scratch-path "$scratch" --show-bin-path)/TelemetryFuzz"
  echo "== built in $((SECONDS - t0)) s" >&2
}

case "${1:-}" in
  --list) build; FUZZ_TARGET=list "$bin"; exit 0 ;;
  --seeds) build; FUZZ_WRITE_SEEDS="$PWD/Fuzz/corpus" "$bin"; exit 0 ;;
esac

seconds="${1:-20}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...] | --list | --seeds" >&2; exit 2; }
shift || true
build
if (($#)); then targets=("$@"); else mapfile -t targets < <(FUZZ_TARGET=list "$bin"); fi

# Swift's own crash backtracer would read memory AddressSanitizer watches; libFuzzer reports.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}"
failed=()
start=$SECONDS
for t in "${targets[@]}"; do
  work="$scratch/fuzz/work/$t"; artifacts="$scratch/fuzz/artifacts/$t"; log="$scratch/fuzz/$t.log"
  mkdir -p "$work" "$artifacts" "Fuzz/corpus/$t"
  if FUZZ_TARGET="$t" "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -detect_leaks=1 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "Fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz $t: ok, ${runs:-?} inputs in ${seconds} s, $cov" >&2
  else
    echo "fuzz $t: FAILED (log $log)" >&2
    grep -E 'ERROR|invariant violated|Fatal error|SUMMARY|Test unit written|timeout|out-of-memory' "$log" | head -20 >&2 || tail -30 "$log" >&2
    echo "  reproduce: FUZZ_TARGET=$t $bin $artifacts/<file>" >&2
    failed+=("$t")
  fi
done
echo "fuzzed ${#targets[@]} targets in $((SECONDS - start)) s" >&2
if ((${#failed[@]})); then
  echo "fuzz failures: ${failed[*]}" >&2
  exit 1
fi
