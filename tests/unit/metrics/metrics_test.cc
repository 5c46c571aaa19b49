#include "xmr/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "xmr/error.h"

namespace xmr {
namespace {

CsrMatrix Rows(Index cols, const std::vector<std::vector<Index>>& rows) {
  CsrMatrix m = CsrMatrix::Zeros(static_cast<Index>(rows.size()), cols);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (Index j : rows[i]) {
      m.indices.push_back(j);
      m.data.push_back(1.f);
    }
    m.indptr[i + 1] = static_cast<Offset>(m.indices.size());
  }
  return m;
}

TEST(Metrics, HandComputed) {
  // Row 0: truth {1, 4}; ranking 4, 2, 1 -> hits at ranks 1 and 3.
  // Row 1: truth {0}; ranking 3, 0 -> hit at rank 2.
  const CsrMatrix pred = Rows(5, {{4, 2, 1}, {3, 0}});
  const CsrMatrix truth = Rows(5, {{1, 4}, {0}});
  const RankingMetrics m = Evaluate(pred.view(), truth.view(), 3);
  EXPECT_NEAR(m.precision[0], 100 * (1.0 + 0.0) / 2, 1e-9);
  EXPECT_NEAR(m.precision[1], 100 * (0.5 + 0.5) / 2, 1e-9);
  EXPECT_NEAR(m.precision[2], 100 * (2.0 / 3 + 1.0 / 3) / 2, 1e-9);
  EXPECT_NEAR(m.recall[0], 100 * (0.5 + 0) / 2, 1e-9);
  EXPECT_NEAR(m.recall[2], 100 * (1.0 + 1.0) / 2, 1e-9);
  EXPECT_NEAR(m.mrr[2], 100 * (1.0 + 0.5) / 2, 1e-9);
  const double d = 1 / std::log2(2.0), d2 = 1 / std::log2(3.0), d3 = 1 / std::log2(4.0);
  const double ndcg3_row0 = (d + d3) / (d + d2);
  const double ndcg3_row1 = d2 / d;
  EXPECT_NEAR(m.ndcg[2], 100 * (ndcg3_row0 + ndcg3_row1) / 2, 1e-9);
  EXPECT_NE(m.Summary().find("P@1 50.00"), std::string::npos);
}

TEST(Metrics, EmptyTruthRowsCountAsZero) {
  const CsrMatrix pred = Rows(3, {{0}, {1}});
  const CsrMatrix truth = Rows(3, {{0}, {}});
  const RankingMetrics m = Evaluate(pred.view(), truth.view(), 1);
  EXPECT_NEAR(m.precision[0], 50.0, 1e-9);
}

TEST(Metrics, RejectsMismatch) {
  const CsrMatrix pred = Rows(3, {{0}});
  const CsrMatrix truth = Rows(3, {{0}, {1}});
  EXPECT_THROW(Evaluate(pred.view(), truth.view(), 1), Error);
  EXPECT_THROW(Evaluate(truth.view(), truth.view(), 0), Error);
}

}  // namespace
}  // namespace xmr
