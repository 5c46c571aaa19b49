// Balanced hierarchical 2-means (PECOS clustering::Tree; Yu et al., "PECOS", JMLR 2022, Alg. 1),
// as described in xr-linear.md section 3:
//  * a complete binary tree of depth d; every node's labels are split into exact halves
//    (floor(n/2) left, ceil(n/2) right) by sorting the scores <c, z_i> ascending, ties by label id;
//  * c starts as z_a - z_b for two distinct random labels a (right) and b (left) and becomes
//    normalize(sum_right) - normalize(sum_left) (spherical) or mean_right - mean_left;
//  * a node stops when its left half did not change, or after kmeans_max_iter assignments;
//  * every node draws its init from its own RNG, seeded in heap order from RNG(ctx.seed).
//
// Level-synchronous scheduling with two interchangeable node kernels:
//  * compact: one node per worker. The node's rows are copied with feature ids renumbered to
//    0..|support|-1 in support order (below), so centers and sums are short contiguous vectors
//    that stay in cache and a node costs O(nnz of its labels) per iteration, whatever D is.
//    Used while the level has at least `threads` nodes, for nodes below kCompactBudget nonzeros.
//  * feature-parallel: one node at a time with every worker (scores split over labels, sums over
//    feature ranges), dense length-D vectors shared by all workers. Used for the top levels and
//    for very large nodes, so memory stays O(threads * budget + D), never O(nodes * D).
// Both kernels form every sum in label-id order, every squared norm in the node's "support
// order" (features in order of first occurrence when the node's rows are read in label-id
// order) as fixed chunks of kNormChunk terms, and dot products in the same fixed order, so they
// give bit-identical trees: the result is the same for any thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"       // for Log, StrFormat, Timer
#include "core/parallel.h"  // for ParallelFor, NumWorkers
#include "indexer/kmeans_internal.h"
#include "xmr/error.h"
#include "xmr/indexer.h"

namespace xmr {
namespace detail {
namespace {

// Largest node (in nonzeros) split by the compact kernel: bounds its per-worker copy to
// 32 MiB. Larger nodes are few (top levels) and run feature-parallel.
constexpr Offset kCompactBudget = Offset{1} << 22;

// Squared norms are summed in chunks of this many support positions, then over chunks in
// order: the fixed bracketing lets the feature-parallel kernel sum chunks concurrently.
constexpr Index kNormChunk = 4096;

// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): tiny, fully specified, so a seed gives the same
// tree with every standard library (std::uniform_int_distribution is implementation-defined).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n), n >= 1, without modulo bias (rejection of the incomplete last block).
  std::uint64_t Below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t r;
    do {
      r = Next();
    } while (r >= limit);
    return r % n;
  }

 private:
  std::uint64_t state_;
};

// (score, position in the node). A node's labels are kept in id order, so position order is
// label-id order and the pair's lexicographic order is exactly "score ascending, ties by id".
// Keys are unique, so the selected halves do not depend on the selection algorithm.
using Keyed = std::pair<double, Index>;

// Four independent partial sums: the loop is bound by the latency of the add chain otherwise.
// The order is fixed, so every kernel gets the same bits.
double Dot(const SparseVecView& r, const float* c) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  Index k = 0;
  for (; k + 4 <= r.nnz; k += 4) {
    s0 += static_cast<double>(r.data[k]) * c[r.indices[k]];
    s1 += static_cast<double>(r.data[k + 1]) * c[r.indices[k + 1]];
    s2 += static_cast<double>(r.data[k + 2]) * c[r.indices[k + 2]];
    s3 += static_cast<double>(r.data[k + 3]) * c[r.indices[k + 3]];
  }
  for (; k < r.nnz; ++k) s0 += static_cast<double>(r.data[k]) * c[r.indices[k]];
  const double s = (s0 + s1) + (s2 + s3);
  return std::isnan(s) ? 0.0 : s;
}

void AddRow(const Index* begin, const Index* end, const float* data, float* to) {
  for (const Index* p = begin; p < end; ++p) to[*p] += data[p - begin];
}

void MoveRow(const Index* begin, const Index* end, const float* data, float* from, float* to) {
  for (const Index* p = begin; p < end; ++p) {
    from[*p] -= data[p - begin];
    to[*p] += data[p - begin];
  }
}

// Puts the floor(n/2) smallest keys left (side 0), the rest right (side 1). Returns whether any
// label changed side (the first assignment of a node always counts as a change) and lists the
// positions that changed side in `moved`, ascending.
bool Assign(std::vector<Keyed>* keyed, std::uint8_t* side, bool first, std::vector<Index>* moved) {
  const std::size_t half = keyed->size() / 2;
  std::nth_element(keyed->begin(), keyed->begin() + half, keyed->end());
  moved->clear();
  for (std::size_t k = 0; k < keyed->size(); ++k) {
    const std::uint8_t s = k < half ? 0 : 1;
    const Index pos = (*keyed)[k].second;
    if (side[pos] != s) moved->push_back(pos);
    side[pos] = s;
  }
  std::sort(moved->begin(), moved->end());
  return first || !moved->empty();
}

// Squared norms of `left` and `right` over the support positions [begin, end): feature
// `order[q]`, or q itself when order is null. Callers bracket chunks as kNormChunk describes.
struct SquaredNorms {
  double left = 0.0;
  double right = 0.0;
};

SquaredNorms ChunkSquares(const float* left, const float* right, const Index* order, Index begin,
                          Index end) {
  SquaredNorms sq;
  for (Index q = begin; q < end; ++q) {
    const Index j = order ? order[q] : q;
    sq.left += static_cast<double>(left[j]) * left[j];
    sq.right += static_cast<double>(right[j]) * right[j];
  }
  return sq;
}

// Scales of c = scale_right * sum_right - scale_left * sum_left: 1/||sum|| for spherical
// k-means (0 for an all-zero sum), 1/count for plain means.
struct CenterScales {
  float left = 0.0f;
  float right = 0.0f;
};

CenterScales MakeScales(bool spherical, const SquaredNorms& sq, Index n) {
  const Index n_left = n / 2, n_right = n - n / 2;
  CenterScales s;
  if (spherical) {
    s.left = sq.left > 0.0 ? static_cast<float>(1.0 / std::sqrt(sq.left)) : 0.0f;
    s.right = sq.right > 0.0 ? static_cast<float>(1.0 / std::sqrt(sq.right)) : 0.0f;
  } else {
    s.left = 1.0f / static_cast<float>(n_left);
    s.right = 1.0f / static_cast<float>(n_right);
  }
  return s;
}

// The two draws of a node's init: positions of a (right seed) and b (left seed), distinct.
std::pair<Index, Index> InitPair(std::uint64_t seed, Index n) {
  SplitMix64 rng(seed);
  const Index pa = static_cast<Index>(rng.Below(static_cast<std::uint64_t>(n)));
  Index pb = static_cast<Index>(rng.Below(static_cast<std::uint64_t>(n - 1)));
  if (pb >= pa) ++pb;
  return {pa, pb};
}

// KMeansTuning::trace: folds the bits of a node's scores and scales into its hash.
void Fold(std::uint64_t* h, std::uint64_t bits) {
  *h = (*h ^ bits) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
}

void TraceScores(std::uint64_t* trace, const std::vector<Keyed>& keyed) {
  if (trace == nullptr) return;
  for (const Keyed& k : keyed) {
    std::uint64_t bits;
    std::memcpy(&bits, &k.first, sizeof(bits));
    Fold(trace, bits ^ static_cast<std::uint64_t>(k.second));
  }
}

void TraceScales(std::uint64_t* trace, const CenterScales& sc) {
  if (trace == nullptr) return;
  std::uint32_t left, right;
  std::memcpy(&left, &sc.left, sizeof(left));
  std::memcpy(&right, &sc.right, sizeof(right));
  Fold(trace, (static_cast<std::uint64_t>(left) << 32) | right);
}

// Per-worker scratch of the compact kernel.
struct CompactScratch {
  // D entries (node stamp << 32 | compact id): a feature's compact id in the node with that
  // stamp. Stamps spare a reset pass over the (cache-missing) touched entries after each node.
  std::vector<std::uint64_t> local_of;
  std::uint32_t stamp = 0;
  std::vector<Index> support;  // the node's features in support order (compact id -> feature)
  std::vector<Offset> indptr;  // the node's rows, compact ids
  std::vector<Index> indices;
  std::vector<float> data;
  std::vector<float> sum_left, sum_right, center;  // |support|
  std::vector<std::uint8_t> side;                  // per position: 0 left, 1 right
  std::vector<Keyed> keyed;
  std::vector<Index> moved;
  std::vector<Index> buffer;
};

// Scratch of the feature-parallel kernel; the dense vectors and `mark` are all-zero between
// nodes.
struct DenseScratch {
  std::vector<float> sum_left, sum_right, center;  // D
  std::vector<std::uint8_t> mark;                  // D
  std::vector<Index> support;                      // the node's features in support order
  // Per feature range: (offset in emb, feature) of each feature's first occurrence.
  std::vector<std::vector<std::pair<Offset, Index>>> firsts;
  std::vector<SquaredNorms> partial;
  std::vector<std::uint8_t> side;
  std::vector<Keyed> keyed;
  std::vector<Index> moved;
  std::vector<Index> buffer;
  std::vector<Index> cuts;  // feature ranges with about equal nonzeros
};

// Reorders `range` to left half then right half, both still in label-id order (stable): the
// invariant the children rely on.
void PartitionRange(Index* range, Index n, const std::uint8_t* side, std::vector<Index>* buffer) {
  buffer->clear();
  Index n_left = 0;
  for (Index k = 0; k < n; ++k) {
    if (side[k] == 0) {
      range[n_left++] = range[k];
    } else {
      buffer->push_back(range[k]);
    }
  }
  std::copy(buffer->begin(), buffer->end(), range + n_left);
}

// The node's support order from the per-range first occurrences (each list is ascending in
// offset): a k-way merge by offset.
void MergeSupport(DenseScratch* s) {
  using Head = std::pair<Offset, std::size_t>;  // (offset, list)
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
  std::vector<std::size_t> next(s->firsts.size(), 0);
  for (std::size_t q = 0; q < s->firsts.size(); ++q) {
    if (!s->firsts[q].empty()) heads.emplace(s->firsts[q][0].first, q);
  }
  s->support.clear();
  while (!heads.empty()) {
    const std::size_t q = heads.top().second;
    heads.pop();
    s->support.push_back(s->firsts[q][next[q]].second);
    if (++next[q] < s->firsts[q].size()) heads.emplace(s->firsts[q][next[q]].first, q);
  }
}

class TwoMeansTree {
 public:
  TwoMeansTree(const CsrView& emb, const IndexerOptions& opts, const Context& ctx,
               const KMeansTuning& tuning)
      : emb_(emb), opts_(opts), ctx_(ctx), tuning_(tuning), threads_(ctx.NumThreads()) {}

  std::vector<Index> Run(int depth, std::uint64_t seed);

 private:
  void SplitCompact(Index* range, Index n, std::uint64_t seed, std::uint64_t* trace,
                    CompactScratch* s);
  void SplitFeatureParallel(Index* range, Index n, std::uint64_t seed, std::uint64_t* trace);
  Offset NodeNnz(const Index* range, Index n) const;
  std::vector<Index> FeatureCuts(std::size_t n_cuts) const;

  const CsrView& emb_;
  const IndexerOptions& opts_;
  const Context& ctx_;
  const KMeansTuning& tuning_;
  const int threads_;
  std::vector<CompactScratch> compact_;
  DenseScratch dense_;
  std::atomic<std::int64_t> n_iters_{0};  // assignments in the current level (for the log)
};

Offset TwoMeansTree::NodeNnz(const Index* range, Index n) const {
  Offset nnz = 0;
  for (Index k = 0; k < n; ++k) nnz += emb_.indptr[range[k] + 1] - emb_.indptr[range[k]];
  return nnz;
}

void TwoMeansTree::SplitCompact(Index* range, Index n, std::uint64_t seed, std::uint64_t* trace,
                                CompactScratch* s) {
  const std::size_t dim = static_cast<std::size_t>(emb_.cols);
  if (s->local_of.size() != dim || ++s->stamp == 0) {
    s->local_of.assign(dim, 0);
    s->stamp = 1;
  }
  const std::uint64_t stamp = static_cast<std::uint64_t>(s->stamp) << 32;
  // Copy the node with compact feature ids given in support order, in one pass.
  const Offset nnz = NodeNnz(range, n);
  s->support.resize(static_cast<std::size_t>(std::min<Offset>(emb_.cols, nnz)));
  s->indptr.resize(static_cast<std::size_t>(n) + 1);
  s->indices.resize(static_cast<std::size_t>(nnz));
  s->data.resize(static_cast<std::size_t>(nnz));
  std::uint64_t* local_of = s->local_of.data();
  Index* support = s->support.data();
  Index n_support = 0;
  s->indptr[0] = 0;
  for (Index k = 0; k < n; ++k) {
    const SparseVecView r = emb_.row(range[k]);
    Index* idx = s->indices.data() + s->indptr[k];
    for (Index p = 0; p < r.nnz; ++p) {
      const Index j = r.indices[p];
      std::uint64_t entry = local_of[j];
      if ((entry & ~std::uint64_t{0xffffffff}) != stamp) {
        entry = local_of[j] = stamp | static_cast<std::uint32_t>(n_support);
        support[n_support++] = j;
      }
      idx[p] = static_cast<Index>(entry & 0xffffffff);
    }
    std::copy(r.data, r.data + r.nnz, s->data.data() + s->indptr[k]);
    s->indptr[k + 1] = s->indptr[k] + r.nnz;
  }
  const CsrView rows{n, n_support, s->indptr.data(), s->indices.data(), s->data.data()};
  s->sum_left.assign(static_cast<std::size_t>(n_support), 0.0f);
  s->sum_right.assign(static_cast<std::size_t>(n_support), 0.0f);
  s->center.assign(static_cast<std::size_t>(n_support), 0.0f);
  s->side.assign(static_cast<std::size_t>(n), 0);
  s->keyed.resize(static_cast<std::size_t>(n));
  float* sum_left = s->sum_left.data();
  float* sum_right = s->sum_right.data();
  float* c = s->center.data();
  std::uint8_t* side = s->side.data();

  const auto [pa, pb] = InitPair(seed, n);
  const SparseVecView a = rows.row(pa), b = rows.row(pb);
  AddRow(a.indices, a.indices + a.nnz, a.data, c);
  for (Index p = 0; p < b.nnz; ++p) c[b.indices[p]] -= b.data[p];

  int iter = 0;
  for (; iter < opts_.kmeans_max_iter; ++iter) {
    for (Index k = 0; k < n; ++k) s->keyed[k] = {Dot(rows.row(k), c), k};
    TraceScores(trace, s->keyed);
    if (!Assign(&s->keyed, side, iter == 0, &s->moved) || iter + 1 == opts_.kmeans_max_iter) {
      break;
    }
    // Sums formed once, then updated with the labels that changed side (in id order): late
    // iterations move few labels, so they cost little more than their scores.
    if (iter == 0) {
      for (Index k = 0; k < n; ++k) {
        const SparseVecView r = rows.row(k);
        AddRow(r.indices, r.indices + r.nnz, r.data, side[k] ? sum_right : sum_left);
      }
    } else {
      for (const Index k : s->moved) {
        const SparseVecView r = rows.row(k);
        MoveRow(r.indices, r.indices + r.nnz, r.data, side[k] ? sum_left : sum_right,
                side[k] ? sum_right : sum_left);
      }
    }
    SquaredNorms sq;
    for (Index q = 0; q < n_support; q += kNormChunk) {
      const SquaredNorms part =
          ChunkSquares(sum_left, sum_right, nullptr, q, std::min(n_support, q + kNormChunk));
      sq.left += part.left;
      sq.right += part.right;
    }
    const CenterScales sc = MakeScales(opts_.spherical, sq, n);
    TraceScales(trace, sc);
    for (Index q = 0; q < n_support; ++q) c[q] = sum_right[q] * sc.right - sum_left[q] * sc.left;
  }
  n_iters_ += iter + 1;
  PartitionRange(range, n, side, &s->buffer);
}

// Feature ranges holding about the same number of nonzeros, so that the feature-parallel sums
// are balanced even though feature frequencies are heavily skewed.
std::vector<Index> TwoMeansTree::FeatureCuts(std::size_t n_cuts) const {
  std::vector<Offset> count(static_cast<std::size_t>(emb_.cols) + 1, 0);
  for (Offset p = emb_.indptr[0]; p < emb_.indptr[emb_.rows]; ++p) ++count[emb_.indices[p] + 1];
  for (Index j = 0; j < emb_.cols; ++j) count[j + 1] += count[j];
  std::vector<Index> cuts{0};
  const Offset total = count.back();
  Index j = 0;
  for (std::size_t q = 1; q < n_cuts; ++q) {
    const Offset target = total * static_cast<Offset>(q) / static_cast<Offset>(n_cuts);
    while (j < emb_.cols && count[j] < target) ++j;
    if (j > cuts.back()) cuts.push_back(j);
  }
  if (emb_.cols > cuts.back()) cuts.push_back(emb_.cols);
  return cuts;
}

// Dense O(D) passes per iteration are fine here: this kernel runs only for nodes that are
// large or few.
void TwoMeansTree::SplitFeatureParallel(Index* range, Index n, std::uint64_t seed,
                                        std::uint64_t* trace) {
  DenseScratch* s = &dense_;
  const Index dim = emb_.cols;
  if (s->center.size() != static_cast<std::size_t>(dim)) {
    s->sum_left.assign(dim, 0.0f);
    s->sum_right.assign(dim, 0.0f);
    s->center.assign(dim, 0.0f);
    s->mark.assign(dim, 0);
    s->cuts = FeatureCuts(static_cast<std::size_t>(threads_));
  }
  const std::vector<Index>& cuts = s->cuts;
  const std::int64_t n_cuts = static_cast<std::int64_t>(cuts.size()) - 1;
  s->firsts.resize(static_cast<std::size_t>(std::max<std::int64_t>(n_cuts, 0)));
  float* sum_left = s->sum_left.data();
  float* sum_right = s->sum_right.data();
  float* c = s->center.data();
  s->side.assign(static_cast<std::size_t>(n), 0);
  s->keyed.resize(static_cast<std::size_t>(n));
  std::uint8_t* side = s->side.data();

  const auto [pa, pb] = InitPair(seed, n);
  const SparseVecView a = emb_.row(range[pa]), b = emb_.row(range[pb]);
  AddRow(a.indices, a.indices + a.nnz, a.data, c);
  for (Index p = 0; p < b.nnz; ++p) c[b.indices[p]] -= b.data[p];

  int iter = 0;
  for (; iter < opts_.kmeans_max_iter; ++iter) {
    ParallelFor(
        n, threads_,
        [&](std::int64_t k, int) {
          s->keyed[k] = {Dot(emb_.row(range[k]), c), static_cast<Index>(k)};
        },
        1024);
    TraceScores(trace, s->keyed);
    if (!Assign(&s->keyed, side, iter == 0, &s->moved) || iter + 1 == opts_.kmeans_max_iter) {
      break;
    }
    const bool full = iter == 0;
    const Index n_rows = full ? n : static_cast<Index>(s->moved.size());
    ParallelFor(n_cuts, threads_, [&](std::int64_t q, int) {
      const Index lo = cuts[q], hi = cuts[q + 1];
      auto& firsts = s->firsts[q];
      firsts.clear();
      for (Index t = 0; t < n_rows; ++t) {  // label-id order
        const Index k = full ? t : s->moved[t];
        const SparseVecView r = emb_.row(range[k]);
        const Index* begin = std::lower_bound(r.indices, r.indices + r.nnz, lo);
        const Index* end = std::lower_bound(begin, r.indices + r.nnz, hi);
        const float* data = r.data + (begin - r.indices);
        float* to = side[k] ? sum_right : sum_left;
        if (full) {
          AddRow(begin, end, data, to);
          // Offsets in emb grow with (label id, position in row): first occurrences.
          const Offset base = emb_.indptr[range[k]] + (begin - r.indices);
          for (const Index* p = begin; p < end; ++p) {
            if (!s->mark[*p]) {
              s->mark[*p] = 1;
              firsts.emplace_back(base + (p - begin), *p);
            }
          }
        } else {
          MoveRow(begin, end, data, side[k] ? sum_left : sum_right, to);
        }
      }
      if (full) {
        for (const auto& f : firsts) s->mark[f.second] = 0;
      }
    });
    if (full) MergeSupport(s);
    const Index n_support = static_cast<Index>(s->support.size());
    const std::int64_t n_chunks = (n_support + kNormChunk - 1) / kNormChunk;
    s->partial.resize(static_cast<std::size_t>(n_chunks));
    ParallelFor(n_chunks, threads_, [&](std::int64_t q, int) {
      const Index begin = static_cast<Index>(q) * kNormChunk;
      s->partial[q] = ChunkSquares(sum_left, sum_right, s->support.data(), begin,
                                   std::min(n_support, begin + kNormChunk));
    });
    SquaredNorms sq;
    for (const SquaredNorms& part : s->partial) {
      sq.left += part.left;
      sq.right += part.right;
    }
    const CenterScales sc = MakeScales(opts_.spherical, sq, n);
    TraceScales(trace, sc);
    ParallelFor(n_cuts, threads_, [&](std::int64_t q, int) {
      for (Index j = cuts[q]; j < cuts[q + 1]; ++j) {
        c[j] = sum_right[j] * sc.right - sum_left[j] * sc.left;
      }
    });
  }
  n_iters_ += iter + 1;
  ParallelFor(n_cuts, threads_, [&](std::int64_t q, int) {
    for (Index j = cuts[q]; j < cuts[q + 1]; ++j) sum_left[j] = sum_right[j] = c[j] = 0.0f;
  });
  PartitionRange(range, n, side, &s->buffer);
}

std::vector<Index> TwoMeansTree::Run(int depth, std::uint64_t seed) {
  const Index n_labels = emb_.rows;
  // Node seeds in heap order, drawn up front: independent of scheduling.
  SplitMix64 master(seed);
  std::vector<std::uint64_t> node_seed((std::size_t{1} << depth) - 1);
  for (auto& v : node_seed) v = master.Next();

  // perm holds the labels grouped by node, each node in label-id order; node q of the current
  // level is perm[bounds[q], bounds[q+1]).
  std::vector<Index> perm(static_cast<std::size_t>(n_labels));
  std::iota(perm.begin(), perm.end(), 0);
  std::vector<Index> bounds{0, n_labels};
  std::uint64_t* trace = nullptr;
  if (tuning_.trace != nullptr) {
    tuning_.trace->assign(node_seed.size(), 0);
    trace = tuning_.trace->data();
  }
  for (int level = 0; level < depth; ++level) {
    const Timer timer;
    n_iters_ = 0;
    const Index n_nodes = Index{1} << level;
    const std::uint64_t* seeds = node_seed.data() + (n_nodes - 1);
    // Nodes for the compact kernel (one per worker); the rest go feature-parallel.
    std::vector<Index> small;
    Index n_large = 0;
    for (Index q = 0; q < n_nodes; ++q) {
      Index* range = perm.data() + bounds[q];
      const Index n = bounds[q + 1] - bounds[q];
      bool compact;
      switch (tuning_.schedule) {
        case KMeansSchedule::kNodeParallel:
          compact = true;
          break;
        case KMeansSchedule::kFeatureParallel:
          compact = false;
          break;
        default:
          compact = n_nodes >= threads_ && NodeNnz(range, n) <= kCompactBudget;
      }
      if (compact) {
        small.push_back(q);
      } else {
        SplitFeatureParallel(range, n, seeds[q], trace ? trace + (n_nodes - 1) + q : nullptr);
        ++n_large;
      }
    }
    const int workers = NumWorkers(static_cast<std::int64_t>(small.size()), threads_);
    if (compact_.size() < static_cast<std::size_t>(workers)) compact_.resize(workers);
    ParallelFor(static_cast<std::int64_t>(small.size()), threads_, [&](std::int64_t t, int w) {
      const Index q = small[t];
      SplitCompact(perm.data() + bounds[q], bounds[q + 1] - bounds[q], seeds[q],
                   trace ? trace + (n_nodes - 1) + q : nullptr, &compact_[w]);
    });
    Log(ctx_,
        StrFormat("  2-means level %d: %d nodes (%d feature-parallel), %.1f iterations per node "
                  "(%.3fs)",
                  level, n_nodes, n_large, static_cast<double>(n_iters_.load()) / n_nodes,
                  timer.Seconds()),
        2);
    std::vector<Index> next;
    next.reserve(2 * static_cast<std::size_t>(n_nodes) + 1);
    for (Index q = 0; q < n_nodes; ++q) {
      next.push_back(bounds[q]);
      next.push_back(bounds[q] + (bounds[q + 1] - bounds[q]) / 2);
    }
    next.push_back(n_labels);
    bounds.swap(next);
  }

  std::vector<Index> codes(static_cast<std::size_t>(n_labels));
  for (std::size_t q = 0; q + 1 < bounds.size(); ++q) {
    for (Index p = bounds[q]; p < bounds[q + 1]; ++p) codes[perm[p]] = static_cast<Index>(q);
  }
  return codes;
}

}  // namespace

std::vector<Index> BalancedTwoMeansCodes(const CsrView& emb, int depth, const IndexerOptions& opts,
                                         const Context& ctx, const KMeansTuning& tuning) {
  XMR_CHECK(depth >= 1 && depth < 31 && (std::int64_t{1} << depth) <= emb.rows);
  TwoMeansTree tree(emb, opts, ctx, tuning);
  return tree.Run(depth, ctx.seed);
}

ClusterChain HierarchicalKMeansTuned(const CsrView& emb, const IndexerOptions& opts,
                                     const Context& ctx, const KMeansTuning& tuning) {
  opts.Validate();
  XMR_EXPECTS(emb.rows >= 1, ErrorCode::kInvalidArgument,
              "HierarchicalKMeans: the embedding matrix has no rows (no labels)");
  const Index n_labels = emb.rows;
  if (n_labels <= opts.max_leaf_size) return ClusterChain::Flat(n_labels);
  // Out-of-range or unsorted feature ids would break the dense scratch and the range splits.
  Validate(emb, "label embedding");
  const int depth = BinaryDepth(n_labels, opts.max_leaf_size);
  XMR_EXPECTS(
      depth < 31 && (std::int64_t{1} << depth) <= n_labels, ErrorCode::kInvalidArgument,
      StrFormat("max_leaf_size=%d is too small for %d labels: the balanced binary tree would need "
                "2^%d leaves, more than there are labels",
                opts.max_leaf_size, n_labels, depth));
  const Timer timer;
  std::vector<Index> codes = BalancedTwoMeansCodes(emb, depth, opts, ctx, tuning);
  ClusterChain chain = ChainFromLeafCodes(std::move(codes), Index{1} << depth, opts.nr_splits);
  std::string shape;
  for (int t = 0; t < chain.depth(); ++t) {
    shape += StrFormat("%s%dx%d", t ? ", " : "", chain.n_nodes(t), chain.n_parents(t));
  }
  Log(ctx,
      StrFormat("hierarchical k-means: %d labels, binary depth %d, chain [%s] (%.3fs)", n_labels,
                depth, shape.c_str(), timer.Seconds()),
      2);
  return chain;
}

}  // namespace detail

ClusterChain HierarchicalKMeans(const CsrView& emb, const IndexerOptions& opts,
                                const Context& ctx) {
  return detail::HierarchicalKMeansTuned(emb, opts, ctx, detail::KMeansTuning{});
}

}  // namespace xmr
