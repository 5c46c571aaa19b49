// Tests of HierarchicalKMeans: PECOS tree shapes, balance, determinism, planted clusters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"
#include "indexer/kmeans_internal.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/indexer.h"
#include "xmr/sparse.h"

namespace xmr {
namespace {

using testing_util::ExpectError;
using testing_util::Quiet;
using testing_util::ReadCooText;
using testing_util::Shape;
using testing_util::ShapeList;

// Unit-norm sparse rows with `nnz_per_row` random features out of `dim`.
CsrMatrix RandomEmbedding(Index rows, Index dim, Index nnz_per_row, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<Index> feat(0, dim - 1);
  std::uniform_real_distribution<float> val(0.05f, 1.0f);
  CsrMatrix m = CsrMatrix::Zeros(rows, dim);
  std::vector<std::pair<Index, float>> row;
  for (Index i = 0; i < rows; ++i) {
    std::set<Index> cols;
    while (static_cast<Index>(cols.size()) < nnz_per_row) cols.insert(feat(rng));
    double sq = 0.0;
    row.clear();
    for (const Index j : cols) {
      row.emplace_back(j, val(rng));
      sq += row.back().second * row.back().second;
    }
    for (const auto& [j, v] : row) {
      m.indices.push_back(j);
      m.data.push_back(static_cast<float>(v / std::sqrt(sq)));
    }
    m.indptr[i + 1] = static_cast<Offset>(m.indices.size());
  }
  return m;
}

// Labels per leaf cluster (last level).
std::vector<Index> LeafSizes(const ClusterChain& c) {
  std::vector<Index> sizes(static_cast<std::size_t>(c.n_parents(c.depth() - 1)), 0);
  for (const Index p : c.parents.back()) ++sizes[p];
  return sizes;
}

void ExpectSameChain(const ClusterChain& a, const ClusterChain& b) {
  ASSERT_EQ(a.depth(), b.depth());
  for (int t = 0; t < a.depth(); ++t) EXPECT_EQ(a.parents[t], b.parents[t]) << "level " << t;
}

// Structural properties every indexer result must have.
void ExpectWellFormed(const ClusterChain& c, Index n_labels, const IndexerOptions& opts) {
  ASSERT_NO_THROW(c.Validate());
  EXPECT_EQ(c.n_labels(), n_labels);
  // Cluster levels: children of every parent are contiguous (non-decreasing parent ids) and at
  // most nr_splits of them.
  for (int t = 1; t + 1 < c.depth(); ++t) {
    EXPECT_TRUE(std::is_sorted(c.parents[t].begin(), c.parents[t].end())) << "level " << t;
    std::vector<Index> count(static_cast<std::size_t>(c.n_parents(t)), 0);
    for (const Index p : c.parents[t]) ++count[p];
    for (const Index k : count) EXPECT_LE(k, opts.nr_splits);
  }
  EXPECT_LE(c.n_nodes(0), std::max(opts.nr_splits, 1));
  for (const Index size : LeafSizes(c)) {
    EXPECT_GE(size, opts.max_leaf_size / 2);
    EXPECT_LE(size, opts.max_leaf_size);
  }
}

TEST(HierarchicalKMeans, ChainShapesOfPecosExamples) {
  const IndexerOptions opts;
  const CsrMatrix e1 = RandomEmbedding(3956, 500, 8, 1);
  const ClusterChain c1 = HierarchicalKMeans(e1.view(), opts, Quiet(2));
  EXPECT_EQ(Shape(c1), (ShapeList{{4, 1}, {64, 4}, {3956, 64}}));
  ExpectWellFormed(c1, 3956, opts);

  const CsrMatrix e2 = RandomEmbedding(30938, 2000, 6, 2);
  const ClusterChain c2 = HierarchicalKMeans(e2.view(), opts, Quiet(2));
  EXPECT_EQ(Shape(c2), (ShapeList{{2, 1}, {32, 2}, {512, 32}, {30938, 512}}));
  ExpectWellFormed(c2, 30938, opts);
}

TEST(HierarchicalKMeans, LeafSizesWithinBounds) {
  for (const auto& [n_labels, max_leaf] : std::vector<std::pair<Index, int>>{
           {101, 100}, {200, 100}, {201, 100}, {1000, 7}, {777, 10}, {64, 1}, {65, 2}, {513, 3}}) {
    SCOPED_TRACE(std::to_string(n_labels) + " labels, max_leaf_size " + std::to_string(max_leaf));
    IndexerOptions opts;
    opts.max_leaf_size = max_leaf;
    const CsrMatrix e = RandomEmbedding(n_labels, 50, 5, n_labels);
    const ClusterChain c = HierarchicalKMeans(e.view(), opts, Quiet(2));
    ExpectWellFormed(c, n_labels, opts);
    const std::vector<Index> sizes = LeafSizes(c);
    EXPECT_EQ(sizes.size(), std::size_t{1} << detail::BinaryDepth(n_labels, max_leaf));
    const auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
    EXPECT_LE(*hi - *lo, 1);  // median splits: leaf sizes are floor/ceil of L / 2^d
  }
}

TEST(HierarchicalKMeans, BinaryChainWithTwoSplits) {
  IndexerOptions opts;
  opts.nr_splits = 2;
  const CsrMatrix e = RandomEmbedding(1000, 80, 6, 3);
  const ClusterChain c = HierarchicalKMeans(e.view(), opts, Quiet());
  EXPECT_EQ(Shape(c), (ShapeList{{2, 1}, {4, 2}, {8, 4}, {16, 8}, {1000, 16}}));
  ExpectWellFormed(c, 1000, opts);
}

TEST(HierarchicalKMeans, OtherPowersOfTwo) {
  const CsrMatrix e = RandomEmbedding(3956, 100, 6, 4);
  IndexerOptions opts;
  opts.nr_splits = 4;
  EXPECT_EQ(Shape(HierarchicalKMeans(e.view(), opts, Quiet())),
            (ShapeList{{4, 1}, {16, 4}, {64, 16}, {3956, 64}}));
  opts.nr_splits = 8;
  EXPECT_EQ(Shape(HierarchicalKMeans(e.view(), opts, Quiet())),
            (ShapeList{{8, 1}, {64, 8}, {3956, 64}}));
  opts.nr_splits = 64;
  EXPECT_EQ(Shape(HierarchicalKMeans(e.view(), opts, Quiet())), (ShapeList{{64, 1}, {3956, 64}}));
}

TEST(HierarchicalKMeans, FlatWhenFewLabels) {
  const CsrMatrix e = RandomEmbedding(100, 20, 3, 5);
  const ClusterChain c = HierarchicalKMeans(e.view(), IndexerOptions(), Quiet());
  EXPECT_EQ(Shape(c), (ShapeList{{100, 1}}));
  const CsrMatrix one = RandomEmbedding(1, 20, 3, 6);
  EXPECT_EQ(Shape(HierarchicalKMeans(one.view(), IndexerOptions(), Quiet())), (ShapeList{{1, 1}}));
}

TEST(HierarchicalKMeans, SameTreeForAnyThreadCount) {
  const CsrMatrix e = RandomEmbedding(3000, 300, 10, 7);
  IndexerOptions opts;
  opts.max_leaf_size = 20;
  std::vector<std::uint64_t> ref_trace, trace;
  detail::KMeansTuning tuning;
  tuning.trace = &ref_trace;
  const ClusterChain ref = detail::HierarchicalKMeansTuned(e.view(), opts, Quiet(1, 42), tuning);
  tuning.trace = &trace;
  for (const int threads : {2, 3, 4, 8, 16}) {
    SCOPED_TRACE(threads);
    ExpectSameChain(ref, HierarchicalKMeans(e.view(), opts, Quiet(threads, 42)));
    detail::HierarchicalKMeansTuned(e.view(), opts, Quiet(threads, 42), tuning);
    EXPECT_EQ(trace, ref_trace);
  }
}

TEST(HierarchicalKMeans, BothKernelsGiveIdenticalTrees) {
  // Wide enough that the top nodes' supports span several norm chunks.
  const CsrMatrix e = RandomEmbedding(3000, 20000, 12, 8);
  for (const bool spherical : {true, false}) {
    SCOPED_TRACE(spherical);
    IndexerOptions opts;
    opts.max_leaf_size = 10;
    opts.spherical = spherical;
    std::vector<std::uint64_t> trace_compact, trace_dense, trace_auto;
    detail::KMeansTuning compact, dense, automatic;
    compact.schedule = detail::KMeansSchedule::kNodeParallel;
    compact.trace = &trace_compact;
    dense.schedule = detail::KMeansSchedule::kFeatureParallel;
    dense.trace = &trace_dense;
    automatic.trace = &trace_auto;
    const ClusterChain a = detail::HierarchicalKMeansTuned(e.view(), opts, Quiet(1), compact);
    ExpectSameChain(a, detail::HierarchicalKMeansTuned(e.view(), opts, Quiet(3), dense));
    ExpectSameChain(a, detail::HierarchicalKMeansTuned(e.view(), opts, Quiet(4), automatic));
    // Every score and center scale of every node agrees bit for bit, not just the tree.
    ASSERT_EQ(trace_compact.size(), 511u);  // depth 9
    EXPECT_EQ(trace_compact, trace_dense);
    EXPECT_EQ(trace_compact, trace_auto);
    ExpectSameChain(a, detail::HierarchicalKMeansTuned(e.view(), opts, Quiet(2), compact));
  }
}

TEST(HierarchicalKMeans, DeterministicAndSeeded) {
  const CsrMatrix e = RandomEmbedding(2000, 200, 8, 9);
  const IndexerOptions opts;
  const ClusterChain a = HierarchicalKMeans(e.view(), opts, Quiet(2, 0));
  ExpectSameChain(a, HierarchicalKMeans(e.view(), opts, Quiet(2, 0)));
  const ClusterChain b = HierarchicalKMeans(e.view(), opts, Quiet(2, 1));
  EXPECT_EQ(Shape(a), Shape(b));
  EXPECT_NE(a.parents.back(), b.parents.back()) << "different seeds should give different trees";
}

// Four planted clusters, each on its own block of features (plus shared noise features), with
// the labels interleaved so that label ids carry no information.
CsrMatrix PlantedClusters(Index per_cluster, Index n_clusters, std::uint64_t seed) {
  const Index block = 20, noise = 10;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const Index n = per_cluster * n_clusters;
  CsrMatrix m = CsrMatrix::Zeros(n, n_clusters * block + noise);
  for (Index i = 0; i < n; ++i) {
    const Index cluster = i % n_clusters;
    std::vector<std::pair<Index, float>> row;
    for (Index j = 0; j < block; ++j) {
      if (u(rng) < 0.5f) row.emplace_back(cluster * block + j, 0.5f + u(rng));
    }
    for (Index j = 0; j < noise; ++j) {
      if (u(rng) < 0.3f) row.emplace_back(n_clusters * block + j, 0.3f * u(rng));
    }
    double sq = 0.0;
    for (const auto& e : row) sq += e.second * e.second;
    for (const auto& [j, v] : row) {
      m.indices.push_back(j);
      m.data.push_back(static_cast<float>(v / std::sqrt(sq)));
    }
    m.indptr[i + 1] = static_cast<Offset>(m.indices.size());
  }
  return m;
}

TEST(HierarchicalKMeans, RecoversPlantedClusters) {
  for (const bool spherical : {true, false}) {
    for (const std::uint64_t seed : {0u, 1u, 2u, 3u}) {
      SCOPED_TRACE(std::to_string(spherical) + " seed " + std::to_string(seed));
      const CsrMatrix e = PlantedClusters(50, 4, 100 + seed);
      IndexerOptions opts;
      opts.max_leaf_size = 50;
      opts.spherical = spherical;
      const ClusterChain c = HierarchicalKMeans(e.view(), opts, Quiet(2, seed));
      ASSERT_EQ(Shape(c), (ShapeList{{4, 1}, {200, 4}}));
      // Every leaf holds exactly one planted cluster.
      std::map<Index, std::set<Index>> planted_by_leaf;
      for (Index i = 0; i < 200; ++i) planted_by_leaf[c.parents[1][i]].insert(i % 4);
      ASSERT_EQ(planted_by_leaf.size(), 4u);
      for (const auto& [leaf, planted] : planted_by_leaf) {
        EXPECT_EQ(planted.size(), 1u) << "leaf " << leaf << " mixes planted clusters";
      }
    }
  }
}

TEST(HierarchicalKMeans, ZeroEmbeddingsSplitByLabelId) {
  // All scores tie at 0: the lower half by id goes left at every node, whatever the seed.
  const CsrMatrix e = CsrMatrix::Zeros(40, 5);
  IndexerOptions opts;
  opts.max_leaf_size = 10;
  for (const std::uint64_t seed : {0u, 7u}) {
    const ClusterChain c = HierarchicalKMeans(e.view(), opts, Quiet(2, seed));
    ASSERT_EQ(Shape(c), (ShapeList{{4, 1}, {40, 4}}));
    for (Index i = 0; i < 40; ++i) EXPECT_EQ(c.parents[1][i], i / 10) << i;
  }
  // No features at all.
  const CsrMatrix none = CsrMatrix::Zeros(40, 0);
  const ClusterChain c = HierarchicalKMeans(none.view(), opts, Quiet(3));
  for (Index i = 0; i < 40; ++i) EXPECT_EQ(c.parents[1][i], i / 10) << i;
}

TEST(HierarchicalKMeans, SingleIterationAndOddSizes) {
  IndexerOptions opts;
  opts.kmeans_max_iter = 1;
  opts.max_leaf_size = 3;
  const CsrMatrix e = RandomEmbedding(37, 30, 4, 10);
  const ClusterChain c = HierarchicalKMeans(e.view(), opts, Quiet(2));
  ExpectWellFormed(c, 37, opts);
  EXPECT_EQ(LeafSizes(c).size(), 16u);
}

TEST(HierarchicalKMeans, PecosFixtureTree) {
  // 20 labels, only labels 1 and 4 have positives (orthogonal embeddings), 18 zero rows.
  // PECOS (max_leaf_size 10, nr_splits 16, seed 0) put labels 0..9 and 10..19 in two leaves.
  const CsrMatrix x = ReadCooText(testing_util::PecosFixture("X.coo.txt"));
  const CsrMatrix y = ReadCooText(testing_util::PecosFixture("Y.coo.txt"));
  const CsrMatrix z = PifaEmbedding(x.view(), y.view(), Quiet());
  IndexerOptions opts;
  opts.max_leaf_size = 10;
  opts.nr_splits = 16;
  const ClusterChain c = HierarchicalKMeans(z.view(), opts, Quiet(1, 0));
  ASSERT_EQ(Shape(c), (ShapeList{{2, 1}, {20, 2}}));
  for (Index i = 0; i < 20; ++i) EXPECT_EQ(c.parents[1][i], i < 10 ? 0 : 1) << "label " << i;
}

TEST(HierarchicalKMeans, RejectsBadInput) {
  const CsrMatrix e = RandomEmbedding(300, 20, 3, 11);
  IndexerOptions opts;
  opts.nr_splits = 3;
  EXPECT_THROW(HierarchicalKMeans(e.view(), opts, Quiet()), Error);
  opts = IndexerOptions();
  opts.kmeans_max_iter = 0;
  EXPECT_THROW(HierarchicalKMeans(e.view(), opts, Quiet()), Error);
  opts = IndexerOptions();
  opts.max_leaf_size = 0;
  EXPECT_THROW(HierarchicalKMeans(e.view(), opts, Quiet()), Error);

  const CsrMatrix empty = CsrMatrix::Zeros(0, 5);
  ExpectError([&] { HierarchicalKMeans(empty.view(), IndexerOptions(), Quiet()); },
              ErrorCode::kInvalidArgument, {});

  // max_leaf_size 1 needs 2^d <= L: fine for 4 labels, impossible for 3.
  opts = IndexerOptions();
  opts.max_leaf_size = 1;
  const CsrMatrix four = RandomEmbedding(4, 10, 2, 12);
  EXPECT_EQ(LeafSizes(HierarchicalKMeans(four.view(), opts, Quiet())),
            (std::vector<Index>{1, 1, 1, 1}));
  const CsrMatrix three = RandomEmbedding(3, 10, 2, 13);
  ExpectError([&] { HierarchicalKMeans(three.view(), opts, Quiet()); }, ErrorCode::kInvalidArgument,
              {"max_leaf_size=1"});
}

}  // namespace
}  // namespace xmr
