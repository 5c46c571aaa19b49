#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets into OUT_DIR/<target>/: small pieces cut from the
# bundled data (data/, tests/data/) plus the files only the library can write, made by the
# make_seeds program of the fuzz build (models, .xmb, vectorizers, a PECOS folder, framed npz).
# Every seed is generated here; none is committed.
#
#   tests/fuzz/make_seeds.sh BUILD_DIR OUT_DIR     (BUILD_DIR: a build with XMR_BUILD_FUZZERS=ON)
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR OUT_DIR" >&2
  exit 2
fi
build=$1
out=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
make_seeds=$build/tests/fuzz/make_seeds
[[ -x $make_seeds ]] || { echo "$0: $make_seeds not built" >&2; exit 1; }

mkdir -p "$out"/{fuzz_xml_repo,fuzz_libsvm,fuzz_text_tsv,fuzz_npz,fuzz_binary,fuzz_vocab,fuzz_model,fuzz_pecos}

# Decompressed copies of the data files to cut from (removed at the end).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in bibtex_train.txt bibtex_test.txt debtags_train_sample.tsv debtags_test_sample.tsv; do
  xz -dc "$root/data/$f.xz" >"$tmp/$f"
done
rows() { sed -n "$2,$3p" "$tmp/$1"; }

# XMLRepository: the first rows of bibtex with a header that matches the cut.
read -r _ bib_d bib_l <"$tmp/bibtex_train.txt"
{ echo "12 $bib_d $bib_l"; rows bibtex_train.txt 2 13; } >"$out/fuzz_xml_repo/bibtex_train_12"
{ echo "5 $bib_d $bib_l"; rows bibtex_test.txt 2 6; } >"$out/fuzz_xml_repo/bibtex_test_5"
{ echo "3 $bib_d $bib_l"; rows bibtex_test.txt 2 4; } | gzip -9 >"$out/fuzz_xml_repo/bibtex_test_3.gz"
{ echo "2 $bib_d $bib_l"; rows bibtex_train.txt 20 21; } | xz -1 >"$out/fuzz_xml_repo/bibtex_train_2.xz"

# svmlight: the same rows without header (labels are 0-based, features 0-based).
rows bibtex_train.txt 2 13 >"$out/fuzz_libsvm/bibtex_rows_12"
rows bibtex_test.txt 30 34 >"$out/fuzz_libsvm/bibtex_rows_5"

# Raw text: the debtags TSV (header + a few rows), label names, one-document-per-line text.
rows debtags_train_sample.tsv 1 6 >"$out/fuzz_text_tsv/debtags_train_5"
rows debtags_test_sample.tsv 2 4 | cut -f4-6 >"$out/fuzz_text_tsv/debtags_test_3_cols"
sed -n '1,40p' "$root/data/debtags_labels.txt" >"$out/fuzz_text_tsv/debtags_labels_40"

# Library-written files, and the PECOS fixture's .npz files as they are and re-framed.
"$make_seeds" "$out" "$root"

n=$(find "$out" -type f | wc -l)
bytes=$(du -sb "$out" | cut -f1)
echo "make_seeds.sh: $n seed files, $bytes bytes in $out"
