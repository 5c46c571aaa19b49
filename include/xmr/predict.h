// Prediction: beam search down the label tree (XR-Linear stage 3), batch and single query.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "xmr/context.h"
#include "xmr/indexer.h"  // LabelRange
#include "xmr/sparse.h"

namespace xmr {

class XLinearModel;

/// Score transform f and combiner g of PECOS (s: a node's linear score, p: its parent's value).
/// At the first level v = f(s); below, v = g(f(s), p). Computed as PECOS computes them (double
/// precision for exp/pow, result rounded to float), so scores match PECOS's.
///   noop:          f = s,                          g = f (parent ignored)
///   sigmoid:       f = 1/(1+e^-s),                 g = f * p
///   log-sigmoid:   f = -log(1+e^-s),               g = f + p
///   lP-hinge:      f = exp(-max(0,1-s)^P),         g = f * p      (P = 1..4; l3-hinge default)
///   log-lP-hinge:  f = -max(0,1-s)^P,              g = f + p
struct PostProcessor {
  enum class Kind { kNoop, kSigmoid, kLogSigmoid, kHinge, kLogHinge };
  Kind kind = Kind::kHinge;
  int power = 3;  ///< P of the (log-)lP-hinge kinds, 1..4

  /// Parses "noop", "sigmoid", "log-sigmoid", "l1-hinge".."l4-hinge", "log-l1-hinge"..
  /// @throws Error(kInvalidArgument) listing the valid names.
  static PostProcessor Parse(const std::string& name);
  std::string Name() const;
};

/// Prediction options. Defaults follow PECOS's CLI (beam 10) with top-k 10.
struct PredictOptions {
  /// Nodes kept per level during the search (>= 1).
  int beam_size = 10;
  /// Labels returned per query (>= 1).
  int top_k = 10;
  /// Transform; empty string = the one stored in the model.
  std::string post_processor;
  /// @throws Error(kInvalidArgument).
  void Validate() const;
};

/// The options stored in the model (its meta's beam_size, top_k and post_processor), for
/// callers that want the model's defaults rather than PredictOptions{}.
PredictOptions DefaultPredictOptions(const XLinearModel& model);

/// One predicted label.
struct ScoredLabel {
  Index label;
  float score;
};

/// Batch prediction. x: n x d CSR (d must equal model.n_features(); indices strictly
/// increasing). Returns an n x n_labels CSR whose row i holds the top_k labels of query i by
/// descending score (ties: smaller label id first); column indices within a row are therefore
/// NOT sorted by id. A row holds fewer than top_k labels only when the beam reaches fewer
/// leaves. beam_size applies to every level but the last, top_k to the last (PECOS semantics;
/// a depth-1 model is flat one-vs-rest). Queries are searched in groups that share the chunks
/// they visit; uses ctx.threads threads and the result is identical for any thread count and
/// any batch composition. Reentrant; x and the model are only read.
/// @throws Error(kInvalidArgument) on an empty model, a dimension mismatch, a feature id out of
/// range or unsorted or a non-finite value (the message names the row), or bad options.
CsrMatrix Predict(const XLinearModel& model, const CsrView& x, const PredictOptions& opts,
                  const Context& ctx = {});

/// Batch prediction restricted per query to a range of label ids: row i returns only labels in
/// ranges[i] (e.g. the labels that extend a typed prefix, PrefixRange over sorted label strings),
/// so it may hold fewer than top_k labels (none for an empty range). The beam never keeps a node
/// without a label in the range (exactly so when every node's labels are contiguous ids, as in a
/// trie over sorted labels; for other trees a node is kept if the range meets its
/// [smallest, largest] label id, and the labels themselves are checked exactly). Otherwise as
/// Predict. Costs O(number of tree nodes) extra time and memory once per call.
/// @throws as Predict, and Error(kInvalidArgument) if ranges.size() != x.rows or a range is not
///         within [0, n_labels] with lo <= hi.
CsrMatrix Predict(const XLinearModel& model, const CsrView& x, const PredictOptions& opts,
                  const std::vector<LabelRange>& ranges, const Context& ctx = {});

/// Single-query search for real-time serving. Holds scratch memory sized for the model, so
/// create one per serving thread and reuse it; it is not thread-safe itself, but any number of
/// Searchers may share one model concurrently. The Searcher keeps a (cheap, shared) copy of the
/// model, so the caller's model object may go away first. A moved-from Searcher throws
/// Error(kInvalidArgument) on Search.
class Searcher {
 public:
  /// @throws Error(kInvalidArgument) if the model is empty.
  explicit Searcher(const XLinearModel& model);
  ~Searcher();
  Searcher(Searcher&&) noexcept;
  Searcher& operator=(Searcher&&) noexcept;

  /// Top-k labels for one query (sorted indices, ids < model.n_features()), best first.
  /// Same result as the same row of Predict().
  /// @throws Error(kInvalidArgument) on an out-of-range or unsorted feature id, a non-finite
  /// value or bad options.
  std::vector<ScoredLabel> Search(const SparseVecView& query, const PredictOptions& opts);
  /// Same, writing into `out` (cleared first); allocation-free once `out` and the scratch have
  /// grown to the largest beam / top-k used.
  void Search(const SparseVecView& query, const PredictOptions& opts,
              std::vector<ScoredLabel>* out);
  /// Same, restricted to labels in `allowed` (see the range overload of Predict). The first
  /// restricted search computes per-node label spans (O(tree nodes) time and memory, kept for
  /// later calls). @throws also Error(kInvalidArgument) for a range outside [0, n_labels].
  void Search(const SparseVecView& query, const PredictOptions& opts, LabelRange allowed,
              std::vector<ScoredLabel>* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xmr
