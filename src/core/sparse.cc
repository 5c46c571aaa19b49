#include "xmr/sparse.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/log.h"
#include "core/parallel.h"
#include "xmr/error.h"

namespace xmr {
namespace {

// Transposes the arrays of a major x minor compressed matrix (CSR <-> CSC of the same matrix,
// or CSR of A -> CSR of A^T). Output minor indices come out sorted because input majors are
// visited in order.
void TransposeArrays(Index n_major, Index n_minor, const Offset* indptr, const Index* indices,
                     const float* data, std::vector<Offset>* out_ptr, std::vector<Index>* out_idx,
                     std::vector<float>* out_val) {
  const Offset base = n_major == 0 ? 0 : indptr[0];
  const Offset nnz = n_major == 0 ? 0 : indptr[n_major] - base;
  out_ptr->assign(static_cast<size_t>(n_minor) + 1, 0);
  out_idx->resize(nnz);
  out_val->resize(nnz);
  for (Offset p = 0; p < nnz; ++p) ++(*out_ptr)[indices[base + p] + 1];
  for (Index j = 0; j < n_minor; ++j) (*out_ptr)[j + 1] += (*out_ptr)[j];
  std::vector<Offset> next(out_ptr->begin(), out_ptr->end() - 1);
  for (Index i = 0; i < n_major; ++i) {
    for (Offset p = indptr[i]; p < indptr[i + 1]; ++p) {
      const Offset q = next[indices[p]]++;
      (*out_idx)[q] = i;
      (*out_val)[q] = data[p];
    }
  }
}

template <typename M, typename V>
M CopyImpl(const V& a, Index n_major) {
  M out;
  out.rows = a.rows;
  out.cols = a.cols;
  out.indptr.resize(static_cast<size_t>(n_major) + 1);
  const Offset base = n_major == 0 ? 0 : a.indptr[0];
  for (Index i = 0; i <= n_major; ++i) out.indptr[i] = n_major == 0 ? 0 : a.indptr[i] - base;
  const Offset nnz = out.indptr.back();
  out.indices.assign(a.indices + base, a.indices + base + nnz);
  out.data.assign(a.data + base, a.data + base + nnz);
  return out;
}

template <typename V>
void ValidateImpl(const V& a, Index n_major, Index n_minor, const char* major_name,
                  const std::string& what) {
  XMR_EXPECTS(a.rows >= 0 && a.cols >= 0, ErrorCode::kCorruption, what + ": negative dimensions");
  if (n_major == 0) return;
  XMR_EXPECTS(a.indptr != nullptr, ErrorCode::kCorruption, what + ": missing indptr");
  for (Index i = 0; i < n_major; ++i) {
    const Offset b = a.indptr[i], e = a.indptr[i + 1];
    XMR_EXPECTS(e >= b, ErrorCode::kCorruption,
                what + ": indptr decreases at " + major_name + " " + std::to_string(i));
    for (Offset p = b; p < e; ++p) {
      const Index j = a.indices[p];
      XMR_EXPECTS(j >= 0 && j < n_minor, ErrorCode::kCorruption,
                  what + ": " + major_name + " " + std::to_string(i) + ": index " +
                      std::to_string(j) + " out of range [0, " + std::to_string(n_minor) + ")");
      XMR_EXPECTS(p == b || a.indices[p - 1] < j, ErrorCode::kCorruption,
                  what + ": " + major_name + " " + std::to_string(i) +
                      ": indices not strictly increasing at index " + std::to_string(j));
      XMR_EXPECTS(std::isfinite(a.data[p]), ErrorCode::kCorruption,
                  what + ": " + major_name + " " + std::to_string(i) +
                      ": non-finite value at index " + std::to_string(j));
    }
  }
}

}  // namespace

CsrMatrix CsrMatrix::Zeros(Index rows, Index cols) {
  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(static_cast<size_t>(rows) + 1, 0);
  return m;
}

CscMatrix CscMatrix::Zeros(Index rows, Index cols) {
  CscMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(static_cast<size_t>(cols) + 1, 0);
  return m;
}

CsrMatrix Copy(const CsrView& a) { return CopyImpl<CsrMatrix>(a, a.rows); }
CscMatrix Copy(const CscView& a) { return CopyImpl<CscMatrix>(a, a.cols); }

CscMatrix CsrToCsc(const CsrView& a) {
  CscMatrix out;
  out.rows = a.rows;
  out.cols = a.cols;
  TransposeArrays(a.rows, a.cols, a.indptr, a.indices, a.data, &out.indptr, &out.indices,
                  &out.data);
  return out;
}

CsrMatrix CscToCsr(const CscView& a) {
  CsrMatrix out;
  out.rows = a.rows;
  out.cols = a.cols;
  TransposeArrays(a.cols, a.rows, a.indptr, a.indices, a.data, &out.indptr, &out.indices,
                  &out.data);
  return out;
}

CsrMatrix Transpose(const CsrView& a) {
  CsrMatrix out;
  out.rows = a.cols;
  out.cols = a.rows;
  TransposeArrays(a.rows, a.cols, a.indptr, a.indices, a.data, &out.indptr, &out.indices,
                  &out.data);
  return out;
}

CsrView SliceRows(const CsrView& a, Index begin, Index end) {
  XMR_EXPECTS(0 <= begin && begin <= end && end <= a.rows, ErrorCode::kInvalidArgument,
              "SliceRows: range [" + std::to_string(begin) + ", " + std::to_string(end) +
                  ") out of [0, " + std::to_string(a.rows) + ")");
  CsrView v = a;
  v.rows = end - begin;
  v.indptr = a.indptr == nullptr ? nullptr : a.indptr + begin;
  return v;
}

void NormalizeRowsL2(CsrMatrix* a) {
  for (Index i = 0; i < a->rows; ++i) {
    double s = 0;
    for (Offset p = a->indptr[i]; p < a->indptr[i + 1]; ++p) s += double(a->data[p]) * a->data[p];
    if (s <= 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (Offset p = a->indptr[i]; p < a->indptr[i + 1]; ++p) a->data[p] *= inv;
  }
}

void NormalizeColsL2(CscMatrix* a) {
  for (Index j = 0; j < a->cols; ++j) {
    double s = 0;
    for (Offset p = a->indptr[j]; p < a->indptr[j + 1]; ++p) s += double(a->data[p]) * a->data[p];
    if (s <= 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (Offset p = a->indptr[j]; p < a->indptr[j + 1]; ++p) a->data[p] *= inv;
  }
}

CsrMatrix SpGemm(const CsrView& a, const CsrView& b, int threads) {
  XMR_EXPECTS(a.cols == b.rows, ErrorCode::kInvalidArgument,
              "SpGemm: inner dimensions differ (" + std::to_string(a.cols) + " vs " +
                  std::to_string(b.rows) + ")");
  const Index m = a.rows, n = b.cols;
  // Rows are computed in blocks; each block's rows are produced by one worker into its own
  // buffers, then concatenated in order, so the result does not depend on the thread count.
  constexpr Index kBlock = 256;
  const Index n_blocks = (m + kBlock - 1) / kBlock;
  struct Block {
    std::vector<Offset> row_nnz;
    std::vector<Index> idx;
    std::vector<float> val;
  };
  std::vector<Block> blocks(n_blocks);
  const int workers = NumWorkers(n_blocks, threads);
  struct Scratch {
    std::vector<double> acc;
    std::vector<char> seen;
    std::vector<Index> touched;
  };
  std::vector<Scratch> scratch(workers);
  ParallelFor(n_blocks, threads, [&](std::int64_t blk, int w) {
    Scratch& s = scratch[w];
    if (s.acc.empty()) {
      s.acc.assign(n, 0.0);
      s.seen.assign(n, 0);
    }
    Block& out = blocks[blk];
    const Index r0 = static_cast<Index>(blk) * kBlock, r1 = std::min(m, r0 + kBlock);
    out.row_nnz.resize(r1 - r0);
    for (Index i = r0; i < r1; ++i) {
      s.touched.clear();
      for (Offset p = a.indptr[i]; p < a.indptr[i + 1]; ++p) {
        const Index k = a.indices[p];
        const double av = a.data[p];
        for (Offset q = b.indptr[k]; q < b.indptr[k + 1]; ++q) {
          const Index j = b.indices[q];
          if (!s.seen[j]) {
            s.seen[j] = 1;
            s.touched.push_back(j);
          }
          s.acc[j] += av * b.data[q];
        }
      }
      std::sort(s.touched.begin(), s.touched.end());
      for (Index j : s.touched) {
        out.idx.push_back(j);
        out.val.push_back(static_cast<float>(s.acc[j]));
        s.acc[j] = 0;
        s.seen[j] = 0;
      }
      out.row_nnz[i - r0] = static_cast<Offset>(s.touched.size());
    }
  });
  CsrMatrix c = CsrMatrix::Zeros(m, n);
  Offset total = 0;
  for (const Block& blk : blocks) total += static_cast<Offset>(blk.idx.size());
  c.indices.reserve(total);
  c.data.reserve(total);
  Index row = 0;
  for (Block& blk : blocks) {
    for (Offset cnt : blk.row_nnz) {
      c.indptr[row + 1] = c.indptr[row] + cnt;
      ++row;
    }
    c.indices.insert(c.indices.end(), blk.idx.begin(), blk.idx.end());
    c.data.insert(c.data.end(), blk.val.begin(), blk.val.end());
    std::vector<Index>().swap(blk.idx);
    std::vector<float>().swap(blk.val);
  }
  return c;
}

CsrMatrix HStack(const CsrView& a, const CsrView& b) {
  XMR_EXPECTS(a.rows == b.rows, ErrorCode::kInvalidArgument,
              "HStack: row counts differ (" + std::to_string(a.rows) + " vs " +
                  std::to_string(b.rows) + ")");
  CsrMatrix c = CsrMatrix::Zeros(a.rows, a.cols + b.cols);
  c.indices.reserve(a.nnz() + b.nnz());
  c.data.reserve(a.nnz() + b.nnz());
  for (Index i = 0; i < a.rows; ++i) {
    for (Offset p = a.indptr[i]; p < a.indptr[i + 1]; ++p) {
      c.indices.push_back(a.indices[p]);
      c.data.push_back(a.data[p]);
    }
    for (Offset p = b.indptr[i]; p < b.indptr[i + 1]; ++p) {
      c.indices.push_back(a.cols + b.indices[p]);
      c.data.push_back(b.data[p]);
    }
    c.indptr[i + 1] = static_cast<Offset>(c.indices.size());
  }
  return c;
}

void Validate(const CsrView& a, const std::string& what) {
  ValidateImpl(a, a.rows, a.cols, "row", what);
}
void Validate(const CscView& a, const std::string& what) {
  ValidateImpl(a, a.cols, a.rows, "column", what);
}

void SortIndices(CsrMatrix* a) {
  std::vector<std::pair<Index, float>> buf;
  CsrMatrix out = CsrMatrix::Zeros(a->rows, a->cols);
  out.indices.reserve(a->indices.size());
  out.data.reserve(a->data.size());
  for (Index i = 0; i < a->rows; ++i) {
    buf.clear();
    for (Offset p = a->indptr[i]; p < a->indptr[i + 1]; ++p)
      buf.emplace_back(a->indices[p], a->data[p]);
    std::sort(buf.begin(), buf.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t k = 0; k < buf.size(); ++k) {
      if (!out.indices.empty() && out.indptr[i] < static_cast<Offset>(out.indices.size()) &&
          out.indices.back() == buf[k].first) {
        out.data.back() += buf[k].second;
      } else {
        out.indices.push_back(buf[k].first);
        out.data.push_back(buf[k].second);
      }
    }
    out.indptr[i + 1] = static_cast<Offset>(out.indices.size());
  }
  *a = std::move(out);
}

}  // namespace xmr
