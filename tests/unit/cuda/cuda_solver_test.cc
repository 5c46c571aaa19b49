// The CUDA level solver against its host emulation (bit for bit) and against the CPU solver
// (same accuracy). Every test needs a GPU and skips cleanly (GTEST_SKIP) without one, which is
// the case in CI and in builds with XMR_ENABLE_CUDA=OFF.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

#include "common/test_util.h"
#include "train/gpu_plan.h"
#include "train/level_solver.h"
#include "unit/train/random_level.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace xmr {
namespace {

using testing_util::ExpectError;
using testing_util::MakeLevel;
using testing_util::RandomLevel;

constexpr std::int64_t kHuge = std::int64_t{1} << 40;

Context Gpu(std::int64_t budget = 0) {
  Context ctx;
  ctx.device = DeviceKind::kCuda;
  ctx.threads = 0;
  ctx.verbose = 0;
  ctx.gpu_memory_bytes = budget;
  return ctx;
}

#define XMR_REQUIRE_GPU()                                         \
  do {                                                            \
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

void ExpectSameWeights(const CscMatrix& a, const CscMatrix& b) {
  ASSERT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.cols, b.cols);
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);
}

TEST(CudaLevelSolver, EqualsTheHostEmulationBitForBit) {
  XMR_REQUIRE_GPU();
  const RandomLevel lv = MakeLevel(21, 600, 150, {16, 9, 3, 12, 1, 7}, /*extra_rate=*/0.2);
  for (const bool with_cost : {false, true}) {
    for (const SolverType type : {SolverType::kL2SvcDual, SolverType::kL1SvcDual}) {
      const LevelProblem p = lv.View(with_cost);
      SolverOptions opts;
      opts.type = type;
      // No heavy parents: everything runs the lock-step kernel, which must round like the host.
      const CscMatrix host = detail::MakeLockstepHostLevelSolver(Gpu(), kHuge, 0)->Solve(p, opts);
      const CscMatrix gpu = detail::MakeCudaLevelSolver(Gpu(), 0)->Solve(p, opts);
      ExpectSameWeights(host, gpu);
    }
  }
}

// Newton-CG on the device (cuSPARSE SpMM, float accumulation) against Newton-CG on the host
// (double accumulation): the same iterates up to rounding, so the same weights to ~1e-4.
TEST(CudaLevelSolver, HeavyParentsMatchTheHostNewtonCg) {
  XMR_REQUIRE_GPU();
  const RandomLevel lv = MakeLevel(27, 800, 200, {16, 16, 9}, /*extra_rate=*/0.1);
  for (const bool with_cost : {false, true}) {
    const LevelProblem p = lv.View(with_cost);
    SolverOptions opts;
    opts.threshold = 0.0f;
    const CscMatrix host = detail::MakeLockstepHostLevelSolver(Gpu(), kHuge, 1)->Solve(p, opts);
    const CscMatrix gpu = detail::MakeCudaLevelSolver(Gpu(), 1)->Solve(p, opts);
    const double max_diff = testing_util::MaxAbsDiff(host, gpu);
    EXPECT_LT(max_diff, 1e-3) << "cost " << with_cost;
  }
}

TEST(CudaLevelSolver, WavesUnderASmallBudgetGiveTheSameWeights) {
  XMR_REQUIRE_GPU();
  const RandomLevel lv = MakeLevel(23, 500, 120, {6, 2, 8, 3, 5, 4, 7, 1});
  const LevelProblem p = lv.View();
  const detail::LevelPlan plan = detail::PlanLevel(p, kHuge, 1);
  const std::int64_t biggest = *std::max_element(plan.bytes.begin(), plan.bytes.end());
  SolverOptions opts;
  const CscMatrix one = MakeCudaLevelSolver(Gpu())->Solve(p, opts);
  const CscMatrix many = MakeCudaLevelSolver(Gpu(biggest))->Solve(p, opts);
  ExpectSameWeights(one, many);
  ExpectError([&] { MakeCudaLevelSolver(Gpu(biggest / 3))->Solve(p, opts); },
              ErrorCode::kOutOfMemory, {"--gpu-memory"});
}

// A device allocation that fails inside a wave (simulated) makes the solver redo the level with
// half the wave budget; the weights are those of an undisturbed run. Persistent failures end in
// an out-of-memory error that names the budget and the option to lower.
TEST(CudaLevelSolver, OutOfMemoryInAWaveHalvesTheBudgetAndRetries) {
  XMR_REQUIRE_GPU();
  const RandomLevel lv = MakeLevel(29, 500, 120, {6, 2, 8, 3, 5, 4, 7, 1});
  const LevelProblem p = lv.View();
  SolverOptions opts;
  const CscMatrix clean = MakeCudaLevelSolver(Gpu())->Solve(p, opts);
  detail::ResetGpuSolverStats();
  detail::InjectGpuOutOfMemory(2);
  const CscMatrix retried = MakeCudaLevelSolver(Gpu())->Solve(p, opts);
  EXPECT_EQ(detail::GetGpuSolverStats().oom_retries, 2);
  ExpectSameWeights(clean, retried);
  detail::InjectGpuOutOfMemory(1000);
  ExpectError([&] { MakeCudaLevelSolver(Gpu())->Solve(p, opts); }, ErrorCode::kOutOfMemory,
              {"cudaMallocAsync", "wave budget", "--gpu-memory", "--device cpu"});
  detail::InjectGpuOutOfMemory(0);
}

TEST(CudaLevelSolver, LogisticRegressionIsRefusedOnExplicitCuda) {
  XMR_REQUIRE_GPU();
  const RandomLevel lv = MakeLevel(25, 100, 40, {3, 3});
  SolverOptions opts;
  opts.type = SolverType::kLrDual;
  ExpectError([&] { MakeCudaLevelSolver(Gpu())->Solve(lv.View(), opts); }, ErrorCode::kNotSupported,
              {"--device cpu"});
  Context automatic = Gpu();
  automatic.device = DeviceKind::kAuto;
  const CscMatrix w = MakeCudaLevelSolver(automatic)->Solve(lv.View(), opts);  // on the CPU
  EXPECT_EQ(w.cols, 6);
}

TEST(CudaLevelSolver, FactoryPicksTheGpuForCudaAndAuto) {
  XMR_REQUIRE_GPU();
  EXPECT_TRUE(CudaLevelSolverAvailable());
  EXPECT_EQ(MakeLevelSolver(Gpu())->device(), DeviceKind::kCuda);
  Context automatic = Gpu();
  automatic.device = DeviceKind::kAuto;
  EXPECT_EQ(MakeLevelSolver(automatic)->device(), DeviceKind::kCuda);
}

// The acceptance check of the GPU backend on real data: P@1/3/5 within 0.3 of the CPU solver.
void CompareOnRealData(const std::string& train_path, const std::string& test_path) {
  Dataset train = ReadDataFile(train_path);
  Dataset test = ReadDataFile(test_path);
  NormalizeRowsL2(&train.x);
  NormalizeRowsL2(&test.x);
  test.x.cols = train.x.cols;
  Context cpu_ctx = Gpu();
  cpu_ctx.device = DeviceKind::kCpu;
  const TrainOptions opts;
  const CsrMatrix emb = PifaEmbedding(train.x.view(), train.y.view(), cpu_ctx);
  const ClusterChain tree = HierarchicalKMeans(emb.view(), opts.indexer, cpu_ctx);
  auto cpu_solver = MakeCpuLevelSolver(cpu_ctx);
  auto gpu_solver = MakeCudaLevelSolver(Gpu());
  const XLinearModel cpu = detail::TrainWithSolver(train.x.view(), train.y.view(), tree, opts,
                                                   cpu_ctx, cpu_solver.get());
  const XLinearModel gpu =
      detail::TrainWithSolver(train.x.view(), train.y.view(), tree, opts, Gpu(), gpu_solver.get());
  const RankingMetrics a = Evaluate(
      Predict(cpu, test.x.view(), DefaultPredictOptions(cpu), cpu_ctx).view(), test.y.view(), 5);
  const RankingMetrics b = Evaluate(
      Predict(gpu, test.x.view(), DefaultPredictOptions(gpu), cpu_ctx).view(), test.y.view(), 5);
  std::printf("%s P@1/3/5 cpu %.2f %.2f %.2f, gpu %.2f %.2f %.2f\n", train_path.c_str(),
              a.precision[0], a.precision[2], a.precision[4], b.precision[0], b.precision[2],
              b.precision[4]);
  for (int k : {0, 2, 4}) EXPECT_NEAR(a.precision[k], b.precision[k], 0.3) << "P@" << k + 1;
}

TEST(CudaLevelSolver, BibtexPrecisionWithinThreeTenthsOfTheCpu) {
  XMR_REQUIRE_GPU();
  CompareOnRealData(std::string(XMR_SOURCE_DIR) + "/data/bibtex_train.txt.xz",
                    std::string(XMR_SOURCE_DIR) + "/data/bibtex_test.txt.xz");
}

// debian-deps travels to the GPU machine in .device-carry/ (bench/gpu/prepare_carry.sh).
TEST(CudaLevelSolver, DebianDepsPrecisionWithinThreeTenthsOfTheCpu) {
  XMR_REQUIRE_GPU();
  const std::string dir = std::string(XMR_SOURCE_DIR) + "/.device-carry/data/debian-deps/";
  const std::string train = dir + "debdeps_train_bow.txt.xz";
  if (!std::ifstream(train).good()) GTEST_SKIP() << train << " not present";
  CompareOnRealData(train, dir + "debdeps_test_bow.txt.xz");
}

}  // namespace
}  // namespace xmr
