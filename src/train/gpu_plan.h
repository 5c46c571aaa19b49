// Host side of the GPU level solver: everything that decides *what* the device computes, kept
// in plain C++ so that it is tested on machines without a GPU.
//
//  * PlanLevel(): groups instances by parent (each parent's matching column plus its children's
//    positives outside it), labels every (instance, child) pair, finds each parent's local
//    feature space (the sorted distinct features of its rows), and cuts the parents into waves
//    whose device memory stays under a budget.
//  * BuildWave(): the arrays one wave uploads: the parents' rows in local feature ids, squared
//    norms, labels, costs, and the offsets of every per-parent slice (CSR-like, 64-bit).
//  * SolveWaveOnHost() / LevelAssembler: the host emulation of the device kernels (the same
//    lockstep.h code, one child after the other; Newton-CG through HostNewtonOps for heavy
//    parents) and the assembly of the pruned CSC that every
//    LevelSolver returns. The "lockstep-host" solver (MakeLockstepHostLevelSolver) runs the whole
//    GPU algorithm on the CPU: the GPU tests compare the device against it weight for weight.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "train/level_solver.h"
#include "train/lockstep.h"
#include "train/newton_cg.h"

namespace xmr {
namespace detail {

/// One level's work, grouped by parent. Parents without children are left out.
struct LevelPlan {
  Index n_nodes = 0;
  Index n_features = 0;               ///< x.cols (the bias row of the result is n_features)
  std::vector<Index> parents;         ///< the parents to train, in processing order
  std::vector<Offset> child_ptr;      ///< per planned parent: offsets into `children`
  std::vector<Index> children;        ///< node ids, increasing within a parent
  std::vector<Offset> inst_ptr;       ///< per planned parent: offsets into `instances`
  std::vector<Index> instances;       ///< sorted instance ids of each parent
  std::vector<Offset> nnz;            ///< per planned parent: nnz of its rows
  std::vector<Index> n_local;         ///< per planned parent: number of local features d_p
  std::vector<std::int64_t> bytes;    ///< per planned parent: device bytes (see ParentBytes)
  std::vector<char> heavy;            ///< per planned parent: solved by Newton-CG (see PlanLevel)
  std::vector<std::size_t> wave_ptr;  ///< waves: parents [wave_ptr[w], wave_ptr[w + 1])
  bool with_cost = false;
  std::int64_t max_wave_bytes = 0;  ///< largest wave
  std::int64_t total_bytes = 0;     ///< sum over parents

  std::size_t n_waves() const { return wave_ptr.empty() ? 0 : wave_ptr.size() - 1; }
};

/// Device bytes one parent needs while it is solved: rows (8 B per nnz + 8 per row + 4 sqnorm),
/// labels (1 B per pair), costs (4 B per pair if any), alpha + shrink flags (5 B per pair),
/// W (4 B per local feature x child), bias weights, and the pruned output (worst case 8 B per
/// weight), rounded up to 256 B per array; heavy (Newton-CG) parents add the solver's matrices.
std::int64_t ParentBytes(std::int64_t n, std::int64_t d, std::int64_t B, std::int64_t nnz,
                         bool with_cost, bool heavy = false);

/// Default instance count from which a parent is "heavy" (Newton-CG instead of lock-step CD).
constexpr std::int64_t kDefaultHeavyRows = 16384;

/// Plans a level. `budget_bytes` bounds the device memory of one wave (> 0). Parents with at
/// least `heavy_rows` instances and at most 256 children are marked heavy when `newton` is true
/// (L2-loss only: Newton needs a twice-differentiable loss); heavy_rows <= 0 marks none.
/// @throws Error(kInvalidArgument) on an inconsistent problem (as the CPU solver),
///         Error(kOutOfMemory) if a single parent needs more than the budget (the message
///         names the parent, its size and the budget).
LevelPlan PlanLevel(const LevelProblem& p, std::int64_t budget_bytes, int threads,
                    std::int64_t heavy_rows = 0, bool newton = false);

/// The host arrays of one wave, ready to upload. Offsets are per wave, from 0.
struct WaveData {
  std::size_t first = 0, last = 0;  ///< planned parents [first, last)
  // Per parent of the wave (last - first entries, plus one for the *_off arrays).
  std::vector<std::int64_t> row_off;    ///< into indptr rows / sqnorm (n_p rows each)
  std::vector<std::int64_t> nnz_off;    ///< into idx / val
  std::vector<std::int64_t> pair_off;   ///< into label / cost / alpha / shrunk (n_p * B_p)
  std::vector<std::int64_t> w_off;      ///< into w (d_p * B_p)
  std::vector<std::int64_t> child_off;  ///< into bias_w / per-child outputs (B_p)
  std::vector<std::int32_t> n, d, B;
  std::vector<std::int64_t> parent_id;  ///< global parent ids (permutation keys)
  std::vector<char> heavy;              ///< Newton-CG parents
  // Concatenated data.
  std::vector<std::int64_t> indptr;  ///< per parent n_p + 1 entries, each slice from 0
  std::vector<std::int32_t> idx;     ///< local feature ids
  std::vector<float> val;
  std::vector<float> sqnorm;
  std::vector<std::uint8_t> label;
  std::vector<float> cost;             ///< empty unless the plan has costs
  std::vector<Index> local_to_global;  ///< per parent d_p entries (offsets: feat_off)
  std::vector<std::int64_t> feat_off;
};

/// Gathers wave `w` of the plan (rows in parent-local feature ids). Parallel over parents.
WaveData BuildWave(const LevelProblem& p, const LevelPlan& plan, std::size_t w, int threads);

/// A view of parent `i` (0-based within the wave) over the wave's arrays and the given state
/// arrays (w, bias_w, alpha, shrunk laid out by w_off / child_off / pair_off).
lockstep::ParentBlock WaveParent(const WaveData& wave, std::size_t i, float* w, float* bias_w,
                                 float* alpha, std::uint8_t* shrunk);

/// Solve parameters for a level from the solver options.
lockstep::SolveParams MakeSolveParams(const SolverOptions& opts, float bias, std::uint64_t seed);

/// What the device hands back for one wave: per child, its candidates (local feature ids and
/// values, |w| >= threshold, increasing ids) and its bias weight.
struct WaveResult {
  std::vector<std::int64_t> cand_off;  ///< per child of the wave (sum of B_p) + 1
  std::vector<std::int32_t> cand_idx;
  std::vector<float> cand_val;
  std::vector<float> bias_w;                ///< per child
  std::vector<lockstep::ChildStats> stats;  ///< per child
};

/// Newton-CG parameters for a level from the solver options.
NewtonParams MakeNewtonParams(const SolverOptions& opts, float bias);

/// Runs the wave on the host (parallel over parents): lock-step CD for light parents,
/// Newton-CG (HostNewtonOps) for heavy ones.
WaveResult SolveWaveOnHost(const WaveData& wave, const lockstep::SolveParams& sp,
                           const NewtonParams& np, float threshold, int threads);

/// Accumulates wave results into the level's pruned CSC (rows = n_features + 1, bias last).
class LevelAssembler {
 public:
  LevelAssembler(const LevelPlan& plan, const SolverOptions& opts, float bias);
  /// Adds one wave's results (maps local ids to global, applies PruneWeights per child).
  void Add(const WaveData& wave, const WaveResult& result);
  CscMatrix Finish();
  /// Solver statistics over the level so far.
  std::int64_t problems = 0, passes = 0, unconverged = 0, updates = 0;
  int max_passes = 0;

 private:
  const LevelPlan& plan_;
  SolverOptions opts_;
  float bias_;
  std::vector<std::vector<Index>> rows_;
  std::vector<std::vector<float>> vals_;
};

/// The whole GPU algorithm run on the host (for tests and as the device's reference).
/// `budget_bytes` plays the role of the device memory budget (to exercise waves); parents with
/// >= heavy_rows instances go to Newton-CG under the L2 loss (0: none).
std::unique_ptr<LevelSolver> MakeLockstepHostLevelSolver(const Context& ctx,
                                                         std::int64_t budget_bytes,
                                                         std::int64_t heavy_rows = 0);

}  // namespace detail
}  // namespace xmr
