// Dual CD for up to kSharedRowsLanes sibling classifiers that share every row of their parent
// (a root-like parent: the root level of a tree, or a flat one-vs-rest model, where every label
// trains on every instance).
//
// Trained one after the other (dual_cd.h), each label streams all of X from memory once per
// pass: a flat model of L labels reads X L * passes times, and on data larger than the cache
// that traffic is the whole cost. Here the lanes run in lock step: one pass visits the rows in
// one order shared by all lanes, and each row is read once for all of them; the lanes' weights
// are interleaved (W[j * kSharedRowsLanes + k]), so the lanes' dot products and updates touch
// one cache line per feature.
//
// Each lane computes exactly what lockstep::SolveChildSvc (lockstep.h) computes for the same
// child: the same visiting order (a Feistel permutation keyed by seed, parent and pass), the
// same float / double arithmetic, shrinking and stopping rule; lanes never interact. So the
// result is bit-identical to that per-child solver (tested), and to the GPU backend's light
// parents. It differs from SolveBinary only in the visiting order (SolveBinary shuffles with
// std::mt19937 per label, as PECOS): the same optimum to within the solver's tolerance eps.
#pragma once

#include <cstdint>
#include <vector>

#include "train/lockstep.h"
#include "xmr/sparse.h"

namespace xmr {
namespace detail {

/// Lanes solved together (the width of W's interleaving).
constexpr int kSharedRowsLanes = 16;

/// Up to kSharedRowsLanes binary problems over the same n rows.
struct SharedRowsProblem {
  /// n x d rows, feature ids sorted within each row.
  CsrView x;
  /// Optional 16-bit copy of x.indices (requires d <= 65536); read instead of x.indices.
  const std::uint16_t* indices16 = nullptr;
  /// x_i . x_i per row, accumulated in float in index order.
  const float* sqnorm = nullptr;
  /// Problems in this call, 1..kSharedRowsLanes.
  int lanes = 0;
  /// Positives of lane k: rows pos_rows[pos_ptr[k] .. pos_ptr[k + 1]) (each row at most once);
  /// every other row is a negative of lane k.
  const Offset* pos_ptr = nullptr;
  const Index* pos_rows = nullptr;
  /// Cost of each positive (parallel to pos_rows), or nullptr (all 1). Negatives cost 1.
  const float* pos_cost = nullptr;
};

/// Reusable memory of SolveSharedRowsSvc (sized to the largest call seen).
struct SharedRowsScratch {
  std::vector<float> w;               // d * kSharedRowsLanes
  std::vector<float> alpha;           // n * kSharedRowsLanes
  std::vector<float> cost;            // n * kSharedRowsLanes (only with pos_cost)
  std::vector<std::uint16_t> active;  // n: bit k = lane k still visits the row (not shrunk)
  std::vector<std::uint16_t> pos;     // n: bit k = the row is a positive of lane k
};

/// Solves the lanes' L2- or L1-loss SVC duals (sp.l2) with sp's cp, cn, eps, max_iter, bias,
/// seed and parent. On return scratch->w holds the weights, lane k of feature j at
/// w[j * kSharedRowsLanes + k], bias_w[k] the bias weights (0 without bias) and stats[k] what
/// lane k did. Requires 1 <= p.lanes <= kSharedRowsLanes and n < 2^32.
void SolveSharedRowsSvc(const SharedRowsProblem& p, const lockstep::SolveParams& sp,
                        SharedRowsScratch* scratch, float* bias_w, lockstep::ChildStats* stats);

}  // namespace detail
}  // namespace xmr
