#!/usr/bin/env bash
# Configures and builds the 'fuzz' preset, makes the seed corpora, runs every libFuzzer target
# for a fixed time and prints a summary (also written as JSON). Exits non-zero if any target
# found a crash (or any other finding: sanitizer report, timeout, memory limit).
#
#   tests/fuzz/run_fuzzers.sh [SECONDS_PER_TARGET=60] [PARALLEL_JOBS=1]
#
# Environment: XMR_FUZZ_BUILD_DIR (default build/fuzz, the preset's directory),
# XMR_FUZZ_TARGETS (space-separated subset, e.g. "fuzz_npz fuzz_model"), XMR_FUZZ_NICE (10),
# XMR_FUZZ_ARGS (extra libFuzzer flags). Per target, under the build directory:
#   corpus/<target>/    the persistent corpus (grows across runs; seeds are read from seeds/)
#   crashes/<target>/   crash-*, leak-*, timeout-*, oom-* inputs libFuzzer saved
#   logs/<target>.log   libFuzzer's output
# tests/fuzz/<target>.dict, where present, is passed as the libFuzzer dictionary.
#   summary.json        the table below
set -euo pipefail

secs=${1:-60}
jobs=${2:-1}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${XMR_FUZZ_BUILD_DIR:-$root/build/fuzz}
[[ $build = /* ]] || build=$root/$build
nice_level=${XMR_FUZZ_NICE:-10}
if ! [[ $secs =~ ^[0-9]+$ && $secs -gt 0 && $jobs =~ ^[0-9]+$ && $jobs -gt 0 ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET] [PARALLEL_JOBS]" >&2
  exit 2
fi

# Stack traces for UBSan reports too (libFuzzer prints them for the other findings).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

cd "$root"
cmake --preset fuzz -B "$build" >/dev/null
nice -n "$nice_level" cmake --build "$build" -j 2
rm -rf "$build/seeds"
nice -n "$nice_level" "$root/tests/fuzz/make_seeds.sh" "$build" "$build/seeds"

if [[ -n ${XMR_FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<<"$XMR_FUZZ_TARGETS"
else
  targets=()
  for f in "$build"/tests/fuzz/fuzz_*; do
    [[ -x $f && ! -d $f ]] && targets+=("$(basename "$f")")
  done
fi
mkdir -p "$build/logs"

count_artifacts() { find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
  -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) 2>/dev/null | wc -l; }

# Runs one target; leaves "<seconds> <rc> <new artifacts>" in logs/<target>.result.
run_one() {
  local t=$1 corpus=$build/corpus/$1 crashes=$build/crashes/$1
  mkdir -p "$corpus" "$crashes" "$build/seeds/$t"
  local before start end rc=0 dict=()
  [[ -f $root/tests/fuzz/$t.dict ]] && dict=(-dict="$root/tests/fuzz/$t.dict")
  before=$(count_artifacts "$crashes")
  start=$(date +%s)
  # shellcheck disable=SC2086
  nice -n "$nice_level" "$build/tests/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "${dict[@]}" ${XMR_FUZZ_ARGS:-} "$corpus" "$build/seeds/$t" >"$build/logs/$t.log" 2>&1 || rc=$?
  end=$(date +%s)
  echo "$((end - start)) $rc $(($(count_artifacts "$crashes") - before))" >"$build/logs/$t.result"
}

running=0
for t in "${targets[@]}"; do
  echo "fuzzing $t for ${secs}s ..."
  run_one "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

# Scratch files of fuzzer processes that died on a finding (a normal exit removes its own):
# /dev/shm/xmr_fuzz_<target>_<pid>, $TMPDIR/xmr_fuzz_pecos_<pid>/.
for f in /dev/shm/xmr_fuzz_* "${TMPDIR:-/tmp}"/xmr_fuzz_pecos_*; do
  pid=${f##*_}
  [[ -e $f && $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rm -rf -- "$f"
done

status=0
json="{\n  \"seconds_per_target\": $secs,\n  \"targets\": ["
printf '\n%-16s %8s %12s %8s %8s %6s\n' target seconds executions exec/s corpus crashes
sep=""
for t in "${targets[@]}"; do
  read -r s rc crashes <"$build/logs/$t.result"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$t.log" | tail -1)
  execs=${execs:-0}
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  # A non-zero exit without a saved artifact (e.g. a harness abort while loading the corpus)
  # still counts as a finding.
  if ((rc != 0 && crashes == 0)); then crashes=1; fi
  ((crashes == 0)) || status=1
  rate=$((s > 0 ? execs / s : execs))
  printf '%-16s %8d %12d %8d %8d %6d\n' "$t" "$s" "$execs" "$rate" "$corpus" "$crashes"
  json+="$sep\n    {\"target\": \"$t\", \"seconds\": $s, \"executions\": $execs, \"corpus\": $corpus,"
  json+=" \"crashes\": $crashes, \"exit_status\": $rc}"
  sep=","
done
json+="\n  ]\n}\n"
printf '%b' "$json" >"$build/summary.json"
echo "summary: $build/summary.json; logs: $build/logs/; crashes: $build/crashes/"
if ((status != 0)); then
  echo "FINDINGS: see the crash inputs above and tests/fuzz/README.md" >&2
fi
exit $status
