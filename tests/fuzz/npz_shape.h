// Stored orientation and shape of an .npz file, for the harnesses that read .npz files
// (fuzz_npz, fuzz_pecos). Reading a file in the other orientation transposes it into pointers
// over its minor dimension, which a valid file of a few hundred bytes may declare to be 2^31 - 1
// long (16 GiB of pointers). That allocation is what the caller asked for, not a reader bug: the
// reader refuses it with Error(kOutOfMemory) only when it does not fit in memory. The harnesses
// skip such conversions above kMaxConvertedDim so that -malloc_limit_mb keeps catching
// allocations a reader makes on the strength of a header alone.
#pragma once

#include <string>

#include "fuzz_util.h"
#include "io/formats.h"  // detail::ReadNpzSparse (internal)
#include "io/zip.h"
#include "xmr/sparse.h"

namespace xmr_fuzz {

constexpr xmr::Index kMaxConvertedDim = xmr::Index{1} << 24;

struct NpzShape {
  bool ok = false;  ///< false: the file does not read (the reader reports why)
  bool csc = false;
  xmr::Index rows = 0, cols = 0;
};

/// Reads `path` with detail::ReadNpzSparse (no conversion) and checks what it returns.
inline NpzShape PeekNpz(const std::string& path) {
  NpzShape s;
  Guard([&] {
    const xmr::detail::NpzSparse m = xmr::detail::ReadNpzSparse(xmr::detail::ZipReader(path));
    CheckCompressed("ReadNpzSparse", m.csc ? m.cols : m.rows, m.csc ? m.rows : m.cols, m.indptr,
                    m.indices, m.data, /*sorted=*/true);
    s = {true, m.csc, m.rows, m.cols};
  });
  return s;
}

/// True if reading the file as CSC (want_csc) or CSR needs a transposition into more than
/// kMaxConvertedDim pointers.
inline bool HugeConversion(const NpzShape& s, bool want_csc) {
  return s.ok && s.csc != want_csc && (s.csc ? s.rows : s.cols) > kMaxConvertedDim;
}

}  // namespace xmr_fuzz
