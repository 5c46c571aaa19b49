#!/usr/bin/env bash
# Builds bench_qac and runs the session-aware query autocompletion bench (issue 6) on the AOL
# 2006 log (see bench/bench_qac.cc): most-popular completion vs XR-Linear QAC models on a
# k-means, a trie and a hybrid trie + k-means label tree. The markdown tables go to stdout and
# to TABLE; every number goes to JSON (JSON lines: an options / data line, then one object per
# method).
#   bench/run_qac.sh [BUILD_DIR] [THREADS] [JSON] [TABLE]
# Defaults: BUILD_DIR build/release, THREADS 2, JSON bench_qac.json in the repository root,
# TABLE = JSON with .md instead of .json.
# Environment:
#   BENCH_ARGS  extra bench_qac options (they override the defaults below), e.g.
#               "--methods mpc,hybrid --beam 20" or "--max-train-pairs 50000" (see --help);
#               "--tune-beta 0,0.25,0.5,1" re-runs the validation of the popularity prior
#               weight (train pairs only), "--prior-beta 0" turns the prior off
#   DATA_DIR    data folder (default: ../shared/data beside the repository)
#   NO_BUILD=1  use BUILD_DIR/bench/bench_qac as it is (no configure / build)
#   VERBOSE=0   no progress on stderr (bench_qac --quiet)
# Exit status: that of bench_qac (0 ok, 1 failure or a prefix-constraint violation, 2 bad
# options); 2 if the build fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
threads=${2:-2}
json=${3:-$root/bench_qac.json}
table=${4:-${json%.json}.md}
data=${DATA_DIR:-$root/../shared/data}
# The bench configuration the report quotes (see bench_qac.cc for why these caps).
defaults=(--pair-rule distinct --max-labels 20000 --max-train-pairs 0 --max-test-pairs 0
          --latency-queries 5000 --beam 10)
read -r -a extra <<< "${BENCH_ARGS:-}"
[ "${VERBOSE:-1}" = 0 ] && extra+=(--quiet)

if [ "${NO_BUILD:-0}" != 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXMR_BUILD_BENCHMARKS=ON >&2 ||
      { echo "run_qac: configuring $build failed" >&2; exit 2; }
  fi
  cmake --build "$build" -j "$threads" --target bench_qac >&2 ||
    { echo "run_qac: building bench_qac failed" >&2; exit 2; }
fi
bench=$build/bench/bench_qac
[ -x "$bench" ] || { echo "run_qac: $bench not found" >&2; exit 2; }
[ -f "$data/aol-queries-1m/aol_2006_1M_queries.txt.xz" ] ||
  { echo "run_qac: $data/aol-queries-1m/aol_2006_1M_queries.txt.xz not found (DATA_DIR)" >&2; exit 2; }

echo "run_qac: $bench --data-dir $data --threads $threads --out $json ${defaults[*]} ${extra[*]:-}" >&2
status=0
"$bench" --data-dir "$data" --threads "$threads" --out "$json" "${defaults[@]}" \
  ${extra[@]+"${extra[@]}"} | tee "$table" || status=${PIPESTATUS[0]}
echo "json: $json"
echo "table: $table"
exit "$status"
