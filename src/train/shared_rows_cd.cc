#include "train/shared_rows_cd.h"

#include <algorithm>
#include <cmath>

namespace xmr {
namespace detail {
namespace {

constexpr int kL = kSharedRowsLanes;
static_assert(kL <= 16, "lane masks are 16 bits");

// The lanes' dot products with row (idx, val): lane k accumulates w[j * kL + k] * val in float,
// in index order, like lockstep::SolveChildSvc (the order fixes the rounding).
template <typename IndexT>
inline void LaneDots(const float* w, const IndexT* idx, const float* val, Offset nnz, float* dot) {
  float acc[kL] = {};
  for (Offset j = 0; j < nnz; ++j) {
    const float* wr = w + static_cast<std::int64_t>(idx[j]) * kL;
    const float v = val[j];
    for (int k = 0; k < kL; ++k) acc[k] += wr[k] * v;
  }
  for (int k = 0; k < kL; ++k) dot[k] = acc[k];
}

// One lane's dot product (w points at the lane's first weight; stride kL): the same float sum,
// in the same order, as LaneDots computes for it.
template <typename IndexT>
inline float LaneDot(const float* w, const IndexT* idx, const float* val, Offset nnz) {
  float s = 0.0f;
  for (Offset j = 0; j < nnz; ++j) s += w[static_cast<std::int64_t>(idx[j]) * kL] * val[j];
  return s;
}

// One lane's update (w points at the lane's first weight; stride kL).
template <typename IndexT>
inline void LaneAxpyOne(double delta, const IndexT* idx, const float* val, Offset nnz, float* w) {
  for (Offset j = 0; j < nnz; ++j) {
    float& wj = w[static_cast<std::int64_t>(idx[j]) * kL];
    wj = static_cast<float>(static_cast<double>(wj) + delta * static_cast<double>(val[j]));
  }
}

// Rows with at least this many active lanes compute all 16 lanes' dots and updates at once
// (vector code); rows with fewer, each active lane alone.
constexpr int kVectorLanes = 4;

// w[j * kL + k] = float(double(w) + delta[k] * double(val)) for the lanes with delta[k] != 0;
// the other lanes keep their bits.
template <typename IndexT>
inline void LaneAxpy(const double* delta, const IndexT* idx, const float* val, Offset nnz,
                     float* w) {
  for (Offset j = 0; j < nnz; ++j) {
    float* wr = w + static_cast<std::int64_t>(idx[j]) * kL;
    const double v = static_cast<double>(val[j]);
    for (int k = 0; k < kL; ++k) {
      const float updated = static_cast<float>(static_cast<double>(wr[k]) + delta[k] * v);
      wr[k] = delta[k] != 0.0 ? updated : wr[k];
    }
  }
}

template <typename IndexT>
void Solve(const SharedRowsProblem& p, const IndexT* indices, const lockstep::SolveParams& sp,
           SharedRowsScratch* s, float* bias_w, lockstep::ChildStats* stats) {
  const double kInf = HUGE_VAL;
  const Index n = p.x.rows;
  const Index d = p.x.cols;
  const int lanes = p.lanes;
  const bool has_bias = sp.bias > 0;
  const double bias = has_bias ? sp.bias : 0.0;
  const double bias_sq = has_bias ? sp.bias * sp.bias : 0.0;
  const std::uint16_t all = static_cast<std::uint16_t>((1u << lanes) - 1u);

  s->w.assign(static_cast<std::size_t>(d) * kL, 0.0f);
  s->alpha.assign(static_cast<std::size_t>(n) * kL, 0.0f);
  s->active.assign(n, all);
  s->pos.assign(n, 0);
  const bool with_cost = p.pos_cost != nullptr;
  if (with_cost) s->cost.assign(static_cast<std::size_t>(n) * kL, 1.0f);
  for (int k = 0; k < lanes; ++k) {
    for (Offset t = p.pos_ptr[k]; t < p.pos_ptr[k + 1]; ++t) {
      const Index r = p.pos_rows[t];
      s->pos[r] = static_cast<std::uint16_t>(s->pos[r] | (1u << k));
      if (with_cost) s->cost[static_cast<std::size_t>(r) * kL + k] = p.pos_cost[t];
    }
  }
  float* w = s->w.data();
  float* alpha = s->alpha.data();
  std::uint16_t* active = s->active.data();
  const std::uint16_t* pos = s->pos.data();

  float b[kL] = {};
  double pg_max_old[kL], pg_min_old[kL], pg_max_new[kL], pg_min_new[kL];
  Index n_active[kL];
  for (int k = 0; k < kL; ++k) {
    pg_max_old[k] = kInf;
    pg_min_old[k] = -kInf;
    n_active[k] = n;
  }
  for (int k = 0; k < lanes; ++k) stats[k] = lockstep::ChildStats{};

  std::uint16_t running = sp.max_iter > 0 ? all : 0;
  float dot[kL];
  double delta[kL];
  for (std::int32_t pass = 0; running != 0; ++pass) {
    for (int k = 0; k < kL; ++k) {
      pg_max_new[k] = -kInf;
      pg_min_new[k] = kInf;
    }
    const lockstep::Permutation perm(
        static_cast<std::uint32_t>(n),
        lockstep::PassKey(sp.seed, sp.parent, static_cast<std::uint64_t>(pass)));
    for (Index t = 0; t < n; ++t) {
      const Index r = static_cast<Index>(perm(static_cast<std::uint32_t>(t)));
      std::uint16_t m = static_cast<std::uint16_t>(active[r] & running);
      if (m == 0) continue;
      const Offset beg = p.x.indptr[r], nnz = p.x.indptr[r + 1] - beg;
      const IndexT* idx = indices + beg;
      const float* val = p.x.data + beg;
      // Few lanes active (late passes: most rows are shrunk in most lanes): their dots one by
      // one; otherwise all 16 at once. Each lane's sum is the same either way.
      const int n_lanes = __builtin_popcount(m);
      if (n_lanes >= kVectorLanes) {
        LaneDots(w, idx, val, nnz, dot);
      } else {
        for (std::uint16_t q = m; q != 0; q = static_cast<std::uint16_t>(q & (q - 1))) {
          const int k = __builtin_ctz(q);
          dot[k] = LaneDot(w + k, idx, val, nnz);
        }
      }
      bool any = false;
      for (int k = 0; k < kL; ++k) delta[k] = 0.0;
      for (; m != 0; m = static_cast<std::uint16_t>(m & (m - 1))) {
        const int k = __builtin_ctz(m);
        const std::size_t rk = static_cast<std::size_t>(r) * kL + k;
        ++stats[k].visits;
        const int yi = (pos[r] >> k) & 1 ? 1 : -1;
        double g = yi * (static_cast<double>(dot[k]) + static_cast<double>(b[k]) * bias) - 1.0;
        const double c = (yi > 0 ? sp.cp : sp.cn) *
                         (with_cost && yi > 0 ? static_cast<double>(s->cost[rk]) : 1.0);
        const double diag = sp.l2 ? 0.5 / c : 0.0;
        const double upper = sp.l2 ? kInf : c;
        float qd = static_cast<float>(sp.l2 ? 0.5 / c : 0.0);
        qd = static_cast<float>(static_cast<double>(qd) +
                                (static_cast<double>(p.sqnorm[r]) + bias_sq));
        const double a = alpha[rk];
        g += a * diag;
        double pg = 0.0;
        if (a == 0.0) {
          if (g > pg_max_old[k]) {
            active[r] = static_cast<std::uint16_t>(active[r] & ~(1u << k));
            --n_active[k];
            continue;
          }
          if (g < 0) pg = g;
        } else if (a == upper) {
          if (g < pg_min_old[k]) {
            active[r] = static_cast<std::uint16_t>(active[r] & ~(1u << k));
            --n_active[k];
            continue;
          }
          if (g > 0) pg = g;
        } else {
          pg = g;
        }
        pg_max_new[k] = pg > pg_max_new[k] ? pg : pg_max_new[k];
        pg_min_new[k] = pg < pg_min_new[k] ? pg : pg_min_new[k];
        if (std::fabs(pg) > 1.0e-12) {
          double na = a - g / static_cast<double>(qd);
          na = na > 0.0 ? na : 0.0;
          na = na < upper ? na : upper;
          alpha[rk] = static_cast<float>(na);
          const double dl = (static_cast<double>(alpha[rk]) - a) * yi;
          ++stats[k].updates;
          if (dl != 0.0) {
            delta[k] = dl;
            any = true;
            if (has_bias) b[k] = static_cast<float>(static_cast<double>(b[k]) + dl * bias);
          }
        }
      }
      if (any) {
        if (n_lanes >= kVectorLanes) {
          LaneAxpy(delta, idx, val, nnz, w);
        } else {
          for (int k = 0; k < kL; ++k) {
            if (delta[k] != 0.0) LaneAxpyOne(delta[k], idx, val, nnz, w + k);
          }
        }
      }
    }
    // End of the pass for every running lane: lockstep::SolveChildSvc's stopping rule.
    for (std::uint16_t m = running; m != 0; m = static_cast<std::uint16_t>(m & (m - 1))) {
      const int k = __builtin_ctz(m);
      ++stats[k].iterations;
      bool stop = false;
      if (pg_max_new[k] - pg_min_new[k] <= sp.eps) {
        if (n_active[k] == n) {
          stats[k].converged = 1;
          stop = true;
        } else {
          for (Index r = 0; r < n; ++r) {
            active[r] = static_cast<std::uint16_t>(active[r] | (1u << k));
          }
          n_active[k] = n;
          pg_max_old[k] = kInf;
          pg_min_old[k] = -kInf;
        }
      } else {
        pg_max_old[k] = pg_max_new[k];
        pg_min_old[k] = pg_min_new[k];
        if (pg_max_old[k] <= 0) pg_max_old[k] = kInf;
        if (pg_min_old[k] >= 0) pg_min_old[k] = -kInf;
      }
      if (stop || stats[k].iterations >= sp.max_iter) {
        running = static_cast<std::uint16_t>(running & ~(1u << k));
      }
    }
  }
  for (int k = 0; k < lanes; ++k) bias_w[k] = b[k];
}

}  // namespace

void SolveSharedRowsSvc(const SharedRowsProblem& p, const lockstep::SolveParams& sp,
                        SharedRowsScratch* scratch, float* bias_w, lockstep::ChildStats* stats) {
  if (p.indices16 != nullptr) {
    Solve(p, p.indices16, sp, scratch, bias_w, stats);
  } else {
    Solve(p, p.x.indices, sp, scratch, bias_w, stats);
  }
}

}  // namespace detail
}  // namespace xmr
