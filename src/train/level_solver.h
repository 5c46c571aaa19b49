// The backend interface of training: "train all one-vs-rest classifiers of one tree level".
// The driver (driver.cc) builds one LevelProblem per level and never knows which backend ran.
// Backends: the CPU solver (cpu_level_solver.cc) and the CUDA solver (cuda/train/, or the stub
// src/train/cuda_level_solver_stub.cc when xmr is built with XMR_ENABLE_CUDA=OFF).
#pragma once

#include <cstdint>
#include <memory>

#include "xmr/context.h"
#include "xmr/sparse.h"
#include "xmr/train.h"

namespace xmr {

/// Everything needed to train the classifiers of one tree level (PECOS's
/// multilabel_train_with_codes inputs). Views only: the caller owns the data, which must outlive
/// Solve().
///
/// Node l of the level belongs to parent k = parent_of_node[l]. Its binary problem uses the
/// instances I_l = {i : matching[i, k] != 0} ∪ {i : y[i, l] != 0}, with label +1 for the
/// positives (y[i, l] != 0) and -1 for all others, in this visiting order before the first
/// shuffle: the matched instances by increasing id, then the positives outside the matching by
/// increasing id (as PECOS). Nodes with the same parent share their instances, which is what
/// lets backends gather each parent's rows once.
struct LevelProblem {
  /// n x d instance features, indices sorted within each row.
  CsrView x;
  /// n x n_nodes targets Y_t (pattern only), row ids sorted within each column.
  CscView y;
  /// n_nodes entries, each in [0, n_parents).
  const Index* parent_of_node = nullptr;
  /// n x n_parents matching matrix M_t (pattern only), row ids sorted within each column.
  /// n_parents = matching.cols.
  CscView matching;
  /// Optional per-positive costs R_t (cost-sensitive learning): same shape and the same pattern
  /// as `y`; a positive's loss weight becomes cp * cost. cost.cols == 0 means all costs are 1.
  /// Negatives always have cost 1 (as PECOS).
  CscView cost;
  /// Constant appended to every instance (0 = no bias feature). Its weight is regularised like
  /// the others and is returned as row x.cols of the result.
  float bias = 1.0f;
};

/// Trains every classifier of one level. One solver object is created per training run and
/// Solve() is called once per level, so a backend may keep state across levels (e.g. a device
/// copy of X). Not thread-safe: one Solve() at a time per object.
class LevelSolver {
 public:
  virtual ~LevelSolver() = default;
  /// Returns W_t as CSC (x.cols + 1) x y.cols: column l = the weights of node l, pruned by
  /// PruneWeights() (prune.h) with opts.threshold and opts.max_nonzeros_per_label; the last row
  /// holds the bias weights. Deterministic: the same for any thread count.
  /// @throws Error(kInvalidArgument) on inconsistent shapes or parent ids; opts are validated.
  virtual CscMatrix Solve(const LevelProblem& problem, const SolverOptions& opts) = 0;
  /// The backend that runs Solve().
  virtual DeviceKind device() const noexcept = 0;
};

/// The CPU backend (dual coordinate descent per label, multithreaded with ctx.threads).
std::unique_ptr<LevelSolver> MakeCpuLevelSolver(const Context& ctx);

/// The CUDA backend. Defined in cuda/train/cuda_level_solver.cu when xmr is built with CUDA,
/// else in cuda_level_solver_stub.cc.
/// @throws Error(kNotSupported) when the backend is not compiled in or not implemented.
std::unique_ptr<LevelSolver> MakeCudaLevelSolver(const Context& ctx);

/// Whether MakeCudaLevelSolver() can return a solver in this build (false in the stub, and in
/// the CUDA build until the CUDA level solver exists). Never throws, never touches a device.
bool CudaLevelSolverAvailable() noexcept;

namespace detail {
/// Checks shapes and parent ids of a problem (row-level checks happen while gathering).
/// @throws Error(kInvalidArgument) "LevelProblem: ..." naming what is wrong.
void ValidateLevelProblem(const LevelProblem& p);

/// The CUDA backend with a given heavy-parent threshold (instances from which a parent is
/// solved by Newton-CG; 0 = never), for tests. @throws like MakeCudaLevelSolver.
std::unique_ptr<LevelSolver> MakeCudaLevelSolver(const Context& ctx, std::int64_t heavy_rows);

/// Device-side timings of the CUDA level solver, accumulated over the process (all zero in
/// builds without CUDA). Bytes are an estimate of the DRAM traffic of the lock-step kernel:
/// per visit the weight entries of the row (4 B each) plus label, flag and alpha (6 B), per
/// update the written weights, per pass of a parent its rows (8 B per nonzero).
struct GpuSolverStats {
  double lockstep_ms = 0;     ///< lock-step CD kernel time (CUDA events)
  double lockstep_bytes = 0;  ///< estimated bytes moved by it
  double newton_ms = 0;       ///< Newton-CG time for heavy parents (CUDA events)
  std::int64_t heavy_parents = 0;
  std::int64_t light_parents = 0;
  double upload_ms = 0;  ///< host-to-device copies of the waves
  /// Levels solved again with half the wave budget after a device out-of-memory error.
  std::int64_t oom_retries = 0;
};
GpuSolverStats GetGpuSolverStats();
void ResetGpuSolverStats();
/// Test hook: the next `n` waves of the CUDA level solver fail as if a device allocation had
/// run out of memory (Error kOutOfMemory), so the budget-halving retry can be tested on any GPU.
/// No effect without CUDA.
void InjectGpuOutOfMemory(int n);
/// Device-to-device copy bandwidth measured on the current device (GB/s counting read and
/// write), the practical ceiling the solver's bandwidth is compared with; 0 without CUDA.
double MeasureGpuCopyBandwidthGBs();

/// TrainWithTree() with a given backend (tests: the lock-step host emulation, the GPU solver).
XLinearModel TrainWithSolver(const CsrView& x, const CsrView& y, const ClusterChain& tree,
                             const TrainOptions& opts, const Context& ctx, LevelSolver* solver,
                             TrainReport* report = nullptr);
}  // namespace detail

/// Picks the backend with ResolveDevice(ctx): kCpu -> the CPU solver; kCuda -> the CUDA solver.
/// With device=auto on a machine with a GPU but no CUDA level solver in this build, it trains
/// on the CPU and says so on stderr. An explicit device=cuda never falls back.
/// @throws Error(kNotSupported) if ctx.device == kCuda and CUDA training is not possible.
std::unique_ptr<LevelSolver> MakeLevelSolver(const Context& ctx);

}  // namespace xmr
