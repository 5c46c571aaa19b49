// Per-format entry points shared between the files of src/io (internal).
#pragma once

#include <string>

#include "io/zip.h"
#include "xmr/sparse.h"

namespace xmr {
namespace detail {

/// Single-matrix text: header "rows cols", then one "f:v f:v ..." line per row.
CsrMatrix ReadTextMatrix(const std::string& path);

/// Sparse arrays of a scipy .npz file, validated: indptr starts at 0 and is monotone, indices
/// are in range and strictly increasing within each major slice (unsorted slices are sorted;
/// duplicate entries are summed, which is what scipy's sum_duplicates() gives), data finite.
struct NpzSparse {
  bool csc = false;
  Index rows = 0;
  Index cols = 0;
  std::vector<Offset> indptr;
  std::vector<Index> indices;
  std::vector<float> data;
};
NpzSparse ReadNpzSparse(const ZipReader& zip);

/// CSR from a zip source holding an .npz (used by ReadMatrix after content sniffing).
CsrMatrix ReadNpzCsrFrom(const ZipReader& zip);

}  // namespace detail
}  // namespace xmr
