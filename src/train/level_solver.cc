// Backend selection for training (the one place that maps a Context to a LevelSolver).
#include "train/level_solver.h"

#include "core/log.h"
#include "xmr/error.h"

namespace xmr {

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
