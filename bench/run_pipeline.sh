#!/usr/bin/env bash
# Runs bench_pipeline over the real data sets and synthetic presets and prints one markdown
# table on stdout (notes and progress go to stderr; a summary of skipped runs follows the table).
#   bench/run_pipeline.sh [BUILD_DIR] [THREADS] [JSON]
# Environment:
#   DATASETS     real data sets to run, space separated, from: bibtex delicious debtags debdeps
#                (default: all four; "" for none). Data comes from ../shared/data beside the
#                repository (bibtex also from the bundled data/).
#   SYNTH        synthetic presets as preset:scale entries, space separated (default
#                "amazon670k:0.02"; "" for none), generated with
#                `xmr synth --preset P --scale S --seed 1` and named "P@S" in the table.
#   SYNTH_CACHE  folder for the generated files (default BUILD_DIR/synth-cache); a preset whose
#                P-S.train.txt and P-S.test.txt are both there is not generated again.
#   BENCH_ARGS   extra bench_pipeline options, e.g. "--train-repeats 1 --compare-device cuda".
#   VERBOSE=1    training progress on stderr (default: bench_pipeline --quiet).
# JSON: one line describing the machine, then one object per table row.
# Exit status: 0 if every requested run succeeded, 1 if any failed or was skipped, 2 for bad
# arguments.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
threads=${2:-2}
json=${3:-$root/bench_pipeline.json}
shared=$root/../shared/data
datasets=${DATASETS-bibtex delicious debtags debdeps}
synth=${SYNTH-amazon670k:0.02}
cache=${SYNTH_CACHE:-$build/synth-cache}
read -r -a extra <<< "${BENCH_ARGS:-}"
[ "${VERBOSE:-0}" = 1 ] || extra+=(--quiet)

bench=$build/bench/bench_pipeline
[ -x "$bench" ] || { echo "run_pipeline: $bench not found (build the bench_pipeline target)" >&2; exit 2; }
for d in $datasets; do
  case $d in
    bibtex | delicious | debtags | debdeps) ;;
    *) echo "run_pipeline: unknown data set '$d' in DATASETS (bibtex delicious debtags debdeps)" >&2; exit 2 ;;
  esac
done

notes=()
note() {
  echo "run_pipeline: $*" >&2
  notes+=("$*")
}

cores=$(nproc)
mem=$(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo)
cpu=$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)
cpu=${cpu:-unknown CPU}
: > "$json"
printf '{"machine":"%s","cores":%d,"mem_gib":%d,"threads":%d}\n' "${cpu//\"/}" "$cores" "$mem" "$threads" >> "$json"
echo "machine: $cores cores, $mem GiB, $cpu, threads=$threads"
"$bench" --header

# run NAME TRAIN TEST: one bench_pipeline process (its own peak RSS); a failure is noted, not fatal.
run() {
  local name=$1 train=$2 test=$3 f
  for f in "$train" "$test"; do
    [ -f "$f" ] || { note "$name skipped: $f not found"; return 0; }
  done
  "$bench" --name "$name" --train "$train" --test "$test" --threads "$threads" --json "$json" \
    ${extra[@]+"${extra[@]}"} || note "$name failed (bench_pipeline exit status $?)"
}

for d in $datasets; do
  case $d in
    bibtex)
      if [ -f "$root/data/bibtex_train.txt.xz" ]; then
        run bibtex "$root/data/bibtex_train.txt.xz" "$root/data/bibtex_test.txt.xz"
      else
        run bibtex "$shared/bibtex/bibtex_train.txt.xz" "$shared/bibtex/bibtex_test.txt.xz"
      fi ;;
    delicious) run delicious "$shared/delicious/delicious_train.txt.xz" "$shared/delicious/delicious_test.txt.xz" ;;
    debtags) run debtags "$shared/debian-debtags/debtags_train_bow.txt.xz" "$shared/debian-debtags/debtags_test_bow.txt.xz" ;;
    debdeps) run debdeps "$shared/debian-deps/debdeps_train_bow.txt.xz" "$shared/debian-deps/debdeps_test_bow.txt.xz" ;;
  esac
done

for entry in $synth; do
  preset=${entry%%:*}
  scale=${entry#*:}
  if [ -z "$preset" ] || [ "$scale" = "$entry" ] || [ -z "$scale" ]; then
    note "synthetic entry '$entry' skipped: expected preset:scale, e.g. amazon670k:0.02"
    continue
  fi
  base=$cache/$preset-$scale
  if [ ! -f "$base.train.txt" ] || [ ! -f "$base.test.txt" ]; then
    mkdir -p "$cache"
    echo "run_pipeline: generating $preset@$scale into $base.{train,test}.txt" >&2
    if ! "$build/xmr" synth --preset "$preset" --scale "$scale" --seed 1 -o "$base" >&2; then
      note "$preset@$scale skipped: '$build/xmr synth --preset $preset --scale $scale --seed 1 -o $base' failed (is the synth command in this build of xmr?)"
      continue
    fi
    if [ ! -f "$base.train.txt" ] || [ ! -f "$base.test.txt" ]; then
      note "$preset@$scale skipped: xmr synth did not write $base.train.txt and $base.test.txt"
      continue
    fi
  fi
  run "$preset@$scale" "$base.train.txt" "$base.test.txt"
done

for n in ${notes[@]+"${notes[@]}"}; do echo "note: $n"; done
echo "json: $json"
[ ${#notes[@]} -eq 0 ]
