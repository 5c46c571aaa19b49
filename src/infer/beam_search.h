// CPU beam search over the chunked model layout (xr-linear.md section 5), shared by Predict and
// Searcher.
//
// A group of queries is searched level by level. At each level every (query, beam node) pair is
// a work item: the product of the query with the chunk of that node's children. Items are sorted
// by chunk so that queries sharing a chunk run back to back while its rows and entries are in
// cache (PECOS does the same). Every query keeps a bounded heap of its best children; the result
// does not depend on the order of the items, so a query's labels are the same whatever group it
// is searched in (Predict == Searcher, any thread count).
//
// Query x chunk product: the chunk rows matching the query's features are found with the
// chunk's rank directory if it has one, else by branch-free binary search of each query id in
// the chunk's rows (or of each row in the query, when the query has more nonzeros than the chunk
// has rows); then the matched rows' entries are scattered into a dense block of the chunk's
// width, in increasing feature order, and the bias row last, as PECOS sums them.
//
// Exact pruning (results are unchanged): post-processors other than noop satisfy v <= parent
// value, so a beam node whose value is below a full heap's worst entry is not expanded; and
// within a chunk v is monotone in s, so scores <= an already rejected score skip f.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_impl.h"
#include "xmr/indexer.h"
#include "xmr/predict.h"

namespace xmr {
namespace detail {

/// Prediction options with the model defaults filled in and the post-processor parsed.
struct ResolvedOptions {
  int beam_size = 10;
  int top_k = 10;
  PostProcessor post_processor;
};

/// Validates `opts` and resolves them against the model.
/// @throws Error(kInvalidArgument).
ResolvedOptions Resolve(const XLinearModel::Impl& model, const PredictOptions& opts);

/// Checks one query: ids in [0, n_features), strictly increasing, values finite. `row` names it
/// in the message.
/// @throws Error(kInvalidArgument).
void CheckQuery(const SparseVecView& x, Index n_features, Index row);

/// A scored node during the search.
struct Candidate {
  float score;
  Index node;
};

/// Per level, the smallest label id under each node and one past the largest
/// (lo[t][j] <= label < hi[t][j] for every label under node j of level t). Used to keep beam
/// search inside a label range: a node whose [lo, hi) misses the range is never kept. For trees
/// whose nodes hold contiguous label ranges (tries over sorted labels) the test is exact; for
/// others it over-approximates and the last level's exact test decides.
struct NodeLabelSpans {
  std::vector<std::vector<Index>> lo, hi;
  static NodeLabelSpans Build(const XLinearModel::Impl& model);
};

/// Beam search with reusable scratch memory. Not thread-safe; one per thread. The model must
/// outlive it.
class BeamSearcher {
 public:
  explicit BeamSearcher(const XLinearModel::Impl& model);

  /// Searches `n` (already validated) queries. Appends the top-k labels of each query, best
  /// first, to `out`, and writes their number to counts[0..n). Allocates nothing once the scratch
  /// has grown to the largest group and beam.
  /// ranges: null, or per query a label range [lo, hi) to which results are restricted (no
  /// node without a label in the range is kept, so every returned label is in it; a query may
  /// get fewer than top_k labels); spans must then be NodeLabelSpans::Build of the model.
  void Search(const SparseVecView* queries, Index n, const ResolvedOptions& opts,
              std::vector<Candidate>* out, Offset* counts, const LabelRange* ranges = nullptr,
              const NodeLabelSpans* spans = nullptr);

 private:
  struct Work {
    Index chunk;
    Index query;
    float parent;  // value of the beam node whose children the chunk holds
  };

  // Orders work_ by (chunk, query).
  void SortByChunk(Index n_chunks);
  // Grows the per-chunk match buffers for queries of up to `query_nnz` nonzeros.
  void Reserve(std::size_t query_nnz);
  // Scores of the children of `chunk` at level `lv` into block_[0, width).
  void ScoreChunk(const LevelWeights& lv, Index chunk, const SparseVecView& x);
  // Offers every child of the chunk to `heap` (size *size, capacity k).
  // With `allowed_lo/hi` (the level's node spans) and `range`, only children whose span meets
  // the range are offered.
  void Offer(const LevelWeights& lv, Index chunk, float parent_value, bool combine,
             const PostProcessor& pp, std::size_t k, Candidate* heap, std::size_t* size,
             const Index* span_lo = nullptr, const Index* span_hi = nullptr, LabelRange range = {});

  const XLinearModel::Impl& model_;
  float bias_ = 0.0f;
  bool use_bias_ = false;
  std::vector<float> block_;
  std::vector<Work> work_;
  std::vector<Work> sorted_;  // counting-sort buffer
  std::vector<std::size_t> chunk_count_;
  std::vector<Index> match_row_;       // rows of the chunk matching the query (+ the bias row)
  std::vector<float> match_val_;       // the query values (or the bias) they are scaled by
  std::vector<Offset> match_begin_;    // entry range of each match
  std::vector<Candidate> beams_;       // per query, its beam (capacity stride_ each)
  std::vector<std::size_t> beam_len_;  // per query
  std::vector<Candidate> heaps_;       // per query, the next level's heap
  std::vector<float> kept_score_;      // constrained search: the scores of the allowed children
  std::vector<Index> kept_node_;       // and their node ids
  std::vector<std::size_t> heap_len_;
};

}  // namespace detail
}  // namespace xmr
