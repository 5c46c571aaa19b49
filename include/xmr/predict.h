// Prediction: beam search down the label tree (XR-Linear stage 3), batch and single query.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "xmr/context.h"
#include "xmr/sparse.h"

namespace xmr {

class XLinearModel;

/// Score transform f and combiner g of PECOS (s: a node's linear score, p: its parent's value).
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

/// One predicted label.
struct ScoredLabel {
  Index label;
  float score;
};

/// Batch prediction. x: n x d CSR (d must equal model.n_features(); indices sorted). Returns an
/// n x n_labels CSR whose row i holds the top_k labels of query i by descending score (ties:
/// smaller label id first); column indices within a row are therefore NOT sorted by id. Uses
/// ctx.threads threads; the result is identical for any thread count.
/// @throws Error(kInvalidArgument) on a dimension mismatch or bad options.
CsrMatrix Predict(const XLinearModel& model, const CsrView& x, const PredictOptions& opts,
                  const Context& ctx = {});

/// Single-query search for real-time serving. Holds scratch memory sized for the model, so
/// create one per serving thread and reuse it; it is not thread-safe itself, but any number of
/// Searchers may share one model concurrently. The model must outlive the Searcher.
class Searcher {
 public:
  explicit Searcher(const XLinearModel& model);
  ~Searcher();
  Searcher(Searcher&&) noexcept;
  Searcher& operator=(Searcher&&) noexcept;

  /// Top-k labels for one query (sorted indices, ids < model.n_features()), best first.
  /// Same result as the same row of Predict().
  /// @throws Error(kInvalidArgument) on an out-of-range feature id or bad options.
  std::vector<ScoredLabel> Search(const SparseVecView& query, const PredictOptions& opts);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xmr
