// PIFA label embeddings (Yu et al., "PECOS", JMLR 2022, Sec. 3.1; PECOS LabelEmbeddingFactory
// "pifa"): z_l = normalize(sum_i Yn[i,l] x_i) with Yn the row-L2-normalised label matrix.
//
// Computed label by label ("row-by-row SpGEMM" of Yn^T X, Gustavson's algorithm): every label
// gathers the feature rows of its instances into a per-worker dense accumulator, so the work is
// nnz(X) * (labels per instance) and the extra memory is one D-vector per worker. Two passes
// (count, then fill in place) keep the peak memory at the size of the result. Each label is
// reduced sequentially in instance order, so the result does not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/log.h"       // for Log, StrFormat, Timer
#include "core/parallel.h"  // for ParallelFor, NumWorkers
#include "xmr/error.h"
#include "xmr/indexer.h"

namespace xmr {
namespace {

// Labels per scheduling chunk: label sizes are extremely skewed (one head label may own a third
// of the instances), so chunks stay small and are handed out dynamically.
constexpr std::int64_t kLabelGrain = 32;

}  // namespace

CsrMatrix PifaEmbedding(const CsrView& x, const CsrView& y, const Context& ctx) {
  XMR_EXPECTS(x.rows == y.rows, ErrorCode::kInvalidArgument,
              StrFormat("PifaEmbedding: x has %d rows but y has %d rows", x.rows, y.rows));
  // Out-of-range ids would index the dense accumulator out of bounds; the check is O(nnz).
  Validate(x, "PifaEmbedding x");
  Validate(y, "PifaEmbedding y");
  const Timer timer;
  const Index n = x.rows;
  const Index dim = x.cols;
  const Index n_labels = y.cols;
  const int threads = ctx.NumThreads();

  // Yn^T in CSC form: column l lists the instances of label l (ascending) with y_il / ||y_i||.
  CscMatrix yn = CsrToCsc(y);
  {
    std::vector<float> inv_norm(static_cast<std::size_t>(n));
    ParallelFor(
        n, threads,
        [&](std::int64_t i, int) {
          const SparseVecView r = y.row(static_cast<Index>(i));
          double sq = 0.0;
          for (Index k = 0; k < r.nnz; ++k) sq += static_cast<double>(r.data[k]) * r.data[k];
          inv_norm[i] = sq > 0.0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
        },
        4096);
    for (std::size_t k = 0; k < yn.data.size(); ++k) yn.data[k] *= inv_norm[yn.indices[k]];
  }

  CsrMatrix z;
  z.rows = n_labels;
  z.cols = dim;
  z.indptr.assign(static_cast<std::size_t>(n_labels) + 1, 0);
  const int workers = NumWorkers(n_labels, threads, kLabelGrain);
  const CscView ynv = yn.view();
  // Per worker: a bitmap of the features seen for the current label (all-zero between labels),
  // the seen features in first-seen order, and the dense accumulator.
  const std::size_t n_words = static_cast<std::size_t>(dim) / 64 + 1;
  std::vector<std::vector<std::uint64_t>> seen(workers, std::vector<std::uint64_t>(n_words, 0));
  std::vector<std::vector<Index>> touched_lists(workers, std::vector<Index>(dim + 1));

  // Pass 1: number of distinct features of every label.
  ParallelFor(
      n_labels, threads,
      [&](std::int64_t l, int w) {
        std::uint64_t* bits = seen[w].data();
        Index* touched = touched_lists[w].data();
        const SparseVecView col = ynv.col(static_cast<Index>(l));
        Offset count = 0;
        for (Index k = 0; k < col.nnz; ++k) {
          const SparseVecView r = x.row(col.indices[k]);
          for (Index p = 0; p < r.nnz; ++p) {  // branch-free: "seen" is unpredictable
            const Index j = r.indices[p];
            const std::uint64_t mask = std::uint64_t{1} << (j & 63);
            touched[count] = j;
            count += (bits[j >> 6] & mask) == 0;
            bits[j >> 6] |= mask;
          }
        }
        for (Offset k = 0; k < count; ++k) bits[touched[k] >> 6] = 0;
        z.indptr[l + 1] = count;
      },
      kLabelGrain);
  for (Index l = 0; l < n_labels; ++l) z.indptr[l + 1] += z.indptr[l];
  z.indices.resize(static_cast<std::size_t>(z.indptr.back()));
  z.data.resize(static_cast<std::size_t>(z.indptr.back()));

  // Pass 2: accumulate, write the features in ascending order, normalise.
  std::vector<std::vector<float>> accs(workers, std::vector<float>(dim, 0.0f));
  ParallelFor(
      n_labels, threads,
      [&](std::int64_t l, int w) {
        std::uint64_t* bits = seen[w].data();
        float* acc = accs[w].data();
        Index* touched = touched_lists[w].data();
        Index* out_idx = z.indices.data() + z.indptr[l];
        float* out_val = z.data.data() + z.indptr[l];
        const Offset len = z.indptr[l + 1] - z.indptr[l];
        const SparseVecView col = ynv.col(static_cast<Index>(l));
        Offset count = 0;
        for (Index k = 0; k < col.nnz; ++k) {
          const float weight = col.data[k];
          const SparseVecView r = x.row(col.indices[k]);
          for (Index p = 0; p < r.nnz; ++p) {
            const Index j = r.indices[p];
            const std::uint64_t mask = std::uint64_t{1} << (j & 63);
            touched[count] = j;
            count += (bits[j >> 6] & mask) == 0;
            bits[j >> 6] |= mask;
            acc[j] += weight * r.data[p];
          }
        }
        XMR_CHECK(count == len);
        // Ascending feature ids: a single instance's row is already sorted; a label covering
        // many features reads them off the bitmap (O(D/64 + len)); otherwise sort.
        if (col.nnz == 1) {
          std::copy(touched, touched + len, out_idx);
          for (Offset k = 0; k < len; ++k) bits[touched[k] >> 6] = 0;
        } else if (static_cast<double>(len) * std::log2(static_cast<double>(len) + 1.0) >=
                   static_cast<double>(n_words)) {
          Offset k = 0;
          for (std::size_t word = 0; word < n_words; ++word) {
            std::uint64_t b = bits[word];
            if (b == 0) continue;
            bits[word] = 0;
            for (; b != 0; b &= b - 1) {
              out_idx[k++] = static_cast<Index>(word * 64 + __builtin_ctzll(b));
            }
          }
        } else {
          std::copy(touched, touched + len, out_idx);
          std::sort(out_idx, out_idx + len);
          for (Offset k = 0; k < len; ++k) bits[out_idx[k] >> 6] = 0;
        }
        double sq = 0.0;
        for (Offset k = 0; k < len; ++k) {
          const float v = acc[out_idx[k]];
          sq += static_cast<double>(v) * v;
        }
        const float inv = sq > 0.0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
        for (Offset k = 0; k < len; ++k) {
          out_val[k] = acc[out_idx[k]] * inv;
          acc[out_idx[k]] = 0.0f;
        }
      },
      kLabelGrain);

  Log(ctx,
      StrFormat("PIFA embedding: %d labels x %d features, nnz %lld (%.3fs)", n_labels, dim,
                static_cast<long long>(z.nnz()), timer.Seconds()),
      2);
  return z;
}

}  // namespace xmr
