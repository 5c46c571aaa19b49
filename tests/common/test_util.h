// Helpers shared by the unit tests: temporary files, seeded random matrices and models, dense
// copies, matrix comparison, error matching and the PECOS fixture's ".coo.txt" dumps.
//
//   #include "common/test_util.h"
//   using testing_util::RandomCsr;
//   const CsrMatrix x = RandomCsr(100, 40, 0.1, /*seed=*/1);
//
// Everything random is drawn from a std::mt19937 seeded by the caller, so a test sees the same
// data on every run and platform (libstdc++). The functions defined in test_util.cc need only
// xmr_core; the ones that build models (RandomChain, RandomModel) are inline here, so test
// binaries that do not use them need not link xmr_indexer / xmr_model.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/indexer.h"
#include "xmr/model.h"
#include "xmr/sparse.h"

namespace xmr {
namespace testing_util {

// ----- files ----------------------------------------------------------------------------------

/// A fresh directory "$TMPDIR/xmr_test_XXXXXX" (TMPDIR defaults to /tmp), removed with
/// everything in it at scope exit. @throws std::runtime_error if it cannot be created.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// path() + "/" + name (nothing is created).
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Removes `path` and everything below it (like rm -rf; a missing path is fine). Fails the
/// test (ASSERT) if something cannot be removed.
void RemoveTree(const std::string& path);

/// Writes `bytes` to `path` (truncating). @throws std::runtime_error on failure.
void WriteBytes(const std::string& path, const std::string& bytes);
/// The whole content of `path` ("" if it cannot be read).
std::string ReadBytes(const std::string& path);

// ----- matrices -------------------------------------------------------------------------------

/// A rows x cols CSR matrix: every entry, in row-major order, is kept with probability
/// `density` (std::bernoulli_distribution) and then gets a value uniform in [lo, hi), both
/// drawn from one std::mt19937(seed).
CsrMatrix RandomCsr(Index rows, Index cols, double density, unsigned seed, float lo = -1.0f,
                    float hi = 1.0f);
/// Same, with row i using density row_density[i % row_density.size()] (rows of mixed
/// sparsity); RandomCsr(r, c, {p}, s) == RandomCsr(r, c, p, s).
CsrMatrix RandomCsr(Index rows, Index cols, const std::vector<double>& row_density, unsigned seed,
                    float lo = -1.0f, float hi = 1.0f);
/// RandomCsr with every stored value 1 (a random label matrix).
CsrMatrix RandomBinaryCsr(Index rows, Index cols, double density, unsigned seed);
/// A rows x cols CSC matrix drawn like RandomCsr, column by column (it is the CSR matrix
/// RandomCsr(cols, rows, density, seed) read as CSC, i.e. its transpose).
CscMatrix RandomCsc(Index rows, Index cols, double density, unsigned seed);

/// Row-major dense copy (rows * cols doubles, 0 where absent; duplicate entries are summed).
std::vector<double> ToDense(const CsrView& a);

/// Expects equal shape, structure and values (exact float comparison).
void ExpectCsrEq(const CsrMatrix& a, const CsrMatrix& b);
void ExpectCscEq(const CscMatrix& a, const CscMatrix& b);

// ----- PECOS fixture (tests/data/pecos-xlinear-tst) -------------------------------------------

/// Path of a file of the PECOS XR-Linear test fixture, e.g. PecosFixture("X.npz").
std::string PecosFixture(const std::string& name);
/// Reads a ".coo.txt" dump ("rows cols nnz" line, then nnz "i j value" lines, any order) as
/// CSR with sorted indices. Fails the test (EXPECT) if the file cannot be opened or is short.
CsrMatrix ReadCooText(const std::string& path);

// ----- errors and contexts --------------------------------------------------------------------

/// Runs fn and expects it to throw xmr::Error with `code` and a message containing every
/// string of `needles`. Returns the message ("" if nothing was thrown). Other exceptions
/// propagate.
template <typename Fn>
std::string ExpectError(Fn&& fn, ErrorCode code, const std::vector<std::string>& needles) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const std::string& n : needles) {
      EXPECT_NE(e.message().find(n), std::string::npos)
          << "message \"" << e.message() << "\" lacks \"" << n << "\"";
    }
    return e.message();
  }
  ADD_FAILURE() << "expected xmr::Error(" << ErrorCodeName(code) << ")";
  return "";
}

/// A Context that logs nothing, with the given thread count (<= 0: all hardware threads) and
/// master seed.
inline Context Quiet(int threads = 1, std::uint64_t seed = 0) {
  Context ctx;
  ctx.threads = threads;
  ctx.seed = seed;
  ctx.verbose = 0;
  return ctx;
}

// ----- models (inline: need xmr_indexer / xmr_model only where used) --------------------------

/// A random tree: level t has sizes[t] nodes (sizes must not decrease). Node j of level t gets
/// parent j if j < sizes[t - 1] (so every parent has a child), else a parent drawn from rng;
/// then the level's parent list is shuffled, so children of one parent are not contiguous.
inline ClusterChain RandomChain(const std::vector<Index>& sizes, std::mt19937& rng) {
  ClusterChain chain;
  for (std::size_t t = 0; t < sizes.size(); ++t) {
    const Index np = t == 0 ? 1 : sizes[t - 1];
    std::vector<Index> par(sizes[t]);
    for (Index j = 0; j < sizes[t]; ++j) par[j] = j < np ? j : static_cast<Index>(rng() % np);
    std::shuffle(par.begin(), par.end(), rng);
    chain.parents.push_back(std::move(par));
  }
  return chain;
}
inline ClusterChain RandomChain(const std::vector<Index>& sizes, unsigned seed) {
  std::mt19937 rng(seed);
  return RandomChain(sizes, rng);
}

/// (nodes, parents) of every level of a chain, e.g. {{4, 1}, {64, 4}, {3956, 64}}.
using ShapeList = std::vector<std::pair<Index, Index>>;
inline ShapeList Shape(const ClusterChain& c) {
  ShapeList s;
  for (int t = 0; t < c.depth(); ++t) s.emplace_back(c.n_nodes(t), c.n_parents(t));
  return s;
}

/// Weight-entry rule of RandomModel: keep each entry of level t with probability
/// per_level[t] (the last value for deeper levels).
inline auto KeepWithProbability(std::vector<double> per_level) {
  return [p = std::move(per_level)](std::mt19937& rng, int level, bool /*bias_row*/) {
    const std::size_t t = std::min(static_cast<std::size_t>(level), p.size() - 1);
    return std::bernoulli_distribution(p[t])(rng);
  };
}
/// Weight-entry rule of RandomModel: keep an entry when rng() % k == 0 (one draw per entry);
/// with keep_bias_row, bias-row entries are kept too (after the draw).
inline auto KeepOneIn(unsigned k, bool keep_bias_row = false) {
  return [k, keep_bias_row](std::mt19937& rng, int /*level*/, bool bias_row) {
    const bool hit = rng() % k == 0;
    return hit || (keep_bias_row && bias_row);
  };
}

/// A random model over d features with level sizes `sizes`, all drawn from std::mt19937(seed):
/// first the tree (RandomChain), then, level by level, node by node, weight row by weight row
/// (rows 0..d, d = the bias row), keep(rng, level, row == d) decides whether the entry is
/// stored, and a stored entry gets a value uniform in [-1, 1). `meta` is used as given except
/// that meta.n_features is set to d.
template <typename Keep>
XLinearModel RandomModel(unsigned seed, const std::vector<Index>& sizes, Index d, Keep keep,
                         ModelMeta meta = {}) {
  std::mt19937 rng(seed);
  const ClusterChain chain = RandomChain(sizes, rng);
  std::uniform_real_distribution<float> val(-1.f, 1.f);
  std::vector<CscMatrix> w(sizes.size());
  for (std::size_t t = 0; t < sizes.size(); ++t) {
    w[t].rows = d + 1;
    w[t].cols = sizes[t];
    for (Index j = 0; j < sizes[t]; ++j) {
      for (Index i = 0; i <= d; ++i) {
        if (keep(rng, static_cast<int>(t), i == d)) {
          w[t].indices.push_back(i);
          w[t].data.push_back(val(rng));
        }
      }
      w[t].indptr.push_back(static_cast<Offset>(w[t].indices.size()));
    }
  }
  meta.n_features = d;
  return XLinearModel::FromWeights(chain, w, meta);
}

}  // namespace testing_util
}  // namespace xmr
