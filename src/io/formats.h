// Per-format entry points shared between the files of src/io (internal).
#pragma once

#include <memory>
#include <string>
#include <vector>

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

/// Writes an XMLRepository text file block by block, so that a data set never has to be in
/// memory whole. The shape is declared up front (it is the header line); Append() takes the
/// next x.rows rows (x and y row-aligned, validated as WriteXmlRepo does); Commit() checks that
/// exactly `rows` rows arrived and renames the file into place (atomic, like every writer).
/// @throws Error(kInvalidArgument) on a bad block or a row count mismatch, Error(kIoError).
class XmlRepoStreamWriter {
 public:
  XmlRepoStreamWriter(const std::string& path, Index rows, Index cols, Index n_labels);
  ~XmlRepoStreamWriter();
  void Append(const CsrView& x, const CsrView& y);
  void Commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes an .xmb matrix whose row lengths are known up front (`indptr`, rows + 1 entries from
/// 0) while its entries arrive in row blocks. Indices go straight to the file, values to an
/// unlinked scratch file beside it that Commit() appends; the header (with the payload CRC)
/// is written last. Memory use is O(rows), not O(nnz).
/// @throws Error(kInvalidArgument) if a block disagrees with indptr or is invalid,
///         Error(kIoError) on write failures.
class XmbStreamWriter {
 public:
  XmbStreamWriter(const std::string& path, Index cols, std::vector<Offset> indptr);
  ~XmbStreamWriter();
  void Append(const CsrView& block);
  void Commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace detail
}  // namespace xmr
