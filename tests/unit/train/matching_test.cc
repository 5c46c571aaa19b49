// Per-level targets and tfn / man / tfn+man matching matrices on a hand-made tree.
#include "train/matching.h"

#include <gtest/gtest.h>

#include <vector>

#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

CsrMatrix Csr(Index cols, const std::vector<std::vector<Index>>& rows) {
  CsrMatrix m;
  m.rows = static_cast<Index>(rows.size());
  m.cols = cols;
  for (const auto& r : rows) {
    for (Index c : r) {
      m.indices.push_back(c);
      m.data.push_back(0.5f);
    }
    m.indptr.push_back(static_cast<Offset>(m.indices.size()));
  }
  return m;
}

std::vector<std::vector<Index>> Rows(const CsrMatrix& m) {
  std::vector<std::vector<Index>> out(m.rows);
  for (Index i = 0; i < m.rows; ++i) {
    out[i].assign(m.indices.begin() + m.indptr[i], m.indices.begin() + m.indptr[i + 1]);
  }
  return out;
}

// Root -> {A=0, B=1}; level 1: nodes 0,1 under A, 2 under B; labels 0..5 with parents
// 0,0,1,2,2,1.
ClusterChain HandTree() {
  ClusterChain c;
  c.parents = {{0, 0}, {0, 0, 1}, {0, 0, 1, 2, 2, 1}};
  return c;
}

TEST(Matching, LevelTargetsAggregateUpTheTree) {
  // Instance rows (labels): unsorted and with a duplicate to check normalisation.
  const CsrMatrix y = Csr(6, {{1, 0}, {5}, {3, 4, 3}, {}, {2, 3}});
  const std::vector<CsrMatrix> ys = BuildLevelTargets(y.view(), HandTree(), 2);
  ASSERT_EQ(ys.size(), 3u);
  EXPECT_EQ(Rows(ys[2]), (std::vector<std::vector<Index>>{{0, 1}, {5}, {3, 4}, {}, {2, 3}}));
  EXPECT_EQ(Rows(ys[1]), (std::vector<std::vector<Index>>{{0}, {1}, {2}, {}, {1, 2}}));
  EXPECT_EQ(Rows(ys[0]), (std::vector<std::vector<Index>>{{0}, {0}, {1}, {}, {0, 1}}));
  for (const CsrMatrix& m : ys) {
    EXPECT_EQ(m.rows, 5);
    for (float v : m.data) EXPECT_EQ(v, 1.0f);
  }
  EXPECT_EQ(ys[1].cols, 3);
  EXPECT_EQ(ys[0].cols, 2);
}

TEST(Matching, TfnMatchingIsThePreviousLevelsTargets) {
  // tfn: instance i is a candidate for the children of every parent it is positive for, i.e.
  // M_t = Y_{t-1}. Here M_2 (parents = level-1 nodes) for instance 4 = {1, 2}: it trains the
  // labels under nodes 1 and 2 (labels 2, 5 and 3, 4) and is a negative for 5 and 4.
  const CsrMatrix y = Csr(6, {{0}, {5}, {3}, {}, {2, 3}});
  const std::vector<CsrMatrix> ys = BuildLevelTargets(y.view(), HandTree(), 1);
  EXPECT_EQ(Rows(ys[1])[4], (std::vector<Index>{1, 2}));
}

TEST(Matching, RootMatchingCoversEveryInstance) {
  const CscMatrix m = AllInstancesColumn(4);
  EXPECT_EQ(m.rows, 4);
  EXPECT_EQ(m.cols, 1);
  EXPECT_EQ(m.indices, (std::vector<Index>{0, 1, 2, 3}));
  EXPECT_EQ(m.indptr, (std::vector<Offset>{0, 4}));
}

TEST(Matching, ManPredictionIsBinarisedAndSorted) {
  // Predict's rows are ordered by score, not id.
  const CsrMatrix pred = Csr(3, {{2, 0}, {1}, {}});
  EXPECT_EQ(Rows(BinarizeRows(pred.view())), (std::vector<std::vector<Index>>{{0, 2}, {1}, {}}));
}

TEST(Matching, TfnPlusManIsTheUnion) {
  const CsrMatrix tfn = Csr(3, {{0}, {1}, {}, {0, 2}});
  const CsrMatrix man = Csr(3, {{0, 2}, {}, {1}, {1}});
  EXPECT_EQ(Rows(PatternUnion(tfn.view(), man.view())),
            (std::vector<std::vector<Index>>{{0, 2}, {1}, {1}, {0, 1, 2}}));
  const CsrMatrix other = Csr(4, {{0}, {1}, {}, {0}});
  EXPECT_THROW(PatternUnion(tfn.view(), other.view()), Error);
}

TEST(Matching, RejectsLabelsOutsideTheTree) {
  const CsrMatrix y = Csr(7, {{6}});
  EXPECT_THROW(BuildLevelTargets(y.view(), HandTree(), 1), Error);
  CsrMatrix bad = Csr(6, {{1}});
  bad.indices[0] = 9;
  EXPECT_THROW(BuildLevelTargets(bad.view(), HandTree(), 1), Error);
}

TEST(Matching, SameResultForAnyThreadCount) {
  std::vector<std::vector<Index>> rows;
  for (Index i = 0; i < 10000; ++i) rows.push_back({i % 6, (i * 7) % 6});
  const CsrMatrix y = Csr(6, rows);
  const auto a = BuildLevelTargets(y.view(), HandTree(), 1);
  const auto b = BuildLevelTargets(y.view(), HandTree(), 3);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(a[t].indptr, b[t].indptr);
    EXPECT_EQ(a[t].indices, b[t].indices);
  }
}

}  // namespace
}  // namespace detail
}  // namespace xmr
