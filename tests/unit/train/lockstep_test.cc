// The host side of the GPU level solver: the level plan (grouping, labels, local features,
// waves under a memory budget), the stateless permutation, and the lock-step dual CD run on
// the host, which must solve the same problems as the CPU solver.
#include "train/lockstep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "common/test_util.h"
#include "random_level.h"
#include "train/gpu_plan.h"
#include "train/level_solver.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/predict.h"

namespace xmr {
namespace {

using detail::LevelPlan;
using detail::PlanLevel;
using testing_util::ExpectError;
using testing_util::MakeLevel;
using testing_util::Quiet;
using testing_util::RandomLevel;

constexpr std::int64_t kHuge = std::int64_t{1} << 40;

TEST(LockstepPermutation, IsABijectionForEverySizeAndDependsOnTheKey) {
  for (std::uint32_t n :
       {1u, 2u, 3u, 4u, 5u, 7u, 16u, 17u, 100u, 255u, 256u, 257u, 1000u, 4099u, 65536u, 100003u}) {
    const detail::lockstep::Permutation perm(n, 12345);
    std::vector<char> hit(n, 0);
    for (std::uint32_t s = 0; s < n; ++s) {
      const std::uint32_t v = perm(s);
      ASSERT_LT(v, n);
      ASSERT_FALSE(hit[v]) << "n " << n << " repeats " << v;
      hit[v] = 1;
    }
  }
  const detail::lockstep::Permutation a(1000, 1), b(1000, 2);
  int same = 0, fixed = 0;
  for (std::uint32_t s = 0; s < 1000; ++s) {
    same += a(s) == b(s);
    fixed += a(s) == s;
  }
  EXPECT_LT(same, 20);   // independent keys: ~1 coincidence expected
  EXPECT_LT(fixed, 20);  // not close to the identity
}

TEST(LevelPlan, GroupsLabelsAndLocalFeaturesFollowTheProblemDefinition) {
  const RandomLevel lv = MakeLevel(3, 300, 80, {4, 3, 5, 1}, /*extra_rate=*/0.3);
  const LevelProblem p = lv.View(/*with_cost=*/true);
  const LevelPlan plan = PlanLevel(p, kHuge, 2);
  ASSERT_EQ(plan.parents.size(), 4u);
  ASSERT_EQ(plan.n_waves(), 1u);
  for (std::size_t q = 0; q < plan.parents.size(); ++q) {
    const Index k = plan.parents[q];
    // Instances: matching column plus the children's positives, sorted and distinct.
    std::set<Index> want;
    const SparseVecView m = p.matching.col(k);
    want.insert(m.indices, m.indices + m.nnz);
    std::vector<Index> kids;
    for (Index l = 0; l < p.y.cols; ++l) {
      if (p.parent_of_node[l] != k) continue;
      kids.push_back(l);
      const SparseVecView y = p.y.col(l);
      want.insert(y.indices, y.indices + y.nnz);
    }
    const std::vector<Index> got(plan.instances.begin() + plan.inst_ptr[q],
                                 plan.instances.begin() + plan.inst_ptr[q + 1]);
    EXPECT_EQ(got, std::vector<Index>(want.begin(), want.end()));
    EXPECT_EQ(std::vector<Index>(plan.children.begin() + plan.child_ptr[q],
                                 plan.children.begin() + plan.child_ptr[q + 1]),
              kids);
  }
  const detail::WaveData wave = detail::BuildWave(p, plan, 0, 2);
  for (std::size_t i = 0; i < plan.parents.size(); ++i) {
    const Index k = plan.parents[i];
    const Index* inst = plan.instances.data() + plan.inst_ptr[i];
    const SparseVecView m = p.matching.col(k);
    // Local features: the sorted distinct global ids of the rows; rows map back exactly.
    std::set<Index> feats;
    for (Index r = 0; r < wave.n[i]; ++r) {
      const SparseVecView row = p.x.row(inst[r]);
      feats.insert(row.indices, row.indices + row.nnz);
    }
    const Index* l2g = wave.local_to_global.data() + wave.feat_off[i];
    ASSERT_EQ(wave.d[i], static_cast<std::int32_t>(feats.size()));
    EXPECT_TRUE(std::equal(feats.begin(), feats.end(), l2g));
    const auto b = detail::WaveParent(wave, i, nullptr, nullptr, nullptr, nullptr);
    for (Index r = 0; r < wave.n[i]; ++r) {
      const SparseVecView row = p.x.row(inst[r]);
      ASSERT_EQ(b.indptr[r + 1] - b.indptr[r], row.nnz);
      float s = 0;
      for (Index j = 0; j < row.nnz; ++j) {
        EXPECT_EQ(l2g[b.idx[b.indptr[r] + j]], row.indices[j]);
        EXPECT_EQ(b.val[b.indptr[r] + j], row.data[j]);
        s += row.data[j] * row.data[j];
      }
      EXPECT_EQ(b.sqnorm[r], s);
      // Labels: positive for the child's positives, negative for matched rows, else absent.
      const bool matched = std::binary_search(m.indices, m.indices + m.nnz, inst[r]);
      for (Index c = 0; c < b.B; ++c) {
        const Index l = plan.children[plan.child_ptr[i] + c];
        const SparseVecView y = p.y.col(l);
        const Index* it = std::lower_bound(y.indices, y.indices + y.nnz, inst[r]);
        const bool pos = it != y.indices + y.nnz && *it == inst[r];
        const std::uint8_t want = pos       ? detail::lockstep::kPositive
                                  : matched ? detail::lockstep::kNegative
                                            : detail::lockstep::kNotMember;
        EXPECT_EQ(b.label[static_cast<std::int64_t>(r) * b.B + c], want);
        if (pos) {
          EXPECT_EQ(b.cost[static_cast<std::int64_t>(r) * b.B + c],
                    p.cost.col(l).data[it - y.indices]);
        }
      }
    }
  }
}

TEST(LevelPlan, WavesStayUnderTheBudgetAndDoNotChangeTheResult) {
  const RandomLevel lv = MakeLevel(5, 400, 120, {6, 2, 8, 3, 5, 4, 7, 1});
  const LevelProblem p = lv.View();
  const LevelPlan one = PlanLevel(p, kHuge, 1);
  ASSERT_EQ(one.n_waves(), 1u);
  const std::int64_t biggest = *std::max_element(one.bytes.begin(), one.bytes.end());
  const LevelPlan many = PlanLevel(p, biggest, 1);
  EXPECT_GT(many.n_waves(), 2u);
  for (std::size_t w = 0; w < many.n_waves(); ++w) {
    std::int64_t sum = 0;
    for (std::size_t q = many.wave_ptr[w]; q < many.wave_ptr[w + 1]; ++q) sum += many.bytes[q];
    EXPECT_LE(sum, biggest);
    EXPECT_GT(many.wave_ptr[w + 1], many.wave_ptr[w]);
  }
  EXPECT_EQ(many.wave_ptr.back(), many.parents.size());
  SolverOptions opts;
  const CscMatrix a = detail::MakeLockstepHostLevelSolver(Quiet(1), kHuge)->Solve(p, opts);
  const CscMatrix b = detail::MakeLockstepHostLevelSolver(Quiet(3), biggest)->Solve(p, opts);
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);  // waves and threads never change a weight
  // A parent larger than the budget is a clear out-of-memory error.
  ExpectError([&] { PlanLevel(p, biggest / 3, 1); }, ErrorCode::kOutOfMemory,
              {"needs", "MB of device memory", "--gpu-memory"});
  ExpectError([&] { PlanLevel(p, 0, 1); }, ErrorCode::kInvalidArgument, {"budget"});
}

TEST(LevelPlan, ParentBytesCountsEveryArray) {
  // n = 10 rows, d = 20 local features, B = 4 children, 50 nnz, no costs.
  const std::int64_t b = detail::ParentBytes(10, 20, 4, 50, false);
  EXPECT_GE(b, 8 * 11 + 8 * 50 + 4 * 10 + 40 + 5 * 40 + 4 * 80 + 16 + 8 * 80);
  EXPECT_GT(detail::ParentBytes(10, 20, 4, 50, true), b);
  EXPECT_GT(detail::ParentBytes(10, 2000, 4, 50, false), b);
}

class LockstepVsCpu : public ::testing::TestWithParam<SolverType> {};

// Both solve the same strictly convex problems; run to a tight tolerance without pruning, the
// optimal weights agree (only the visiting order differs).
TEST_P(LockstepVsCpu, ConvergeToTheSameWeights) {
  const RandomLevel lv = MakeLevel(11, 250, 60, {3, 5, 2, 4}, /*extra_rate=*/0.2);
  for (const bool with_cost : {false, true}) {
    const LevelProblem p = lv.View(with_cost);
    SolverOptions opts;
    opts.type = GetParam();
    opts.eps = 1e-5f;
    opts.max_iter = 3000;
    opts.threshold = 0.0f;
    const CscMatrix cpu = MakeCpuLevelSolver(Quiet(2))->Solve(p, opts);
    const CscMatrix ls = detail::MakeLockstepHostLevelSolver(Quiet(2), kHuge)->Solve(p, opts);
    double max_abs = 0;
    const double max_diff = testing_util::MaxAbsDiff(cpu, ls, &max_abs);
    EXPECT_GT(max_abs, 0.1);
    EXPECT_LT(max_diff, 2e-3 * std::max(1.0, max_abs)) << "cost " << with_cost;
  }
}

INSTANTIATE_TEST_SUITE_P(Svc, LockstepVsCpu,
                         ::testing::Values(SolverType::kL2SvcDual, SolverType::kL1SvcDual),
                         [](const ::testing::TestParamInfo<SolverType>& info) {
                           return std::string(info.param == SolverType::kL2SvcDual ? "L2" : "L1");
                         });

TEST(LockstepHostSolver, DefaultsPruneLikeTheCpuSolverAndLrIsRefused) {
  const RandomLevel lv = MakeLevel(17, 300, 90, {4, 4, 4});
  const LevelProblem p = lv.View();
  SolverOptions opts;
  opts.max_nonzeros_per_label = 5;
  const CscMatrix w = detail::MakeLockstepHostLevelSolver(Quiet(2), kHuge)->Solve(p, opts);
  ASSERT_EQ(w.rows, p.x.cols + 1);
  ASSERT_EQ(w.cols, p.y.cols);
  for (Index c = 0; c < w.cols; ++c) {
    EXPECT_LE(w.indptr[c + 1] - w.indptr[c], 5);
    for (Offset e = w.indptr[c]; e < w.indptr[c + 1]; ++e) {
      EXPECT_GE(std::fabs(w.data[e]), opts.threshold);
      if (e > w.indptr[c]) {
        EXPECT_LT(w.indices[e - 1], w.indices[e]);
      }
    }
  }
  opts.type = SolverType::kLrDual;
  ExpectError([&] { detail::MakeLockstepHostLevelSolver(Quiet(1), kHuge)->Solve(p, opts); },
              ErrorCode::kNotSupported, {"l2-svc", "--device cpu"});
}

TEST(LockstepHostSolver, RejectsInconsistentProblemsLikeTheCpuSolver) {
  RandomLevel lv = MakeLevel(19, 50, 20, {2, 2});
  LevelProblem p = lv.View();
  lv.parent[1] = 7;
  p.parent_of_node = lv.parent.data();
  ExpectError([&] { detail::MakeLockstepHostLevelSolver(Quiet(1), kHuge)->Solve(p, {}); },
              ErrorCode::kInvalidArgument, {"parent_of_node[1] = 7"});
}

// Newton-CG (heavy parents) solves the primal of the same L2-loss problems: run tightly, it
// reaches the dual solver's optimum.
TEST(NewtonCg, ReachesTheDualSolversOptimum) {
  const RandomLevel lv = MakeLevel(29, 300, 70, {4, 6, 3}, /*extra_rate=*/0.2);
  for (const bool with_cost : {false, true}) {
    const LevelProblem p = lv.View(with_cost);
    SolverOptions opts;
    opts.eps = 1e-6f;
    opts.max_iter = 5000;
    opts.threshold = 0.0f;
    const CscMatrix cpu = MakeCpuLevelSolver(Quiet(2))->Solve(p, opts);
    opts.max_iter = 100;  // Newton steps
    const detail::LevelPlan plan = PlanLevel(p, kHuge, 1, /*heavy_rows=*/1, true);
    for (const char h : plan.heavy) ASSERT_TRUE(h);
    const detail::WaveData wave = detail::BuildWave(p, plan, 0, 1);
    detail::NewtonParams np = detail::MakeNewtonParams(opts, p.bias);
    np.eps = 1e-7;
    np.cg_eps = 1e-3;
    const detail::WaveResult res =
        detail::SolveWaveOnHost(wave, detail::MakeSolveParams(opts, p.bias, 0), np, 0.0f, 2);
    detail::LevelAssembler out(plan, opts, p.bias);
    out.Add(wave, res);
    const CscMatrix newton = out.Finish();
    EXPECT_EQ(out.unconverged, 0);
    double max_abs = 0;
    const double max_diff = testing_util::MaxAbsDiff(cpu, newton, &max_abs);
    EXPECT_GT(max_abs, 0.1);
    EXPECT_LT(max_diff, 2e-3 * std::max(1.0, max_abs)) << "cost " << with_cost;
  }
  // L1 loss is not differentiable: heavy parents stay on lock-step CD.
  const detail::LevelPlan l1 = PlanLevel(lv.View(), kHuge, 1, 1, /*newton=*/false);
  for (const char h : l1.heavy) EXPECT_FALSE(h);
}

// The whole GPU algorithm, emulated on the host, trains Bibtex to the CPU solver's accuracy.
TEST(LockstepHostSolver, BibtexPrecisionWithinThreeTenthsOfTheCpuSolver) {
  Dataset train = ReadDataFile(std::string(XMR_SOURCE_DIR) + "/data/bibtex_train.txt.xz");
  Dataset test = ReadDataFile(std::string(XMR_SOURCE_DIR) + "/data/bibtex_test.txt.xz");
  NormalizeRowsL2(&train.x);
  NormalizeRowsL2(&test.x);
  test.x.cols = train.x.cols;
  const Context ctx = Quiet(0);
  const TrainOptions opts;
  const CsrMatrix emb = PifaEmbedding(train.x.view(), train.y.view(), ctx);
  const ClusterChain tree = HierarchicalKMeans(emb.view(), opts.indexer, ctx);
  auto cpu_solver = MakeCpuLevelSolver(ctx);
  // Parents with >= 1000 instances (the top two levels here) go to Newton-CG, as heavy
  // parents do on the GPU; the rest to lock-step CD.
  auto ls_solver = detail::MakeLockstepHostLevelSolver(ctx, kHuge, /*heavy_rows=*/1000);
  const XLinearModel cpu =
      detail::TrainWithSolver(train.x.view(), train.y.view(), tree, opts, ctx, cpu_solver.get());
  const XLinearModel ls =
      detail::TrainWithSolver(train.x.view(), train.y.view(), tree, opts, ctx, ls_solver.get());
  const RankingMetrics a = Evaluate(
      Predict(cpu, test.x.view(), DefaultPredictOptions(cpu), ctx).view(), test.y.view(), 5);
  const RankingMetrics b =
      Evaluate(Predict(ls, test.x.view(), DefaultPredictOptions(ls), ctx).view(), test.y.view(), 5);
  std::printf("bibtex P@1/3/5 cpu %.2f %.2f %.2f, lock-step %.2f %.2f %.2f\n", a.precision[0],
              a.precision[2], a.precision[4], b.precision[0], b.precision[2], b.precision[4]);
  for (int k : {0, 2, 4}) EXPECT_NEAR(a.precision[k], b.precision[k], 0.3) << "P@" << k + 1;
}

}  // namespace
}  // namespace xmr
