#!/usr/bin/env bash
# Runs ON the GPU machine, from the repository root, in one device call: builds with CUDA (GoogleTest
# from the carried sources), runs the CUDA and training tests, compute-sanitizer, the end-to-end
# GPU-vs-CPU benchmarks (bibtex, debian-deps, synthetic sets) and optionally an Nsight Compute
# profile of the kernels. Every step is time-boxed, a failing step does not stop the later ones,
# and a summary table (plus the issue-4 acceptance checks) is printed last. See bench/gpu/README.md.
#
#   bash bench/gpu/run_device.sh            # needs .device-carry/ (bench/gpu/prepare_carry.sh)
#
# Environment (defaults in brackets):
#   OUT            results folder [./out]; files written there (8 at most come back):
#                  summary.md steps.log bench.json table.md cuda_tests.xml train_tests.xml
#                  ncu.csv gpu_train.txt
#   STAGES         comma/space list from build,test,bench,profile [build,test,bench]. A stage that
#                  needs binaries that are not built runs the build first anyway.
#   TIME_BUDGET    seconds for the whole script [540]; every step's limit is cut to what is left
#   BUILD_DIR      [build/gpu]      XMR_ENABLE_CUDA [ON]     JOBS [nproc]    THREADS [16]
#   CUDA_ARCH      CMAKE_CUDA_ARCHITECTURES [unset: the project's default, 90]
#   CMAKE_ARGS     extra configure arguments
#   BUILD_TARGETS  ninja targets ["": those the stages use: test: xmr_train_tests xmr_cuda_tests;
#                  bench/profile: xmr_cli bench_pipeline bench_gpu_train; all of them for
#                  STAGES=build alone], or "all"
#   GTEST_DIR      GoogleTest sources [.device-carry/googletest]
#   FORCE_SYSDEPS  1: use the carried liblzma/zlib even where the system has them [0]
#   CUDA_TEST_ARGS / TRAIN_TEST_ARGS   extra gtest arguments (e.g. --gtest_filter=...)
#   SANITIZER_TOOLS    compute-sanitizer tools [memcheck] (e.g. "memcheck racecheck synccheck")
#   SANITIZER_FILTER   gtest filter under the sanitizer [-*Large*:*Big*:*Slow*:*Stress*:*Perf*]
#   SANITIZER_ARGS     extra compute-sanitizer arguments [""] (e.g. "--leak-check full")
#   DATASETS       real sets from bibtex debdeps [bibtex debdeps]
#   SCALE          amazon670k scale [0.1]
#   SYNTH          synthetic sets, preset:scale[:train_rows[:test_rows]] entries (xmr synth
#                  --train-rows/--test-rows), space separated [amazon670k:$SCALE]
#   RUN_BIG=1      also $BIG_PRESET:$BIG_SCALE[:$BIG_ROWS] (default amazon670k:1.5: 1.005M labels,
#                  736K train rows; amazon3m:0.36 is 1.01M labels but 36 labels per row, far
#                  slower on the CPU side; BIG_ROWS e.g. "200000:20000" for fewer rows)
#   DEVICE / COMPARE_DEVICE    bench_pipeline --device / --compare-device [cuda / cpu];
#                  COMPARE_DEVICE= (empty) runs DEVICE alone
#   REFERENCE_JSON bench.json files of earlier calls, space separated (carry them, e.g.
#                  .device-carry/ref/bench.json): the acceptance check pairs this run's DEVICE rows
#                  with their COMPARE_DEVICE (default cpu) rows by data set name where this run
#                  has none (a CPU reference too long to run in the same call)
#   REAL_BENCH_ARGS   extra bench_pipeline args for the real sets [""]
#   SYNTH_BENCH_ARGS  ... for synthetic sets [--train-repeats 1 --predict-repeats 1 --latency-queries 1000]
#   GPU_TRAIN_ARGS    arguments for bench/bench_gpu_train [--preset amazon670k --scale $SCALE
#                     --threads $THREADS --json $OUT/gpu_train.json]
#   PROFILE_SET    data for the profile stage: bibtex, debdeps or the table name of a synthetic
#                  set of this call (amazon670k@1.5) [the first synthetic set, else bibtex]
#   NCU_KERNELS    ncu --kernel-name regex [all]   NCU_SKIP [0]   NCU_COUNT [400]
#   NCU_SOLVER_REGEX  kernels counted as "solver kernels" in the bandwidth check [.]
# Exit status: 0 when every step passed (skipped optional steps do not count), 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
OUT=${OUT:-$root/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAGES=${STAGES:-build,test,bench}
TIME_BUDGET=${TIME_BUDGET:-540}
BUILD_DIR=${BUILD_DIR:-build/gpu}
XMR_ENABLE_CUDA=${XMR_ENABLE_CUDA:-ON}
JOBS=${JOBS:-$(nproc)}
THREADS=${THREADS:-16}
carry=$root/.device-carry
GTEST_DIR=${GTEST_DIR:-$carry/googletest}
DATASETS=${DATASETS-bibtex debdeps}
SCALE=${SCALE:-0.1}
BIG_PRESET=${BIG_PRESET:-amazon670k}
BIG_SCALE=${BIG_SCALE:-1.5}
SYNTH=${SYNTH-amazon670k:$SCALE}
[ "${RUN_BIG:-0}" = 1 ] && SYNTH="$SYNTH $BIG_PRESET:$BIG_SCALE${BIG_ROWS:+:$BIG_ROWS}"
DEVICE=${DEVICE:-cuda}
COMPARE_DEVICE=${COMPARE_DEVICE-cpu}
SYNTH_BENCH_ARGS=${SYNTH_BENCH_ARGS---train-repeats 1 --predict-repeats 1 --latency-queries 1000}
SANITIZER_TOOLS=${SANITIZER_TOOLS:-memcheck}
SANITIZER_FILTER=${SANITIZER_FILTER:--*Large*:*Big*:*Slow*:*Stress*:*Perf*}
RESERVE=15    # seconds kept for the summary
MIN_STEP=10   # a step is not started with less than this left
LOG_LINES=3000

mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
logdir=$BUILD_DIR/run-logs
rm -rf "$logdir"
mkdir -p "$logdir"
cache=$BUILD_DIR/synth-cache
: > "$OUT/steps.log"

has_stage() { [[ ",${STAGES// /,}," == *",$1,"* ]]; }

# ---------------------------------------------------------------- step bookkeeping
start_s=$SECONDS
s_name=() s_status=() s_secs=() s_note=()
record() {  # NAME STATUS SECONDS NOTE
  s_name+=("$1") s_status+=("$2") s_secs+=("$3") s_note+=("$4")
}
left() { echo $((TIME_BUDGET - (SECONDS - start_s) - RESERVE)); }

# step NAME CAP CMD...: runs CMD (from the repo root) under timeout min(CAP, time left); its
# output goes to a log (appended to $OUT/steps.log); one status line on stdout, the log's tail too
# on failure. Returns CMD's status (124 on timeout).
step() {
  local name=$1 cap=$2
  shift 2
  local t
  t=$(left)
  [ "$cap" -lt "$t" ] && t=$cap
  if [ "$t" -lt "$MIN_STEP" ]; then
    record "$name" NOTIME 0 "not started: TIME_BUDGET=${TIME_BUDGET}s spent"
    echo "--- $name: NOTIME (TIME_BUDGET spent)"
    return 124
  fi
  local log=$logdir/${#s_name[@]}.log t0=$SECONDS rc=0
  echo "--- $name (limit ${t}s): $*" > "$log"
  timeout -k 10 "$t" "$@" >> "$log" 2>&1 || rc=$?
  local dt=$((SECONDS - t0)) status=PASS note=""
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    status=TIMEOUT note="killed after ${t}s"
  elif [ $rc -ne 0 ]; then
    status=FAIL note="exit status $rc"
  fi
  [ -n "${STEP_NOTE:-}" ] && note="${note:+$note; }$STEP_NOTE"
  # GoogleTest and compute-sanitizer totals, so that "PASS" with 0 tests run shows.
  local extra
  extra=$(grep -E -o '^\[==========\] [0-9]+ tests? from [0-9]+ test suites? ran' "$log" | tail -n 1 |
            awk '{print $2 " tests ran"}' || true)
  [ -n "$extra" ] && note="${note:+$note; }$extra"
  extra=$(grep -E -o '^\[  SKIPPED \] [0-9]+ tests?,' "$log" | tail -n 1 | awk '{print $4 " SKIPPED"}' || true)
  [ -n "$extra" ] && note="${note:+$note; }$extra"
  extra=$(grep -E -o 'ERROR SUMMARY: [0-9]+ errors?' "$log" | tail -n 1 || true)
  [ -n "$extra" ] && note="${note:+$note; }$extra"
  record "$name" "$status" "$dt" "$note"
  {
    echo
    echo "=================== $name: $status (${dt}s) $note"
    tail -n "$LOG_LINES" "$log"
  } >> "$OUT/steps.log"
  echo "--- $name: $status (${dt}s) $note"
  if [ "$status" != PASS ]; then
    tail -n "${FAIL_TAIL:-25}" "$log" | cut -c1-300 | sed 's/^/    | /'
  fi
  return $rc
}
skip() {  # NAME NOTE: a step that could not run (counts as a failure unless OPTIONAL=1)
  local status=MISSING
  [ "${OPTIONAL:-0}" = 1 ] && status=SKIP
  record "$1" "$status" 0 "$2"
  echo "--- $1: $status ($2)"
}

find_tool() {  # NAME: prints the path of a CUDA tool, from PATH or the usual CUDA folders
  local p
  p=$(command -v "$1" 2> /dev/null) && { echo "$p"; return 0; }
  for p in /usr/local/cuda/bin/$1 /usr/local/cuda/compute-sanitizer/$1 /opt/nvidia/nsight-compute/*/$1 \
           /usr/local/cuda/nsight-compute*/$1; do
    [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

# ---------------------------------------------------------------- machine
echo "=== run_device.sh: stages '$STAGES', budget ${TIME_BUDGET}s, build $BUILD_DIR, out $OUT"
echo "machine: $(uname -m), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)"
if command -v nvidia-smi > /dev/null 2>&1; then
  smi=$(nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,clocks.sm,clocks.max.sm,clocks.max.mem,temperature.gpu,power.draw,utilization.gpu \
          --format=csv 2>&1) || smi="$smi
$(nvidia-smi -L 2>&1 || true)"
  echo "$smi" | sed 's/^/gpu: /'
else
  echo "gpu: nvidia-smi not found"
fi
if [ "$XMR_ENABLE_CUDA" = ON ] && ! command -v nvcc > /dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
echo "tools: cmake $(cmake --version | awk 'NR==1{print $3}'), ninja $(ninja --version 2> /dev/null || echo none), nvcc $(nvcc --version 2> /dev/null | awk -F', ' '/release/{print $2}' || true), c++ $(c++ -dumpfullversion 2> /dev/null || true), python3 $(python3 -c 'import platform; print(platform.python_version())' 2> /dev/null || echo none)"
echo "disk: $(df -h "$BUILD_DIR" | awk 'NR==2{print $4 " free"}')"

# The carried data must be what prepare_carry.sh copied.
if [ -f "$carry/MANIFEST" ]; then
  if (cd "$carry/data" && grep ' debian-deps/' "$carry/MANIFEST" | sha256sum -c --quiet -) > "$logdir/carry.log" 2>&1; then
    record carry-check PASS 0 ".device-carry matches its MANIFEST"
  else
    record carry-check FAIL 0 "data in .device-carry does not match MANIFEST"
    cat "$logdir/carry.log"
  fi
else
  record carry-check MISSING 0 "no .device-carry/MANIFEST: run bench/gpu/prepare_carry.sh and carry .device-carry"
fi

# ---------------------------------------------------------------- build
have_target() {  # (no `ninja | grep -q`: with pipefail, grep's early exit fails the pipe)
  [ -f "$BUILD_DIR/build.ninja" ] || return 1
  ninja -C "$BUILD_DIR" -t targets all > "$logdir/targets.txt" 2> /dev/null || true
  grep -q "^$1:" "$logdir/targets.txt"
}
need_build=0
has_stage build && need_build=1
if [ $need_build = 0 ]; then
  need=()
  has_stage test && need+=(xmr_train_tests)
  if has_stage bench || has_stage profile; then need+=(xmr bench/bench_pipeline); fi
  for b in ${need[@]+"${need[@]}"}; do
    [ -x "$BUILD_DIR/$b" ] || need_build=1
  done
  [ $need_build = 1 ] && echo "=== binaries for '$STAGES' missing in $BUILD_DIR: building first"
fi

do_configure() {
  local args=(-S "$root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
              -DXMR_ENABLE_CUDA="$XMR_ENABLE_CUDA" -DXMR_GTEST_SOURCE_DIR="$GTEST_DIR"
              -DXMR_BUILD_TESTS=ON -DXMR_BUILD_BENCHMARKS=ON)
  [ -n "${CUDA_ARCH:-}" ] && args+=(-DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH")
  # liblzma / zlib: the image may lack their -dev packages; then use the carried static ones.
  local probe=$logdir/sysdeps-probe
  printf '#include <lzma.h>\n#include <zlib.h>\nint main() { return (int)lzma_version_number() + zlibVersion()[0]; }\n' > "$probe.cc"
  if [ "${FORCE_SYSDEPS:-0}" = 1 ] || ! c++ "$probe.cc" -o "$probe" -llzma -lz > "$probe.log" 2>&1; then
    if [ -d "$carry/sysdeps/lib" ]; then
      local sd=$carry/sysdeps
      echo "configure: using the carried liblzma/zlib from $sd"
      STEP_NOTE="carried liblzma/zlib"
      args+=(-DLIBLZMA_INCLUDE_DIR="$sd/include" -DLIBLZMA_LIBRARY="$sd/lib/liblzma.a"
             -DZLIB_INCLUDE_DIR="$sd/include" -DZLIB_LIBRARY="$sd/lib/libz.a")
    else
      echo "configure: no system liblzma/zlib and none carried"
    fi
  fi
  read -r -a extra <<< "${CMAKE_ARGS:-}"
  [ ${#extra[@]} -gt 0 ] && args+=("${extra[@]}")
  [ -f "$GTEST_DIR/CMakeLists.txt" ] ||
    echo "configure: $GTEST_DIR/CMakeLists.txt not found (run bench/gpu/prepare_carry.sh, carry .device-carry)"
  step configure 120 cmake "${args[@]}"
}

if [ $need_build = 1 ]; then
  STEP_NOTE=""
  if do_configure; then
    STEP_NOTE=""
    targets=()
    if [ "${BUILD_TARGETS:-}" = all ]; then
      targets=(all)
    elif [ -n "${BUILD_TARGETS:-}" ]; then
      read -r -a targets <<< "$BUILD_TARGETS"
    else
      # What the requested stages use (STAGES=build alone: all of it).
      want=""
      has_stage test && want+=" xmr_train_tests xmr_cuda_tests"
      has_stage bench && want+=" xmr_cli bench_pipeline bench_gpu_train"
      has_stage profile && want+=" xmr_cli bench_pipeline"
      [ -z "$want" ] && want="xmr_cli bench_pipeline xmr_train_tests xmr_cuda_tests bench_gpu_train"
      for t in $(echo "$want" | tr ' ' '\n' | awk 'NF && !seen[$0]++'); do
        if have_target "$t"; then targets+=("$t"); fi
      done
      [ ${#targets[@]} -gt 0 ] || targets=(all)
    fi
    step build 420 cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]}" || true
    have_target xmr_cuda_tests || echo "note: no xmr_cuda_tests target (no tests/unit/cuda/*_test.cc yet?)"
  fi
  STEP_NOTE=""
fi

# ---------------------------------------------------------------- tests
if has_stage test; then
  read -r -a cuda_args <<< "${CUDA_TEST_ARGS:-}"
  read -r -a train_args <<< "${TRAIN_TEST_ARGS:-}"
  if [ -x "$BUILD_DIR/xmr_cuda_tests" ]; then
    step cuda-tests 180 "$BUILD_DIR/xmr_cuda_tests" --gtest_output="xml:$OUT/cuda_tests.xml" \
      ${cuda_args[@]+"${cuda_args[@]}"} || true
  else
    skip cuda-tests "$BUILD_DIR/xmr_cuda_tests not built"
  fi
  if [ -x "$BUILD_DIR/xmr_train_tests" ]; then
    step train-tests 180 "$BUILD_DIR/xmr_train_tests" --gtest_output="xml:$OUT/train_tests.xml" \
      ${train_args[@]+"${train_args[@]}"} || true
  else
    skip train-tests "$BUILD_DIR/xmr_train_tests not built"
  fi
  san=$(find_tool compute-sanitizer || true)
  read -r -a san_args <<< "${SANITIZER_ARGS:-}"
  for tool in $SANITIZER_TOOLS; do
    if [ -z "$san" ]; then
      skip "sanitizer-$tool" "compute-sanitizer not found"
    elif [ ! -x "$BUILD_DIR/xmr_cuda_tests" ]; then
      skip "sanitizer-$tool" "$BUILD_DIR/xmr_cuda_tests not built"
    else
      step "sanitizer-$tool" 180 "$san" --tool "$tool" --error-exitcode 99 --print-limit 50 \
        ${san_args[@]+"${san_args[@]}"} "$BUILD_DIR/xmr_cuda_tests" \
        --gtest_filter="$SANITIZER_FILTER" --gtest_brief=1 || true
    fi
  done
fi

# ---------------------------------------------------------------- benchmarks
bench=$BUILD_DIR/bench/bench_pipeline
synth_ok=()  # "name train test" of the synthetic sets that exist
gen_synth() {  # PRESET SCALE [TRAIN_ROWS [TEST_ROWS]]: generates into the cache unless there
  local name=$1@$2 tag=$1-$2 rows=()
  if [ -n "${3:-}" ]; then
    name+="/$3" tag+="-r$3" rows+=(--train-rows "$3")
  fi
  if [ -n "${4:-}" ]; then
    name+="/$4" tag+="-t$4" rows+=(--test-rows "$4")
  fi
  local base=$cache/$tag
  if [ -f "$base.train.txt" ] && [ -f "$base.test.txt" ]; then
    echo "--- synth $name: cached in $base.*"
  else
    mkdir -p "$cache"
    rm -f "$base.train.txt" "$base.test.txt"
    step "synth $name" 180 "$BUILD_DIR/xmr" synth --preset "$1" --scale "$2" ${rows[@]+"${rows[@]}"} \
      --seed 1 -t 0 -q -o "$base" || { rm -f "$base.train.txt" "$base.test.txt"; return 1; }
  fi
  synth_ok+=("$name $base.train.txt $base.test.txt")
}
run_bench() {  # NAME TRAIN TEST CAP ARGS...
  local name=$1 train=$2 test=$3 cap=$4 f
  shift 4
  for f in "$train" "$test"; do
    [ -f "$f" ] || { skip "bench $name" "$f not found"; return 0; }
  done
  local cmp=()
  [ -n "$COMPARE_DEVICE" ] && cmp=(--compare-device "$COMPARE_DEVICE")
  local n0=${#s_name[@]}
  step "bench $name" "$cap" $stdbuf "$bench" --name "$name" --train "$train" --test "$test" \
    --device "$DEVICE" ${cmp[@]+"${cmp[@]}"} --threads "$THREADS" --json "$OUT/bench.json" --quiet "$@" || true
  local log=$logdir/$n0.log
  [ -f "$log" ] || return 0
  grep '^| ' "$log" >> "$OUT/table.md" || true
  grep '^ratio ' "$log" >> "$logdir/ratios.txt" || true
}

if has_stage bench || has_stage profile; then
  for entry in $SYNTH; do
    IFS=: read -r preset scale trows erows <<< "$entry"
    if [ -z "$preset" ] || [ -z "$scale" ]; then
      skip "synth $entry" "expected preset:scale[:train_rows[:test_rows]]"
    elif [ -x "$BUILD_DIR/xmr" ]; then
      gen_synth "$preset" "$scale" "$trows" "$erows" || true
    else
      skip "synth $preset@$scale" "$BUILD_DIR/xmr not built"
    fi
  done
fi

if has_stage bench; then
  stdbuf=""
  command -v stdbuf > /dev/null 2>&1 && stdbuf="stdbuf -oL"  # rows survive a timeout kill
  : > "$logdir/ratios.txt"
  if [ -x "$bench" ]; then
    gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2> /dev/null | head -1 || true)
    printf '{"machine":"%s","cores":%d,"mem_gib":%d,"threads":%d,"gpu":"%s","device":"%s","compare_device":"%s"}\n' \
      "$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo | tr -d '"')" "$(nproc)" \
      "$(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo)" "$THREADS" "${gpu:-none}" \
      "$DEVICE" "$COMPARE_DEVICE" > "$OUT/bench.json"
    "$bench" --header > "$OUT/table.md"
    read -r -a real_args <<< "${REAL_BENCH_ARGS:-}"
    read -r -a synth_args <<< "$SYNTH_BENCH_ARGS"
    for d in $DATASETS; do
      case $d in
        bibtex) run_bench bibtex data/bibtex_train.txt.xz data/bibtex_test.txt.xz 120 ${real_args[@]+"${real_args[@]}"} ;;
        debdeps) run_bench debdeps "$carry/data/debian-deps/debdeps_train_bow.txt.xz" \
                   "$carry/data/debian-deps/debdeps_test_bow.txt.xz" 200 ${real_args[@]+"${real_args[@]}"} ;;
        *) skip "bench $d" "unknown data set (bibtex debdeps)" ;;
      esac
    done
    for s in ${synth_ok[@]+"${synth_ok[@]}"}; do
      read -r name train test <<< "$s"
      run_bench "$name" "$train" "$test" 480 ${synth_args[@]+"${synth_args[@]}"}
    done
    if [ -s "$logdir/ratios.txt" ]; then
      { echo; sed 's/^/    /' "$logdir/ratios.txt"; } >> "$OUT/table.md"
    fi
  else
    skip bench "$bench not built"
  fi
  gt=$BUILD_DIR/bench/bench_gpu_train
  if [ -x "$gt" ]; then
    read -r -a gt_args <<< "${GPU_TRAIN_ARGS:---preset amazon670k --scale $SCALE --threads $THREADS --json $OUT/gpu_train.json}"
    n0=${#s_name[@]}
    step bench_gpu_train 240 $stdbuf "$gt" ${gt_args[@]+"${gt_args[@]}"} || true
    [ -f "$logdir/$n0.log" ] && tail -n +2 "$logdir/$n0.log" > "$OUT/gpu_train.txt"
  else
    OPTIONAL=1 skip bench_gpu_train "not built (no bench/bench_gpu_train.cc)"
  fi
fi

# ---------------------------------------------------------------- profile (Nsight Compute)
if has_stage profile; then
  ncu=$(find_tool ncu || true)
  pset=${PROFILE_SET:-}
  ptrain="" ptest=""
  if [ -z "$pset" ] && [ ${#synth_ok[@]} -gt 0 ]; then
    read -r pset ptrain ptest <<< "${synth_ok[0]}"
  elif [ -z "$pset" ] || [ "$pset" = bibtex ]; then
    pset=bibtex ptrain=data/bibtex_train.txt.xz ptest=data/bibtex_test.txt.xz
  elif [ "$pset" = debdeps ]; then
    ptrain=$carry/data/debian-deps/debdeps_train_bow.txt.xz ptest=$carry/data/debian-deps/debdeps_test_bow.txt.xz
  else  # a synthetic set of this call, by its table name (amazon670k@0.1)
    for e in ${synth_ok[@]+"${synth_ok[@]}"}; do
      read -r n tr te <<< "$e"
      [ "$n" = "$pset" ] && ptrain=$tr ptest=$te
    done
  fi
  if [ -z "$ncu" ]; then
    skip profile "ncu not found"
  elif [ ! -x "$bench" ]; then
    skip profile "$bench not built"
  elif [ ! -f "$ptrain" ] || [ ! -f "$ptest" ]; then
    skip profile "data for '$pset' not found (PROFILE_SET: bibtex, debdeps or a synthetic set of this call)"
  else
    kargs=()
    [ -n "${NCU_KERNELS:-}" ] && kargs=(--kernel-name "regex:$NCU_KERNELS")
    rm -f "$logdir/prof.ncu-rep"
    # --clock-control none: measure the card as found (never lock or change its clocks).
    step "profile $pset" 240 "$ncu" --clock-control none --force-overwrite -o "$logdir/prof" \
      --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed \
      --launch-skip "${NCU_SKIP:-0}" --launch-count "${NCU_COUNT:-400}" ${kargs[@]+"${kargs[@]}"} \
      "$bench" --name "$pset" --train "$ptrain" --test "$ptest" --device cuda --threads "$THREADS" \
      --train-repeats 1 --predict-repeats 1 --latency-queries 0 --quiet || true
    if [ -f "$logdir/prof.ncu-rep" ]; then
      "$ncu" --import "$logdir/prof.ncu-rep" --csv --page raw --print-units base > "$OUT/ncu.csv" 2> "$logdir/ncu-import.log" ||
        echo "ncu --import failed: $(tail -n 3 "$logdir/ncu-import.log")"
    fi
  fi
fi

# ---------------------------------------------------------------- summary
fails=0
{
  echo "## run_device.sh summary ($(date -u +%Y-%m-%dT%H:%M:%SZ), stages $STAGES, $((SECONDS - start_s)) s)"
  echo
  echo "| step | status | s | note |"
  echo "|---|---|---|---|"
  for i in "${!s_name[@]}"; do
    echo "| ${s_name[$i]} | ${s_status[$i]} | ${s_secs[$i]} | ${s_note[$i]} |"
    case ${s_status[$i]} in PASS | SKIP) ;; *) fails=$((fails + 1)) ;; esac
  done
  echo
  if [ -s "$OUT/table.md" ]; then
    echo "### bench_pipeline ($DEVICE vs ${COMPARE_DEVICE:-none}, --threads $THREADS)"
    echo
    cat "$OUT/table.md"
    echo
  fi
  if command -v python3 > /dev/null 2>&1; then
    XMR_DEV="$DEVICE" XMR_REF_DEV="$COMPARE_DEVICE" XMR_REF_JSON="${REFERENCE_JSON:-}" \
      python3 - "$OUT" "${NCU_SOLVER_REGEX:-.}" \
      "$(for i in "${!s_name[@]}"; do printf '%s\t%s\t%s\n' "${s_name[$i]}" "${s_status[$i]}" "${s_note[$i]}"; done)" << 'EOF' || echo "(acceptance check failed to run)"
import csv, json, os, re, sys
out, solver_re, steps_txt = sys.argv[1:4]
steps = {}  # name -> (status, note)
for l in steps_txt.splitlines():
    f = l.split("\t")
    if len(f) >= 2:
        steps[f[0]] = (f[1], f[2] if len(f) > 2 else "")
def load(path):
    rows = []
    if os.path.exists(path):
        for line in open(path):
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if "name" in o and "device" in o:
                o["_src"] = path
                rows.append(o)
    return rows
dev, refdev = os.environ.get("XMR_DEV", "cuda"), os.environ.get("XMR_REF_DEV") or "cpu"
this = load(os.path.join(out, "bench.json"))
refs = [r for p in os.environ.get("XMR_REF_JSON", "").split() for r in load(p)]
# Pairs (device row, reference row) by data set name: the reference row from this run if there
# is one (--compare-device), else from REFERENCE_JSON (an earlier call's bench.json).
pairs, seen = [], set()
for g in reversed([r for r in this if r["device"] == dev]):
    if g["name"] in seen:
        continue
    seen.add(g["name"])
    own = [r for r in this if r["name"] == g["name"] and r["device"] == refdev and r is not g]
    ext = [r for r in refs if r["name"] == g["name"] and r["device"] == refdev]
    pairs.append((g, (own or ext or [None])[-1]))
pairs.reverse()
print("### issue-4 acceptance (%s vs %s)" % (dev, refdev))
print()
print("| check | result | verdict |")
print("|---|---|---|")
def v(ok):
    return "n/a" if ok is None else ("MET" if ok else "NOT MET")
def ratio(c, g, k):
    return c[k] / g[k] if g.get(k, 0) > 0 else 0.0
# P@1/3/5 on the device within 0.3 (points) of the reference's: bibtex, debdeps, a >= 1M-label set.
for g, c in pairs:
    if c is None:
        print("| P@1/3/5 on %s (%d labels) | no %s row (timed out? REFERENCE_JSON) | NOT MET |" % (
            g["name"], g["n_labels"], refdev))
        continue
    d = [c[k] - g[k] for k in ("p1", "p3", "p5")]
    src = "" if c["_src"] == os.path.join(out, "bench.json") else ", %s from %s" % (refdev, c["_src"])
    print("| P@1/3/5 on %s (%d labels%s) | %s %.2f/%.2f/%.2f, dP(%s-%s) %+.2f %+.2f %+.2f | %s |" % (
        g["name"], g["n_labels"], src, dev, g["p1"], g["p3"], g["p5"], refdev, dev, d[0], d[1], d[2],
        v(max(abs(x) for x in d) <= 0.3)))
names = {g["name"] for g, _ in pairs}
for want in ("bibtex", "debdeps"):
    if want not in names:
        print("| P@k on %s | not run | NOT MET |" % want)
if not any(g["n_labels"] >= 1000000 for g, _ in pairs):
    print("| P@k on a >= 1M-label set | not run (RUN_BIG=1) | NOT MET |")
# Speed on the largest set (most labels): reference training time / device training time.
if pairs:
    g, c = max(pairs, key=lambda p: (p[0]["n_labels"], p[0]["n_train"]))
    if c is None:
        print("| train speed-up on the largest set %s | no %s row | NOT MET |" % (g["name"], refdev))
    else:
        r = ratio(c, g, "train_s_median")
        print("| train speed-up on the largest set %s (%d labels, %d rows) | %.1fx (%s %.1f s, %s %.1f s; levels %.1fx) | %s |" % (
            g["name"], g["n_labels"], g["n_train"], r, refdev, c["train_s_median"], dev,
            g["train_s_median"], ratio(c, g, "levels_s_median"), v(r >= 20 and g["n_labels"] >= 1000000)))
else:
    print("| train speed-up on the largest set | no %s rows | NOT MET |" % dev)
# Tests and sanitizer.
for k in sorted(steps):
    if k.startswith(("cuda-tests", "train-tests", "sanitizer")):
        st, note = steps[k]
        # Skipped CUDA tests (no usable GPU?) do not count as passed.
        print("| %s | %s | %s |" % (k, st + (" (" + note + ")" if note else ""),
                                    v(st == "PASS" and "SKIPPED" not in note)))
# Memory bandwidth of the solver kernels (Nsight Compute raw page).
p = os.path.join(out, "ncu.csv")
if os.path.exists(p) and os.path.getsize(p) > 0:
    lines = [l for l in open(p) if l.startswith('"')]
    rd = list(csv.reader(lines))
    if len(rd) > 2:
        hdr = rd[0]
        def col(n):
            return hdr.index(n) if n in hdr else None
        ik, it = col("Kernel Name"), col("gpu__time_duration.sum")
        ip = col("dram__throughput.avg.pct_of_peak_sustained_elapsed")
        ir, iw = col("dram__bytes_read.sum"), col("dram__bytes_write.sum")
        units = rd[1]
        def num(row, i):
            try:
                x = float(row[i].replace(",", ""))
            except (TypeError, ValueError, IndexError):
                return 0.0
            u = units[i] if i is not None and i < len(units) else ""
            scale = {"nsecond": 1e-9, "usecond": 1e-6, "msecond": 1e-3, "second": 1,
                     "byte": 1, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "KB": 1e3, "MB": 1e6,
                     "GB": 1e9}.get(u, 1)
            return x * scale
        agg = {}
        for row in rd[2:]:
            if ik is None or it is None:
                break
            k = row[ik]
            k = re.sub(r"\(.*", "", k)[:60]
            a = agg.setdefault(k, [0, 0.0, 0.0, 0.0])
            t = num(row, it)
            a[0] += 1
            a[1] += t
            a[2] += t * (num(row, ip) if ip is not None else 0)
            a[3] += (num(row, ir) if ir is not None else 0) + (num(row, iw) if iw is not None else 0)
        rx = re.compile(solver_re)
        sel = [a for k, a in agg.items() if rx.search(k)]
        tt = sum(a[1] for a in sel)
        pct = sum(a[2] for a in sel) / tt if tt > 0 else 0
        print("| DRAM throughput of kernels matching /%s/ (time-weighted, %d kernels profiled) | %.1f%% of peak | %s |" % (
            solver_re, sum(a[0] for a in agg.values()), pct, v(pct >= 30 if tt > 0 else None)))
        print()
        print("| kernel | launches | total ms | DRAM % of peak | GB/s |")
        print("|---|---|---|---|---|")
        for k, a in sorted(agg.items(), key=lambda kv: -kv[1][1])[:12]:
            print("| %s | %d | %.3f | %.1f | %.0f |" % (k, a[0], a[1] * 1e3, a[2] / a[1] if a[1] else 0,
                                                   a[3] / a[1] / 1e9 if a[1] else 0))
else:
    print("| solver-kernel DRAM throughput | no profile (STAGES=...,profile) | n/a |")
EOF
  fi
  echo
  echo "results in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
  echo "failed or missing steps: $fails"
} > "$logdir/summary.md" 2>&1
cp "$logdir/summary.md" "$OUT/summary.md"
echo
echo "=================================================================="
cat "$OUT/summary.md"
[ "$fails" -eq 0 ]
