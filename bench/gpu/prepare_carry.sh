#!/usr/bin/env bash
# Runs HERE (the development machine), before a device call. Fills the git-ignored folder
# .device-carry/ at the repository root with what bench/gpu/run_device.sh needs on the GPU machine
# and cannot find there (that machine has no network, no GoogleTest package and no ../shared):
#
#   .device-carry/googletest/            GoogleTest + GoogleMock sources (from /usr/src/googletest,
#                                        without their own tests, docs and samples), built from
#                                        source through -DXMR_GTEST_SOURCE_DIR
#   .device-carry/data/debian-deps/      debdeps_{train,test}_bow.txt.xz (from ../shared/data),
#                                        checked against ../shared/data/SHA256SUMS
#   .device-carry/sysdeps/{include,lib}  liblzma and zlib headers + static libraries: a fallback,
#                                        used by run_device.sh only where the GPU image lacks
#                                        liblzma-dev / zlib1g-dev (x86-64 only)
#   .device-carry/MANIFEST               what was copied, sizes and sha256 of the data files
#
# Then prints the total size (the working tree that travels is limited to 64 MiB) and the carry
# list to pass to the device run tool. bibtex travels anyway: data/bibtex_* are tracked in git.
#
#   bench/gpu/prepare_carry.sh           # environment: GTEST_SRC (default /usr/src/googletest),
#                                        # SHARED_DATA (default ../shared/data beside the repo),
#                                        # NO_SYSDEPS=1 to leave the liblzma/zlib fallback out
# Exit status: 0 when everything was copied and the total is under LIMIT_MIB (default 48).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
carry=$root/.device-carry
gtest_src=${GTEST_SRC:-/usr/src/googletest}
shared=${SHARED_DATA:-$root/../shared/data}
limit_mib=${LIMIT_MIB:-48}

die() { echo "prepare_carry: $*" >&2; exit 1; }

# The folder must be ignored by git, or it would travel twice (as part of the tree and carried)
# and could be committed by mistake.
if git -C "$root" rev-parse --git-dir > /dev/null 2>&1; then
  git -C "$root" check-ignore -q .device-carry/ ||
    die ".device-carry/ is not ignored by git (add /.device-carry/ to .gitignore)"
fi

[ -f "$gtest_src/CMakeLists.txt" ] || die "$gtest_src/CMakeLists.txt not found (GTEST_SRC)"
[ -d "$shared/debian-deps" ] || die "$shared/debian-deps not found (SHARED_DATA)"

mkdir -p "$carry"
# Only the parts this script manages are replaced; anything else a user put there stays.
chmod -R u+w "$carry" 2> /dev/null || true
rm -rf "$carry/googletest" "$carry/data" "$carry/sysdeps" "$carry/MANIFEST"

# --- GoogleTest: what add_subdirectory() needs to build gtest, gtest_main, gmock, gmock_main ---
gt=$carry/googletest
mkdir -p "$gt"
cp "$gtest_src/CMakeLists.txt" "$gt/"
for part in googletest googlemock; do
  [ -d "$gtest_src/$part" ] || die "$gtest_src/$part not found"
  mkdir -p "$gt/$part"
  cp "$gtest_src/$part/CMakeLists.txt" "$gt/$part/"
  for d in cmake include src; do
    cp -r "$gtest_src/$part/$d" "$gt/$part/"
  done
done

# --- real data the GPU run uses (bibtex is tracked in git under data/) ---
mkdir -p "$carry/data/debian-deps"
data_files=(debian-deps/debdeps_train_bow.txt.xz debian-deps/debdeps_test_bow.txt.xz)
for f in "${data_files[@]}"; do
  [ -f "$shared/$f" ] || die "$shared/$f not found"
  cp "$shared/$f" "$carry/data/$f"
  if [ -f "$shared/SHA256SUMS" ]; then
    want=$(awk -v p="./$f" '$2 == p {print $1}' "$shared/SHA256SUMS")
    got=$(sha256sum "$carry/data/$f" | cut -d' ' -f1)
    [ -z "$want" ] || [ "$want" = "$got" ] || die "$f: sha256 $got, SHA256SUMS says $want"
  fi
done

# --- liblzma / zlib fallback (headers + static libraries of this x86-64 machine) ---
if [ "${NO_SYSDEPS:-0}" != 1 ]; then
  if [ "$(uname -m)" != x86_64 ]; then
    echo "prepare_carry: $(uname -m) machine: liblzma/zlib fallback left out (the GPU machine is x86-64)" >&2
  else
    libdir=$(dirname "$(gcc -print-file-name=liblzma.a 2> /dev/null || echo /usr/lib/x86_64-linux-gnu/liblzma.a)")
    inc=/usr/include
    if [ -f "$libdir/liblzma.a" ] && [ -f "$libdir/libz.a" ] && [ -f "$inc/lzma.h" ] &&
       [ -d "$inc/lzma" ] && [ -f "$inc/zlib.h" ] && [ -f "$inc/zconf.h" ]; then
      mkdir -p "$carry/sysdeps/include" "$carry/sysdeps/lib"
      cp -r "$inc/lzma.h" "$inc/lzma" "$inc/zlib.h" "$inc/zconf.h" "$carry/sysdeps/include/"
      cp "$libdir/liblzma.a" "$libdir/libz.a" "$carry/sysdeps/lib/"
    else
      echo "prepare_carry: liblzma/zlib static libraries or headers not found here; fallback left out" >&2
    fi
  fi
fi

chmod -R u+w "$carry"
{
  echo "# .device-carry, filled by bench/gpu/prepare_carry.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "googletest: $gtest_src ($(awk -F'[()]' '/GOOGLETEST_VERSION/{print $2; exit}' "$gtest_src/CMakeLists.txt"))"
  for f in "${data_files[@]}"; do
    (cd "$carry/data" && sha256sum "$f")
  done
  [ -d "$carry/sysdeps" ] && (cd "$carry/sysdeps" && sha256sum lib/*.a)
} > "$carry/MANIFEST"

echo "prepare_carry: contents of $carry"
du -sh "$carry"/googletest "$carry"/data/debian-deps/* "$carry"/sysdeps 2> /dev/null | sed 's/^/  /'
total_kib=$(du -sk "$carry" | cut -f1)
# The whole working tree travels too: report the tracked + untracked-not-ignored part as well.
tree_kib=0
if git -C "$root" rev-parse --git-dir > /dev/null 2>&1; then
  tree_kib=$(cd "$root" && git ls-files -z --cached --others --exclude-standard |
               xargs -0 du -sk 2> /dev/null | awk '{s += $1} END {print s + 0}')
fi
awk -v c="$total_kib" -v t="$tree_kib" 'BEGIN {
  printf "prepare_carry: .device-carry total %.1f MiB; working tree %.1f MiB; together %.1f MiB (limit 64 MiB)\n",
         c / 1024, t / 1024, (c + t) / 1024 }'
[ "$total_kib" -lt $((limit_mib * 1024)) ] ||
  die ".device-carry is $((total_kib / 1024)) MiB, over LIMIT_MIB=$limit_mib"
echo 'carry: [".device-carry"]'
