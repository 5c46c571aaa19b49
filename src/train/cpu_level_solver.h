// The CPU level solver's knobs that are not part of the backend-neutral interface (tests).
#pragma once

#include <memory>

#include "train/level_solver.h"

namespace xmr {
namespace detail {

struct CpuSolverConfig {
  /// Train every parent in a compact local feature space (the features its instances use),
  /// so no per-label work is O(n_features). false = dense weights over all x.cols features for
  /// every label (PECOS's layout); the results are bit-identical, only slower. Used by tests.
  bool local_features = true;
  /// Root-like parents (every instance matched: the root level, a flat model) train their
  /// children kSharedRowsLanes at a time in lock step (shared_rows_cd.h), reading each row once
  /// for all of them, unless SolverOptions::pecos_order; false = always one child after the
  /// other with SolveBinary's visiting order (PECOS's), as pecos_order = true. Tests.
  bool shared_rows = true;
};

std::unique_ptr<LevelSolver> MakeCpuLevelSolver(const Context& ctx, const CpuSolverConfig& cfg);

}  // namespace detail
}  // namespace xmr
