// Training: per-level one-vs-rest linear classifiers with negative sampling (XR-Linear stage 2).
#pragma once

#include <string>
#include <vector>

#include "xmr/context.h"
#include "xmr/indexer.h"
#include "xmr/model.h"
#include "xmr/sparse.h"

namespace xmr {

/// Linear solvers (all dual coordinate descent, Hsieh et al. ICML 2008; Yu et al. 2011 for LR).
enum class SolverType {
  kL2SvcDual,  ///< L2-regularised squared-hinge SVC, dual CD (PECOS L2R_L2LOSS_SVC_DUAL; default)
  kL1SvcDual,  ///< L2-regularised hinge SVC, dual CD (L2R_L1LOSS_SVC_DUAL)
  kLrDual,     ///< L2-regularised logistic regression, dual CD (L2R_LR_DUAL)
};
/// Parses "l2-svc" | "l1-svc" | "lr" and PECOS's names (L2R_L2LOSS_SVC_DUAL, ...).
SolverType ParseSolverType(const std::string& name);
const char* SolverTypeName(SolverType type) noexcept;

/// Which instances each node's classifier trains on (besides its positives).
enum class NegativeSampling {
  kTfn,     ///< teacher-forcing negatives: instances positive for a sibling (default)
  kMan,     ///< matcher-aware negatives: instances the partial model's beam reaches the parent of
  kTfnMan,  ///< union of both
};
/// Parses "tfn" | "man" | "tfn+man".
NegativeSampling ParseNegativeSampling(const std::string& name);
const char* NegativeSamplingName(NegativeSampling ns) noexcept;

/// Per-classifier solver options (PECOS defaults).
struct SolverOptions {
  SolverType type = SolverType::kL2SvcDual;
  /// Loss weight of positive / negative instances (> 0).
  float cp = 1.0f;
  float cn = 1.0f;
  /// Dual CD stopping tolerance (> 0) and cap on outer passes (>= 1).
  float eps = 0.1f;
  int max_iter = 100;
  /// Weights with |w| < threshold are dropped after training (bias included, as PECOS does).
  float threshold = 0.1f;
  /// Keep at most this many weights per classifier, largest |w| first (0 = no cap).
  int max_nonzeros_per_label = 0;
  /// Instance visiting order of the CPU backend's SVC solvers. false (default): the children of
  /// a parent that matches every instance (the root level, a flat one-vs-rest model) train 16
  /// at a time in lock step, one shared pseudo-random order per pass, so each instance is read
  /// once for all 16 rather than once per label (several times faster when X does not fit the
  /// cache); every other parent, and LR, as below. true: every classifier visits its instances
  /// in PECOS's order (a std::mt19937 shuffle per label and pass), which reproduces PECOS's
  /// weights bit for bit on the same platform. Both reach the same optimum to within eps; each
  /// is deterministic for any thread count. The GPU backend always uses the lock-step order.
  bool pecos_order = false;
  void Validate() const;
};

/// Everything Train() needs besides the data.
struct TrainOptions {
  IndexerOptions indexer;
  /// Label embedding the indexer clusters (LF kinds need TrainWithLabelFeatures).
  LabelEmbeddingOptions label_embedding;
  SolverOptions solver;
  /// Constant appended to every input (0 = no bias feature).
  float bias = 1.0f;
  NegativeSampling negative_sampling = NegativeSampling::kTfn;
  /// Beam used to build matcher-aware negatives (kMan, kTfnMan).
  int man_beam_size = 10;
  /// Prediction defaults stored in the model.
  std::string post_processor = "l3-hinge";
  int beam_size = 10;
  int top_k = 10;
  void Validate() const;
  /// "key=value" lines (stored in the model's meta).
  std::string ToString() const;
};

/// What one tree level cost to train (filled by Train / TrainWithTree when asked for).
struct LevelReport {
  /// Level id, 0 = the level just below the root; the last level's nodes are the labels.
  int level = 0;
  /// Nodes (classifiers) of this level and parents they hang under (1 for level 0).
  Index n_nodes = 0;
  Index n_parents = 0;
  /// Instance-node pairs the classifiers were trained on: sum over nodes of the number of
  /// instances matched to the node's parent (positives outside the matching not counted).
  Offset n_pairs = 0;
  /// Weights kept after pruning, bias weights included (= nnz of the level's W).
  Offset n_weights = 0;
  /// Wall-clock seconds of the level: building its matching (for man negatives, the partial
  /// model's beam prediction) and solving all its classifiers.
  double seconds = 0;
};

/// A breakdown of one training run; the same timings the progress lines on stderr show.
/// All times are wall-clock seconds measured with a monotonic clock.
struct TrainReport {
  /// Label embedding + hierarchical k-means (Train, TrainWithLabelFeatures; 0 for
  /// TrainWithTree).
  double index_seconds = 0;
  /// One entry per tree level, in level order (levels.size() == model depth).
  std::vector<LevelReport> levels;
  /// All levels, including building the per-level targets (>= the sum of levels[].seconds).
  double train_seconds = 0;
  /// The whole call: checks, backend set-up, indexing, training and assembling the model.
  double total_seconds = 0;
  /// Backend that trained the levels: "cpu" or "cuda" (device=auto resolved).
  std::string device;
};

/// Builds the tree (PIFA + HierarchicalKMeans) and trains every level.
/// x: n x d CSR (rows typically L2-normalised, indices sorted); y: n x L CSR binary labels.
/// Neither is retained. Training runs on the backend chosen by ResolveDevice(ctx); progress goes
/// to stderr when ctx.verbose > 0.
/// report: optional, owned by the caller; when not null it is overwritten with the run's
/// timings and sizes (its previous contents are discarded). If the call throws, *report is
/// left in an unspecified but valid state.
/// @throws Error(kInvalidArgument) on shape mismatch / bad options, when x or y breaks the CSR
///         invariants (an id outside [0, cols), ids not strictly increasing in a row, a
///         non-finite value; the message names the matrix, row and id), and when
///         opts.label_embedding.kind is not kPifa (label features are needed: use
///         TrainWithLabelFeatures); Error(kNotSupported) if ctx.device == kCuda and no CUDA
///         device is usable; Error(kOutOfMemory) if the declared dimensions need more memory
///         than is available.
XLinearModel Train(const CsrView& x, const CsrView& y, const TrainOptions& opts,
                   const Context& ctx = {}, TrainReport* report = nullptr);

/// Train with label features z (L x d_z CSR, one row per label, rows normally L2-normalised)
/// combined with PIFA as opts.label_embedding says (see LabelEmbedding); with kPifa, z is
/// checked for shape and otherwise unused, so the model equals Train's bit for bit. z is not
/// retained; report->index_seconds includes building the embedding. x, y, ctx, report as for
/// Train.
/// @throws as Train (any kind is accepted), and Error(kInvalidArgument) if z.rows != y.cols or
///         z.cols does not fit the kind; Error(kCorruption) if z breaks the CSR invariants (see
///         LabelEmbedding).
XLinearModel TrainWithLabelFeatures(const CsrView& x, const CsrView& y, const CsrView& z,
                                    const TrainOptions& opts, const Context& ctx = {},
                                    TrainReport* report = nullptr);

/// Trains on a given tree (its last level must have y.cols nodes). x, y, ctx and report as for
/// Train; report->index_seconds is 0 (no indexing is done).
/// @throws as Train, and Error(kInvalidArgument) if the tree is invalid or its last level does
///         not have y.cols nodes.
XLinearModel TrainWithTree(const CsrView& x, const CsrView& y, const ClusterChain& tree,
                           const TrainOptions& opts, const Context& ctx = {},
                           TrainReport* report = nullptr);

}  // namespace xmr
