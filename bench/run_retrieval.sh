#!/usr/bin/env bash
# Builds bench_retrieval and runs the product-retrieval bench (debian-deps related/search tasks,
# debian-debtags raw text vs BoW; see bench/bench_retrieval.cc). The markdown tables go to stdout
# and to TABLE; every number goes to JSON (JSON lines: a machine/options line, then one object
# per result, kNN sweep point, latency run and featurisation).
#   bench/run_retrieval.sh [BUILD_DIR] [THREADS] [JSON] [TABLE]
# Defaults: BUILD_DIR build/release, THREADS 2, JSON bench_retrieval.json in the repository root,
# TABLE = JSON with .md instead of .json.
# Environment:
#   BENCH_ARGS  extra bench_retrieval options, e.g. "--quick" (a smoke run on every 8th row) or
#               "--tasks related --sets both --flat-sets none"
#   DATA_DIR    data folder (default: ../shared/data beside the repository)
#   NO_BUILD=1  use BUILD_DIR/bench/bench_retrieval as it is (no configure / build)
#   VERBOSE=0   no progress on stderr (bench_retrieval --quiet)
# Exit status: that of bench_retrieval (0 ok, 1 failure, 2 bad options); 2 if the build fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
threads=${2:-2}
json=${3:-$root/bench_retrieval.json}
table=${4:-${json%.json}.md}
data=${DATA_DIR:-$root/../shared/data}
read -r -a extra <<< "${BENCH_ARGS:-}"
[ "${VERBOSE:-1}" = 0 ] && extra+=(--quiet)

if [ "${NO_BUILD:-0}" != 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2 ||
      { echo "run_retrieval: configuring $build failed" >&2; exit 2; }
  fi
  cmake --build "$build" -j "$threads" --target bench_retrieval >&2 ||
    { echo "run_retrieval: building bench_retrieval failed" >&2; exit 2; }
fi
bench=$build/bench/bench_retrieval
[ -x "$bench" ] || { echo "run_retrieval: $bench not found" >&2; exit 2; }
[ -d "$data/debian-deps" ] ||
  { echo "run_retrieval: $data/debian-deps not found (set DATA_DIR)" >&2; exit 2; }

echo "run_retrieval: $bench --data-dir $data --threads $threads --out $json ${extra[*]:-}" >&2
status=0
"$bench" --data-dir "$data" --threads "$threads" --out "$json" ${extra[@]+"${extra[@]}"} |
  tee "$table" || status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] && echo "json: $json" && echo "table: $table"
exit "$status"
