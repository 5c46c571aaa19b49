// Compiled only when XMR_ENABLE_CUDA=OFF (globbed into the xmr_cuda stub library).
#include "train/level_solver.h"
#include "xmr/error.h"

namespace xmr {

bool CudaLevelSolverAvailable() noexcept { return false; }

std::unique_ptr<LevelSolver> MakeCudaLevelSolver(const Context&) {
  throw Error(ErrorCode::kNotSupported,
              "CUDA training requested but xmr was built without CUDA (XMR_ENABLE_CUDA=OFF)");
}

namespace detail {
std::unique_ptr<LevelSolver> MakeCudaLevelSolver(const Context& ctx, std::int64_t) {
  return xmr::MakeCudaLevelSolver(ctx);
}
GpuSolverStats GetGpuSolverStats() { return {}; }
void ResetGpuSolverStats() {}
void InjectGpuOutOfMemory(int) {}
double MeasureGpuCopyBandwidthGBs() { return 0.0; }
}  // namespace detail

}  // namespace xmr
