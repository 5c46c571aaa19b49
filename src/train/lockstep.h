// Lock-step dual coordinate descent: the per-child solver of the GPU backend, written once for
// host and device (compiled by g++ for the host emulation and the tests, by nvcc for the CUDA
// kernel, which runs one thread per child and one thread block per parent).
//
// Every child k of a parent solves its own binary problem (dual CD for the L2- or L1-loss SVC,
// Hsieh et al. 2008, with liblinear's shrinking) with exactly the arithmetic of the CPU solver
// (dual_cd.cc: float w, alpha and Q_ii; float dot products in index order; double gradients and
// updates). What differs is the visiting order: all children of a parent visit the parent's
// instances in the same pseudo-random order in each pass (a stateless Feistel permutation of
// the pass number), instead of one std::mt19937 shuffle per label. So on the GPU the threads of
// a block read the same instance row at the same time, and their weight columns W[j*B + k] are
// adjacent in memory: coalesced, with no atomics (each thread owns its column). Shrinking is a
// per-(instance, child) flag rather than a swap in an index array.
//
// Data layout of one parent (ParentBlock): the rows of its instances in the parent-local
// feature space, the label of every (row, child) pair, and the per-child state, row-major with
// the child as the fastest index.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define XMR_HD __host__ __device__ inline
#else
#define XMR_HD inline
#endif

namespace xmr {
namespace detail {
namespace lockstep {

/// Label of a (row, child) pair: not in the child's problem (a sibling's positive outside the
/// parent's matching), a negative, or a positive.
enum : std::uint8_t { kNotMember = 0, kNegative = 1, kPositive = 2 };

XMR_HD std::uint64_t Mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// A pseudo-random bijection of [0, n) that needs no memory: a 4-round Feistel network on the
/// smallest even-bit power of two >= n, with cycle walking (at most 4 steps on average).
struct Permutation {
  std::uint32_t n = 0;
  std::uint32_t half_bits = 0;
  std::uint64_t key = 0;

  XMR_HD Permutation(std::uint32_t n_, std::uint64_t key_) : n(n_), key(key_) {
    half_bits = 1;
    while ((std::uint64_t{1} << (2 * half_bits)) < n) ++half_bits;
  }
  XMR_HD std::uint32_t Encrypt(std::uint32_t v) const {
    const std::uint32_t mask = (1u << half_bits) - 1u;
    std::uint32_t left = v >> half_bits, right = v & mask;
    for (std::uint32_t round = 0; round < 4; ++round) {
      const std::uint32_t f =
          static_cast<std::uint32_t>(Mix64(key ^ (std::uint64_t{round} << 32) ^ right)) & mask;
      const std::uint32_t next = left ^ f;
      left = right;
      right = next;
    }
    return (left << half_bits) | right;
  }
  /// The s-th element of the permutation (s < n).
  XMR_HD std::uint32_t operator()(std::uint32_t s) const {
    std::uint32_t v = Encrypt(s);
    while (v >= n) v = Encrypt(v);
    return v;
  }
};

/// Key of the permutation a parent's children use in pass `pass`.
XMR_HD std::uint64_t PassKey(std::uint64_t seed, std::uint64_t parent, std::uint64_t pass) {
  return Mix64(Mix64(seed ^ 0x10C5E7ULL) ^ Mix64(parent) ^ (pass * 0xD1B54A32D192ED03ULL));
}

/// One parent's problem (all pointers are the parent's slices; the caller owns the memory).
struct ParentBlock {
  std::int32_t n = 0;                    ///< rows (the parent's instances)
  std::int32_t d = 0;                    ///< local features (the bias is separate)
  std::int32_t B = 0;                    ///< children
  const std::int64_t* indptr = nullptr;  ///< n + 1 offsets into idx/val, from 0
  const std::int32_t* idx = nullptr;     ///< local feature ids, strictly increasing per row
  const float* val = nullptr;
  const float* sqnorm = nullptr;        ///< n: x_i . x_i in float, index order (as the CPU solver)
  const std::uint8_t* label = nullptr;  ///< n * B, [r * B + k]: kNotMember/kNegative/kPositive
  const float* cost = nullptr;          ///< n * B positive costs, or nullptr (all 1)
  float* w = nullptr;                   ///< d * B, [j * B + k]; zeroed by the caller
  float* bias_w = nullptr;              ///< B
  float* alpha = nullptr;               ///< n * B scratch
  std::uint8_t* shrunk = nullptr;       ///< n * B scratch
};

struct SolveParams {
  bool l2 = true;  ///< L2-loss (squared hinge) or L1-loss (hinge) SVC
  double cp = 1.0, cn = 1.0;
  double eps = 0.1;
  int max_iter = 100;
  double bias = 1.0;  ///< <= 0: no bias term
  std::uint64_t seed = 0;
  std::uint64_t parent = 0;  ///< global parent id (keys the permutations)
};

struct ChildStats {
  std::int32_t iterations = 0;
  std::int32_t converged = 0;
  std::int64_t visits = 0;   ///< (instance, pass) pairs examined (not shrunk)
  std::int64_t updates = 0;  ///< visits that changed alpha
};

/// Solves child k of the parent (dual CD with shrinking; see dual_cd.cc SolveSvc, which this
/// mirrors statement by statement except for the visiting order and the shrink bookkeeping).
/// Writes column k of w and bias_w[k]; uses column k of alpha and shrunk.
XMR_HD ChildStats SolveChildSvc(const ParentBlock& p, std::int32_t k, const SolveParams& sp) {
  const double kInf = HUGE_VAL;
  const std::int32_t B = p.B;
  const bool has_bias = sp.bias > 0;
  const double bias = has_bias ? sp.bias : 0.0;
  const double bias_sq = has_bias ? sp.bias * sp.bias : 0.0;
  float b = 0.0f;
  std::int32_t members = 0;
  for (std::int32_t r = 0; r < p.n; ++r) {
    p.alpha[static_cast<std::int64_t>(r) * B + k] = 0.0f;
    p.shrunk[static_cast<std::int64_t>(r) * B + k] = 0;
    members += p.label[static_cast<std::int64_t>(r) * B + k] != kNotMember;
  }
  std::int32_t active = members;
  double pg_max_old = kInf, pg_min_old = -kInf;
  ChildStats st;
  while (st.iterations < sp.max_iter) {
    double pg_max_new = -kInf, pg_min_new = kInf;
    const Permutation perm(static_cast<std::uint32_t>(p.n),
                           PassKey(sp.seed, sp.parent, static_cast<std::uint64_t>(st.iterations)));
    for (std::int32_t t = 0; t < p.n; ++t) {
      const std::int64_t r = perm(static_cast<std::uint32_t>(t));
      const std::int64_t rk = r * B + k;
      const std::uint8_t lab = p.label[rk];
      if (lab == kNotMember || p.shrunk[rk]) continue;
      ++st.visits;
      const int yi = lab == kPositive ? 1 : -1;
      const std::int64_t beg = p.indptr[r], end = p.indptr[r + 1];
      float dot = 0.0f;
      for (std::int64_t j = beg; j < end; ++j) {
        dot += p.w[static_cast<std::int64_t>(p.idx[j]) * B + k] * p.val[j];
      }
      double g = yi * (static_cast<double>(dot) + static_cast<double>(b) * bias) - 1.0;
      const double c = (yi > 0 ? sp.cp : sp.cn) * (p.cost && yi > 0 ? p.cost[rk] : 1.0);
      const double diag = sp.l2 ? 0.5 / c : 0.0;
      const double upper = sp.l2 ? kInf : c;
      float qd = static_cast<float>(sp.l2 ? 0.5 / c : 0.0);
      qd = static_cast<float>(static_cast<double>(qd) +
                              (static_cast<double>(p.sqnorm[r]) + bias_sq));
      const double a = p.alpha[rk];
      g += a * diag;
      double pg = 0.0;
      if (a == 0.0) {
        if (g > pg_max_old) {
          p.shrunk[rk] = 1;
          --active;
          continue;
        }
        if (g < 0) pg = g;
      } else if (a == upper) {
        if (g < pg_min_old) {
          p.shrunk[rk] = 1;
          --active;
          continue;
        }
        if (g > 0) pg = g;
      } else {
        pg = g;
      }
      pg_max_new = pg > pg_max_new ? pg : pg_max_new;
      pg_min_new = pg < pg_min_new ? pg : pg_min_new;
      if (fabs(pg) > 1.0e-12) {
        double na = a - g / static_cast<double>(qd);
        na = na > 0.0 ? na : 0.0;
        na = na < upper ? na : upper;
        p.alpha[rk] = static_cast<float>(na);
        const double delta = (static_cast<double>(p.alpha[rk]) - a) * yi;
        ++st.updates;
        if (delta != 0.0) {
          for (std::int64_t j = beg; j < end; ++j) {
            float& wj = p.w[static_cast<std::int64_t>(p.idx[j]) * B + k];
            wj =
                static_cast<float>(static_cast<double>(wj) + delta * static_cast<double>(p.val[j]));
          }
          if (has_bias) b = static_cast<float>(static_cast<double>(b) + delta * bias);
        }
      }
    }
    ++st.iterations;
    if (pg_max_new - pg_min_new <= sp.eps) {
      if (active == members) {
        st.converged = 1;
        break;
      }
      for (std::int32_t r = 0; r < p.n; ++r) p.shrunk[static_cast<std::int64_t>(r) * B + k] = 0;
      active = members;
      pg_max_old = kInf;
      pg_min_old = -kInf;
      continue;
    }
    pg_max_old = pg_max_new;
    pg_min_old = pg_min_new;
    if (pg_max_old <= 0) pg_max_old = kInf;
    if (pg_min_old >= 0) pg_min_old = -kInf;
  }
  p.bias_w[k] = b;
  return st;
}

/// Number of weights of child k that survive the threshold (|w| >= threshold, w != 0),
/// features only (the bias is judged on the host by PruneWeights).
XMR_HD std::int32_t CountKept(const ParentBlock& p, std::int32_t k, float threshold) {
  std::int32_t c = 0;
  for (std::int32_t j = 0; j < p.d; ++j) {
    const float v = p.w[static_cast<std::int64_t>(j) * p.B + k];
    c += v != 0.0f && fabsf(v) >= threshold;
  }
  return c;
}

/// Writes child k's surviving weights as (local feature, value) in increasing feature order.
XMR_HD void ScatterKept(const ParentBlock& p, std::int32_t k, float threshold,
                        std::int32_t* out_idx, float* out_val) {
  std::int32_t c = 0;
  for (std::int32_t j = 0; j < p.d; ++j) {
    const float v = p.w[static_cast<std::int64_t>(j) * p.B + k];
    if (v != 0.0f && fabsf(v) >= threshold) {
      out_idx[c] = j;
      out_val[c] = v;
      ++c;
    }
  }
}

}  // namespace lockstep
}  // namespace detail
}  // namespace xmr
