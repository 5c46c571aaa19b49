// The one weight-pruning rule shared by every training backend, so the CPU and CUDA solvers drop
// exactly the same entries (PECOS semantics, SVMJob::solve in linear_solver.hpp).
#pragma once

#include <vector>

#include "xmr/sparse.h"

namespace xmr {

/// Pruning parameters (SolverOptions::threshold / max_nonzeros_per_label).
struct PruneRule {
  /// Keep |w| >= threshold (the bias weight included). Exact zeros are never kept.
  float threshold = 0.1f;
  /// Keep at most this many entries per classifier, bias included (0 = no cap).
  int max_nonzeros = 0;
};

/// Prunes one classifier. `weights` holds its feature weights as (row, value) pairs in strictly
/// increasing row order; entries below the threshold may be present (they are dropped), so a
/// backend may pass all its nonzeros or only its candidates >= threshold. `bias_weight` is the
/// bias weight (ignored unless has_bias), stored as row `bias_row` (= n_features).
///
/// Rule: candidates = {j : |w_j| >= threshold, w_j != 0}. Without a cap, all candidates and the
/// bias (if |b| >= threshold, b != 0) are kept. With a cap m >= 1 the m candidates with the
/// largest |w| are kept (ties: smaller row first); then the bias is added if fewer than m
/// features were kept, or, when exactly m were kept, it replaces the smallest kept feature if
/// |b| is strictly larger (PECOS's rule: the bias competes for a slot).
///
/// Appends the kept entries to *rows / *values in increasing row order (bias last).
/// `scratch` is reusable temporary storage (may be empty).
void PruneWeights(const SparseVecView& weights, bool has_bias, float bias_weight, Index bias_row,
                  const PruneRule& rule, std::vector<Index>* rows, std::vector<float>* values,
                  std::vector<Index>* scratch);

}  // namespace xmr
