// The three dual CD solvers against independent checks: duality gaps, brute-force primal
// minimisers on 2-3 feature problems, monotone dual objective, Cp/Cn and cost effects.
#include "train/dual_cd.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace xmr {
namespace detail {
namespace {

// A small dense problem stored as CSR (zeros dropped).
struct Problem {
  std::vector<Offset> indptr{0};
  std::vector<Index> indices;
  std::vector<float> data;
  std::vector<float> sqnorm;
  std::vector<Index> rows;
  std::vector<std::int8_t> y;
  std::vector<float> cost;
  Index d = 0;
  double bias = 1.0;

  void Add(const std::vector<float>& x, int label, float c = 1.0f) {
    d = static_cast<Index>(x.size());
    float s = 0.0f;
    for (Index j = 0; j < d; ++j) {
      if (x[j] != 0.0f) {
        indices.push_back(j);
        data.push_back(x[j]);
        s += x[j] * x[j];
      }
    }
    indptr.push_back(static_cast<Offset>(indices.size()));
    sqnorm.push_back(s);
    rows.push_back(static_cast<Index>(rows.size()));
    y.push_back(static_cast<std::int8_t>(label));
    cost.push_back(c);
  }
  BinaryProblem View(bool with_cost = false) const {
    BinaryProblem p;
    p.x = CsrView{static_cast<Index>(rows.size()), d, indptr.data(), indices.data(), data.data()};
    p.sqnorm = sqnorm.data();
    p.rows = rows.data();
    p.n = static_cast<Index>(rows.size());
    p.y = y.data();
    p.cost = with_cost ? cost.data() : nullptr;
    p.bias = bias;
    return p;
  }
  // Margin y_i (w . x_i + b * bias) of instance i.
  double Margin(Index i, const std::vector<double>& w, double b) const {
    double s = b * (bias > 0 ? bias : 0.0);
    for (Offset k = indptr[i]; k < indptr[i + 1]; ++k) s += w[indices[k]] * data[k];
    return y[i] * s;
  }
};

struct Solution {
  std::vector<double> w;
  double b = 0;
  std::vector<double> alpha;
  CdStats stats;
};

Solution Solve(const Problem& pr, const SolverOptions& opts, bool with_cost = false) {
  std::vector<float> w(pr.d, 123.0f);  // garbage: the solver must overwrite it
  float b = 7.0f;
  CdScratch scratch;
  Solution s;
  s.stats = SolveBinary(pr.View(with_cost), opts, w.data(), &b, &scratch, &s.alpha);
  s.w.assign(w.begin(), w.end());
  s.b = b;
  return s;
}

double InstanceC(const Problem& pr, const SolverOptions& opts, Index i, bool with_cost) {
  return (pr.y[i] > 0 ? opts.cp : opts.cn) * (with_cost ? pr.cost[i] : 1.0);
}

double Norm2(const std::vector<double>& w, double b) {
  double s = b * b;
  for (double v : w) s += v * v;
  return s;
}

// Primal objective 1/2 |[w; b]|^2 + sum_i C_i loss(margin_i).
double Primal(const Problem& pr, const SolverOptions& opts, const std::vector<double>& w, double b,
              bool with_cost = false) {
  double obj = 0.5 * Norm2(w, b);
  for (Index i = 0; i < static_cast<Index>(pr.rows.size()); ++i) {
    const double m = pr.Margin(i, w, b);
    const double c = InstanceC(pr, opts, i, with_cost);
    switch (opts.type) {
      case SolverType::kL2SvcDual:
        obj += c * std::pow(std::max(0.0, 1 - m), 2);
        break;
      case SolverType::kL1SvcDual:
        obj += c * std::max(0.0, 1 - m);
        break;
      case SolverType::kLrDual:
        obj += c * std::log1p(std::exp(-m));
        break;
    }
  }
  return obj;
}

// The weights implied by a dual point: w = sum_i alpha_i y_i x_i, b = sum_i alpha_i y_i bias.
void PrimalFromDual(const Problem& pr, const std::vector<double>& alpha, std::vector<double>* w,
                    double* b) {
  w->assign(pr.d, 0.0);
  *b = 0;
  for (Index i = 0; i < static_cast<Index>(alpha.size()); ++i) {
    for (Offset k = pr.indptr[i]; k < pr.indptr[i + 1]; ++k) {
      (*w)[pr.indices[k]] += alpha[i] * pr.y[i] * pr.data[k];
    }
    *b += alpha[i] * pr.y[i] * (pr.bias > 0 ? pr.bias : 0.0);
  }
}

// Dual objective as a maximisation, so that Dual <= Primal (weak duality) with equality at the
// optimum. L2-loss: sum a - 1/2|w(a)|^2 - sum a^2/(4C); L1-loss: sum a - 1/2|w(a)|^2;
// LR: -1/2|w(a)|^2 - sum [a log a + (C-a) log(C-a) - C log C].
double Dual(const Problem& pr, const SolverOptions& opts, const std::vector<double>& alpha,
            bool with_cost = false) {
  std::vector<double> w;
  double b;
  PrimalFromDual(pr, alpha, &w, &b);
  double obj = -0.5 * Norm2(w, b);
  for (Index i = 0; i < static_cast<Index>(alpha.size()); ++i) {
    const double a = alpha[i], c = InstanceC(pr, opts, i, with_cost);
    switch (opts.type) {
      case SolverType::kL2SvcDual:
        obj += a - a * a / (4 * c);
        break;
      case SolverType::kL1SvcDual:
        obj += a;
        break;
      case SolverType::kLrDual:
        obj -= a * std::log(a) + (c - a) * std::log(c - a) - c * std::log(c);
        break;
    }
  }
  return obj;
}

// Brute-force primal minimiser (smooth losses): gradient descent with backtracking in double.
std::vector<double> BruteForce(const Problem& pr, const SolverOptions& opts, double* b_out) {
  const Index d = pr.d;
  std::vector<double> v(d + 1, 0.0);  // [w; b]
  auto obj = [&](const std::vector<double>& z) {
    return Primal(pr, opts, std::vector<double>(z.begin(), z.begin() + d), z[d]);
  };
  double step = 1.0;
  for (int it = 0; it < 200000; ++it) {
    std::vector<double> g(d + 1, 0.0);
    for (Index j = 0; j <= d; ++j) g[j] = v[j];
    for (Index i = 0; i < static_cast<Index>(pr.rows.size()); ++i) {
      const double m = pr.Margin(i, std::vector<double>(v.begin(), v.begin() + d), v[d]);
      const double c = InstanceC(pr, opts, i, false);
      double dl;  // d loss / d margin
      if (opts.type == SolverType::kL2SvcDual) {
        dl = m < 1 ? -2 * c * (1 - m) : 0.0;
      } else {
        dl = -c / (1 + std::exp(m));
      }
      for (Offset k = pr.indptr[i]; k < pr.indptr[i + 1]; ++k) {
        g[pr.indices[k]] += dl * pr.y[i] * pr.data[k];
      }
      g[d] += dl * pr.y[i] * pr.bias;
    }
    double gn = 0;
    for (double x : g) gn += x * x;
    if (gn < 1e-22) break;
    const double f0 = obj(v);
    step = std::min(1.0, step * 2);
    while (true) {
      std::vector<double> z(d + 1);
      for (Index j = 0; j <= d; ++j) z[j] = v[j] - step * g[j];
      if (obj(z) <= f0 - 0.5 * step * gn || step < 1e-12) {
        v = z;
        break;
      }
      step *= 0.5;
    }
  }
  *b_out = v[d];
  return std::vector<double>(v.begin(), v.begin() + d);
}

// Two overlapping Gaussian-ish clouds in `d` dimensions (fixed seed), not separable.
Problem Clouds(int n, int d, unsigned seed, double shift) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Problem pr;
  for (int i = 0; i < n; ++i) {
    const int label = i % 3 == 0 ? 1 : -1;
    std::vector<float> x(d);
    for (int j = 0; j < d; ++j) x[j] = nd(rng) + static_cast<float>(label * shift * (j == 0));
    pr.Add(x, label);
  }
  return pr;
}

Problem Separable() {
  Problem pr;
  pr.Add({2.0f, 1.0f}, 1);
  pr.Add({1.5f, 2.0f}, 1);
  pr.Add({3.0f, 0.5f}, 1);
  pr.Add({-1.0f, -0.5f}, -1);
  pr.Add({-2.0f, 0.5f}, -1);
  pr.Add({0.0f, -2.0f}, -1);
  return pr;
}

SolverOptions Tight(SolverType type) {
  SolverOptions o;
  o.type = type;
  o.eps = 1e-4f;  // w is stored in float: much tighter tolerances are not reachable
  o.max_iter = 100000;
  return o;
}

class AllSolvers : public ::testing::TestWithParam<SolverType> {};

TEST_P(AllSolvers, SmallDualityGapOnNonSeparableData) {
  const Problem pr = Clouds(60, 3, 1, 1.0);
  const SolverOptions opts = Tight(GetParam());
  const Solution s = Solve(pr, opts);
  EXPECT_TRUE(s.stats.converged);
  // The returned w is the one implied by the returned alpha (up to float rounding).
  std::vector<double> w;
  double b;
  PrimalFromDual(pr, s.alpha, &w, &b);
  for (Index j = 0; j < pr.d; ++j) EXPECT_NEAR(s.w[j], w[j], 1e-4);
  EXPECT_NEAR(s.b, b, 1e-4);
  const double p = Primal(pr, opts, s.w, s.b), dual = Dual(pr, opts, s.alpha);
  EXPECT_LE(dual, p + 1e-6);
  EXPECT_LT(p - dual, 1e-3 * std::max(1.0, std::fabs(p))) << "primal " << p << " dual " << dual;
}

TEST_P(AllSolvers, SeparableDataIsClassifiedCorrectly) {
  const Problem pr = Separable();
  const Solution s = Solve(pr, Tight(GetParam()));
  for (Index i = 0; i < 6; ++i) EXPECT_GT(pr.Margin(i, s.w, s.b), 0.0) << "instance " << i;
}

TEST_P(AllSolvers, DualObjectiveNeverGetsWorseAcrossPasses) {
  const Problem pr = Clouds(40, 3, 2, 0.5);
  SolverOptions opts = Tight(GetParam());
  double prev = -1e300;
  for (int iters = 1; iters <= 12; ++iters) {
    opts.max_iter = iters;  // same seed: each run continues the previous one's trajectory
    const Solution s = Solve(pr, opts);
    const double dual = Dual(pr, opts, s.alpha);
    EXPECT_GE(dual, prev - 1e-6) << "after " << iters << " passes";
    prev = dual;
  }
}

TEST_P(AllSolvers, EmptyProblemGivesZeroWeights) {
  Problem pr;
  pr.d = 3;
  const Solution s = Solve(pr, SolverOptions{});
  EXPECT_EQ(s.w, std::vector<double>(3, 0.0));
  EXPECT_EQ(s.b, 0.0);
}

TEST_P(AllSolvers, NegativesOnlyGivesNegativeScores) {
  Problem pr;
  pr.Add({1.0f, 0.0f}, -1);
  pr.Add({0.0f, 1.0f}, -1);
  pr.Add({0.6f, 0.8f}, -1);
  SolverOptions opts = Tight(GetParam());
  const Solution s = Solve(pr, opts);
  for (Index i = 0; i < 3; ++i) EXPECT_GT(pr.Margin(i, s.w, s.b), 0.0);
}

TEST_P(AllSolvers, CpEqualsCostOnPositives) {
  // PECOS's equivalence test: Cp = 2 is the same as a relevance (cost) of 2 on every positive.
  Problem pr = Clouds(30, 3, 3, 0.8);
  for (Index i = 0; i < 30; ++i) pr.cost[i] = pr.y[i] > 0 ? 2.0f : 1.0f;
  SolverOptions a;
  a.type = GetParam();
  a.cp = 2.0f;
  SolverOptions b;
  b.type = GetParam();
  const Solution sa = Solve(pr, a), sb = Solve(pr, b, /*with_cost=*/true);
  EXPECT_EQ(sa.w, sb.w);
  EXPECT_EQ(sa.b, sb.b);
}

TEST_P(AllSolvers, LargerCpFitsPositivesBetter) {
  const Problem pr = Clouds(90, 3, 4, 0.7);
  SolverOptions lo = Tight(GetParam()), hi = lo;
  hi.cp = 20.0f;
  const Solution slo = Solve(pr, lo), shi = Solve(pr, hi);
  double mlo = 0, mhi = 0;
  int npos = 0;
  for (Index i = 0; i < 90; ++i) {
    if (pr.y[i] < 0) continue;
    mlo += pr.Margin(i, slo.w, slo.b);
    mhi += pr.Margin(i, shi.w, shi.b);
    ++npos;
  }
  EXPECT_GT(mhi / npos, mlo / npos + 0.1);
  // ... and negatives worse (Cn relatively smaller).
  double nlo = 0, nhi = 0;
  for (Index i = 0; i < 90; ++i) {
    if (pr.y[i] > 0) continue;
    nlo += pr.Margin(i, slo.w, slo.b);
    nhi += pr.Margin(i, shi.w, shi.b);
  }
  EXPECT_LT(nhi, nlo);
}

TEST_P(AllSolvers, NoBiasKeepsBiasWeightZero) {
  Problem pr = Clouds(30, 3, 5, 1.0);
  pr.bias = 0.0;
  const Solution s = Solve(pr, Tight(GetParam()));
  EXPECT_EQ(s.b, 0.0);
  const double p = Primal(pr, Tight(GetParam()), s.w, 0.0);
  EXPECT_LT(p - Dual(pr, Tight(GetParam()), s.alpha), 1e-3 * std::max(1.0, p));
}

TEST_P(AllSolvers, DeterministicAndIndependentOfScratchHistory) {
  const Problem big = Clouds(80, 4, 6, 0.5), small = Clouds(20, 4, 7, 0.5);
  CdScratch scratch;
  std::vector<float> w1(4), w2(4);
  float b1, b2;
  SolverOptions opts;
  opts.type = GetParam();
  SolveBinary(small.View(), opts, w1.data(), &b1, &scratch);
  SolveBinary(big.View(), opts, w2.data(), &b2, &scratch);  // dirty the scratch
  SolveBinary(small.View(), opts, w2.data(), &b2, &scratch);
  EXPECT_EQ(w1, w2);
  EXPECT_EQ(b1, b2);
}

INSTANTIATE_TEST_SUITE_P(DualCd, AllSolvers,
                         ::testing::Values(SolverType::kL2SvcDual, SolverType::kL1SvcDual,
                                           SolverType::kLrDual),
                         [](const ::testing::TestParamInfo<SolverType>& info) {
                           return std::string(info.param == SolverType::kL2SvcDual   ? "L2Svc"
                                              : info.param == SolverType::kL1SvcDual ? "L1Svc"
                                                                                     : "Lr");
                         });

TEST(DualCd, L2SvcMatchesBruteForcePrimalMinimiser) {
  for (unsigned seed : {11u, 12u}) {
    const Problem pr = Clouds(25, 2, seed, 0.8);
    const SolverOptions opts = Tight(SolverType::kL2SvcDual);
    const Solution s = Solve(pr, opts);
    double b;
    const std::vector<double> w = BruteForce(pr, opts, &b);
    for (Index j = 0; j < pr.d; ++j) EXPECT_NEAR(s.w[j], w[j], 2e-4) << "seed " << seed;
    EXPECT_NEAR(s.b, b, 2e-4);
  }
}

TEST(DualCd, LrMatchesBruteForcePrimalMinimiser) {
  const Problem pr = Clouds(25, 3, 13, 0.8);
  const SolverOptions opts = Tight(SolverType::kLrDual);
  const Solution s = Solve(pr, opts);
  double b;
  const std::vector<double> w = BruteForce(pr, opts, &b);
  for (Index j = 0; j < pr.d; ++j) EXPECT_NEAR(s.w[j], w[j], 2e-4);
  EXPECT_NEAR(s.b, b, 2e-4);
}

TEST(DualCd, L1SvcSatisfiesKkt) {
  // Hinge loss: 0 <= alpha <= C; alpha = 0 => margin >= 1; alpha = C => margin <= 1;
  // otherwise margin = 1 (all within the tolerance).
  const Problem pr = Clouds(50, 3, 14, 0.6);
  const SolverOptions opts = Tight(SolverType::kL1SvcDual);
  const Solution s = Solve(pr, opts);
  for (Index i = 0; i < 50; ++i) {
    const double a = s.alpha[i], m = pr.Margin(i, s.w, s.b);
    EXPECT_GE(a, 0.0);
    EXPECT_LE(a, 1.0);
    if (a == 0.0) {
      EXPECT_GE(m, 1 - 1e-4);
    } else if (a == 1.0) {
      EXPECT_LE(m, 1 + 1e-4);
    } else {
      EXPECT_NEAR(m, 1.0, 1e-4);
    }
  }
}

TEST(DualCd, DefaultStoppingRuleStopsEarlyButClose) {
  // eps = 0.1 (PECOS default) stops long before the tight solution but is near it.
  const Problem pr = Clouds(200, 3, 15, 0.7);
  SolverOptions def;
  const Solution loose = Solve(pr, def), tight = Solve(pr, Tight(SolverType::kL2SvcDual));
  EXPECT_TRUE(loose.stats.converged);
  EXPECT_LT(loose.stats.iterations, tight.stats.iterations);
  const double pl = Primal(pr, def, loose.w, loose.b), pt = Primal(pr, def, tight.w, tight.b);
  EXPECT_LT(pl - pt, 0.05 * pt);
}

TEST(DualCd, MaxIterCapsPasses) {
  const Problem pr = Clouds(200, 3, 16, 0.3);
  SolverOptions opts = Tight(SolverType::kL1SvcDual);
  opts.max_iter = 3;
  const Solution s = Solve(pr, opts);
  EXPECT_EQ(s.stats.iterations, 3);
  EXPECT_FALSE(s.stats.converged);
}

TEST(DualCd, VisitOrderFollowsInitialOrderThenShuffles) {
  // The same instances listed in another initial order give (slightly) different weights:
  // the solver honours the caller's order, which the level solver sets to PECOS's.
  Problem a = Clouds(30, 3, 17, 0.5);
  Problem b = a;
  std::reverse(b.rows.begin(), b.rows.end());
  std::vector<std::int8_t> yb(b.y.rbegin(), b.y.rend());
  b.y = yb;
  SolverOptions opts;
  opts.max_iter = 1;
  const Solution sa = Solve(a, opts), sb = Solve(b, opts);
  EXPECT_NE(sa.w, sb.w);
}

}  // namespace
}  // namespace detail
}  // namespace xmr
