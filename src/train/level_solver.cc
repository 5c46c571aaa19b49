// Backend selection for training (the one place that maps a Context to a LevelSolver).
#include "train/level_solver.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/log.h"
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

[[noreturn]] void Invalid(const std::string& msg) {
  throw Error(ErrorCode::kInvalidArgument, "LevelProblem: " + msg);
}

}  // namespace

void ValidateLevelProblem(const LevelProblem& p) {
  const Index n = p.x.rows;
  if (p.x.cols < 0 || n < 0) Invalid("negative dimensions of x");
  if (p.y.rows != n) {
    Invalid("y has " + std::to_string(p.y.rows) + " rows, x has " + std::to_string(n));
  }
  if (p.matching.rows != n) {
    Invalid("matching has " + std::to_string(p.matching.rows) + " rows, x has " +
            std::to_string(n));
  }
  if (p.y.cols > 0 && p.parent_of_node == nullptr) Invalid("parent_of_node is null");
  if (p.y.cols > 0 && p.matching.cols < 1) Invalid("matching has no column (no parent)");
  for (Index l = 0; l < p.y.cols; ++l) {
    const Index k = p.parent_of_node[l];
    if (k < 0 || k >= p.matching.cols) {
      Invalid("parent_of_node[" + std::to_string(l) + "] = " + std::to_string(k) +
              " is outside [0, " + std::to_string(p.matching.cols) + ")");
    }
  }
  if (!(p.bias >= 0) || !std::isfinite(p.bias)) Invalid("bias must be finite and >= 0");
  if (p.cost.cols != 0) {
    if (p.cost.cols != p.y.cols || p.cost.rows != p.y.rows) Invalid("cost and y differ in shape");
    for (Index l = 0; l < p.y.cols; ++l) {
      const SparseVecView yc = p.y.col(l), cc = p.cost.col(l);
      if (yc.nnz != cc.nnz || !std::equal(yc.indices, yc.indices + yc.nnz, cc.indices)) {
        Invalid("cost and y differ in pattern (column " + std::to_string(l) + ")");
      }
    }
  }
}

}  // namespace detail

std::unique_ptr<LevelSolver> MakeLevelSolver(const Context& ctx) {
  const DeviceKind kind = ResolveDevice(ctx);  // throws for device=cuda without a usable device
  if (kind == DeviceKind::kCuda) {
    if (ctx.device == DeviceKind::kAuto && !CudaLevelSolverAvailable()) {
      Log(ctx,
          "device=auto: a CUDA device is visible but this build has no CUDA level solver yet; "
          "training on the CPU");
      return MakeCpuLevelSolver(ctx);
    }
    return MakeCudaLevelSolver(ctx);  // explicit device=cuda: error if not available
  }
  return MakeCpuLevelSolver(ctx);
}

}  // namespace xmr
