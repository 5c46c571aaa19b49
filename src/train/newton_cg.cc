// Batched primal Newton-CG (see newton_cg.h).
#include "train/newton_cg.h"

#include <algorithm>
#include <cmath>

#include "xmr/error.h"

namespace xmr {
namespace detail {

int SolveNewtonCg(NewtonOps* ops, const NewtonParams& p, NewtonStats* stats,
                  std::vector<char>* done_out) {
  const int B = ops->B();
  const int W = ops->NewF(), G = ops->NewF(), S = ops->NewF(), Rc = ops->NewF();
  const int P = ops->NewF(), Q = ops->NewF();
  const int Z = ops->NewI(), XS = ops->NewI(), R = ops->NewI(), D = ops->NewI();
  const int XP = ops->NewI();
  const std::vector<double> zeros(B, 0.0), ones(B, 1.0);
  std::vector<double> loss(B), g2(B), g0(B, 0.0), rr(B), rr_new(B), pq(B), alpha(B), beta(B);
  std::vector<double> gs(B), ws(B), ss(B), ww(B), t(B), trial(B), minus_one(B, -1.0);
  std::vector<char> done(B, 0), cg_active(B), accepted(B);
  NewtonStats st;
  for (int it = 0; it < p.max_newton; ++it) {
    ops->Forward(W, Z);
    ops->Loss(Z, -1, zeros, &loss, R, D);
    ops->Backward(R, G);
    ops->Axpy(G, ones, W);  // G = W + X~^T R
    ops->ColDot(G, G, &g2);
    bool all_done = true;
    for (int k = 0; k < B; ++k) {
      const double gn = std::sqrt(g2[k]);
      if (it == 0) g0[k] = gn;
      if (!done[k] && (g0[k] == 0.0 || gn <= p.eps * g0[k])) done[k] = 1;
      all_done = all_done && done[k];
    }
    if (all_done) break;
    ++st.newton_iterations;

    // Conjugate gradients on H s = -g, columns that are done keep s = 0.
    ops->Zero(S);
    ops->Zero(Rc);
    for (int k = 0; k < B; ++k) trial[k] = done[k] ? 0.0 : -1.0;
    ops->Axpy(Rc, trial, G);  // Rc = -G on the active columns
    ops->Zero(P);
    ops->Axpy(P, ones, Rc);
    ops->ColDot(Rc, Rc, &rr);
    for (int k = 0; k < B; ++k) cg_active[k] = !done[k] && rr[k] > 0;
    for (int cg = 0; cg < p.max_cg; ++cg) {
      ops->Forward(P, XP);
      ops->Scale(XP, D, XP);
      ops->Backward(XP, Q);
      ops->Axpy(Q, ones, P);  // Q = H P
      ops->ColDot(P, Q, &pq);
      for (int k = 0; k < B; ++k) alpha[k] = cg_active[k] && pq[k] > 0 ? rr[k] / pq[k] : 0.0;
      ops->Axpy(S, alpha, P);
      for (int k = 0; k < B; ++k) trial[k] = -alpha[k];
      ops->Axpy(Rc, trial, Q);
      ops->ColDot(Rc, Rc, &rr_new);
      ++st.cg_iterations;
      bool any = false;
      for (int k = 0; k < B; ++k) {
        if (cg_active[k] && (pq[k] <= 0 || std::sqrt(rr_new[k]) <= p.cg_eps * std::sqrt(g2[k]))) {
          cg_active[k] = 0;
        }
        beta[k] = cg_active[k] ? rr_new[k] / rr[k] : 1.0;  // inactive: P unchanged below
        any = any || cg_active[k];
        rr[k] = rr_new[k];
      }
      if (!any) break;
      // P = Rc + beta P on active columns; inactive ones get alpha = 0 from now on anyway.
      ops->Xpay(P, beta, Rc);
    }

    // Armijo backtracking per column on f(W + t S).
    ops->Forward(S, XS);
    ops->ColDot(G, S, &gs);
    ops->ColDot(W, S, &ws);
    ops->ColDot(S, S, &ss);
    ops->ColDot(W, W, &ww);
    for (int k = 0; k < B; ++k) {
      t[k] = done[k] ? 0.0 : 1.0;
      accepted[k] = done[k];
    }
    for (int ls = 0; ls < p.max_line_search; ++ls) {
      ops->Loss(Z, XS, t, &trial, -1, -1);
      bool all = true;
      for (int k = 0; k < B; ++k) {
        if (accepted[k]) continue;
        const double f0 = 0.5 * ww[k] + loss[k];
        const double f = 0.5 * (ww[k] + 2 * t[k] * ws[k] + t[k] * t[k] * ss[k]) + trial[k];
        if (f <= f0 + 0.01 * t[k] * gs[k]) {
          accepted[k] = 1;
        } else {
          t[k] *= 0.5;
          all = false;
        }
      }
      if (all) break;
    }
    for (int k = 0; k < B; ++k) {
      if (!accepted[k]) {  // no decrease found: the column is as good as it gets
        t[k] = 0.0;
        done[k] = 1;
      }
    }
    ops->Axpy(W, t, S);
  }
  for (int k = 0; k < B; ++k) st.converged_columns += done[k] != 0;
  if (stats) *stats = st;
  if (done_out) *done_out = done;
  return W;
}

// ----- host backend ---------------------------------------------------------------------------

HostNewtonOps::HostNewtonOps(const lockstep::ParentBlock& block, const NewtonParams& p)
    : b_(block), p_(p) {}

int HostNewtonOps::NewF() {
  mats_.emplace_back(static_cast<std::size_t>(b_.d + 1) * b_.B, 0.0f);
  return static_cast<int>(mats_.size() - 1);
}

int HostNewtonOps::NewI() {
  mats_.emplace_back(static_cast<std::size_t>(b_.n) * b_.B, 0.0f);
  return static_cast<int>(mats_.size() - 1);
}

void HostNewtonOps::Zero(int m) { std::fill(mats_[m].begin(), mats_[m].end(), 0.0f); }

void HostNewtonOps::Forward(int w, int z) {
  const int B = b_.B;
  const std::vector<float>& W = mats_[w];
  std::vector<float>& Z = mats_[z];
  const double bias = p_.bias > 0 ? p_.bias : 0.0;
  std::vector<double> acc(B);
  for (std::int32_t i = 0; i < b_.n; ++i) {
    for (int k = 0; k < B; ++k) acc[k] = bias * W[static_cast<std::size_t>(b_.d) * B + k];
    for (std::int64_t e = b_.indptr[i]; e < b_.indptr[i + 1]; ++e) {
      const float* row = &W[static_cast<std::size_t>(b_.idx[e]) * B];
      for (int k = 0; k < B; ++k) acc[k] += static_cast<double>(b_.val[e]) * row[k];
    }
    for (int k = 0; k < B; ++k) Z[static_cast<std::size_t>(i) * B + k] = static_cast<float>(acc[k]);
  }
}

void HostNewtonOps::Backward(int r, int g) {
  const int B = b_.B;
  const std::vector<float>& R = mats_[r];
  std::vector<double> G(static_cast<std::size_t>(b_.d + 1) * B, 0.0);
  const double bias = p_.bias > 0 ? p_.bias : 0.0;
  for (std::int32_t i = 0; i < b_.n; ++i) {
    const float* ri = &R[static_cast<std::size_t>(i) * B];
    for (std::int64_t e = b_.indptr[i]; e < b_.indptr[i + 1]; ++e) {
      double* gj = &G[static_cast<std::size_t>(b_.idx[e]) * B];
      for (int k = 0; k < B; ++k) gj[k] += static_cast<double>(b_.val[e]) * ri[k];
    }
    for (int k = 0; k < B; ++k) G[static_cast<std::size_t>(b_.d) * B + k] += bias * ri[k];
  }
  std::vector<float>& out = mats_[g];
  for (std::size_t e = 0; e < G.size(); ++e) out[e] = static_cast<float>(G[e]);
}

void HostNewtonOps::Loss(int z, int xs, const std::vector<double>& t, std::vector<double>* loss,
                         int r, int d) {
  const int B = b_.B;
  loss->assign(B, 0.0);
  const std::vector<float>& Z = mats_[z];
  for (std::int32_t i = 0; i < b_.n; ++i) {
    for (int k = 0; k < B; ++k) {
      const std::size_t e = static_cast<std::size_t>(i) * B + k;
      const std::uint8_t lab = b_.label[e];
      double rv = 0.0, dv = 0.0;
      if (lab != lockstep::kNotMember) {
        const double y = lab == lockstep::kPositive ? 1.0 : -1.0;
        const double c = (y > 0 ? p_.cp : p_.cn) * (b_.cost && y > 0 ? b_.cost[e] : 1.0);
        const double v = Z[e] + (xs >= 0 ? t[k] * mats_[xs][e] : 0.0);
        const double viol = 1.0 - y * v;
        if (viol > 0) {
          (*loss)[k] += c * viol * viol;
          rv = 2.0 * c * (v - y);
          dv = 2.0 * c;
        }
      }
      if (r >= 0) mats_[r][e] = static_cast<float>(rv);
      if (d >= 0) mats_[d][e] = static_cast<float>(dv);
    }
  }
}

void HostNewtonOps::Scale(int y, int d, int x) {
  std::vector<float>& Y = mats_[y];
  const std::vector<float>& D = mats_[d];
  const std::vector<float>& X = mats_[x];
  for (std::size_t e = 0; e < Y.size(); ++e) Y[e] = D[e] * X[e];
}

void HostNewtonOps::ColDot(int x, int y, std::vector<double>* out) {
  const int B = b_.B;
  out->assign(B, 0.0);
  const std::vector<float>& X = mats_[x];
  const std::vector<float>& Y = mats_[y];
  for (std::size_t e = 0; e < X.size(); ++e) {
    (*out)[e % B] += static_cast<double>(X[e]) * Y[e];
  }
}

void HostNewtonOps::Axpy(int y, const std::vector<double>& a, int x) {
  const int B = b_.B;
  std::vector<float>& Y = mats_[y];
  const std::vector<float>& X = mats_[x];
  for (std::size_t e = 0; e < Y.size(); ++e) {
    Y[e] = static_cast<float>(Y[e] + a[e % B] * X[e]);
  }
}

void HostNewtonOps::Xpay(int y, const std::vector<double>& b, int x) {
  const int B = b_.B;
  std::vector<float>& Y = mats_[y];
  const std::vector<float>& X = mats_[x];
  for (std::size_t e = 0; e < Y.size(); ++e) {
    Y[e] = static_cast<float>(X[e] + b[e % B] * Y[e]);
  }
}

}  // namespace detail
}  // namespace xmr
