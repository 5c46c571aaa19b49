// Batched primal Newton-CG for the heavy parents of a level (the few parents with very many
// instances: the top levels, power-law giants). Lock-step dual CD visits a parent's instances
// one after another, which on a GPU leaves one thread block crawling through 10^5-10^6 rows;
// Newton-CG instead works with whole-matrix products X W and X^T R (cuSPARSE SpMM on the
// device), parallel over instances and nonzeros.
//
// Problem, per child k (the same as the dual solvers', in the primal; bias = a constant feature
// whose weight is regularised):
//   min_w 1/2 |w|^2 + sum_{i in I_k} C_ik max(0, 1 - y_ik w.x~_i)^2      (L2-loss SVC)
// All B children of the parent are solved together: W is (d + 1) x B, one column per child.
// Each Newton step solves H s = -g by conjugate gradients (H v = v + X~^T (D o X~ v), D the
// 2 C weights of the margin violators), then an Armijo backtracking line search per column.
// A column stops when |g| <= eps |g_0| (liblinear's primal rule, up to its class-count factor).
//
// The algorithm is written against NewtonOps, a small column-batched linear-algebra interface,
// with a host implementation (HostNewtonOps: tests, and the host emulation of the GPU solver)
// and a device one (cuda/train/cuda_level_solver.cu). Matrices stay inside the backend; only
// per-column scalars (B doubles) cross to the driver.
#pragma once

#include <cstdint>
#include <vector>

#include "train/lockstep.h"

namespace xmr {
namespace detail {

struct NewtonParams {
  double cp = 1.0, cn = 1.0;
  double bias = 1.0;  ///< <= 0: no bias column
  /// Relative gradient norm at which a column stops. liblinear's primal default (0.01) cost
  /// 5 points of P@1 on Bibtex against the dual solver, 1e-3 0.3 points, 1e-4 0.1.
  double eps = 1e-4;
  int max_newton = 50;
  double cg_eps = 0.1;  ///< CG stops when |r| <= cg_eps |g|
  int max_cg = 100;
  int max_line_search = 30;
};

struct NewtonStats {
  int newton_iterations = 0;
  int cg_iterations = 0;
  int converged_columns = 0;
};

/// Column-batched operations over one parent's problem. Matrices are handles: F-matrices are
/// (d + 1) x B (feature weights, the bias weight in row d), I-matrices are n x B (instances).
class NewtonOps {
 public:
  virtual ~NewtonOps() = default;
  virtual int B() const = 0;
  virtual int NewF() = 0;  ///< a zeroed F-matrix
  virtual int NewI() = 0;  ///< a zeroed I-matrix
  virtual void Zero(int m) = 0;
  /// Z = X~ W (bias column included).
  virtual void Forward(int w, int z) = 0;
  /// G = X~^T R.
  virtual void Backward(int r, int g) = 0;
  /// Loss of every column at margins Z + t_k XS (xs < 0: at Z). loss_k = sum over the child's
  /// instances of C max(0, 1 - y v)^2. If r >= 0 also R = 2 C (v - y) and D = 2 C on the
  /// violators (y v < 1), 0 elsewhere (and for instances outside the child's problem).
  virtual void Loss(int z, int xs, const std::vector<double>& t, std::vector<double>* loss, int r,
                    int d) = 0;
  /// Y = D o X (elementwise, I-matrices; Y may be X).
  virtual void Scale(int y, int d, int x) = 0;
  /// out_k = X_k . Y_k (same kind).
  virtual void ColDot(int x, int y, std::vector<double>* out) = 0;
  /// Y_k += a_k X_k.
  virtual void Axpy(int y, const std::vector<double>& a, int x) = 0;
  /// Y_k = X_k + b_k Y_k.
  virtual void Xpay(int y, const std::vector<double>& b, int x) = 0;
};

/// Runs Newton-CG from W = 0; returns the handle of W. `done` (optional, B entries) receives
/// whether each column met the gradient criterion.
int SolveNewtonCg(NewtonOps* ops, const NewtonParams& p, NewtonStats* stats,
                  std::vector<char>* done = nullptr);

/// Host implementation over a lock-step ParentBlock (rows, labels, costs; w/alpha unused).
class HostNewtonOps final : public NewtonOps {
 public:
  HostNewtonOps(const lockstep::ParentBlock& block, const NewtonParams& p);
  int B() const override { return b_.B; }
  int NewF() override;
  int NewI() override;
  void Zero(int m) override;
  void Forward(int w, int z) override;
  void Backward(int r, int g) override;
  void Loss(int z, int xs, const std::vector<double>& t, std::vector<double>* loss, int r,
            int d) override;
  void Scale(int y, int d, int x) override;
  void ColDot(int x, int y, std::vector<double>* out) override;
  void Axpy(int y, const std::vector<double>& a, int x) override;
  void Xpay(int y, const std::vector<double>& b, int x) override;
  /// The F-matrix `m` ((d + 1) x B, row-major).
  const std::vector<float>& Matrix(int m) const { return mats_[m]; }

 private:
  lockstep::ParentBlock b_;
  NewtonParams p_;
  std::vector<std::vector<float>> mats_;
};

}  // namespace detail
}  // namespace xmr
