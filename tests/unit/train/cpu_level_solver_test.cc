// The CPU level solver against a per-label reference built straight from the LevelProblem
// definition (global feature space, PECOS's instance order), plus local-vs-global, thread-count
// determinism, edge cases and backend selection.
#include "train/cpu_level_solver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "random_level.h"
#include "train/dual_cd.h"
#include "train/level_solver.h"
#include "train/lockstep.h"
#include "train/prune.h"
#include "xmr/error.h"

namespace xmr {
namespace {

using testing_util::CscFromColumns;
using testing_util::MakeLevel;
using testing_util::RandomLevel;

Context Ctx(int threads) {
  Context ctx;
  ctx.threads = threads;
  ctx.verbose = 0;
  ctx.device = DeviceKind::kCpu;
  return ctx;
}

// Lock-step reference for a root-like parent (every instance matched): child `l`'s weights from
// lockstep::SolveChildSvc, the per-child solver the shared-rows path must equal bit for bit.
void LockstepChild(const LevelProblem& p, const SolverOptions& opts, Index l,
                   const std::vector<float>& sq, std::vector<float>* w, float* b) {
  const Index n = p.x.rows, d = p.x.cols;
  std::vector<std::int32_t> idx(p.x.indices, p.x.indices + p.x.indptr[n]);
  std::vector<std::int64_t> indptr(p.x.indptr, p.x.indptr + n + 1);
  std::vector<std::uint8_t> label(n, detail::lockstep::kNegative);
  std::vector<float> cost(n, 1.0f);
  const SparseVecView pos = p.y.col(l);
  for (Index s = 0; s < pos.nnz; ++s) {
    label[pos.indices[s]] = detail::lockstep::kPositive;
    if (p.cost.cols) cost[pos.indices[s]] = p.cost.col(l).data[s];
  }
  std::vector<float> alpha(n);
  std::vector<std::uint8_t> shrunk(n);
  w->assign(d, 0.0f);
  detail::lockstep::ParentBlock blk;
  blk.n = n;
  blk.d = d;
  blk.B = 1;
  blk.indptr = indptr.data();
  blk.idx = idx.data();
  blk.val = p.x.data;
  blk.sqnorm = sq.data();
  blk.label = label.data();
  blk.cost = p.cost.cols ? cost.data() : nullptr;
  blk.w = w->data();
  blk.bias_w = b;
  blk.alpha = alpha.data();
  blk.shrunk = shrunk.data();
  detail::lockstep::SolveParams sp;
  sp.l2 = opts.type == SolverType::kL2SvcDual;
  sp.cp = opts.cp;
  sp.cn = opts.cn;
  sp.eps = opts.eps;
  sp.max_iter = opts.max_iter;
  sp.bias = p.bias > 0 ? p.bias : 0.0;
  sp.seed = 0;  // Ctx() leaves ctx.seed at 0
  sp.parent = static_cast<std::uint64_t>(p.parent_of_node[l]);
  detail::lockstep::SolveChildSvc(blk, 0, sp);
}

// Reference: node by node in the global feature space, exactly as the problem defines it:
// SolveBinary (PECOS's order) per label, except that with the default visiting order the
// children of a root-like parent follow lockstep::SolveChildSvc (SolverOptions::pecos_order).
CscMatrix Reference(const LevelProblem& p, const SolverOptions& opts) {
  const Index d = p.x.cols;
  std::vector<float> sq(p.x.rows);
  for (Index i = 0; i < p.x.rows; ++i) {
    const SparseVecView r = p.x.row(i);
    float s = 0;
    for (Index k = 0; k < r.nnz; ++k) s += r.data[k] * r.data[k];
    sq[i] = s;
  }
  CscMatrix w;
  w.rows = d + 1;
  w.cols = p.y.cols;
  detail::CdScratch scratch;
  std::vector<Index> prune_scratch;
  for (Index l = 0; l < p.y.cols; ++l) {
    const SparseVecView m = p.matching.col(p.parent_of_node[l]);
    const SparseVecView pos = p.y.col(l);
    std::vector<Index> rows(m.indices, m.indices + m.nnz);
    for (Index s = 0; s < pos.nnz; ++s) {
      if (!std::binary_search(m.indices, m.indices + m.nnz, pos.indices[s])) {
        rows.push_back(pos.indices[s]);
      }
    }
    std::vector<std::int8_t> y(rows.size(), -1);
    std::vector<float> cost(rows.size(), 1.0f);
    for (size_t t = 0; t < rows.size(); ++t) {
      const Index* it = std::lower_bound(pos.indices, pos.indices + pos.nnz, rows[t]);
      if (it != pos.indices + pos.nnz && *it == rows[t]) {
        y[t] = 1;
        if (p.cost.cols) cost[t] = p.cost.col(l).data[it - pos.indices];
      }
    }
    std::vector<float> wl(d, 0.0f);
    float b = 0.0f;
    const bool svc = opts.type != SolverType::kLrDual;
    if (svc && !opts.pecos_order && m.nnz == p.x.rows) {
      LockstepChild(p, opts, l, sq, &wl, &b);
    } else if (!rows.empty()) {
      detail::BinaryProblem bp;
      bp.x = p.x;
      bp.sqnorm = sq.data();
      bp.rows = rows.data();
      bp.n = static_cast<Index>(rows.size());
      bp.y = y.data();
      bp.cost = p.cost.cols ? cost.data() : nullptr;
      bp.bias = p.bias;
      detail::SolveBinary(bp, opts, wl.data(), &b, &scratch);
    }
    std::vector<Index> all(d);
    for (Index j = 0; j < d; ++j) all[j] = j;
    PruneWeights(SparseVecView{d, all.data(), wl.data()}, p.bias > 0, b, d,
                 PruneRule{opts.threshold, opts.max_nonzeros_per_label}, &w.indices, &w.data,
                 &prune_scratch);
    w.indptr.push_back(static_cast<Offset>(w.indices.size()));
  }
  return w;
}

void ExpectSame(const CscMatrix& a, const CscMatrix& b) {
  ASSERT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.cols, b.cols);
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);  // bit-identical
}

class CpuLevelSolverBySolver : public ::testing::TestWithParam<SolverType> {};

TEST_P(CpuLevelSolverBySolver, MatchesPerLabelReference) {
  const RandomLevel lv = MakeLevel(1, 300, 40, {5, 3, 7, 1}, /*extra_rate=*/0.2);
  SolverOptions opts;
  opts.type = GetParam();
  opts.threshold = 0.01f;
  const CscMatrix got = MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(), opts);
  ExpectSame(got, Reference(lv.View(), opts));
  EXPECT_GT(got.nnz(), 16);
}

TEST_P(CpuLevelSolverBySolver, LocalFeatureSpaceEqualsGlobal) {
  const RandomLevel lv = MakeLevel(2, 250, 60, {4, 4, 4}, 0.1);
  SolverOptions opts;
  opts.type = GetParam();
  opts.threshold = 0.0f;
  detail::CpuSolverConfig global;
  global.local_features = false;
  const CscMatrix a = MakeCpuLevelSolver(Ctx(1))->Solve(lv.View(), opts);
  const CscMatrix b = detail::MakeCpuLevelSolver(Ctx(1), global)->Solve(lv.View(), opts);
  ExpectSame(a, b);
}

TEST_P(CpuLevelSolverBySolver, WideFeatureSpaceMatchesReference) {
  // More than 65536 features: the global-space blocks use 32-bit feature ids, the compact local
  // blocks 16-bit ones; both must give the reference's weights.
  const RandomLevel lv = MakeLevel(11, 120, 70000, {3, 2}, 0.1);
  SolverOptions opts;
  opts.type = GetParam();
  opts.threshold = 0.0f;
  detail::CpuSolverConfig global;
  global.local_features = false;
  const CscMatrix ref = Reference(lv.View(), opts);
  ExpectSame(MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(), opts), ref);
  ExpectSame(detail::MakeCpuLevelSolver(Ctx(2), global)->Solve(lv.View(), opts), ref);
  // The root-like case (every instance matched) trains on x itself with 32-bit ids.
  RandomLevel root = lv;
  std::vector<std::set<Index>> all(1);
  for (Index i = 0; i < 120; ++i) all[0].insert(i);
  root.matching = CscFromColumns(120, all);
  root.parent.assign(root.parent.size(), 0);
  ExpectSame(MakeCpuLevelSolver(Ctx(2))->Solve(root.View(), opts), Reference(root.View(), opts));
}

TEST_P(CpuLevelSolverBySolver, ThreadCountDoesNotChangeWeights) {
  const RandomLevel lv = MakeLevel(3, 400, 50, {6, 2, 9, 3, 5}, 0.1);
  SolverOptions opts;
  opts.type = GetParam();
  const CscMatrix w1 = MakeCpuLevelSolver(Ctx(1))->Solve(lv.View(), opts);
  const CscMatrix w2 = MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(), opts);
  const CscMatrix w3 = MakeCpuLevelSolver(Ctx(3))->Solve(lv.View(), opts);
  ExpectSame(w1, w2);
  ExpectSame(w1, w3);
}

INSTANTIATE_TEST_SUITE_P(Solvers, CpuLevelSolverBySolver,
                         ::testing::Values(SolverType::kL2SvcDual, SolverType::kL1SvcDual,
                                           SolverType::kLrDual));

TEST(CpuLevelSolver, RootLevelTrainsOnEveryInstance) {
  RandomLevel lv = MakeLevel(4, 200, 30, {6});
  std::vector<std::set<Index>> all(1);
  for (Index i = 0; i < 200; ++i) all[0].insert(i);
  lv.matching = CscFromColumns(200, all);
  SolverOptions opts;
  ExpectSame(MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(), opts), Reference(lv.View(), opts));
}

// A root-like parent with more children than one lock-step run (16): runs of 16, 16 and 8,
// each lane bit-identical to the per-child lock-step solver, with costs, for both SVC losses
// and any thread count; with pecos_order the same level follows SolveBinary (PECOS) instead.
TEST(CpuLevelSolver, RootLikeParentTrainsChildrenInLockStepRuns) {
  RandomLevel lv = MakeLevel(12, 300, 50, {40}, 0.0);
  std::vector<std::set<Index>> all(1);
  for (Index i = 0; i < 300; ++i) all[0].insert(i);
  lv.matching = CscFromColumns(300, all);
  for (const SolverType type : {SolverType::kL2SvcDual, SolverType::kL1SvcDual}) {
    SolverOptions opts;
    opts.type = type;
    opts.threshold = 0.01f;
    opts.cp = 2.0f;
    const CscMatrix ref = Reference(lv.View(true), opts);
    EXPECT_GT(ref.nnz(), 40);
    for (const int threads : {1, 3}) {
      ExpectSame(MakeCpuLevelSolver(Ctx(threads))->Solve(lv.View(true), opts), ref);
    }
    SolverOptions pecos = opts;
    pecos.pecos_order = true;
    const CscMatrix pecos_ref = Reference(lv.View(true), pecos);
    ExpectSame(MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(true), pecos), pecos_ref);
    // Different visiting orders, the same optimum to within eps: weights close, not equal.
    EXPECT_NE(ref.data, pecos_ref.data);
    detail::CpuSolverConfig per_child;
    per_child.shared_rows = false;
    ExpectSame(detail::MakeCpuLevelSolver(Ctx(2), per_child)->Solve(lv.View(true), opts),
               pecos_ref);
  }
}

TEST(CpuLevelSolver, CostMatrixMatchesReferenceAndCpEquivalence) {
  const RandomLevel lv = MakeLevel(5, 200, 30, {3, 3}, 0.1);
  SolverOptions opts;
  opts.threshold = 0.0f;
  ExpectSame(MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(true), opts),
             Reference(lv.View(true), opts));
  // Cp = 2 == cost 2 on every positive (PECOS's equivalence test).
  RandomLevel two = lv;
  std::fill(two.cost.data.begin(), two.cost.data.end(), 2.0f);
  SolverOptions cp2 = opts;
  cp2.cp = 2.0f;
  ExpectSame(MakeCpuLevelSolver(Ctx(2))->Solve(two.View(true), opts),
             MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(), cp2));
}

TEST(CpuLevelSolver, EmptyParentAndLabelsWithoutPositives) {
  // Parent 1 has no instance at all; some labels of the others have no positive.
  const RandomLevel lv = MakeLevel(6, 60, 20, {3, 4, 30}, 0.0, /*empty_parent=*/1);
  ASSERT_EQ(lv.matching.view().col(1).nnz, 0);
  SolverOptions opts;
  const CscMatrix w = MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(), opts);
  for (Index l = 3; l < 7; ++l) EXPECT_EQ(w.indptr[l + 1], w.indptr[l]) << "node " << l;
  bool some_label_without_positive = false;
  for (Index l = 7; l < 37; ++l) some_label_without_positive |= lv.y.view().col(l).nnz == 0;
  EXPECT_TRUE(some_label_without_positive);
  ExpectSame(w, Reference(lv.View(), opts));
}

TEST(CpuLevelSolver, MaxNonzerosPerLabelCapsEveryColumn) {
  const RandomLevel lv = MakeLevel(7, 300, 40, {4, 4});
  SolverOptions opts;
  opts.threshold = 0.0f;
  opts.max_nonzeros_per_label = 3;
  const CscMatrix w = MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(), opts);
  for (Index l = 0; l < w.cols; ++l) EXPECT_LE(w.indptr[l + 1] - w.indptr[l], 3);
  ExpectSame(w, Reference(lv.View(), opts));
}

TEST(CpuLevelSolver, NoBiasLeavesBiasRowEmpty) {
  const RandomLevel lv = MakeLevel(8, 100, 20, {3});
  LevelProblem p = lv.View();
  p.bias = 0.0f;
  SolverOptions opts;
  opts.threshold = 0.0f;
  const CscMatrix w = MakeCpuLevelSolver(Ctx(1))->Solve(p, opts);
  EXPECT_EQ(w.rows, 21);
  for (Index r : w.indices) EXPECT_LT(r, 20);
  ExpectSame(w, Reference(p, opts));
}

TEST(CpuLevelSolver, OutputShapeAndSortedRows) {
  const RandomLevel lv = MakeLevel(9, 150, 25, {2, 5});
  const CscMatrix w = MakeCpuLevelSolver(Ctx(2))->Solve(lv.View(), SolverOptions{});
  EXPECT_EQ(w.rows, 26);
  EXPECT_EQ(w.cols, 7);
  for (Index l = 0; l < w.cols; ++l) {
    for (Offset s = w.indptr[l] + 1; s < w.indptr[l + 1]; ++s) {
      EXPECT_LT(w.indices[s - 1], w.indices[s]);
    }
  }
}

TEST(CpuLevelSolver, RejectsInconsistentProblems) {
  const RandomLevel lv = MakeLevel(10, 50, 10, {2, 2});
  auto solve = [](const LevelProblem& p) {
    return MakeCpuLevelSolver(Ctx(1))->Solve(p, SolverOptions{});
  };
  auto code_of = [&](const LevelProblem& p) {
    try {
      solve(p);
    } catch (const Error& e) {
      return static_cast<int>(e.code());
    }
    return -1;
  };
  const int kInvalid = static_cast<int>(ErrorCode::kInvalidArgument);
  LevelProblem p = lv.View();
  p.y.rows = 49;
  EXPECT_EQ(code_of(p), kInvalid);
  p = lv.View();
  std::vector<Index> bad_parent = lv.parent;
  bad_parent[0] = 2;
  p.parent_of_node = bad_parent.data();
  EXPECT_EQ(code_of(p), kInvalid);
  p = lv.View(true);
  p.cost.cols = 3;
  EXPECT_EQ(code_of(p), kInvalid);
  SolverOptions bad;
  bad.eps = 0;
  EXPECT_THROW(MakeCpuLevelSolver(Ctx(1))->Solve(lv.View(), bad), Error);
  // A matching column with an out-of-range row id.
  RandomLevel broken = lv;
  broken.matching.indices[0] = 1000;
  std::sort(broken.matching.indices.begin(),
            broken.matching.indices.begin() + broken.matching.indptr[1]);
  EXPECT_EQ(code_of(broken.View()), kInvalid);
}

TEST(LevelSolverFactory, CpuDeviceGivesCpuSolver) {
  EXPECT_EQ(MakeLevelSolver(Ctx(1))->device(), DeviceKind::kCpu);
  EXPECT_EQ(MakeCpuLevelSolver(Ctx(1))->device(), DeviceKind::kCpu);
}

TEST(LevelSolverFactory, CudaSolverExistsExactlyInCudaBuilds) {
#if defined(XMR_WITH_CUDA)
  EXPECT_TRUE(CudaLevelSolverAvailable());
#else
  EXPECT_FALSE(CudaLevelSolverAvailable());
#endif
}

TEST(LevelSolverFactory, AutoTrainsOnCpuWithoutAGpu) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a GPU is present (tests/unit/cuda covers it)";
  Context ctx = Ctx(1);
  ctx.device = DeviceKind::kAuto;
  EXPECT_EQ(MakeLevelSolver(ctx)->device(), DeviceKind::kCpu);
}

TEST(LevelSolverFactory, ExplicitCudaIsNotSupportedHere) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a GPU is present (tests/unit/cuda covers it)";
  // No GPU (or no CUDA build): an explicit device=cuda never falls back.
  Context ctx = Ctx(1);
  ctx.device = DeviceKind::kCuda;
  try {
    MakeLevelSolver(ctx);
    FAIL() << "expected Error(kNotSupported)";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotSupported);
  }
  EXPECT_THROW(MakeCudaLevelSolver(ctx), Error);
}

}  // namespace
}  // namespace xmr
