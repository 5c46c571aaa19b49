#include "train/matching.h"

#include <algorithm>
#include <iterator>  // for std::back_inserter
#include <string>

#include "core/parallel.h"
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

// Builds a CSR matrix whose row i is produced by row_fn(i, &buffer) (sorted, unique ids):
// two passes over the rows, parallel over row blocks, so the result does not depend on threads.
template <typename RowFn>
CsrMatrix BuildRows(Index rows, Index cols, int threads, RowFn row_fn) {
  CsrMatrix out;
  out.rows = rows;
  out.cols = cols;
  out.indptr.assign(static_cast<std::size_t>(rows) + 1, 0);
  constexpr std::int64_t kBlock = 4096;
  const std::int64_t n_blocks = (rows + kBlock - 1) / kBlock;
  std::vector<std::vector<Index>> buffers(NumWorkers(n_blocks, threads));
  ParallelFor(n_blocks, threads, [&](std::int64_t blk, int worker) {
    const Index end = static_cast<Index>(std::min<std::int64_t>(rows, (blk + 1) * kBlock));
    for (Index i = static_cast<Index>(blk * kBlock); i < end; ++i) {
      row_fn(i, &buffers[worker]);
      out.indptr[i + 1] = static_cast<Offset>(buffers[worker].size());
    }
  });
  for (Index i = 0; i < rows; ++i) out.indptr[i + 1] += out.indptr[i];
  out.indices.resize(out.indptr[rows]);
  out.data.assign(out.indptr[rows], 1.0f);
  ParallelFor(n_blocks, threads, [&](std::int64_t blk, int worker) {
    const Index end = static_cast<Index>(std::min<std::int64_t>(rows, (blk + 1) * kBlock));
    for (Index i = static_cast<Index>(blk * kBlock); i < end; ++i) {
      row_fn(i, &buffers[worker]);
      std::copy(buffers[worker].begin(), buffers[worker].end(),
                out.indices.begin() + out.indptr[i]);
    }
  });
  return out;
}

void SortUnique(std::vector<Index>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

std::vector<CsrMatrix> BuildLevelTargets(const CsrView& y, const ClusterChain& chain, int threads) {
  const int depth = chain.depth();
  XMR_EXPECTS(depth >= 1, ErrorCode::kInvalidArgument, "the label tree has no level");
  XMR_EXPECTS(y.cols == chain.n_labels(), ErrorCode::kInvalidArgument,
              "y has " + std::to_string(y.cols) + " label columns but the tree has " +
                  std::to_string(chain.n_labels()) + " labels");
  for (Offset s = y.indptr ? y.indptr[0] : 0; s < (y.indptr ? y.indptr[y.rows] : 0); ++s) {
    XMR_EXPECTS(y.indices[s] >= 0 && y.indices[s] < y.cols, ErrorCode::kInvalidArgument,
                "y has a label id " + std::to_string(y.indices[s]) + " outside [0, " +
                    std::to_string(y.cols) + ")");
  }
  std::vector<CsrMatrix> ys(depth);
  ys[depth - 1] = BuildRows(y.rows, y.cols, threads, [&](Index i, std::vector<Index>* buf) {
    const SparseVecView r = y.row(i);
    buf->assign(r.indices, r.indices + r.nnz);
    SortUnique(buf);
  });
  for (int t = depth - 2; t >= 0; --t) {
    const CsrMatrix& below = ys[t + 1];
    const std::vector<Index>& parent = chain.parents[t + 1];
    ys[t] = BuildRows(y.rows, chain.n_nodes(t), threads, [&](Index i, std::vector<Index>* buf) {
      buf->clear();
      for (Offset s = below.indptr[i]; s < below.indptr[i + 1]; ++s) {
        buf->push_back(parent[below.indices[s]]);
      }
      SortUnique(buf);
    });
  }
  return ys;
}

CscMatrix AllInstancesColumn(Index n) {
  CscMatrix m;
  m.rows = n;
  m.cols = 1;
  m.indptr = {0, static_cast<Offset>(n)};
  m.indices.resize(n);
  for (Index i = 0; i < n; ++i) m.indices[i] = i;
  m.data.assign(n, 1.0f);
  return m;
}

CsrMatrix BinarizeRows(const CsrView& a) {
  return BuildRows(a.rows, a.cols, 1, [&](Index i, std::vector<Index>* buf) {
    const SparseVecView r = a.row(i);
    buf->assign(r.indices, r.indices + r.nnz);
    SortUnique(buf);
  });
}

CsrMatrix PatternUnion(const CsrView& a, const CsrView& b) {
  XMR_EXPECTS(a.rows == b.rows && a.cols == b.cols, ErrorCode::kInvalidArgument,
              "PatternUnion: shapes differ");
  return BuildRows(a.rows, a.cols, 1, [&](Index i, std::vector<Index>* buf) {
    const SparseVecView ra = a.row(i), rb = b.row(i);
    buf->clear();
    std::set_union(ra.indices, ra.indices + ra.nnz, rb.indices, rb.indices + rb.nnz,
                   std::back_inserter(*buf));
  });
}

}  // namespace detail
}  // namespace xmr
