// Random level problems for the level-solver tests (CPU solver, lock-step emulation, GPU).
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "train/level_solver.h"

namespace xmr {
namespace testing_util {

// A random level: n instances, d features, n_parents parents with the given node counts.
struct RandomLevel {
  CsrMatrix x;
  CscMatrix y, matching, cost;
  std::vector<Index> parent;
  LevelProblem View(bool with_cost = false) const {
    LevelProblem p;
    p.x = x.view();
    p.y = y.view();
    p.parent_of_node = parent.data();
    p.matching = matching.view();
    if (with_cost) p.cost = cost.view();
    p.bias = 1.0f;
    return p;
  }
};

inline CscMatrix CscFromColumns(Index rows, const std::vector<std::set<Index>>& cols) {
  CscMatrix m;
  m.rows = rows;
  m.cols = static_cast<Index>(cols.size());
  for (const auto& c : cols) {
    for (Index r : c) {
      m.indices.push_back(r);
      m.data.push_back(1.0f);
    }
    m.indptr.push_back(static_cast<Offset>(m.indices.size()));
  }
  return m;
}

inline RandomLevel MakeLevel(unsigned seed, Index n, Index d, const std::vector<int>& children,
                             double extra_rate = 0.0, int empty_parent = -1) {
  std::mt19937 rng(seed);
  RandomLevel lv;
  lv.x.rows = n;
  lv.x.cols = d;
  std::uniform_int_distribution<int> nnz_dist(1, std::max<Index>(1, std::min<Index>(d / 3, 60)));
  std::uniform_real_distribution<float> val(0.1f, 1.0f);
  for (Index i = 0; i < n; ++i) {
    std::set<Index> feats;
    const int k = nnz_dist(rng);
    while (static_cast<int>(feats.size()) < k) feats.insert(static_cast<Index>(rng() % d));
    std::vector<float> v;
    float s = 0;
    for (size_t j = 0; j < feats.size(); ++j) {
      v.push_back(val(rng));
      s += v.back() * v.back();
    }
    size_t j = 0;
    for (Index f : feats) {
      lv.x.indices.push_back(f);
      lv.x.data.push_back(v[j++] / std::sqrt(s));
    }
    lv.x.indptr.push_back(static_cast<Offset>(lv.x.indices.size()));
  }
  const Index n_parents = static_cast<Index>(children.size());
  for (Index k = 0; k < n_parents; ++k) {
    for (int c = 0; c < children[k]; ++c) lv.parent.push_back(k);
  }
  const Index n_nodes = static_cast<Index>(lv.parent.size());
  std::vector<std::set<Index>> ycols(n_nodes), mcols(n_parents);
  std::vector<std::set<Index>> ccols(n_nodes);
  for (Index i = 0; i < n; ++i) {
    const int n_pos = 1 + static_cast<int>(rng() % 2);
    for (int t = 0; t < n_pos; ++t) {
      const Index l = static_cast<Index>(rng() % n_nodes);
      if (lv.parent[l] == empty_parent) continue;
      ycols[l].insert(i);
      // tfn: the instance is a candidate for its node's parent, unless dropped for the test of
      // positives outside the matching.
      if (std::uniform_real_distribution<double>(0, 1)(rng) >= extra_rate) {
        mcols[lv.parent[l]].insert(i);
      }
    }
    // A few matcher-style additions (instances matched to a parent without a positive there).
    const Index k = static_cast<Index>(rng() % n_parents);
    if (k != empty_parent && rng() % 4 == 0) mcols[k].insert(i);
  }
  lv.y = CscFromColumns(n, ycols);
  lv.matching = CscFromColumns(n, mcols);
  lv.cost = lv.y;
  for (float& c : lv.cost.data) c = 0.5f + static_cast<float>(rng() % 4);
  return lv;
}

/// Largest |a - b| over the entries of two level results of the same shape (as dense
/// matrices); *max_abs (optional) receives the largest |a|.
inline double MaxAbsDiff(const CscMatrix& a, const CscMatrix& b, double* max_abs = nullptr) {
  auto dense = [](const CscMatrix& w) {
    std::vector<float> d(static_cast<std::size_t>(w.rows) * w.cols, 0.0f);
    for (Index c = 0; c < w.cols; ++c) {
      for (Offset e = w.indptr[c]; e < w.indptr[c + 1]; ++e) {
        d[static_cast<std::size_t>(c) * w.rows + w.indices[e]] = w.data[e];
      }
    }
    return d;
  };
  if (a.rows != b.rows || a.cols != b.cols) return HUGE_VAL;
  const std::vector<float> da = dense(a), db = dense(b);
  double diff = 0, big = 0;
  for (std::size_t i = 0; i < da.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(da[i] - db[i])));
    big = std::max(big, static_cast<double>(std::fabs(da[i])));
  }
  if (max_abs) *max_abs = big;
  return diff;
}

}  // namespace testing_util
}  // namespace xmr
