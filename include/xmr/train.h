// Training: per-level one-vs-rest linear classifiers with negative sampling (XR-Linear stage 2).
#pragma once

#include <string>

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
  void Validate() const;
};

/// Everything Train() needs besides the data.
struct TrainOptions {
  IndexerOptions indexer;
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

/// Builds the tree (PIFA + HierarchicalKMeans) and trains every level.
/// x: n x d CSR (rows typically L2-normalised, indices sorted); y: n x L CSR binary labels.
/// Neither is retained. Training runs on the backend chosen by ResolveDevice(ctx); progress goes
/// to stderr when ctx.verbose > 0.
/// @throws Error(kInvalidArgument) on shape mismatch / bad options; Error(kNotSupported) if
///         ctx.device == kCuda and no CUDA device is usable.
XLinearModel Train(const CsrView& x, const CsrView& y, const TrainOptions& opts,
                   const Context& ctx = {});

/// Trains on a given tree (its last level must have y.cols nodes).
XLinearModel TrainWithTree(const CsrView& x, const CsrView& y, const ClusterChain& tree,
                           const TrainOptions& opts, const Context& ctx = {});

}  // namespace xmr
