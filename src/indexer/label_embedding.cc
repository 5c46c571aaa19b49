// Label embeddings with label features (PECOS LabelEmbeddingFactory "pifa_lf_concat" and
// "pifa_lf_convex_combine"; Yu et al., "PECOS", JMLR 2022, Sec. 3.1): PIFA of (X, Y) combined
// row by row with a label feature matrix Z, e.g. the TF-IDF of each label's text.
//
// Both combinations work label by label in two passes (row lengths, then fill in place), so the
// result is written once, with no per-thread buffers, and does not depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "core/log.h"       // for Log, StrFormat, Timer
#include "core/parallel.h"  // for ParallelFor
#include "xmr/error.h"
#include "xmr/indexer.h"

namespace xmr {
namespace {

// Labels per scheduling chunk; a row costs O(its nnz), which is small and even here.
constexpr std::int64_t kRowGrain = 256;

// Lower case, with '-' read as '_'.
std::string Canonical(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '-') c = '_';
  }
  return s;
}

// Turns per-row lengths in indptr[1..rows] into offsets and sizes indices / data.
void FinishIndptr(CsrMatrix* m) {
  for (Index i = 0; i < m->rows; ++i) m->indptr[i + 1] += m->indptr[i];
  m->indices.resize(static_cast<std::size_t>(m->indptr.back()));
  m->data.resize(static_cast<std::size_t>(m->indptr.back()));
}

// [a | b] for a.rows == b.rows.
CsrMatrix ConcatColumns(const CsrView& a, const CsrView& b, int threads) {
  CsrMatrix c = CsrMatrix::Zeros(a.rows, a.cols + b.cols);
  for (Index i = 0; i < a.rows; ++i) {
    c.indptr[i + 1] = (a.indptr[i + 1] - a.indptr[i]) + (b.indptr[i + 1] - b.indptr[i]);
  }
  FinishIndptr(&c);
  ParallelFor(
      a.rows, threads,
      [&](std::int64_t i, int) {
        const SparseVecView ra = a.row(static_cast<Index>(i));
        const SparseVecView rb = b.row(static_cast<Index>(i));
        Index* idx = c.indices.data() + c.indptr[i];
        float* val = c.data.data() + c.indptr[i];
        std::copy(ra.indices, ra.indices + ra.nnz, idx);
        std::copy(ra.data, ra.data + ra.nnz, val);
        for (Index k = 0; k < rb.nnz; ++k) idx[ra.nnz + k] = a.cols + rb.indices[k];
        std::copy(rb.data, rb.data + rb.nnz, val + ra.nnz);
      },
      kRowGrain);
  return c;
}

// Merges row i of wa * a + wb * b (sorted rows) into idx/val, dropping exact zeros; returns the
// number of entries written. With null idx/val it only counts.
Offset MergeRow(const SparseVecView& ra, double wa, const SparseVecView& rb, double wb, Index* idx,
                float* val) {
  Offset n = 0;
  Index p = 0, q = 0;
  while (p < ra.nnz || q < rb.nnz) {
    Index j;
    double v;
    if (q == rb.nnz || (p < ra.nnz && ra.indices[p] < rb.indices[q])) {
      j = ra.indices[p];
      v = wa * ra.data[p++];
    } else if (p == ra.nnz || rb.indices[q] < ra.indices[p]) {
      j = rb.indices[q];
      v = wb * rb.data[q++];
    } else {
      j = ra.indices[p];
      v = wa * ra.data[p++] + wb * rb.data[q++];
    }
    const float f = static_cast<float>(v);
    if (f == 0.0f) continue;
    if (idx != nullptr) {
      idx[n] = j;
      val[n] = f;
    }
    ++n;
  }
  return n;
}

// wa * a + wb * b for matrices of equal shape.
CsrMatrix WeightedSum(const CsrView& a, double wa, const CsrView& b, double wb, int threads) {
  CsrMatrix c = CsrMatrix::Zeros(a.rows, a.cols);
  ParallelFor(
      a.rows, threads,
      [&](std::int64_t i, int) {
        const Index r = static_cast<Index>(i);
        c.indptr[i + 1] = MergeRow(a.row(r), wa, b.row(r), wb, nullptr, nullptr);
      },
      kRowGrain);
  FinishIndptr(&c);
  ParallelFor(
      a.rows, threads,
      [&](std::int64_t i, int) {
        const Index r = static_cast<Index>(i);
        const Offset n = MergeRow(a.row(r), wa, b.row(r), wb, c.indices.data() + c.indptr[i],
                                  c.data.data() + c.indptr[i]);
        XMR_CHECK(n == c.indptr[i + 1] - c.indptr[i]);
      },
      kRowGrain);
  return c;
}

}  // namespace

LabelEmbeddingKind ParseLabelEmbeddingKind(const std::string& name) {
  const std::string n = Canonical(name);
  if (n == "pifa") return LabelEmbeddingKind::kPifa;
  if (n == "pifa_lf_concat") return LabelEmbeddingKind::kPifaLfConcat;
  if (n == "pifa_lf_convex_combine") return LabelEmbeddingKind::kPifaLfConvexCombine;
  throw Error(ErrorCode::kInvalidArgument,
              "label embedding must be one of pifa, pifa_lf_concat, pifa_lf_convex_combine; got '" +
                  name + "'");
}

const char* LabelEmbeddingKindName(LabelEmbeddingKind kind) noexcept {
  switch (kind) {
    case LabelEmbeddingKind::kPifa:
      return "pifa";
    case LabelEmbeddingKind::kPifaLfConcat:
      return "pifa_lf_concat";
    case LabelEmbeddingKind::kPifaLfConvexCombine:
      return "pifa_lf_convex_combine";
  }
  return "?";
}

void LabelEmbeddingOptions::Validate() const {
  XMR_EXPECTS(kind == LabelEmbeddingKind::kPifa || kind == LabelEmbeddingKind::kPifaLfConcat ||
                  kind == LabelEmbeddingKind::kPifaLfConvexCombine,
              ErrorCode::kInvalidArgument,
              StrFormat("label_embedding.kind must be pifa, pifa_lf_concat or "
                        "pifa_lf_convex_combine, got %d",
                        static_cast<int>(kind)));
  // Written as !(0 <= alpha <= 1) so that NaN is rejected too.
  XMR_EXPECTS(
      alpha >= 0.0f && alpha <= 1.0f, ErrorCode::kInvalidArgument,
      StrFormat("label_embedding.alpha must be in [0, 1], got %.9g", static_cast<double>(alpha)));
}

CsrMatrix LabelEmbedding(const CsrView& x, const CsrView& y, const CsrView* z,
                         const LabelEmbeddingOptions& opts, const Context& ctx) {
  opts.Validate();
  const char* name = LabelEmbeddingKindName(opts.kind);
  XMR_EXPECTS(z != nullptr || opts.kind == LabelEmbeddingKind::kPifa, ErrorCode::kInvalidArgument,
              StrFormat("LabelEmbedding: %s needs label features (z is null)", name));
  // Every check on z comes before the PIFA product, the expensive part.
  if (z != nullptr) {
    XMR_EXPECTS(z->rows == y.cols, ErrorCode::kInvalidArgument,
                StrFormat("LabelEmbedding: label features z have %d rows but y has %d labels "
                          "(one row per label expected)",
                          z->rows, y.cols));
    XMR_EXPECTS(opts.kind != LabelEmbeddingKind::kPifaLfConvexCombine || z->cols == x.cols,
                ErrorCode::kInvalidArgument,
                StrFormat("LabelEmbedding: %s needs label features with as many columns as x "
                          "(%d), got %d; use pifa_lf_concat for other dimensions",
                          name, x.cols, z->cols));
    XMR_EXPECTS(
        opts.kind != LabelEmbeddingKind::kPifaLfConcat ||
            static_cast<std::int64_t>(x.cols) + z->cols <= std::numeric_limits<Index>::max(),
        ErrorCode::kInvalidArgument,
        StrFormat("LabelEmbedding: %s: %d + %d columns overflow the column index", name, x.cols,
                  z->cols));
    Validate(*z, "LabelEmbedding z");
  }
  CsrMatrix pifa = PifaEmbedding(x, y, ctx);
  if (opts.kind == LabelEmbeddingKind::kPifa) return pifa;

  const Timer timer;
  const int threads = ctx.NumThreads();
  CsrMatrix emb;
  if (opts.kind == LabelEmbeddingKind::kPifaLfConcat) {
    emb = ConcatColumns(pifa.view(), *z, threads);
  } else {
    const double alpha = opts.alpha;
    emb = WeightedSum(pifa.view(), alpha, *z, 1.0 - alpha, threads);
  }
  Log(ctx,
      StrFormat("%s embedding: %d labels x %d columns, nnz %lld (%.3fs)", name, emb.rows, emb.cols,
                static_cast<long long>(emb.nnz()), timer.Seconds()),
      2);
  return emb;
}

}  // namespace xmr
