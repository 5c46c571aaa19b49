#!/usr/bin/env bash
# Runs bench_pipeline over the real data sets and prints one markdown table.
#   bench/run_pipeline.sh [BUILD_DIR] [THREADS] [JSON]
# Data comes from ../shared/data beside the repository (bibtex also from data/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
threads=${2:-2}
json=${3:-$root/bench_pipeline.json}
shared=$root/../shared/data
: > "$json"
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), threads=$threads"
echo "| data       |  train |   test | labels | train s | predict s | p50 ms | p99 ms | p999ms | model MB | peak MB |    P@1 |    P@3 |    P@5 |   R@10 |"
echo "|------------|--------|--------|--------|---------|-----------|--------|--------|--------|----------|---------|--------|--------|--------|--------|"
run() {
  "$build/bench/bench_pipeline" --name "$1" --train "$2" --test "$3" --threads "$threads" --json "$json" "${@:4}"
}
run bibtex "$root/data/bibtex_train.txt.xz" "$root/data/bibtex_test.txt.xz"
[ -d "$shared" ] || { echo "(../shared/data not found: only bibtex)"; exit 0; }
run delicious "$shared/delicious/delicious_train.txt.xz" "$shared/delicious/delicious_test.txt.xz"
run debtags "$shared/debian-debtags/debtags_train_bow.txt.xz" "$shared/debian-debtags/debtags_test_bow.txt.xz"
run debdeps "$shared/debian-deps/debdeps_train_bow.txt.xz" "$shared/debian-deps/debdeps_test_bow.txt.xz"
echo "json: $json"
