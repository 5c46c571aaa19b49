// Dual coordinate descent solvers for one L2-regularised binary linear classifier, as PECOS runs
// them (pecos/core/xmc/linear_solver.hpp, itself liblinear's algorithms):
//  * L2-loss (squared hinge) and L1-loss (hinge) SVC: Hsieh, Chang, Lin, Keerthi, Sundararajan,
//    "A Dual Coordinate Descent Method for Large-scale Linear SVM", ICML 2008, Algorithm 3 with
//    shrinking (active set, PGmax/PGmin bookkeeping);
//  * logistic regression: Yu, Huang, Lin, "Dual coordinate descent methods for logistic
//    regression and maximum entropy models", MLJ 2011, Algorithm 5 (1-D Newton per coordinate).
// Primal: min_{w,b} 1/2 (|w|^2 + b^2) + sum_i C_i loss(y_i (w.x_i + b * bias)), with
// C_i = (y_i > 0 ? Cp : Cn) * cost_i. The bias is a constant feature whose weight b is
// regularised (PECOS / liblinear convention).
#pragma once

#include <cstdint>
#include <vector>

#include "xmr/sparse.h"
#include "xmr/train.h"

namespace xmr {
namespace detail {

/// One binary problem over a compact feature space [0, x.cols).
struct BinaryProblem {
  /// Rows = instances available to the problem (feature ids in [0, x.cols), sorted).
  CsrView x;
  /// Optional 16-bit copy of x.indices (same positions; requires x.cols <= 65536). When set,
  /// the solver reads it instead of x.indices (less memory traffic; same results).
  const std::uint16_t* indices16 = nullptr;
  /// x_i . x_i per row of x, accumulated in float in index order (as PECOS).
  const float* sqnorm = nullptr;
  /// The instances of the problem (row ids of x) in their initial visiting order, n entries.
  const Index* rows = nullptr;
  Index n = 0;
  /// +1 / -1 per entry of `rows` (position-indexed, not row-indexed).
  const std::int8_t* y = nullptr;
  /// Cost multiplier per entry of `rows` (nullptr: all 1).
  const float* cost = nullptr;
  /// Constant feature appended to every instance (<= 0: no bias term).
  double bias = 1.0;
};

/// Reusable per-thread memory of the solvers (sized to the largest problem seen).
struct CdScratch {
  std::vector<Index> index;  // visiting order (positions into BinaryProblem::rows)
  std::vector<float> alpha;  // dual variables (2 per instance for LR)
  std::vector<float> qd;     // diagonal of Q (+ D for L2-loss)
};

/// What a solve did (for tests and diagnostics).
struct CdStats {
  int iterations = 0;  ///< outer passes run
  bool converged = false;
  std::int64_t visits = 0;   ///< coordinate visits (instances examined, over all passes)
  std::int64_t updates = 0;  ///< visits that changed alpha (and so w)
};

/// Solves `p` with the solver opts.type, Cp = opts.cp, Cn = opts.cn, opts.eps, opts.max_iter
/// (pruning options are not used here). Writes the x.cols feature weights to w[0..x.cols) and
/// the bias weight to *b (0 when p.bias <= 0). If `alpha_out` is not null it receives the final
/// dual variables per position (for LR: alpha_i, the first of each pair).
///
/// Arithmetic follows PECOS bit for bit on the same platform: w, b, alpha and Q_ii are stored
/// in float, dot products accumulate in float in index order, gradients and updates are
/// computed in double. The visiting order is shuffled at the start of every outer pass with
/// std::shuffle driven by std::mt19937 seeded with 0 for every problem (PECOS's rng_t), so the
/// permutation sequence is that of the C++ standard library in use (libstdc++ here, like the
/// GCC builds of PECOS).
CdStats SolveBinary(const BinaryProblem& p, const SolverOptions& opts, float* w, float* b,
                    CdScratch* scratch, std::vector<double>* alpha_out = nullptr);

}  // namespace detail
}  // namespace xmr
