#include "train/dual_cd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "train/cd_kernels.h"

namespace xmr {
namespace detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Row access over either index width.
template <typename IndexT>
struct Rows {
  const Offset* indptr;
  const IndexT* indices;
  const float* data;

  struct Ref {
    const IndexT* idx;
    const float* val;
    Offset nnz;
  };
  Ref operator[](Index r) const {
    const Offset beg = indptr[r];
    return {indices + beg, data + beg, indptr[r + 1] - beg};
  }
  // Instances are visited in random order, so on blocks larger than the cache every visit would
  // start with misses on its row; prefetching a few visits ahead hides most of them.
  void Prefetch(Index r) const {
    const Offset beg = indptr[r];
    const Offset nnz = std::min<Offset>(indptr[r + 1] - beg, 128);
    const char* idx = reinterpret_cast<const char*>(indices + beg);
    const char* val = reinterpret_cast<const char*>(data + beg);
    for (Offset o = 0; o < nnz * static_cast<Offset>(sizeof(IndexT)); o += 64) {
      __builtin_prefetch(idx + o);
    }
    for (Offset o = 0; o < nnz * 4; o += 64) __builtin_prefetch(val + o);
  }
};
constexpr Index kPrefetchDistance = 8;
// Blocks smaller than this stay in the L2 cache; prefetching would only cost instructions.
constexpr Offset kPrefetchMinBytes = 1 << 20;

template <typename IndexT>
bool WorthPrefetching(const CsrView& x) {
  if (x.rows == 0) return false;
  const Offset nnz = x.indptr[x.rows] - x.indptr[0];
  return nnz * static_cast<Offset>(sizeof(IndexT) + sizeof(float)) >= kPrefetchMinBytes;
}

inline double InstanceCost(const BinaryProblem& p, const SolverOptions& opts, Index pos) {
  const double class_cost =
      p.y[pos] > 0 ? static_cast<double>(opts.cp) : static_cast<double>(opts.cn);
  return class_cost * (p.cost ? static_cast<double>(p.cost[pos]) : 1.0);
}

// Hsieh et al. (ICML 2008), Algorithm 3, with liblinear's shrinking: an instance leaves the
// active set when its gradient shows it will stay at a bound (alpha = 0 and G > PGmax of the
// previous pass, or alpha = U and G < PGmin); convergence (PGmax - PGmin <= eps) on a shrunk set
// is re-checked on the full set.
//   L2 loss: D_ii = 1 / (2 C_i), U_i = inf.   L1 loss: D_ii = 0, U_i = C_i.
template <typename IndexT>
CdStats SolveSvc(const BinaryProblem& p, const Rows<IndexT>& x, const SolverOptions& opts, float* w,
                 float* b_out, CdScratch* scratch, std::vector<double>* alpha_out) {
  const bool l2 = opts.type == SolverType::kL2SvcDual;
  const bool has_bias = p.bias > 0;
  const double bias = has_bias ? p.bias : 0.0;
  const double bias_sq = has_bias ? p.bias * p.bias : 0.0;
  const Index n = p.n;
  std::fill(w, w + p.x.cols, 0.0f);
  float b = 0.0f;

  std::vector<Index>& index = scratch->index;
  std::vector<float>& alpha = scratch->alpha;
  std::vector<float>& qd = scratch->qd;
  index.resize(n);
  alpha.assign(n, 0.0f);
  qd.resize(n);
  for (Index pos = 0; pos < n; ++pos) {
    index[pos] = pos;
    const double c = InstanceCost(p, opts, pos);
    qd[pos] = static_cast<float>(l2 ? 0.5 / c : 0.0);
    qd[pos] = static_cast<float>(static_cast<double>(qd[pos]) +
                                 (static_cast<double>(p.sqnorm[p.rows[pos]]) + bias_sq));
  }

  const bool prefetch = WorthPrefetching<IndexT>(p.x);
  std::mt19937 rng(0);
  double pg_max_old = kInf, pg_min_old = -kInf;
  Index active = n;
  CdStats stats;
  while (stats.iterations < opts.max_iter) {
    double pg_max_new = -kInf, pg_min_new = kInf;
    std::shuffle(index.begin(), index.begin() + active, rng);
    stats.visits += active;
    for (Index s = 0; s < active; ++s) {
      if (prefetch && s + kPrefetchDistance < active) {
        x.Prefetch(p.rows[index[s + kPrefetchDistance]]);
      }
      const Index pos = index[s];
      const auto xi = x[p.rows[pos]];
      const int yi = p.y[pos];
      const float dot = SparseDot(w, xi.idx, xi.val, xi.nnz);
      double g = yi * (static_cast<double>(dot) + static_cast<double>(b) * bias) - 1.0;
      const double c = InstanceCost(p, opts, pos);
      const double diag = l2 ? 0.5 / c : 0.0;
      const double upper = l2 ? kInf : c;
      const double a = alpha[pos];
      g += a * diag;

      double pg = 0.0;
      if (a == 0.0) {
        if (g > pg_max_old) {
          --active;
          std::swap(index[s], index[active]);
          --s;
          continue;
        }
        if (g < 0) pg = g;
      } else if (a == upper) {
        if (g < pg_min_old) {
          --active;
          std::swap(index[s], index[active]);
          --s;
          continue;
        }
        if (g > 0) pg = g;
      } else {
        pg = g;
      }
      pg_max_new = std::max(pg_max_new, pg);
      pg_min_new = std::min(pg_min_new, pg);

      if (std::fabs(pg) > 1.0e-12) {
        alpha[pos] = static_cast<float>(
            std::min(std::max(a - g / static_cast<double>(qd[pos]), 0.0), upper));
        const double d = (static_cast<double>(alpha[pos]) - a) * yi;
        ++stats.updates;
        if (d != 0.0) {
          SparseAxpy(d, xi.idx, xi.val, xi.nnz, w);
          if (has_bias) b = static_cast<float>(static_cast<double>(b) + d * bias);
        }
      }
    }
    ++stats.iterations;
    if (pg_max_new - pg_min_new <= opts.eps) {
      if (active == n) {
        stats.converged = true;
        break;
      }
      active = n;
      pg_max_old = kInf;
      pg_min_old = -kInf;
      continue;
    }
    pg_max_old = pg_max_new;
    pg_min_old = pg_min_new;
    if (pg_max_old <= 0) pg_max_old = kInf;
    if (pg_min_old >= 0) pg_min_old = -kInf;
  }
  *b_out = b;
  if (alpha_out) alpha_out->assign(alpha.begin(), alpha.begin() + n);
  return stats;
}

// Yu, Huang, Lin (MLJ 2011), Algorithm 5: each instance carries the pair (alpha_i, C_i - alpha_i);
// the 1-D sub-problem
//   g(z) = z log z + (C - z) log(C - z) + a/2 (z - alpha_old)^2 + sign * b' (z - alpha_old)
// is minimised by a safeguarded Newton method on whichever of the pair lies on the side that
// makes the problem well conditioned. Stops when the largest |g'(alpha)| of a pass is < eps; the
// inner tolerance tightens (down to min(1e-8, eps)) when a pass needed few Newton steps.
// Unlike PECOS's L2R_LR_DUAL (whose bias update lands in a shadowed local variable, leaving the
// bias weight at its initial ~0), the bias weight is updated like any other coordinate here.
template <typename IndexT>
CdStats SolveLr(const BinaryProblem& p, const Rows<IndexT>& x, const SolverOptions& opts, float* w,
                float* b_out, CdScratch* scratch, std::vector<double>* alpha_out) {
  const bool has_bias = p.bias > 0;
  const double bias = has_bias ? p.bias : 0.0;
  const double bias_sq = has_bias ? p.bias * p.bias : 0.0;
  const Index n = p.n;
  std::fill(w, w + p.x.cols, 0.0f);
  float b = 0.0f;

  std::vector<Index>& index = scratch->index;
  std::vector<float>& alpha = scratch->alpha;
  std::vector<float>& xtx = scratch->qd;
  index.resize(n);
  alpha.resize(2 * static_cast<std::size_t>(n));
  xtx.resize(n);
  constexpr int kMaxInnerIter = 100;
  constexpr double kEta = 0.1;  // step shrink when Newton leaves (0, C) ("xi" in the paper)
  double inner_eps = 1e-2;
  const double inner_eps_min = std::min(1e-8, static_cast<double>(opts.eps));

  for (Index pos = 0; pos < n; ++pos) {
    index[pos] = pos;
    const double c = InstanceCost(p, opts, pos);
    alpha[2 * pos] = static_cast<float>(std::min(0.001 * c, 1e-8));
    alpha[2 * pos + 1] = static_cast<float>(c - static_cast<double>(alpha[2 * pos]));
    const Index r = p.rows[pos];
    xtx[pos] = static_cast<float>(static_cast<double>(p.sqnorm[r]) + bias_sq);
    const double coef = static_cast<double>(p.y[pos]) * static_cast<double>(alpha[2 * pos]);
    const auto xi = x[r];
    SparseAxpy(coef, xi.idx, xi.val, xi.nnz, w);
    if (has_bias) b = static_cast<float>(static_cast<double>(b) + coef * bias);
  }

  const bool prefetch = WorthPrefetching<IndexT>(p.x);
  std::mt19937 rng(0);
  CdStats stats;
  while (stats.iterations < opts.max_iter) {
    std::shuffle(index.begin(), index.end(), rng);
    stats.visits += n;
    std::int64_t newton_iter = 0;
    double g_max = 0.0;
    for (Index s = 0; s < n; ++s) {
      if (prefetch && s + kPrefetchDistance < n) x.Prefetch(p.rows[index[s + kPrefetchDistance]]);
      const Index pos = index[s];
      const auto xi = x[p.rows[pos]];
      const int yi = p.y[pos];
      const double c = InstanceCost(p, opts, pos);
      const double qa = xtx[pos];
      const double qb = yi * (static_cast<double>(SparseDot(w, xi.idx, xi.val, xi.nnz)) +
                              static_cast<double>(b) * bias);
      std::size_t ind1 = 2 * static_cast<std::size_t>(pos), ind2 = ind1 + 1;
      int sign = 1;
      if (0.5 * qa * static_cast<double>(alpha[ind2] - alpha[ind1]) + qb < 0) {
        std::swap(ind1, ind2);
        sign = -1;
      }
      const double alpha_old = alpha[ind1];
      double z = alpha_old;
      if (c - z < 0.5 * c) z = 0.1 * z;
      double gp = qa * (z - alpha_old) + sign * qb + std::log(z / (c - z));
      g_max = std::max(g_max, std::fabs(gp));

      int inner = 0;
      while (inner <= kMaxInnerIter) {
        if (std::fabs(gp) < inner_eps) break;
        const double gpp = qa + c / (c - z) / z;
        const double z_new = z - gp / gpp;
        z = z_new <= 0 ? z * kEta : z_new;
        gp = qa * (z - alpha_old) + sign * qb + std::log(z / (c - z));
        ++newton_iter;
        ++inner;
      }
      if (inner > 0) {
        ++stats.updates;
        alpha[ind1] = static_cast<float>(z);
        alpha[ind2] = static_cast<float>(c - z);
        const double coef = sign * (z - alpha_old) * yi;
        SparseAxpy(coef, xi.idx, xi.val, xi.nnz, w);
        if (has_bias) b = static_cast<float>(static_cast<double>(b) + coef * bias);
      }
    }
    ++stats.iterations;
    if (g_max < opts.eps) {
      stats.converged = true;
      break;
    }
    if (newton_iter <= n / 10) inner_eps = std::max(inner_eps_min, 0.1 * inner_eps);
  }
  *b_out = b;
  if (alpha_out) {
    alpha_out->resize(n);
    for (Index pos = 0; pos < n; ++pos) (*alpha_out)[pos] = alpha[2 * pos];
  }
  return stats;
}

template <typename IndexT>
CdStats Dispatch(const BinaryProblem& p, const Rows<IndexT>& x, const SolverOptions& opts, float* w,
                 float* b, CdScratch* scratch, std::vector<double>* alpha_out) {
  if (opts.type == SolverType::kLrDual) return SolveLr(p, x, opts, w, b, scratch, alpha_out);
  return SolveSvc(p, x, opts, w, b, scratch, alpha_out);
}

}  // namespace

CdStats SolveBinary(const BinaryProblem& p, const SolverOptions& opts, float* w, float* b,
                    CdScratch* scratch, std::vector<double>* alpha_out) {
  if (p.indices16 != nullptr) {
    return Dispatch(p, Rows<std::uint16_t>{p.x.indptr, p.indices16, p.x.data}, opts, w, b, scratch,
                    alpha_out);
  }
  return Dispatch(p, Rows<Index>{p.x.indptr, p.x.indices, p.x.data}, opts, w, b, scratch,
                  alpha_out);
}

}  // namespace detail
}  // namespace xmr
