// Sparse matrices: owning CSR/CSC containers and non-owning views.
//
// Conventions used everywhere in xmr:
//  * `Index` (int32) for row, column, feature and label ids; `Offset` (int64) for positions in the
//    nonzero arrays, so a matrix may hold more than 2^31 nonzeros.
//  * A CSR view of R rows has `indptr[0..R]`; row i occupies positions [indptr[i], indptr[i+1]) of
//    `indices`/`data`. indptr[0] need not be 0, so a contiguous row range of a matrix is itself a
//    view (SliceRows) without copying. CSC is the same with columns as the major dimension.
//  * Unless a function says otherwise, indices inside a row (column) are strictly increasing.
//  * Views never own memory: the owner must outlive them. Owners are plain aggregates of vectors,
//    movable and copyable; functions take views and return owners.
//  * Thread safety: const access to a matrix or view from many threads is safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xmr {

using Index = std::int32_t;   ///< row / column / feature / label id
using Offset = std::int64_t;  ///< position in the nonzero arrays

/// Non-owning view of one sparse vector: `nnz` (index, value) pairs, indices strictly increasing.
struct SparseVecView {
  Index nnz = 0;
  const Index* indices = nullptr;
  const float* data = nullptr;
};

/// Non-owning view of a rows x cols CSR matrix.
struct CsrView {
  Index rows = 0;
  Index cols = 0;
  const Offset* indptr = nullptr;  ///< rows + 1 entries (may be null when rows == 0)
  const Index* indices = nullptr;
  const float* data = nullptr;

  Offset nnz() const { return rows == 0 ? 0 : indptr[rows] - indptr[0]; }
  /// Row i as a sparse vector. Requires 0 <= i < rows.
  SparseVecView row(Index i) const {
    return {static_cast<Index>(indptr[i + 1] - indptr[i]), indices + indptr[i], data + indptr[i]};
  }
};

/// Non-owning view of a rows x cols CSC matrix.
struct CscView {
  Index rows = 0;
  Index cols = 0;
  const Offset* indptr = nullptr;  ///< cols + 1 entries (may be null when cols == 0)
  const Index* indices = nullptr;  ///< row ids
  const float* data = nullptr;

  Offset nnz() const { return cols == 0 ? 0 : indptr[cols] - indptr[0]; }
  /// Column j as a sparse vector. Requires 0 <= j < cols.
  SparseVecView col(Index j) const {
    return {static_cast<Index>(indptr[j + 1] - indptr[j]), indices + indptr[j], data + indptr[j]};
  }
};

/// Owning CSR matrix. Invariant: indptr.size() == rows + 1, indptr[0] == 0,
/// indices.size() == data.size() == indptr[rows].
struct CsrMatrix {
  Index rows = 0;
  Index cols = 0;
  std::vector<Offset> indptr = std::vector<Offset>(1, 0);
  std::vector<Index> indices;
  std::vector<float> data;

  CsrView view() const { return {rows, cols, indptr.data(), indices.data(), data.data()}; }
  Offset nnz() const { return indptr.empty() ? 0 : indptr.back(); }
  /// An empty (all-zero) rows x cols matrix.
  static CsrMatrix Zeros(Index rows, Index cols);
};

/// Owning CSC matrix. Invariant: indptr.size() == cols + 1, indptr[0] == 0,
/// indices.size() == data.size() == indptr[cols].
struct CscMatrix {
  Index rows = 0;
  Index cols = 0;
  std::vector<Offset> indptr = std::vector<Offset>(1, 0);
  std::vector<Index> indices;
  std::vector<float> data;

  CscView view() const { return {rows, cols, indptr.data(), indices.data(), data.data()}; }
  Offset nnz() const { return indptr.empty() ? 0 : indptr.back(); }
  static CscMatrix Zeros(Index rows, Index cols);
};

/// Deep copy of a view (indptr rebased to start at 0).
CsrMatrix Copy(const CsrView& a);
CscMatrix Copy(const CscView& a);

/// Same matrix, other major order. Output indices are sorted. O(nnz + rows + cols).
CscMatrix CsrToCsc(const CsrView& a);
CsrMatrix CscToCsr(const CscView& a);

/// The transpose as CSR (same arrays as CsrToCsc, reinterpreted).
CsrMatrix Transpose(const CsrView& a);

/// View of rows [begin, end) of `a`; no copy. Requires 0 <= begin <= end <= a.rows.
CsrView SliceRows(const CsrView& a, Index begin, Index end);

/// Scales every row to unit L2 norm; all-zero rows stay zero.
void NormalizeRowsL2(CsrMatrix* a);
/// Scales every column to unit L2 norm; all-zero columns stay zero.
void NormalizeColsL2(CscMatrix* a);

/// Sparse product a (m x k) * b (k x n) -> m x n CSR with sorted indices, using `threads`
/// threads (<= 0: all cores). Deterministic for any thread count.
/// @throws Error(kInvalidArgument) if a.cols != b.rows.
CsrMatrix SpGemm(const CsrView& a, const CsrView& b, int threads = 0);

/// [a | b]: column concatenation of two CSR matrices with the same number of rows.
CsrMatrix HStack(const CsrView& a, const CsrView& b);

/// Checks the structural invariants of a view: indptr monotone, indices in [0, cols) and
/// strictly increasing per row, values finite. `what` names the matrix in the message.
/// @throws Error(kCorruption) naming `what`, the row and the fault.
void Validate(const CsrView& a, const std::string& what);
void Validate(const CscView& a, const std::string& what);

/// Sorts the indices of every row ascending (values follow) and sums duplicate entries.
void SortIndices(CsrMatrix* a);

}  // namespace xmr
