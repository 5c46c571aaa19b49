#!/usr/bin/env bash
# Exports the bench data sets to the scipy .npz layout PECOS reads (X: float32 CSR, rows
# L2-normalised exactly as xmr train normalises them; Y: binary CSR), and prints the PECOS
# commands that train, predict and score on the same files, so that anyone with PECOS
# installed can compare against xmr on identical inputs.
#   bench/export_pecos.sh [BUILD_DIR] [OUT_DIR]
# Env: DATASETS (real sets, default "bibtex delicious debtags debdeps"),
#      SYNTH (preset:scale list, default "amazon670k:0.02").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
out=${2:-$root/build/pecos-export}
shared=$root/../shared/data
xmr=$build/xmr
[ -x "$xmr" ] || { echo "export_pecos: $xmr not found (build first)" >&2; exit 2; }
mkdir -p "$out"

export_pair() {  # name train test
  local name=$1 train=$2 test=$3
  for split in train test; do
    local src=$train
    [ "$split" = test ] && src=$test
    "$xmr" convert -q -d "$src" --normalize --x-out "$out/$name.$split.X.npz" \
      --y-out "$out/$name.$split.Y.npz"
  done
  echo "$name: $out/$name.{train,test}.{X,Y}.npz"
}

declare -A real=(
  [bibtex]="$root/data/bibtex_train.txt.xz $root/data/bibtex_test.txt.xz"
  [delicious]="$shared/delicious/delicious_train.txt.xz $shared/delicious/delicious_test.txt.xz"
  [debtags]="$shared/debian-debtags/debtags_train_bow.txt.xz $shared/debian-debtags/debtags_test_bow.txt.xz"
  [debdeps]="$shared/debian-deps/debdeps_train_bow.txt.xz $shared/debian-deps/debdeps_test_bow.txt.xz"
)
for name in ${DATASETS-bibtex delicious debtags debdeps}; do
  [ -n "${real[$name]+x}" ] || { echo "export_pecos: unknown data set '$name'" >&2; exit 2; }
  read -r train test <<< "${real[$name]}"
  [ -f "$train" ] || { echo "$name: $train not found, skipped"; continue; }
  export_pair "$name" "$train" "$test"
done
for entry in ${SYNTH-amazon670k:0.02}; do
  preset=${entry%%:*}
  scale=${entry#*:}
  name="$preset-$scale"
  # Synthetic rows are already TF-IDF and L2-normalised: write .npz directly.
  "$xmr" synth -q --preset "$preset" --scale "$scale" --seed 1 --format npz -o "$out/$name"
  echo "$name: $out/$name.{train,test}.{X,Y}.npz"
done

cat <<TXT

PECOS (pip install libpecos), for each NAME above, with xmr's defaults (nr_splits 16,
max_leaf_size 100, l2-svc, cp = cn = 1, threshold 0.1, beam 10, top-k 10):
  python3 -m pecos.xmc.xlinear.train -x $out/NAME.train.X.npz -y $out/NAME.train.Y.npz \\
      -m $out/NAME.pecos --nr-splits 16 --max-leaf-size 100 --threshold 0.1
  python3 -m pecos.xmc.xlinear.predict -x $out/NAME.test.X.npz -y $out/NAME.test.Y.npz \\
      -m $out/NAME.pecos -o $out/NAME.pecos.pred.npz -k 10 -b 10
xmr on the very same files:
  $xmr train -x $out/NAME.train.X.npz -y $out/NAME.train.Y.npz -m $out/NAME.xmr
  $xmr predict -m $out/NAME.xmr -x $out/NAME.test.X.npz -y $out/NAME.test.Y.npz -k 10
and xmr scores PECOS's predictions with the same metric code:
  $xmr eval -p $out/NAME.pecos.pred.npz -y $out/NAME.test.Y.npz
TXT
