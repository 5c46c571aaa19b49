#include "infer/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/log.h"  // for StrFormat
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

// Orders candidates best first: higher score, then smaller node id. (A functor, so that the
// heap algorithms inline it.)
struct Better {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score > b.score || (a.score == b.score && a.node < b.node);
  }
};

// Bit count without relying on the POPCNT instruction (not in the x86-64 baseline).
inline std::uint32_t PopCount(std::uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<std::uint32_t>((x * 0x0101010101010101ull) >> 56);
}

// z^p for the hinge post-processors. PECOS calls std::pow; the products are exact for p <= 2
// and within one double ulp for p = 3, 4, which the final cast to float hides.
inline double HingePow(double z, int p) {
  switch (p) {
    case 1:
      return z;
    case 2:
      return z * z;
    case 3:
      return z * z * z;
    default: {
      const double z2 = z * z;
      return z2 * z2;
    }
  }
}

// f(s) of PECOS's post-processors, evaluated as PECOS does (float exp for the sigmoids, double
// for the hinge) so that scores agree with PECOS's to the last float bit in practice.
template <PostProcessor::Kind K>
inline float Transform(float s, int power) {
  switch (K) {
    case PostProcessor::Kind::kNoop:
      return s;
    case PostProcessor::Kind::kSigmoid:
      return static_cast<float>(1.0 / (1.0 + std::exp(-s)));
    case PostProcessor::Kind::kLogSigmoid:
      return static_cast<float>(-std::log(1.0 + std::exp(-s)));
    case PostProcessor::Kind::kHinge: {
      const double z = std::max(0.0, 1.0 - static_cast<double>(s));
      return z == 0.0 ? 1.0f : static_cast<float>(std::exp(-HingePow(z, power)));
    }
    case PostProcessor::Kind::kLogHinge: {
      const double z = std::max(0.0, 1.0 - static_cast<double>(s));
      return static_cast<float>(-HingePow(z, power));
    }
  }
  return s;
}

}  // namespace

ResolvedOptions Resolve(const XLinearModel::Impl& model, const PredictOptions& opts) {
  opts.Validate();
  ResolvedOptions r;
  r.beam_size = opts.beam_size;
  r.top_k = opts.top_k;
  r.post_processor = PostProcessor::Parse(opts.post_processor.empty() ? model.meta.post_processor
                                                                      : opts.post_processor);
  return r;
}

void CheckQuery(const SparseVecView& x, Index n_features, Index row) {
  XMR_EXPECTS(x.nnz >= 0, ErrorCode::kInvalidArgument,
              StrFormat("row %d: negative number of nonzeros", row));
  for (Index i = 0; i < x.nnz; ++i) {
    const Index f = x.indices[i];
    XMR_EXPECTS(f >= 0 && f < n_features, ErrorCode::kInvalidArgument,
                StrFormat("row %d: feature id %d out of range [0, %d)", row, f, n_features));
    XMR_EXPECTS(i == 0 || x.indices[i - 1] < f, ErrorCode::kInvalidArgument,
                StrFormat("row %d: feature ids not strictly increasing (%d after %d)", row, f,
                          x.indices[i - 1]));
    XMR_EXPECTS(std::isfinite(x.data[i]), ErrorCode::kInvalidArgument,
                StrFormat("row %d: feature %d has a non-finite value", row, f));
  }
}

BeamSearcher::BeamSearcher(const XLinearModel::Impl& model) : model_(model) {
  bias_ = model.meta.bias;
  // As PECOS: the bias row is used only with a positive bias.
  use_bias_ = bias_ > 0.0f;
  Index widest = 0;
  for (const auto& lv : model.levels) widest = std::max(widest, lv.max_chunk_width);
  block_.assign(static_cast<std::size_t>(widest), 0.0f);
}

void BeamSearcher::Reserve(std::size_t query_nnz) {
  if (match_row_.size() < query_nnz + 1) {
    match_row_.resize(query_nnz + 1);
    match_val_.resize(query_nnz + 1);
    match_begin_.resize(2 * (query_nnz + 1));
  }
}

namespace {

// Phase 2 of ScoreChunk: the entry ranges of the matched rows (relative to the chunk's first
// entry; independent loads, each prefetching its row's columns and values), then
// block[col] += a * value over them, with columns of type Col.
template <typename Col>
void Scatter(const std::uint32_t* row_entry, const Index* m_row, const float* m_val,
             std::size_t n_m, const Col* cols, const float* vals, bool check_cols, Index width,
             Offset* m_begin, float* block) {
  for (std::size_t i = 0; i < n_m; ++i) {
    const std::uint32_t b = row_entry[m_row[i]];
    m_begin[2 * i] = b;
    m_begin[2 * i + 1] = row_entry[m_row[i] + 1];
    __builtin_prefetch(cols + b);
    __builtin_prefetch(vals + b);
  }
  for (std::size_t i = 0; i < n_m; ++i) {
    const float a = m_val[i];
    for (Offset e = m_begin[2 * i]; e < m_begin[2 * i + 1]; ++e) {
      const std::uint32_t col = cols[e];
      if (check_cols && col >= static_cast<std::uint32_t>(width)) {
        continue;  // damaged mapped file: ignore rather than write out of bounds
      }
      block[col] += a * vals[e];
    }
  }
}

}  // namespace

void BeamSearcher::ScoreChunk(const LevelWeights& lv, Index chunk, const SparseVecView& x) {
  const Index width = lv.chunk_width(chunk);
  float* block = block_.data();
  std::fill(block, block + width, 0.0f);
  const Offset r0 = lv.chunk_row[chunk];
  const Offset r1 = lv.chunk_row[chunk + 1];
  const Index* rows = lv.row_feature.data + r0;
  std::size_t n_rows = static_cast<std::size_t>(r1 - r0);
  const bool has_bias = n_rows > 0 && rows[n_rows - 1] == model_.meta.n_features;
  if (has_bias) --n_rows;                                           // never matches a query feature
  const std::uint32_t* row_entry = lv.row_entry.data + r0 + chunk;  // relative to e0
  const Offset e0 = lv.chunk_entry[chunk];

  // Phase 1: the chunk rows matching query features, in increasing feature order.
  const Index* q = x.indices;
  const float* qv = x.data;
  const std::size_t nq = static_cast<std::size_t>(x.nnz);
  Index* m_row = match_row_.data();
  float* m_val = match_val_.data();
  std::size_t n_m = 0;
  const Offset rk = lv.rank_of_chunk.empty() ? -1 : lv.rank_of_chunk[chunk];
  if (rk >= 0) {
    // Rank directory: one cache line per query id, independent loads, no branches.
    const RankBlock* dir = lv.rank.data() + rk;
    for (std::size_t t = 0; t < nq; ++t) {
      const Index f = q[t];
      const RankBlock& b = dir[f / kRankBlockFeatures];
      const Index w = f % kRankBlockFeatures;
      const std::uint64_t word = b.bits[w / 64];
      const std::uint64_t bit = std::uint64_t{1} << (w % 64);
      m_row[n_m] = static_cast<Index>(b.base + b.sub[w / 64] + PopCount(word & (bit - 1)));
      m_val[n_m] = qv[t];
      n_m += (word & bit) != 0;
    }
  } else if (n_rows >= nq) {
    // Each query id searched in the rows after the previous match, branch-free.
    std::size_t lo = 0;
    for (std::size_t t = 0; t < nq && lo < n_rows; ++t) {
      const Index key = q[t];
      const Index* base = rows + lo;
      std::size_t len = n_rows - lo;
      while (len > 1) {
        const std::size_t half = len / 2;
        // Arithmetic select: compilers turn the ternary into an unpredictable branch.
        base += static_cast<std::size_t>(base[half - 1] < key) * half;
        len -= half;
      }
      const std::size_t pos = static_cast<std::size_t>(base - rows) + (*base < key);
      const bool hit = pos < n_rows && rows[pos] == key;
      m_row[n_m] = static_cast<Index>(pos);
      m_val[n_m] = qv[t];
      n_m += hit;
      lo = pos + hit;
    }
  } else {
    // Fewer rows than query ids: search each row among the query ids instead.
    std::size_t lo = 0;
    for (std::size_t r = 0; r < n_rows && lo < nq; ++r) {
      const Index key = rows[r];
      const Index* base = q + lo;
      std::size_t len = nq - lo;
      while (len > 1) {
        const std::size_t half = len / 2;
        // Arithmetic select: compilers turn the ternary into an unpredictable branch.
        base += static_cast<std::size_t>(base[half - 1] < key) * half;
        len -= half;
      }
      const std::size_t pos = static_cast<std::size_t>(base - q) + (*base < key);
      const bool hit = pos < nq && q[pos] == key;
      m_row[n_m] = static_cast<Index>(r);
      m_val[n_m] = hit ? qv[pos] : 0.0f;
      n_m += hit;
      lo = pos + hit;
    }
  }
  if (has_bias && use_bias_) {
    m_row[n_m] = static_cast<Index>(n_rows);
    m_val[n_m] = bias_;
    ++n_m;
  }
  // Phase 2: entry ranges of the matched rows, then the scatter.
  Offset* m_begin = match_begin_.data();
  const bool check_cols = model_.unchecked_entries;
  const float* vals = lv.entry_val.data + e0;
  if (lv.narrow_cols()) {
    Scatter(row_entry, m_row, m_val, n_m, lv.entry_col16.data + e0, vals, check_cols, width,
            m_begin, block);
  } else {
    Scatter(row_entry, m_row, m_val, n_m, lv.entry_col32.data + e0, vals, check_cols, width,
            m_begin, block);
  }
}

namespace {

// Transforms, combines and offers a chunk's scores to a bounded heap (front = worst kept).
// Values are monotone in the score for a fixed parent value, so once a score s was rejected
// every score <= s is rejected too without evaluating f.
template <PostProcessor::Kind K>
void OfferBlock(const float* s, const Index* nodes, Index width, int power, bool combine,
                float parent, std::size_t k, Candidate* heap, std::size_t* size) {
  std::size_t n = *size;
  float rejected = -std::numeric_limits<float>::infinity();
  bool have_rejected = false;
  for (Index j = 0; j < width; ++j) {
    const float sj = s[j];
    if (have_rejected && sj <= rejected) continue;
    float v = Transform<K>(sj, power);
    if (combine) {
      if (K == PostProcessor::Kind::kSigmoid || K == PostProcessor::Kind::kHinge) {
        v = v * parent;
      } else if (K == PostProcessor::Kind::kLogSigmoid || K == PostProcessor::Kind::kLogHinge) {
        v = v + parent;
      }
    }
    if (std::isnan(v)) v = -std::numeric_limits<float>::infinity();
    const Candidate c{v, nodes[j]};
    if (n < k) {
      heap[n++] = c;
      std::push_heap(heap, heap + n, Better());
    } else if (Better()(c, heap[0])) {
      std::pop_heap(heap, heap + n, Better());
      heap[n - 1] = c;
      std::push_heap(heap, heap + n, Better());
    } else if (v < heap[0].score && !std::isnan(sj) && (!have_rejected || sj > rejected)) {
      rejected = sj;
      have_rejected = true;
    }
  }
  *size = n;
}

}  // namespace

NodeLabelSpans NodeLabelSpans::Build(const XLinearModel::Impl& model) {
  NodeLabelSpans sp;
  const int depth = static_cast<int>(model.levels.size());
  sp.lo.resize(depth);
  sp.hi.resize(depth);
  if (depth == 0) return sp;
  const Index n_labels = model.levels[depth - 1].n_nodes;
  sp.lo[depth - 1].resize(n_labels);
  sp.hi[depth - 1].resize(n_labels);
  for (Index j = 0; j < n_labels; ++j) {
    sp.lo[depth - 1][j] = j;
    sp.hi[depth - 1][j] = j + 1;
  }
  for (int t = depth - 2; t >= 0; --t) {
    const Index n = model.levels[t].n_nodes;
    sp.lo[t].assign(n, std::numeric_limits<Index>::max());
    sp.hi[t].assign(n, 0);
    const std::vector<Index>& parent = model.chain.parents[t + 1];
    for (std::size_t j = 0; j < parent.size(); ++j) {
      const Index p = parent[j];
      sp.lo[t][p] = std::min(sp.lo[t][p], sp.lo[t + 1][j]);
      sp.hi[t][p] = std::max(sp.hi[t][p], sp.hi[t + 1][j]);
    }
  }
  return sp;
}

void BeamSearcher::Offer(const LevelWeights& lv, Index chunk, float parent_value, bool combine,
                         const PostProcessor& pp, std::size_t k, Candidate* heap, std::size_t* size,
                         const Index* span_lo, const Index* span_hi, LabelRange range) {
  Index width = lv.chunk_width(chunk);
  const Index* nodes = lv.col_node.data() + lv.chunk_col[chunk];
  const float* s = block_.data();
  if (span_lo != nullptr) {
    // Keep only the children with a label inside the range.
    kept_score_.resize(static_cast<std::size_t>(width));
    kept_node_.resize(static_cast<std::size_t>(width));
    Index n = 0;
    for (Index j = 0; j < width; ++j) {
      const Index node = nodes[j];
      if (span_lo[node] < range.hi && span_hi[node] > range.lo) {
        kept_score_[n] = s[j];
        kept_node_[n] = node;
        ++n;
      }
    }
    width = n;
    nodes = kept_node_.data();
    s = kept_score_.data();
  }
  using K = PostProcessor::Kind;
  switch (pp.kind) {
    case K::kNoop:
      OfferBlock<K::kNoop>(s, nodes, width, pp.power, false, 0, k, heap, size);
      break;
    case K::kSigmoid:
      OfferBlock<K::kSigmoid>(s, nodes, width, pp.power, combine, parent_value, k, heap, size);
      break;
    case K::kLogSigmoid:
      OfferBlock<K::kLogSigmoid>(s, nodes, width, pp.power, combine, parent_value, k, heap, size);
      break;
    case K::kHinge:
      OfferBlock<K::kHinge>(s, nodes, width, pp.power, combine, parent_value, k, heap, size);
      break;
    case K::kLogHinge:
      OfferBlock<K::kLogHinge>(s, nodes, width, pp.power, combine, parent_value, k, heap, size);
      break;
  }
}

void BeamSearcher::SortByChunk(Index n_chunks) {
  // Items are generated in query order, so a stable counting sort by chunk yields (chunk, query)
  // order; for few items over many chunks a comparison sort is cheaper.
  if (work_.size() * 8 < static_cast<std::size_t>(n_chunks)) {
    std::sort(work_.begin(), work_.end(), [](const Work& a, const Work& b) {
      return a.chunk < b.chunk || (a.chunk == b.chunk && a.query < b.query);
    });
    return;
  }
  chunk_count_.assign(static_cast<std::size_t>(n_chunks) + 1, 0);
  for (const Work& w : work_) ++chunk_count_[w.chunk + 1];
  for (Index c = 0; c < n_chunks; ++c) chunk_count_[c + 1] += chunk_count_[c];
  sorted_.resize(work_.size());
  for (const Work& w : work_) sorted_[chunk_count_[w.chunk]++] = w;
  work_.swap(sorted_);
}

void BeamSearcher::Search(const SparseVecView* queries, Index n, const ResolvedOptions& opts,
                          std::vector<Candidate>* out, Offset* counts, const LabelRange* ranges,
                          const NodeLabelSpans* spans) {
  XMR_CHECK(ranges == nullptr || spans != nullptr);
  const int depth = static_cast<int>(model_.levels.size());
  std::size_t max_nnz = 0;
  for (Index i = 0; i < n; ++i) max_nnz = std::max<std::size_t>(max_nnz, queries[i].nnz);
  Reserve(max_nnz);
  std::size_t stride = 1;                                          // capacity per query of beams_
  beams_.assign(static_cast<std::size_t>(n), Candidate{1.0f, 0});  // the root
  beam_len_.assign(static_cast<std::size_t>(n), 1);
  for (int t = 0; t < depth; ++t) {
    const LevelWeights& lv = model_.levels[t];
    const int k_opt = t == depth - 1 ? opts.top_k : opts.beam_size;
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(k_opt), lv.n_nodes);
    work_.clear();
    for (Index i = 0; i < n; ++i) {
      const Candidate* b = beams_.data() + i * stride;
      for (std::size_t j = 0; j < beam_len_[i]; ++j) work_.push_back({b[j].node, i, b[j].score});
    }
    if (n > 1) SortByChunk(lv.n_chunks);
    heaps_.resize(static_cast<std::size_t>(n) * k);
    heap_len_.assign(static_cast<std::size_t>(n), 0);
    // Every post-processor but noop has f <= 1 (x) or f <= 0 (+), so no child can beat its
    // parent's value: a parent below a full heap's worst entry is skipped unscored.
    const bool bounded = t > 0 && opts.post_processor.kind != PostProcessor::Kind::kNoop;
    for (const Work& w : work_) {
      const Candidate* heap = heaps_.data() + w.query * k;
      if (bounded && heap_len_[w.query] == k && w.parent < heap[0].score) continue;
      ScoreChunk(lv, w.chunk, queries[w.query]);
      if (ranges == nullptr) {
        Offer(lv, w.chunk, w.parent, t > 0, opts.post_processor, k, heaps_.data() + w.query * k,
              &heap_len_[w.query]);
      } else {
        Offer(lv, w.chunk, w.parent, t > 0, opts.post_processor, k, heaps_.data() + w.query * k,
              &heap_len_[w.query], spans->lo[t].data(), spans->hi[t].data(), ranges[w.query]);
      }
    }
    for (Index i = 0; i < n; ++i) {
      Candidate* h = heaps_.data() + i * k;
      std::sort_heap(h, h + heap_len_[i], Better());
    }
    beams_.swap(heaps_);
    beam_len_.swap(heap_len_);
    stride = k;
  }
  for (Index i = 0; i < n; ++i) {
    const Candidate* b = beams_.data() + i * stride;
    out->insert(out->end(), b, b + beam_len_[i]);
    counts[i] = static_cast<Offset>(beam_len_[i]);
  }
}

}  // namespace detail
}  // namespace xmr
