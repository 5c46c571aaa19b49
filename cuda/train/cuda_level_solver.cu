// CUDA level solver: placeholder until the batched per-parent solver lands (see
// ../shared/reference/gpu-design.md §3). MakeLevelSolver() asks CudaLevelSolverAvailable()
// first, so device=auto trains on the CPU; an explicit device=cuda gets this error.
#include "train/level_solver.h"
#include "xmr/error.h"

namespace xmr {

bool CudaLevelSolverAvailable() noexcept { return false; }

std::unique_ptr<LevelSolver> MakeCudaLevelSolver(const Context&) {
  throw Error(ErrorCode::kNotSupported,
              "device=cuda: the CUDA level solver is not implemented yet; use device=cpu or auto");
}

}  // namespace xmr
